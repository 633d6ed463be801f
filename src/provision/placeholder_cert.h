// SPDX-License-Identifier: MIT
// provision/placeholder_cert.h: a self-signed certificate for the Nginx site until the ACME
// client has issued the real one, so that `nginx -t` (which opens the certificate files) passes
// on a fresh server and port 80 can serve the ACME challenge.
#pragma once

#include <string>

#include "base/result.h"

namespace gc::provision {

// Writes a new EC P-256 key (`key_path`, 0600) and a self-signed certificate for `domain`
// (`cert_path`, 0644: CN and subjectAltName DNS:domain, valid 30 days), each atomically,
// creating missing parent directories 0700. libcrypto is opened at run time. Errors: kNotFound
// when libcrypto.so.3 is missing, kInternal for OpenSSL failures, I/O errors naming the file.
// Blocks.
Status write_placeholder_cert(const std::string& domain, const std::string& cert_path,
                              const std::string& key_path);

}  // namespace gc::provision

// SPDX-License-Identifier: MIT
// tls/x509_fields.h: the fields of an X.509 certificate that groundctl reads (validity times,
// name entries, subjectAltName DNS names), through the dlopened SslApi. One reader for the
// certificate collector, the ACME client's installed-certificate checks and TLS grading.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tls/ssl_api.h"

namespace gc::tls {

// An ASN1_TIME (UTCTime or GeneralizedTime, always UTC per RFC 5280 section 4.1.2.5) in unix
// seconds; 0 when `t` is null or unreadable. Pure apart from the OpenSSL call.
int64_t x509_unix_seconds(const SslApi& a, const ASN1_TIME* t);

// The first entry `nid` (NID_commonName, NID_organizationName...) of `name`; "" when `name` is
// null or has none.
std::string x509_name_entry(const SslApi& a, X509_NAME* name, int nid);

// The subjectAltName DNS entries of `cert`, in order; empty without the extension.
std::vector<std::string> x509_dns_names(const SslApi& a, X509* cert);

}  // namespace gc::tls

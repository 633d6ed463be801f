// SPDX-License-Identifier: MIT
// crypto/detail/openssl_api.h: the OpenSSL 3 functions groundctl uses, from libcrypto.so.3 opened
// at run time (base/dynamic_library.h says why: linked, libcrypto alone was 1.4 MiB of the
// daemon's resident memory, which never hashes anything).
#pragma once

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

namespace gc::crypto::detail {

struct OpenSslApi {
  decltype(&::EVP_MD_CTX_new) md_ctx_new = nullptr;
  decltype(&::EVP_MD_CTX_free) md_ctx_free = nullptr;
  decltype(&::EVP_DigestInit_ex) digest_init = nullptr;
  decltype(&::EVP_DigestUpdate) digest_update = nullptr;
  decltype(&::EVP_DigestFinal_ex) digest_final = nullptr;
  decltype(&::EVP_sha256) sha256 = nullptr;
  decltype(&::EVP_KDF_fetch) kdf_fetch = nullptr;
  decltype(&::EVP_KDF_free) kdf_free = nullptr;
  decltype(&::EVP_KDF_CTX_new) kdf_ctx_new = nullptr;
  decltype(&::EVP_KDF_CTX_free) kdf_ctx_free = nullptr;
  decltype(&::EVP_KDF_derive) kdf_derive = nullptr;
  decltype(&::EVP_Q_mac) q_mac = nullptr;
  decltype(&::OSSL_PARAM_construct_utf8_string) param_utf8_string = nullptr;
  decltype(&::OSSL_PARAM_construct_octet_string) param_octet_string = nullptr;
  decltype(&::OSSL_PARAM_construct_end) param_end = nullptr;
};

// Loads libcrypto.so.3 on first use (thread-safe). libcrypto3 is a dependency of the package and
// of Debian's base system; if it is missing anyway, this prints what to install and aborts,
// since no hash or key derivation can work without it.
const OpenSslApi& openssl();

}  // namespace gc::crypto::detail

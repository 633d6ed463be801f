// SPDX-License-Identifier: MIT
#include "crypto/detail/openssl_api.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "base/dynamic_library.h"

namespace gc::crypto::detail {
namespace {

struct Loaded {
  DynamicLibrary lib;
  OpenSslApi api;
};

Result<Loaded> load() {
  GC_ASSIGN_OR_RETURN(DynamicLibrary lib, DynamicLibrary::open("libcrypto.so.3", "libssl3"));
  OpenSslApi a;
  GC_TRY(lib.bind("EVP_MD_CTX_new", a.md_ctx_new));
  GC_TRY(lib.bind("EVP_MD_CTX_free", a.md_ctx_free));
  GC_TRY(lib.bind("EVP_DigestInit_ex", a.digest_init));
  GC_TRY(lib.bind("EVP_DigestUpdate", a.digest_update));
  GC_TRY(lib.bind("EVP_DigestFinal_ex", a.digest_final));
  GC_TRY(lib.bind("EVP_sha256", a.sha256));
  GC_TRY(lib.bind("EVP_KDF_fetch", a.kdf_fetch));
  GC_TRY(lib.bind("EVP_KDF_free", a.kdf_free));
  GC_TRY(lib.bind("EVP_KDF_CTX_new", a.kdf_ctx_new));
  GC_TRY(lib.bind("EVP_KDF_CTX_free", a.kdf_ctx_free));
  GC_TRY(lib.bind("EVP_KDF_derive", a.kdf_derive));
  GC_TRY(lib.bind("EVP_Q_mac", a.q_mac));
  GC_TRY(lib.bind("OSSL_PARAM_construct_utf8_string", a.param_utf8_string));
  GC_TRY(lib.bind("OSSL_PARAM_construct_octet_string", a.param_octet_string));
  GC_TRY(lib.bind("OSSL_PARAM_construct_end", a.param_end));
  return Loaded{std::move(lib), a};
}

}  // namespace

const OpenSslApi& openssl() {
  static std::once_flag once;
  static std::optional<Loaded> loaded;
  std::call_once(once, [] {
    auto l = load();
    if (!l) {
      std::fprintf(stderr, "groundctl: %s\n", l.error().message.c_str());
      std::abort();
    }
    loaded.emplace(std::move(*l));
  });
  return loaded->api;
}

}  // namespace gc::crypto::detail

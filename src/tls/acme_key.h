// SPDX-License-Identifier: MIT
// tls/acme_key.h: private keys for the ACME client (the account key and certificate keys), the
// JSON Web Signatures that carry every ACME request (RFC 8555 section 6.2, RFC 7515), JWK
// thumbprints (RFC 7638) and CSRs. OpenSSL comes from tls/ssl_api.h (opened at run time).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, declared here so this header needs no OpenSSL include.

namespace gc::tls {

enum class KeyType { kEcP256, kRsa2048, kRsa4096 };

// "ec-p256", "rsa-2048", "rsa-4096" (the [tls] key_type values). Errors: kInvalidArgument.
Result<KeyType> parse_key_type(std::string_view text);
std::string_view key_type_name(KeyType type);

// One private key. Move-only. Never printed or logged: only to_pem() and save() expose it.
class PrivateKey {
 public:
  // A fresh key. Errors: kNotFound (libcrypto missing), kInternal (OpenSSL failed).
  static Result<PrivateKey> generate(KeyType type);
  // Parses a PEM private key (PKCS#8 or traditional). Errors: kCorrupt, kNotFound.
  static Result<PrivateKey> from_pem(std::string_view pem);
  // Reads a PEM key file. Errors follow errno (kNotFound, kPermission), kCorrupt for bad PEM.
  static Result<PrivateKey> load(const std::string& path);

  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;
  ~PrivateKey();

  // PKCS#8 PEM. Secret: the caller must not log it.
  Result<std::string> to_pem() const;
  // Writes to_pem() to `path` atomically with mode 0600, creating missing parent directories
  // 0700. Errors follow errno, naming the path.
  Status save(const std::string& path) const;

  bool is_ec_p256() const;
  // The public key as a JWK with only the members RFC 7638 requires (EC: crv, kty, x, y; RSA:
  // e, kty, n). Errors: kInternal.
  Result<nlohmann::json> public_jwk() const;
  // ES256 signature of `input` (SHA-256, ECDSA P-256) in JWS form: r||s, 32 bytes each
  // (RFC 7518 section 3.4). Errors: kInvalidArgument for a non-P-256 key, kInternal.
  Result<std::string> sign_es256(std::string_view input) const;

  // For code in this module that hands the key to OpenSSL. Not owned by the caller.
  evp_pkey_st* native_handle_unsafe() const { return key_.get(); }

 private:
  struct Free {
    void operator()(evp_pkey_st* key) const;
  };
  explicit PrivateKey(evp_pkey_st* key) : key_(key) {}
  std::unique_ptr<evp_pkey_st, Free> key_;
};

// RFC 4648 section 5 base64url without padding.
std::string base64url(std::string_view bytes);
// Inverse of base64url (padding tolerated). nullopt for a character outside the alphabet.
std::optional<std::string> base64url_decode(std::string_view text);

// RFC 7638: base64url(SHA-256(the required members of `jwk` in lexicographic order, no
// whitespace)). `jwk` must hold only those members (public_jwk() does).
std::string jwk_thumbprint(const nlohmann::json& jwk);

// RFC 8555 section 8.1: token "." thumbprint. This is what HTTP-01 serves for the token.
std::string key_authorization(std::string_view token, std::string_view thumbprint);

// A flattened JWS JSON object (RFC 8555 section 6.2) signed ES256 by `key`, as the request body.
// With an empty `kid` the protected header carries the public `jwk` (newAccount); otherwise
// `kid` (the account URL). A nullopt payload is POST-as-GET: an empty payload string.
// Errors: those of sign_es256.
Result<std::string> sign_jws(const PrivateKey& key, const std::string& url,
                             const std::string& nonce, const std::string& kid,
                             const std::optional<nlohmann::json>& payload);

// A PKCS#10 CSR in DER for `domains` (CN = domains[0], a subjectAltName DNS entry for each),
// signed SHA-256 by `key`. Errors: kInvalidArgument for no domains, kInternal.
Result<std::string> make_csr_der(const PrivateKey& key, const std::vector<std::string>& domains);

}  // namespace gc::tls

// SPDX-License-Identifier: MIT
#include "tls/acme_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include <array>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "crypto/sha256.h"
#include "tls/ssl_api.h"

namespace gc::tls {
namespace {

// The reason of the OpenSSL error, so a failure names more than the call that failed.
Error openssl_error(const SslApi& a, const std::string& what) {
  return make_error(Errc::kInternal, what + " failed: " + take_ssl_error(a));
}

template <typename Fn>
Result<std::string> bio_output(const SslApi& a, Fn write) {
  BioPtr bio(a.acme_bio_new(a.acme_bio_s_mem()), a.bio_free);
  if (!bio || write(bio.get()) != 1) return openssl_error(a, "PEM encoding");
  char* data = nullptr;
  long n = a.acme_bio_ctrl(bio.get(), BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data.
  if (n <= 0 || data == nullptr) return openssl_error(a, "PEM encoding");
  return std::string(data, static_cast<std::size_t>(n));
}

// A BIGNUM key parameter as big-endian bytes: `width` bytes zero-padded, or minimal when 0.
Result<std::string> bn_param(const SslApi& a, EVP_PKEY* key, const char* name, int width) {
  BIGNUM* bn = nullptr;
  if (a.acme_pkey_get_bn_param(key, name, &bn) != 1 || bn == nullptr) {
    return openssl_error(a, std::string("reading key parameter ") + name);
  }
  std::unique_ptr<BIGNUM, decltype(a.acme_bn_free)> owner(bn, a.acme_bn_free);
  int n = width > 0 ? width : (a.acme_bn_num_bits(bn) + 7) / 8;
  std::string out(static_cast<std::size_t>(n), '\0');
  if (a.acme_bn_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n) != n) {
    return openssl_error(a, std::string("encoding key parameter ") + name);
  }
  return out;
}

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

Result<KeyType> parse_key_type(std::string_view text) {
  if (text == "ec-p256") return KeyType::kEcP256;
  if (text == "rsa-2048") return KeyType::kRsa2048;
  if (text == "rsa-4096") return KeyType::kRsa4096;
  return make_error(Errc::kInvalidArgument, "unknown key type \"" + std::string(text) +
                                                "\": use ec-p256, rsa-2048 or rsa-4096");
}

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "ec-p256";
    case KeyType::kRsa2048:
      return "rsa-2048";
    case KeyType::kRsa4096:
      return "rsa-4096";
  }
  return "ec-p256";
}

void PrivateKey::Free::operator()(evp_pkey_st* key) const {
  // A key only exists after ssl_api() succeeded, so the API is there to free it.
  if (auto a = ssl_api(); a) (*a)->acme_pkey_free(key);
}

PrivateKey::~PrivateKey() = default;

Result<PrivateKey> PrivateKey::generate(KeyType type) {
  GC_ASSIGN_OR_RETURN(const SslApi* a, ssl_api());
  EVP_PKEY* key = nullptr;
  if (type == KeyType::kEcP256) {
    key = a->acme_pkey_q_keygen(nullptr, nullptr, "EC", "P-256");
  } else {
    std::size_t bits = type == KeyType::kRsa2048 ? 2048 : 4096;
    key = a->acme_pkey_q_keygen(nullptr, nullptr, "RSA", bits);
  }
  if (key == nullptr) {
    return openssl_error(*a, std::string(key_type_name(type)) + " key generation");
  }
  return PrivateKey(key);
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  GC_ASSIGN_OR_RETURN(const SslApi* a, ssl_api());
  BioPtr bio(a->bio_new_mem_buf(pem.data(), static_cast<int>(pem.size())), a->bio_free);
  if (!bio) return openssl_error(*a, "reading a private key");
  EVP_PKEY* key = a->acme_pem_read_bio_private_key(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    a->err_clear_error();
    return make_error(Errc::kCorrupt, "not a PEM private key");
  }
  return PrivateKey(key);
}

Result<PrivateKey> PrivateKey::load(const std::string& path) {
  GC_ASSIGN_OR_RETURN(std::string pem, read_file(path));
  auto key = from_pem(pem);
  if (!key) return key.error().with_context(path);
  return key;
}

Result<std::string> PrivateKey::to_pem() const {
  GC_ASSIGN_OR_RETURN(const SslApi* a, ssl_api());
  return bio_output(*a, [&](BIO* b) {
    return a->acme_pem_write_bio_private_key(b, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
}

Status PrivateKey::save(const std::string& path) const {
  GC_ASSIGN_OR_RETURN(std::string pem, to_pem());
  std::size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    GC_TRY(make_directories(path.substr(0, slash), 0700));
  }
  return write_file_atomic(path, pem, 0600);
}

bool PrivateKey::is_ec_p256() const {
  auto a = ssl_api();
  if (!a) return false;
  return (*a)->acme_pkey_get_base_id(key_.get()) == EVP_PKEY_EC &&
         (*a)->acme_pkey_get_bits(key_.get()) == 256;
}

Result<nlohmann::json> PrivateKey::public_jwk() const {
  GC_ASSIGN_OR_RETURN(const SslApi* a, ssl_api());
  if (a->acme_pkey_get_base_id(key_.get()) == EVP_PKEY_EC) {
    if (!is_ec_p256()) return make_error(Errc::kInvalidArgument, "only P-256 EC keys are used");
    // RFC 7518 section 6.2.1.2: each coordinate is exactly 32 bytes for P-256.
    GC_ASSIGN_OR_RETURN(std::string x, bn_param(*a, key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32));
    GC_ASSIGN_OR_RETURN(std::string y, bn_param(*a, key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    return nlohmann::json{
        {"crv", "P-256"}, {"kty", "EC"}, {"x", base64url(x)}, {"y", base64url(y)}};
  }
  GC_ASSIGN_OR_RETURN(std::string n, bn_param(*a, key_.get(), OSSL_PKEY_PARAM_RSA_N, 0));
  GC_ASSIGN_OR_RETURN(std::string e, bn_param(*a, key_.get(), OSSL_PKEY_PARAM_RSA_E, 0));
  return nlohmann::json{{"e", base64url(e)}, {"kty", "RSA"}, {"n", base64url(n)}};
}

Result<std::string> PrivateKey::sign_es256(std::string_view input) const {
  GC_ASSIGN_OR_RETURN(const SslApi* a, ssl_api());
  if (!is_ec_p256()) return make_error(Errc::kInvalidArgument, "ES256 needs a P-256 key");
  std::unique_ptr<EVP_MD_CTX, decltype(a->acme_md_ctx_free)> ctx(a->acme_md_ctx_new(),
                                                                 a->acme_md_ctx_free);
  if (!ctx ||
      a->acme_digest_sign_init(ctx.get(), nullptr, a->acme_sha256(), nullptr, key_.get()) != 1) {
    return openssl_error(*a, "ES256 signing");
  }
  std::array<unsigned char, 128> der{};
  std::size_t der_len = der.size();
  if (a->acme_digest_sign(ctx.get(), der.data(), &der_len,
                          reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) != 1) {
    return openssl_error(*a, "ES256 signing");
  }
  // OpenSSL returns a DER ECDSA-Sig-Value; JWS wants the two integers side by side.
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, decltype(a->acme_ecdsa_sig_free)> sig(
      a->acme_d2i_ecdsa_sig(nullptr, &p, static_cast<long>(der_len)), a->acme_ecdsa_sig_free);
  if (!sig) return openssl_error(*a, "decoding the ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  a->acme_ecdsa_sig_get0(sig.get(), &r, &s);
  std::string out(64, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (a->acme_bn_bn2binpad(r, o, 32) != 32 || a->acme_bn_bn2binpad(s, o + 32, 32) != 32) {
    return openssl_error(*a, "encoding the ECDSA signature");
  }
  return out;
}

std::string base64url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = at(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    std::size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string jwk_thumbprint(const nlohmann::json& jwk) {
  // nlohmann::json objects keep their members sorted and dump() adds no whitespace: exactly the
  // RFC 7638 section 3.3 form for these ASCII members.
  crypto::Sha256Digest d = crypto::sha256(jwk.dump());
  return base64url(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string key_authorization(std::string_view token, std::string_view thumbprint) {
  return std::string(token) + "." + std::string(thumbprint);
}

Result<std::string> sign_jws(const PrivateKey& key, const std::string& url,
                             const std::string& nonce, const std::string& kid,
                             const std::optional<nlohmann::json>& payload) {
  nlohmann::json header = {{"alg", "ES256"}, {"nonce", nonce}, {"url", url}};
  if (kid.empty()) {
    GC_ASSIGN_OR_RETURN(header["jwk"], key.public_jwk());
  } else {
    header["kid"] = kid;
  }
  std::string protected_b64 = base64url(header.dump());
  std::string payload_b64 = payload ? base64url(payload->dump()) : "";
  GC_ASSIGN_OR_RETURN(std::string sig, key.sign_es256(protected_b64 + "." + payload_b64));
  nlohmann::json jws = {
      {"protected", protected_b64}, {"payload", payload_b64}, {"signature", base64url(sig)}};
  return jws.dump();
}

Result<std::string> make_csr_der(const PrivateKey& key, const std::vector<std::string>& domains) {
  if (domains.empty()) return make_error(Errc::kInvalidArgument, "a CSR needs at least one name");
  GC_ASSIGN_OR_RETURN(const SslApi* a, ssl_api());
  std::unique_ptr<X509_REQ, decltype(a->acme_req_free)> req(a->acme_req_new(), a->acme_req_free);
  if (!req) return openssl_error(*a, "X509_REQ_new");
  const auto* cn = reinterpret_cast<const unsigned char*>(domains.front().c_str());
  // The CN is at most 64 characters (RFC 5280 ub-common-name); the SANs are what counts.
  bool ok = a->acme_req_set_version(req.get(), 0) == 1 &&
            (domains.front().size() > 64 ||
             a->acme_name_add_entry_by_txt(a->acme_req_get_subject_name(req.get()), "CN",
                                           MBSTRING_UTF8, cn, -1, -1, 0) == 1) &&
            a->acme_req_set_pubkey(req.get(), key.native_handle_unsafe()) == 1;
  if (!ok) return openssl_error(*a, "building the CSR");
  std::string san;
  for (const auto& d : domains) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  X509_EXTENSION* ext = a->acme_ext_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
  if (ext == nullptr) return openssl_error(*a, "the CSR's subjectAltName");
  StackPtr exts(a->sk_new_null(), a->sk_free);
  bool added = exts && a->sk_push(exts.get(), ext) > 0 &&
               a->acme_req_add_extensions(
                   req.get(), reinterpret_cast<STACK_OF(X509_EXTENSION)*>(exts.get())) == 1;
  a->acme_extension_free(ext);
  if (!added) return openssl_error(*a, "the CSR's subjectAltName");
  if (a->acme_req_sign(req.get(), key.native_handle_unsafe(), a->acme_sha256()) <= 0) {
    return openssl_error(*a, "signing the CSR");
  }
  // Sized first, then written into our buffer: no OpenSSL allocation to free.
  int n = a->acme_i2d_x509_req(req.get(), nullptr);
  if (n <= 0) return openssl_error(*a, "encoding the CSR");
  std::string out(static_cast<std::size_t>(n), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (a->acme_i2d_x509_req(req.get(), &p) != n) return openssl_error(*a, "encoding the CSR");
  return out;
}

}  // namespace gc::tls

// SPDX-License-Identifier: MIT
#include "crypto/detail/age_format.h"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <sodium.h>

#include <memory>

#include "crypto/detail/openssl_api.h"

namespace gc::crypto::detail {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::size_t kColumns = 64;  // Stanza bodies wrap at 64 columns.
constexpr std::string_view kX25519Label = "age-encryption.org/v1/X25519";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Error header_error(int line, std::string_view what) {
  return make_error(Errc::kCorrupt,
                    "age header line " + std::to_string(line) + ": " + std::string(what));
}

struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* ctx) const { openssl().kdf_ctx_free(ctx); }
};

// The wrap key of an X25519 stanza: HKDF(shared secret, salt = share || recipient, info label).
Status x25519_wrap_key(const Key& shared, std::span<const std::uint8_t> share,
                       const X25519Recipient& recipient, Key& out) {
  std::array<std::uint8_t, 64> salt{};
  std::copy(share.begin(), share.end(), salt.begin());
  std::copy(recipient.bytes().begin(), recipient.bytes().end(), salt.begin() + 32);
  return hkdf_sha256(shared.span(), salt, kX25519Label, out);
}

}  // namespace

Status ensure_sodium() {
  // sodium_init() is thread-safe and idempotent; the static just makes later calls free.
  static const int rc = sodium_init();
  if (rc < 0) return make_error(Errc::kInternal, "libsodium failed to initialize");
  return ok();
}

void wipe(void* data, std::size_t size) { sodium_memzero(data, size); }

std::string base64_encode(std::span<const std::uint8_t> data) {
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Alphabet[(acc >> bits) & 63];
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0) out += kBase64Alphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  // A single leftover character carries 6 bits, less than a byte: never produced by an encoder.
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = base64_value(c);
    if (v < 0) return std::nullopt;  // Includes '=': padding is not allowed.
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
    acc &= (1u << bits) - 1;
  }
  // RFC 4648 section 3.5: the unused low bits of the last character must be zero, otherwise
  // several strings decode to the same bytes and the header would be malleable.
  if (acc != 0) return std::nullopt;
  return out;
}

Status hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                   std::string_view info, Key& out) {
  const OpenSslApi& api = openssl();
  EVP_KDF* kdf = api.kdf_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return make_error(Errc::kInternal, "openssl: HKDF is not available");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(api.kdf_ctx_new(kdf));
  api.kdf_free(kdf);  // The context holds its own reference.
  if (!ctx) return make_error(Errc::kInternal, "openssl: cannot create an HKDF context");
  // OSSL_PARAM takes non-const pointers even for inputs; OpenSSL only reads them.
  std::array<OSSL_PARAM, 5> params{};
  std::size_t n = 0;
  params[n++] = api.param_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(SN_sha256), 0);
  params[n++] =
      api.param_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.data()), ikm.size());
  // No salt parameter is RFC 5869's default salt (HashLen zero bytes), which is what an empty
  // salt means: HMAC pads a short key with zeros.
  if (!salt.empty()) {
    params[n++] = api.param_octet_string(OSSL_KDF_PARAM_SALT,
                                         const_cast<std::uint8_t*>(salt.data()), salt.size());
  }
  params[n++] =
      api.param_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
  params[n] = api.param_end();
  if (api.kdf_derive(ctx.get(), out.data(), out.size(), params.data()) != 1) {
    return make_error(Errc::kInternal, "openssl: HKDF-SHA-256 failed");
  }
  return ok();
}

Result<std::array<std::uint8_t, kMacSize>> hmac_sha256(const Key& key,
                                                       std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, kMacSize> mac{};
  std::size_t size = 0;
  if (openssl().q_mac(nullptr, "HMAC", nullptr, SN_sha256, nullptr, key.data(), key.size(),
                      data.data(), data.size(), mac.data(), mac.size(), &size) == nullptr ||
      size != mac.size()) {
    return make_error(Errc::kInternal, "openssl: HMAC-SHA-256 failed");
  }
  return mac;
}

std::string format_stanza(const Stanza& stanza) {
  std::string out = "->";
  for (const std::string& arg : stanza.args) {
    out += ' ';
    out += arg;
  }
  out += '\n';
  std::string body = base64_encode(stanza.body);
  std::size_t i = 0;
  for (; i + kColumns <= body.size(); i += kColumns) {
    out.append(body, i, kColumns);
    out += '\n';
  }
  // The final line is shorter than 64 columns, and empty when the body fills whole lines.
  out.append(body, i);
  out += '\n';
  return out;
}

Result<Header> parse_header(std::string_view text) {
  std::size_t pos = 0;
  int line_no = 0;
  auto next_line = [&]() -> std::optional<std::string_view> {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    return line;
  };

  std::optional<std::string_view> version = next_line();
  if (!version || *version != kVersionLine.substr(0, kVersionLine.size() - 1)) {
    return header_error(1, "not the age-encryption.org/v1 version line");
  }
  Header header;
  for (;;) {
    std::size_t line_start = pos;
    std::optional<std::string_view> line = next_line();
    if (!line) return header_error(line_no + 1, "the header ends without a MAC line");

    if (line->starts_with("---")) {
      if (header.stanzas.empty()) return header_error(line_no, "no recipient stanza");
      // "--- " followed by 43 base64 characters: 32 bytes, canonical.
      std::optional<std::vector<std::uint8_t>> mac;
      if (line->size() == 4 + 43 && (*line)[3] == ' ') mac = base64_decode(line->substr(4));
      if (!mac || mac->size() != kMacSize) return header_error(line_no, "malformed MAC line");
      std::copy(mac->begin(), mac->end(), header.mac.begin());
      header.mac_input_size = line_start + 3;
      if (pos != text.size()) return header_error(line_no, "data after the MAC line");
      return header;
    }

    if (!line->starts_with("-> ")) {
      return header_error(line_no, "expected a recipient stanza (\"-> \") or the MAC (\"---\")");
    }
    Stanza stanza;
    std::string_view rest = line->substr(3);
    for (;;) {
      std::size_t sp = rest.find(' ');
      std::string_view arg = rest.substr(0, sp);
      if (arg.empty()) return header_error(line_no, "empty stanza argument");
      for (char c : arg) {
        // Arguments are 1*VCHAR (ABNF): printable ASCII without space.
        if (c < 33 || c > 126)
          return header_error(line_no, "invalid character in a stanza argument");
      }
      stanza.args.emplace_back(arg);
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }

    std::string body;
    for (;;) {
      std::optional<std::string_view> body_line = next_line();
      if (!body_line) return header_error(line_no + 1, "unterminated stanza body");
      if (body_line->starts_with("-")) {
        return header_error(line_no, "stanza body must end with a line shorter than 64 columns");
      }
      if (body_line->size() > kColumns) {
        return header_error(line_no, "stanza body line longer than 64 columns");
      }
      body.append(*body_line);
      if (body_line->size() < kColumns) break;
    }
    std::optional<std::vector<std::uint8_t>> decoded = base64_decode(body);
    if (!decoded) return header_error(line_no, "stanza body is not canonical unpadded base64");
    stanza.body = std::move(*decoded);
    header.stanzas.push_back(std::move(stanza));
  }
}

Result<std::array<std::uint8_t, kMacSize>> header_mac(const FileKey& file_key,
                                                      std::string_view header_prefix) {
  Key mac_key;
  GC_TRY(hkdf_sha256(file_key.span(), {}, "header", mac_key));
  return hmac_sha256(mac_key, std::span(reinterpret_cast<const std::uint8_t*>(header_prefix.data()),
                                        header_prefix.size()));
}

Status payload_key(const FileKey& file_key, std::span<const std::uint8_t> nonce, Key& out) {
  return hkdf_sha256(file_key.span(), nonce, "payload", out);
}

Result<Stanza> wrap_x25519(const X25519Recipient& recipient, const FileKey& file_key) {
  GC_TRY(ensure_sodium());
  Key ephemeral;
  randombytes_buf(ephemeral.data(), ephemeral.size());
  std::array<std::uint8_t, 32> share{};
  if (crypto_scalarmult_base(share.data(), ephemeral.data()) != 0) {
    return make_error(Errc::kInternal, "X25519 failed");
  }
  Key shared;
  // libsodium refuses (returns -1) when the result is all zeros: the recipient is a low-order
  // point, and the file key would be wrapped with a key anyone can compute.
  if (crypto_scalarmult(shared.data(), ephemeral.data(), recipient.bytes().data()) != 0) {
    return make_error(Errc::kInvalidArgument,
                      "age recipient is not a usable X25519 public key (low-order point)");
  }
  Key wrap_key;
  GC_TRY(x25519_wrap_key(shared, share, recipient, wrap_key));
  Stanza stanza;
  stanza.args = {"X25519", base64_encode(share)};
  stanza.body.resize(kFileKeySize + kTagSize);
  const std::array<std::uint8_t, 12> zero_nonce{};
  crypto_aead_chacha20poly1305_ietf_encrypt(stanza.body.data(), nullptr, file_key.data(),
                                            file_key.size(), nullptr, 0, nullptr, zero_nonce.data(),
                                            wrap_key.data());
  return stanza;
}

Result<std::optional<FileKey>> unwrap_x25519(const Stanza& stanza, const X25519Identity& identity) {
  GC_TRY(ensure_sodium());
  if (stanza.args.size() != 2) {
    return make_error(Errc::kCorrupt, "malformed X25519 stanza: expected exactly one argument");
  }
  std::optional<std::vector<std::uint8_t>> share = base64_decode(stanza.args[1]);
  if (!share || share->size() != 32) {
    return make_error(Errc::kCorrupt,
                      "malformed X25519 stanza: the ephemeral share is not 32 bytes of base64");
  }
  // Checked before any decryption, as the spec requires, against partitioning oracle attacks.
  if (stanza.body.size() != kFileKeySize + kTagSize) {
    return make_error(Errc::kCorrupt, "malformed X25519 stanza: the body is not 32 bytes");
  }
  Key shared;
  if (crypto_scalarmult(shared.data(), identity.secret_bytes_unsafe().data(), share->data()) != 0 ||
      sodium_is_zero(shared.data(), shared.size()) == 1) {
    return make_error(Errc::kCorrupt,
                      "X25519 stanza yields an all-zero shared secret: the file was crafted to be "
                      "decryptable by anyone");
  }
  Key wrap_key;
  GC_TRY(x25519_wrap_key(shared, *share, identity.recipient(), wrap_key));
  FileKey file_key;
  const std::array<std::uint8_t, 12> zero_nonce{};
  if (crypto_aead_chacha20poly1305_ietf_decrypt(file_key.data(), nullptr, nullptr,
                                                stanza.body.data(), stanza.body.size(), nullptr, 0,
                                                zero_nonce.data(), wrap_key.data()) != 0) {
    return std::optional<FileKey>();  // Addressed to another recipient.
  }
  return std::optional<FileKey>(file_key);
}

std::array<std::uint8_t, 12> chunk_nonce(std::uint64_t counter, bool last) {
  std::array<std::uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i) {
    nonce[static_cast<std::size_t>(10 - i)] = static_cast<std::uint8_t>(counter >> (8 * i));
  }
  nonce[11] = last ? 1 : 0;
  return nonce;
}

void seal_chunk(std::span<const std::uint8_t, kKeySize> key, std::uint64_t counter, bool last,
                std::span<const std::uint8_t> plaintext, std::uint8_t* out) {
  std::array<std::uint8_t, 12> nonce = chunk_nonce(counter, last);
  crypto_aead_chacha20poly1305_ietf_encrypt(out, nullptr, plaintext.data(), plaintext.size(),
                                            nullptr, 0, nullptr, nonce.data(), key.data());
}

bool open_chunk(std::span<const std::uint8_t, kKeySize> key, std::uint64_t counter, bool last,
                std::span<const std::uint8_t> ciphertext, std::uint8_t* out) {
  if (ciphertext.size() < kTagSize) return false;
  std::array<std::uint8_t, 12> nonce = chunk_nonce(counter, last);
  return crypto_aead_chacha20poly1305_ietf_decrypt(out, nullptr, nullptr, ciphertext.data(),
                                                   ciphertext.size(), nullptr, 0, nonce.data(),
                                                   key.data()) == 0;
}

}  // namespace gc::crypto::detail

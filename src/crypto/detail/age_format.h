// SPDX-License-Identifier: MIT
// crypto/detail/age_format.h: the building blocks that AgeWriter and AgeReader share: the age v1
// header grammar, canonical unpadded base64, the key derivations, the X25519 stanza, and the
// STREAM chunk nonce. Internal to crypto/; the section names refer to c2sp.org/age.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "crypto/age_keys.h"

namespace gc::crypto::detail {

inline constexpr std::string_view kVersionLine = "age-encryption.org/v1\n";
inline constexpr std::size_t kFileKeySize = 16;
inline constexpr std::size_t kPayloadNonceSize = 16;
inline constexpr std::size_t kChunkSize =
    std::size_t{64} * 1024;                  // Plaintext bytes per STREAM chunk.
inline constexpr std::size_t kTagSize = 16;  // Poly1305 tag.
inline constexpr std::size_t kCipherChunkSize = kChunkSize + kTagSize;
inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kMacSize = 32;
// A header is a few hundred bytes per recipient. A bound lets the reader refuse a stream that
// never ends its header instead of buffering it all.
inline constexpr std::size_t kMaxHeaderSize = std::size_t{1024} * 1024;

// libsodium must be initialized once before use; safe to call from any thread, any number of
// times. Errors: kInternal.
Status ensure_sodium();

// Overwrites memory in a way the compiler does not optimize away (sodium_memzero).
void wipe(void* data, std::size_t size);

// A fixed-size secret buffer that wipes itself on destruction.
template <std::size_t N>
struct SecretArray {
  std::array<std::uint8_t, N> bytes{};
  SecretArray() = default;
  SecretArray(const SecretArray&) = default;
  SecretArray& operator=(const SecretArray&) = default;
  ~SecretArray() { wipe(bytes.data(), bytes.size()); }
  std::uint8_t* data() { return bytes.data(); }
  const std::uint8_t* data() const { return bytes.data(); }
  static constexpr std::size_t size() { return N; }
  std::span<const std::uint8_t, N> span() const { return bytes; }
};

using FileKey = SecretArray<kFileKeySize>;
using Key = SecretArray<kKeySize>;

// Standard base64 without '=' padding.
std::string base64_encode(std::span<const std::uint8_t> data);
// Decodes canonical unpadded base64 only: padding, characters outside the alphabet, a length of
// 1 mod 4, and non-zero trailing bits all fail (the spec's "Conventions").
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

// HKDF-SHA-256 with a 32-byte output (RFC 5869). An empty salt is HKDF's default salt.
// Errors: kInternal if OpenSSL fails.
Status hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                   std::string_view info, Key& out);
// HMAC-SHA-256. Errors: kInternal if OpenSSL fails.
Result<std::array<std::uint8_t, kMacSize>> hmac_sha256(const Key& key,
                                                       std::span<const std::uint8_t> data);

// One recipient stanza: "-> arg0 arg1...", then the base64 body.
struct Stanza {
  std::vector<std::string> args;  // args[0] is the stanza type ("X25519").
  std::vector<std::uint8_t> body;
};

// A parsed header. `mac_input_size` is the length of the header prefix that the MAC covers:
// everything up to and including "---" (section "Header MAC").
struct Header {
  std::vector<Stanza> stanzas;
  std::array<std::uint8_t, kMacSize> mac{};
  std::size_t mac_input_size = 0;
};

// The stanza's text: argument line, body wrapped at 64 columns, final short (maybe empty) line.
std::string format_stanza(const Stanza& stanza);

// Parses a complete header (from the version line through the MAC line and its LF) strictly per
// the spec's ABNF. Errors: kCorrupt naming the line and the rule that failed.
Result<Header> parse_header(std::string_view text);

// The MAC over `header_prefix` (the header up to and including "---") with the key
// HKDF(file key, salt empty, info "header"). Errors: kInternal if OpenSSL fails.
Result<std::array<std::uint8_t, kMacSize>> header_mac(const FileKey& file_key,
                                                      std::string_view header_prefix);

// The payload key: HKDF(file key, salt nonce, info "payload"). Errors: kInternal.
Status payload_key(const FileKey& file_key, std::span<const std::uint8_t> nonce, Key& out);

// Wraps `file_key` for `recipient` with a fresh ephemeral key (section "X25519 recipient
// stanza"). Errors: kInternal if a primitive fails.
Result<Stanza> wrap_x25519(const X25519Recipient& recipient, const FileKey& file_key);

// Tries to unwrap an X25519 stanza with `identity`. Returns nullopt when the stanza is addressed
// to someone else (the AEAD tag does not verify). Errors: kCorrupt for a malformed stanza (not
// exactly two arguments, a share that is not canonical base64 of 32 bytes, a body that is not 32
// bytes) and for an all-zero shared secret, which the spec requires aborting on.
Result<std::optional<FileKey>> unwrap_x25519(const Stanza& stanza, const X25519Identity& identity);

// The 12-byte ChaCha20-Poly1305 nonce of STREAM chunk `counter`: an 11-byte big-endian counter,
// then 0x01 for the final chunk and 0x00 otherwise.
std::array<std::uint8_t, 12> chunk_nonce(std::uint64_t counter, bool last);

// ChaCha20-Poly1305 (IETF) on one chunk. seal_chunk writes plaintext.size() + kTagSize bytes to
// `out`; open_chunk writes ciphertext.size() - kTagSize bytes and returns false, writing nothing
// useful, when the tag does not verify (or the ciphertext is shorter than a tag).
void seal_chunk(std::span<const std::uint8_t, kKeySize> key, std::uint64_t counter, bool last,
                std::span<const std::uint8_t> plaintext, std::uint8_t* out);
bool open_chunk(std::span<const std::uint8_t, kKeySize> key, std::uint64_t counter, bool last,
                std::span<const std::uint8_t> ciphertext, std::uint8_t* out);

}  // namespace gc::crypto::detail

// SPDX-License-Identifier: MIT
#include "crypto/age_keys.h"

#include <sodium.h>

#include <ctime>

#include "base/unique_fd.h"
#include "crypto/bech32.h"
#include "crypto/detail/age_format.h"
#include "crypto/sha256.h"

namespace gc::crypto {
namespace {

constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "age-secret-key-";
constexpr std::string_view kRecipientKind = "an age recipient (public key)";
constexpr std::string_view kIdentityKind = "an age secret key (identity)";

Error key_error(std::string_view what, std::string_view problem) {
  return make_error(Errc::kInvalidArgument, std::string(what) + ": " + std::string(problem));
}

// Explains a string that is some other kind of age key, so that a key pasted into the wrong field
// gets a message that says so. Looks at prefixes only: never echoes the key.
std::string_view other_key_kind(std::string_view text) {
  auto starts_with_nocase = [&](std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      char c = text[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    return true;
  };
  if (starts_with_nocase("age-secret-key-pq-1")) return "a post-quantum (ML-KEM) identity";
  if (starts_with_nocase("age-secret-key-1")) return kIdentityKind;
  if (starts_with_nocase("age-plugin-")) return "an age plugin identity";
  if (starts_with_nocase("age1pq1")) return "a post-quantum (ML-KEM) recipient";
  if (starts_with_nocase("age1tag")) return "a hardware-key (tag) recipient";
  if (starts_with_nocase("age1") && text.find('1', 4) != std::string_view::npos) {
    return "an age plugin recipient";
  }
  if (starts_with_nocase("age1")) return kRecipientKind;
  if (starts_with_nocase("ssh-")) return "an SSH public key";
  return {};
}

// Decodes the 32-byte key of `text` under `hrp` into `out`. `what` prefixes errors; `own_kind`
// is what other_key_kind says for the expected kind, so that it is not offered as an explanation.
Status decode_key(std::string_view text, std::string_view hrp, std::string_view what,
                  std::string_view own_kind, std::array<std::uint8_t, 32>& out) {
  Result<Bech32Data> decoded = bech32_decode(text);
  if (!decoded || decoded->hrp != hrp) {
    std::string_view kind = other_key_kind(text);
    if (!kind.empty() && kind != own_kind) return key_error(what, "this is " + std::string(kind));
    if (!decoded) return key_error(what, decoded.error().message);
    detail::wipe(decoded->data.data(), decoded->data.size());
    return key_error(what, "unexpected Bech32 prefix");
  }
  bool good = decoded->data.size() == out.size();
  if (good) std::copy(decoded->data.begin(), decoded->data.end(), out.begin());
  detail::wipe(decoded->data.data(), decoded->data.size());
  if (!good) return key_error(what, "the key is not 32 bytes");
  return ok();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string X25519Recipient::to_string() const {
  Result<std::string> text = bech32_encode(kRecipientHrp, key_);
  // Encoding fixed-size bytes under a fixed valid HRP cannot fail.
  return text ? *text : std::string();
}

X25519Identity::~X25519Identity() { sodium_memzero(secret_.data(), secret_.size()); }

std::string X25519Identity::to_string_unsafe() const {
  Result<std::string> text = bech32_encode("AGE-SECRET-KEY-", secret_);
  return text ? *text : std::string();
}

Result<X25519Identity> X25519Identity::from_secret(const std::array<std::uint8_t, 32>& secret) {
  GC_TRY(detail::ensure_sodium());
  std::array<std::uint8_t, 32> public_key{};
  if (crypto_scalarmult_base(public_key.data(), secret.data()) != 0) {
    return make_error(Errc::kInternal, "X25519 failed");
  }
  return X25519Identity(secret, public_key);
}

Result<X25519Identity> generate_identity() {
  GC_TRY(detail::ensure_sodium());
  detail::Key secret;
  randombytes_buf(secret.data(), secret.size());
  return X25519Identity::from_secret(secret.bytes);
}

Result<X25519Recipient> parse_recipient(std::string_view text) {
  std::array<std::uint8_t, 32> key{};
  GC_TRY(decode_key(text, kRecipientHrp, "invalid age recipient", kRecipientKind, key));
  return X25519Recipient(key);
}

Result<X25519Identity> parse_identity(std::string_view text) {
  detail::Key secret;
  GC_TRY(decode_key(text, kIdentityHrp, "invalid age identity", kIdentityKind, secret.bytes));
  return X25519Identity::from_secret(secret.bytes);
}

Result<std::vector<X25519Identity>> parse_identity_file(std::string_view text) {
  std::vector<X25519Identity> identities;
  int line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.starts_with('#')) continue;
    Result<X25519Identity> identity = parse_identity(line);
    if (!identity) return identity.error().with_context("line " + std::to_string(line_no));
    identities.push_back(std::move(*identity));
  }
  if (identities.empty()) {
    return make_error(Errc::kInvalidArgument, "no AGE-SECRET-KEY-1 identity in the file");
  }
  return identities;
}

Result<std::vector<X25519Identity>> load_identity_file(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text) return text.error();
  Result<std::vector<X25519Identity>> identities = parse_identity_file(*text);
  detail::wipe(text->data(), text->size());
  if (!identities) return identities.error().with_context("identity file " + path);
  return identities;
}

std::string format_identity_file(const X25519Identity& identity,
                                 std::chrono::system_clock::time_point created) {
  std::time_t t = std::chrono::system_clock::to_time_t(created);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char stamp[32];
  // Go's time.RFC3339 ("2006-01-02T15:04:05Z07:00") prints a UTC time with a "Z".
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string("# created: ") + stamp +
         "\n# public key: " + identity.recipient().to_string() + "\n" +
         identity.to_string_unsafe() + "\n";
}

std::string recipient_fingerprint(const X25519Recipient& recipient) {
  Sha256Digest digest = sha256(recipient.to_string());
  return to_hex(std::span(digest.data(), 8));
}

}  // namespace gc::crypto

// SPDX-License-Identifier: MIT
// crypto/age_keys.h: age X25519 keys (age-encryption.org/v1). A recipient ("age1...") is a public
// key that files are encrypted to; an identity ("AGE-SECRET-KEY-1...") is the secret key that
// decrypts them. Key files use age-keygen's layout, so the stock `age` CLI reads ours and we read
// its.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace gc::crypto {

// An X25519 public key. Plain value; copy freely.
class X25519Recipient {
 public:
  explicit X25519Recipient(const std::array<std::uint8_t, 32>& public_key) : key_(public_key) {}

  const std::array<std::uint8_t, 32>& bytes() const { return key_; }
  // The Bech32 "age1..." form, lowercase, as age prints it.
  std::string to_string() const;
  bool operator==(const X25519Recipient&) const = default;

 private:
  std::array<std::uint8_t, 32> key_;
};

// An X25519 secret key and its public half. Every copy wipes its secret (sodium_memzero) when
// destroyed; there is no stream operator, so a secret never lands in a log by accident.
class X25519Identity {
 public:
  X25519Identity(const X25519Identity&) = default;
  X25519Identity& operator=(const X25519Identity&) = default;
  ~X25519Identity();

  const X25519Recipient& recipient() const { return recipient_; }
  // The raw 32-byte scalar. For the age format code; never log or store it elsewhere.
  const std::array<std::uint8_t, 32>& secret_bytes_unsafe() const { return secret_; }
  // The "AGE-SECRET-KEY-1..." string. The returned std::string cannot be wiped reliably: write it
  // to a 0600 file (format_identity_file does) and let it go.
  std::string to_string_unsafe() const;

  // Builds an identity from a raw scalar (recipient = X25519(secret, basepoint)).
  // Errors: kInternal if libsodium cannot initialize.
  static Result<X25519Identity> from_secret(const std::array<std::uint8_t, 32>& secret);

 private:
  X25519Identity(const std::array<std::uint8_t, 32>& secret,
                 const std::array<std::uint8_t, 32>& public_key)
      : secret_(secret), recipient_(public_key) {}
  std::array<std::uint8_t, 32> secret_;
  X25519Recipient recipient_;
};

// A fresh identity from the system CSPRNG. Errors: kInternal if libsodium cannot initialize.
Result<X25519Identity> generate_identity();

// Parses "age1..." (Bech32, HRP "age", 32 bytes). Errors: kInvalidArgument saying what is wrong
// ("this is an age secret key, not a recipient", "bad Bech32 checksum"...). Messages never quote
// the input: a secret key pasted in the wrong place must not end up in a log.
Result<X25519Recipient> parse_recipient(std::string_view text);

// Parses "AGE-SECRET-KEY-1..." (Bech32, HRP "AGE-SECRET-KEY-", 32 bytes). Errors:
// kInvalidArgument; messages never contain the input or any part of it.
Result<X25519Identity> parse_identity(std::string_view text);

// Parses an identity file as age-keygen writes it and `age -d -i` reads it: lines starting with
// '#' and blank lines are ignored, every other line (surrounding whitespace and a CR trimmed) must
// be an AGE-SECRET-KEY-1 identity. Errors: kInvalidArgument "line N: ..." for a bad line (never
// quoting it), or when the file holds no identity at all.
Result<std::vector<X25519Identity>> parse_identity_file(std::string_view text);

// read_file(path) + parse_identity_file, with the path in error messages. Blocks on disk I/O.
// Errors: as read_file (kNotFound, kPermission...) and parse_identity_file.
Result<std::vector<X25519Identity>> load_identity_file(const std::string& path);

// The age-keygen layout, byte for byte:
//   # created: 2006-01-02T15:04:05Z      (RFC 3339, UTC)
//   # public key: age1...
//   AGE-SECRET-KEY-1...
// The result holds the secret key: store it with mode 0600 (AtomicFile) and drop it.
std::string format_identity_file(const X25519Identity& identity,
                                 std::chrono::system_clock::time_point created);

// A short, stable id of a recipient for manifests and logs: the first 8 bytes of
// SHA-256(recipient.to_string()) in lowercase hex (16 characters). It identifies which key a
// backup was encrypted to without repeating the whole key; it is not a secret.
std::string recipient_fingerprint(const X25519Recipient& recipient);

}  // namespace gc::crypto

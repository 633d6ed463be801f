// SPDX-License-Identifier: MIT
// crypto/sha256.h: streaming SHA-256 (OpenSSL EVP underneath) for checksums in backup manifests,
// and the hex form those manifests store.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

// OpenSSL's context type, declared here so that this header needs no OpenSSL include.
struct evp_md_ctx_st;

namespace gc::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

// One running hash. Move-only; not thread-safe. Out of memory is fatal in this project, and
// OpenSSL's built-in SHA-256 fails for no other reason, so nothing here returns an error.
class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;
  ~Sha256();

  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  // Returns the digest of everything passed to update() since construction or the last finish(),
  // and starts over with an empty input.
  Sha256Digest finish();

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

// One-shot digests.
Sha256Digest sha256(std::span<const std::uint8_t> data);
Sha256Digest sha256(std::string_view data);

// Lowercase hex, two characters per byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

// Hex SHA-256 of the file at `path`, read in 64 KiB pieces. Blocks on disk I/O.
// Errors follow errno (kNotFound, kPermission, kIo), with the path in the message.
Result<std::string> sha256_file(const std::string& path);

}  // namespace gc::crypto

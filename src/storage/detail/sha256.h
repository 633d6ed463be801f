// SPDX-License-Identifier: MIT
// storage/detail/sha256.h: incremental SHA-256 over OpenSSL EVP, private to the storage module
// (crypto/ is written concurrently; storage does not depend on it). Move-only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

namespace gc::storage::detail {

class Sha256 {
 public:
  // Errors: kInternal if OpenSSL cannot set up the digest (out of memory, FIPS misconfiguration).
  static Result<Sha256> create();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();

  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  // Lowercase hex of the digest of everything passed to update(). Call once.
  std::string finish_hex();

 private:
  struct Ctx;
  explicit Sha256(std::unique_ptr<Ctx> ctx);
  std::unique_ptr<Ctx> ctx_;
};

// Hex SHA-256 of `data`. Errors: kInternal from OpenSSL.
Result<std::string> sha256_hex(std::string_view data);

// Hex SHA-256 of a whole file, streamed in chunks. Errors follow errno (kNotFound, kPermission,
// kIo); kInternal from OpenSSL.
Result<std::string> sha256_file_hex(const std::string& path);

}  // namespace gc::storage::detail

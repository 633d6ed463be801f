// SPDX-License-Identifier: MIT
// crypto/age_writer.h: streaming age v1 encryption to X25519 recipients. Plaintext goes in through
// write(); the age file comes out of a ByteSink: header, payload nonce, then one 64 KiB STREAM
// chunk at a time. `age -d -i KEY` decrypts the result.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/byte_sink.h"
#include "base/result.h"
#include "crypto/age_keys.h"

namespace gc::crypto {

// One file being encrypted. Move-only; use it from one thread at a time. Its calls block only as
// long as the sink does.
class AgeWriter {
 public:
  // Draws a fresh file key and payload nonce, wraps the file key once per recipient (one X25519
  // stanza each), and passes the header and nonce to `sink` before returning. Errors:
  // kInvalidArgument for no recipients or an unusable (low-order) recipient key, kInternal if a
  // primitive fails, and whatever `sink` returns.
  static Result<AgeWriter> create(std::span<const X25519Recipient> recipients, ByteSink sink);

  AgeWriter(AgeWriter&&) noexcept = default;
  AgeWriter& operator=(AgeWriter&&) noexcept = default;
  AgeWriter(const AgeWriter&) = delete;
  AgeWriter& operator=(const AgeWriter&) = delete;
  // Wipes the payload key and buffered plaintext. Without finish() the output is truncated, and
  // every age reader rejects it.
  ~AgeWriter();

  // Encrypts `plaintext`, in pieces of any size, passing each finished chunk to the sink. Holds
  // back up to one chunk (64 KiB): a chunk is sealed only once more input shows whether it is
  // the final one. Errors: whatever the sink returns; after an error, every call returns it.
  Status write(std::span<const std::uint8_t> plaintext);
  // Seals the final chunk (empty only when the whole plaintext is) and passes it to the sink.
  // Calling write() or finish() afterwards is a bug (GC_CHECK).
  Status finish();

  std::uint64_t plaintext_bytes() const { return plaintext_bytes_; }    // Accepted so far.
  std::uint64_t ciphertext_bytes() const { return ciphertext_bytes_; }  // Passed to the sink.

 private:
  explicit AgeWriter(ByteSink sink) : sink_(std::move(sink)) {}
  Status seal(bool last);
  Status emit(std::span<const std::uint8_t> bytes);

  ByteSink sink_;
  std::array<std::uint8_t, 32> payload_key_{};
  std::vector<std::uint8_t> plain_;   // The chunk being filled, at most 64 KiB.
  std::vector<std::uint8_t> sealed_;  // Ciphertext of one chunk, reused.
  std::uint64_t counter_ = 0;         // Index of the next chunk.
  std::uint64_t plaintext_bytes_ = 0;
  std::uint64_t ciphertext_bytes_ = 0;
  std::optional<Error> failed_;
  bool finished_ = false;
};

}  // namespace gc::crypto

// SPDX-License-Identifier: MIT
// crypto/age_reader.h: streaming age v1 decryption with X25519 identities. Ciphertext goes in
// through write(), in pieces of any size (one byte at a time works); authenticated plaintext comes
// out of a ByteSink one 64 KiB chunk at a time. Reads what `age -e -r RECIPIENT` writes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/byte_sink.h"
#include "base/result.h"
#include "crypto/age_keys.h"

namespace gc::crypto {

// One file being decrypted. Move-only; use it from one thread at a time. Its calls block only as
// long as the sink does. Memory stays bounded: the header (at most 1 MiB, normally a few hundred
// bytes), one ciphertext chunk and one plaintext chunk.
class AgeReader {
 public:
  // Copies `identities` (the copies are wiped on destruction). Errors: kInvalidArgument when
  // `identities` is empty.
  static Result<AgeReader> create(std::span<const X25519Identity> identities, ByteSink sink);

  AgeReader(AgeReader&&) noexcept = default;
  AgeReader& operator=(AgeReader&&) noexcept = default;
  AgeReader(const AgeReader&) = delete;
  AgeReader& operator=(const AgeReader&) = delete;
  ~AgeReader();  // Wipes the payload key and buffers.

  // Consumes the next piece of the file. The header is parsed strictly and its MAC verified
  // before any plaintext reaches the sink; each chunk reaches the sink only after its tag
  // verifies. Errors, after which every call returns the same error:
  //   kCorrupt: not an age v1 file, malformed header, "header MAC mismatch: the file header was
  //     modified", "chunk N failed authentication: ..." (N counts from 0), trailing data after
  //     the final chunk, a malformed X25519 stanza or an all-zero shared secret;
  //   kPermission: "no identity matches any recipient of this file";
  //   kInvalidArgument: passphrase (scrypt) files, which groundctl does not decrypt;
  //   whatever the sink returns.
  Status write(std::span<const std::uint8_t> ciphertext);
  // Ends the input: decrypts and verifies the final chunk. Errors: as write(), plus kCorrupt
  // "truncated: ..." when the file stops before its final chunk. STREAM authenticates the end
  // only here: on any error the plaintext already emitted must be discarded, which is why the
  // sink should be a temp file or an AtomicFile, committed only after finish() succeeds.
  Status finish();

  std::uint64_t ciphertext_bytes() const { return ciphertext_bytes_; }  // Consumed so far.
  std::uint64_t plaintext_bytes() const { return plaintext_bytes_; }    // Passed to the sink.

 private:
  enum class Phase { kHeader, kNonce, kPayload, kDone };
  AgeReader(std::vector<X25519Identity> identities, ByteSink sink)
      : identities_(std::move(identities)), sink_(std::move(sink)) {}
  Status fail(Error error);
  // Returns how many bytes of `data` were consumed into the header.
  Result<std::size_t> take_header(std::span<const std::uint8_t> data);
  Status process_header();
  Status take_nonce(std::span<const std::uint8_t>& data);
  // Opens the buffered chunk: at_end says the input has ended, otherwise more data follows.
  Status open(bool at_end);

  std::vector<X25519Identity> identities_;
  ByteSink sink_;
  Phase phase_ = Phase::kHeader;
  std::string header_;                          // The header so far, up to kMaxHeaderSize.
  std::size_t line_start_ = 0;                  // Offset in header_ of the line being read.
  std::array<std::uint8_t, 16> file_key_{};     // From the header until the nonce is complete.
  std::array<std::uint8_t, 32> payload_key_{};  // From then on.
  std::array<std::uint8_t, 16> nonce_{};
  std::size_t nonce_size_ = 0;
  std::vector<std::uint8_t> sealed_;  // Ciphertext of the current chunk, at most 64 KiB + 16.
  std::vector<std::uint8_t> plain_;   // Its plaintext, reused.
  std::uint64_t counter_ = 0;         // Index of the current chunk.
  std::uint64_t ciphertext_bytes_ = 0;
  std::uint64_t plaintext_bytes_ = 0;
  std::optional<Error> failed_;
};

}  // namespace gc::crypto

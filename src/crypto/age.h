// SPDX-License-Identifier: MIT
// crypto/age.h: the age v1 file format (c2sp.org/age) with X25519 keys: the key types, the
// streaming AgeWriter and AgeReader, and whole-file helpers on top of them. Backups are written
// in this format so that `age -d -i key.txt backup.age` restores them without groundctl.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"
#include "crypto/age_keys.h"    // IWYU pragma: export
#include "crypto/age_reader.h"  // IWYU pragma: export
#include "crypto/age_writer.h"  // IWYU pragma: export

namespace gc::crypto {

struct AgeStats {
  std::uint64_t plaintext_bytes = 0;
  std::uint64_t ciphertext_bytes = 0;
};

// Reads `in_fd` to EOF and writes it as an age file to `out_fd`, encrypted to every recipient.
// Neither fd is closed. Blocks. Errors: as AgeWriter::create, and errno-based ones from read and
// write (kIo...); after an error `out_fd` holds an incomplete file that no reader accepts.
Result<AgeStats> encrypt_fd(int in_fd, int out_fd, std::span<const X25519Recipient> recipients);

// Reads the age file on `in_fd` to EOF and writes its plaintext to `out_fd`. Blocks. Errors: as
// AgeReader, plus errno-based ones; after an error `out_fd` may hold a prefix of the plaintext
// that must not be trusted (decrypt_file keeps it from ever becoming visible).
Result<AgeStats> decrypt_fd(int in_fd, int out_fd, std::span<const X25519Identity> identities);

// File to file. The output is written through an AtomicFile with `mode`: it appears complete, or
// not at all, and a failed run leaves an existing `out_path` untouched. Errors: as the fd
// functions, plus open/rename errors naming the path.
Result<AgeStats> encrypt_file(const std::string& in_path, const std::string& out_path,
                              std::span<const X25519Recipient> recipients, int mode = 0600);
Result<AgeStats> decrypt_file(const std::string& in_path, const std::string& out_path,
                              std::span<const X25519Identity> identities, int mode = 0600);

}  // namespace gc::crypto

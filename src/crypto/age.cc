// SPDX-License-Identifier: MIT
#include "crypto/age.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <vector>

#include "base/atomic_file.h"
#include "base/unique_fd.h"

namespace gc::crypto {
namespace {

constexpr std::size_t kReadSize = std::size_t{64} * 1024;

std::string_view as_chars(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Feeds everything readable from `fd` to `stage` (an AgeWriter or AgeReader), then finishes it.
template <typename Stage>
Status pump(int fd, std::string_view name, Stage& stage) {
  std::vector<std::uint8_t> buf(kReadSize);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read", name, errno);
    }
    if (n == 0) break;
    GC_TRY(stage.write(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n))));
  }
  return stage.finish();
}

ByteSink fd_sink(int fd) {
  return [fd](std::span<const std::uint8_t> bytes) { return write_all(fd, as_chars(bytes)); };
}

ByteSink atomic_sink(AtomicFile& file) {
  return [&file](std::span<const std::uint8_t> bytes) { return file.write(as_chars(bytes)); };
}

}  // namespace

Result<AgeStats> encrypt_fd(int in_fd, int out_fd, std::span<const X25519Recipient> recipients) {
  GC_ASSIGN_OR_RETURN(AgeWriter writer, AgeWriter::create(recipients, fd_sink(out_fd)));
  GC_TRY(pump(in_fd, "input", writer));
  return AgeStats{writer.plaintext_bytes(), writer.ciphertext_bytes()};
}

Result<AgeStats> decrypt_fd(int in_fd, int out_fd, std::span<const X25519Identity> identities) {
  GC_ASSIGN_OR_RETURN(AgeReader reader, AgeReader::create(identities, fd_sink(out_fd)));
  GC_TRY(pump(in_fd, "input", reader));
  return AgeStats{reader.plaintext_bytes(), reader.ciphertext_bytes()};
}

Result<AgeStats> encrypt_file(const std::string& in_path, const std::string& out_path,
                              std::span<const X25519Recipient> recipients, int mode) {
  GC_ASSIGN_OR_RETURN(UniqueFd in, open_fd(in_path, O_RDONLY));
  GC_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::create(out_path, mode));
  GC_ASSIGN_OR_RETURN(AgeWriter writer, AgeWriter::create(recipients, atomic_sink(out)));
  Status st = pump(in.get(), in_path, writer);
  if (!st) return st.error().with_context("encrypt " + in_path);
  GC_TRY(out.commit());
  return AgeStats{writer.plaintext_bytes(), writer.ciphertext_bytes()};
}

Result<AgeStats> decrypt_file(const std::string& in_path, const std::string& out_path,
                              std::span<const X25519Identity> identities, int mode) {
  GC_ASSIGN_OR_RETURN(UniqueFd in, open_fd(in_path, O_RDONLY));
  GC_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::create(out_path, mode));
  GC_ASSIGN_OR_RETURN(AgeReader reader, AgeReader::create(identities, atomic_sink(out)));
  Status st = pump(in.get(), in_path, reader);
  if (!st) return st.error().with_context("decrypt " + in_path);
  GC_TRY(out.commit());
  return AgeStats{reader.plaintext_bytes(), reader.ciphertext_bytes()};
}

}  // namespace gc::crypto

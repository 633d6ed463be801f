// SPDX-License-Identifier: MIT
#include "backup/artifact_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "backup/zstd_stream.h"
#include "base/unique_fd.h"
#include "crypto/age_reader.h"
#include "crypto/sha256.h"

namespace gc::backup {
namespace {

// Reads `path` in large pieces into `each`, hashing as it goes; returns the hex digest and size.
struct ReadSummary {
  std::string sha256;
  std::uint64_t bytes = 0;
};

Result<ReadSummary> read_hashed(const std::string& path, const ByteSink& each) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDONLY));
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  crypto::Sha256 hash;
  ReadSummary s;
  std::vector<std::uint8_t> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(sys_error("read", path, errno));
    if (n == 0) break;
    std::span<const std::uint8_t> piece(buf.data(), static_cast<size_t>(n));
    hash.update(piece);
    s.bytes += piece.size();
    if (each) GC_TRY(each(piece));
  }
  s.sha256 = crypto::to_hex(hash.finish());
  return s;
}

Status compare(const ReadSummary& s, const Artifact& a) {
  if (s.bytes != a.ciphertext_bytes) {
    return tl::unexpected(Error{Errc::kCorrupt, a.name + " is " + std::to_string(s.bytes) +
                                                    " bytes, the manifest says " +
                                                    std::to_string(a.ciphertext_bytes) +
                                                    ": the file was truncated or replaced"});
  }
  if (s.sha256 != a.sha256) {
    return tl::unexpected(Error{Errc::kCorrupt, a.name + " does not match its SHA-256 in the "
                                                         "manifest: the file is corrupt"});
  }
  return {};
}

}  // namespace

Status check_artifact_file(const std::string& path, const Artifact& a) {
  GC_ASSIGN_OR_RETURN(ReadSummary s, read_hashed(path, nullptr));
  return compare(s, a);
}

Status read_artifact(const std::string& path, const Artifact& a,
                     std::span<const crypto::X25519Identity> identities, const ByteSink& sink) {
  GC_ASSIGN_OR_RETURN(ZstdDecompressor zstd, ZstdDecompressor::create(sink));
  GC_ASSIGN_OR_RETURN(crypto::AgeReader age, crypto::AgeReader::create(identities, zstd.sink()));
  auto named = [&a](const Error& e) { return e.with_context(a.name); };
  auto summary =
      read_hashed(path, [&](std::span<const std::uint8_t> d) -> Status { return age.write(d); });
  if (!summary) return tl::unexpected(named(summary.error()));
  // The checksum first: a replaced file explains a decryption failure better than age can.
  GC_TRY(compare(*summary, a));
  if (Status st = age.finish(); !st) return tl::unexpected(named(st.error()));
  if (Status st = zstd.finish(); !st) return tl::unexpected(named(st.error()));
  return {};
}

}  // namespace gc::backup

// SPDX-License-Identifier: MIT
#include "backup/media_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "base/unique_fd.h"

namespace gc::backup {
namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct DiskFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// State shared with libarchive's write callback.
struct Output {
  const ByteSink* sink = nullptr;
  std::optional<Error> error;
  std::uint64_t bytes = 0;
};

la_ssize_t write_cb(archive*, void* client, const void* buf, size_t len) {
  auto* out = static_cast<Output*>(client);
  Status st =
      (*out->sink)(std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(buf), len));
  if (!st) {
    out->error = st.error();
    return -1;
  }
  out->bytes += len;
  return static_cast<la_ssize_t>(len);
}

Error archive_error(archive* a, std::string_view what, const Output& out) {
  if (out.error) return *out.error;
  const char* msg = archive_error_string(a);
  return Error{Errc::kIo, std::string(what) + ": " + (msg ? msg : "libarchive error")};
}

// Copies a regular file's bytes into the archive; the entry header, already written, declared
// `size`. A file that grows meanwhile is cut there; one that shrinks is padded by libarchive.
Status copy_file(archive* w, const char* path, std::int64_t size, Output& out) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDONLY | O_NOFOLLOW));
  std::vector<char> buf(256 * 1024);
  while (true) {
    size_t want = std::min(buf.size(), static_cast<size_t>(size));
    if (want == 0) return {};
    ssize_t n = ::read(fd.get(), buf.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(sys_error("read", path, errno));
    if (n == 0) return {};
    size -= n;
    if (archive_write_data(w, buf.data(), static_cast<size_t>(n)) < 0) {
      return tl::unexpected(archive_error(w, std::string("archive ") + path, out));
    }
  }
}

}  // namespace

Result<MediaStats> write_media_tar(const std::vector<std::string>& paths, const ByteSink& sink) {
  Output out;
  out.sink = &sink;
  std::unique_ptr<archive, ArchiveFree> w(archive_write_new());
  if (!w) return tl::unexpected(Error{Errc::kInternal, "libarchive: out of memory"});
  archive_write_set_format_pax_restricted(w.get());
  // Blocks go straight to the sink; libarchive's default 10 KiB blocking only adds copies.
  archive_write_set_bytes_per_block(w.get(), 64 * 1024);
  archive_write_set_bytes_in_last_block(w.get(), 1);
  if (archive_write_open2(w.get(), &out, nullptr, write_cb, nullptr, nullptr) != ARCHIVE_OK) {
    return tl::unexpected(archive_error(w.get(), "open tar stream", out));
  }
  MediaStats stats;
  for (const std::string& root : paths) {
    if (::access(root.c_str(), R_OK | X_OK) != 0) {
      return tl::unexpected(sys_error("read media directory", root, errno));
    }
    std::unique_ptr<archive, DiskFree> disk(archive_read_disk_new());
    archive_read_disk_set_symlink_physical(disk.get());
    archive_read_disk_set_standard_lookup(disk.get());
    if (archive_read_disk_open(disk.get(), root.c_str()) != ARCHIVE_OK) {
      return tl::unexpected(archive_error(disk.get(), "open " + root, out));
    }
    while (true) {
      std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
      int r = archive_read_next_header2(disk.get(), entry.get());
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        return tl::unexpected(archive_error(disk.get(), "walk " + root, out));
      }
      archive_read_disk_descend(disk.get());
      mode_t type = archive_entry_filetype(entry.get());
      if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) continue;  // Sockets, fifos.
      std::string source = archive_entry_sourcepath(entry.get());
      std::string name = archive_entry_pathname(entry.get());
      while (name.starts_with('/')) name.erase(0, 1);
      if (name.empty()) continue;
      archive_entry_set_pathname(entry.get(), name.c_str());
      if (archive_write_header(w.get(), entry.get()) != ARCHIVE_OK) {
        return tl::unexpected(archive_error(w.get(), "archive " + source, out));
      }
      if (type == AE_IFREG && archive_entry_size(entry.get()) > 0) {
        GC_TRY(copy_file(w.get(), source.c_str(), archive_entry_size(entry.get()), out));
      }
      ++stats.entries;
    }
  }
  if (archive_write_close(w.get()) != ARCHIVE_OK) {
    return tl::unexpected(archive_error(w.get(), "finish tar stream", out));
  }
  stats.bytes = out.bytes;
  return stats;
}

}  // namespace gc::backup

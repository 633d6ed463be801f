// SPDX-License-Identifier: MIT
#include "backup/media_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/dynamic_library.h"
#include "base/unique_fd.h"

namespace gc::backup {
namespace {

// libarchive, loaded on first use: see base/dynamic_library.h for why it is not linked.
struct LibArchive {
  DynamicLibrary lib;
  decltype(&::archive_write_new) write_new = nullptr;
  decltype(&::archive_write_set_format_pax_restricted) write_set_format_pax_restricted = nullptr;
  decltype(&::archive_write_set_bytes_per_block) write_set_bytes_per_block = nullptr;
  decltype(&::archive_write_set_bytes_in_last_block) write_set_bytes_in_last_block = nullptr;
  decltype(&::archive_write_open2) write_open2 = nullptr;
  decltype(&::archive_error_string) error_string = nullptr;
  decltype(&::archive_write_data) write_data = nullptr;
  decltype(&::archive_write_header) write_header = nullptr;
  decltype(&::archive_write_close) write_close = nullptr;
  decltype(&::archive_write_free) write_free = nullptr;
  decltype(&::archive_read_disk_new) read_disk_new = nullptr;
  decltype(&::archive_read_disk_set_symlink_physical) read_disk_set_symlink_physical = nullptr;
  decltype(&::archive_read_disk_set_standard_lookup) read_disk_set_standard_lookup = nullptr;
  decltype(&::archive_read_disk_open) read_disk_open = nullptr;
  decltype(&::archive_read_next_header2) read_next_header2 = nullptr;
  decltype(&::archive_read_disk_descend) read_disk_descend = nullptr;
  decltype(&::archive_read_free) read_free = nullptr;
  decltype(&::archive_entry_new) entry_new = nullptr;
  decltype(&::archive_entry_free) entry_free = nullptr;
  decltype(&::archive_entry_filetype) entry_filetype = nullptr;
  decltype(&::archive_entry_sourcepath) entry_sourcepath = nullptr;
  decltype(&::archive_entry_pathname) entry_pathname = nullptr;
  decltype(&::archive_entry_set_pathname) entry_set_pathname = nullptr;
  decltype(&::archive_entry_size) entry_size = nullptr;
};

Result<const LibArchive*> load_libarchive() {
  static std::once_flag once;
  static std::optional<LibArchive> api;
  static Error failure;
  std::call_once(once, [] {
    auto lib = DynamicLibrary::open("libarchive.so.13", "libarchive13");
    if (!lib) {
      failure = lib.error();
      return;
    }
    LibArchive a{std::move(*lib)};
    Status st;
    if (st) st = a.lib.bind("archive_write_new", a.write_new);
    if (st)
      st = a.lib.bind("archive_write_set_format_pax_restricted", a.write_set_format_pax_restricted);
    if (st) st = a.lib.bind("archive_write_set_bytes_per_block", a.write_set_bytes_per_block);
    if (st)
      st = a.lib.bind("archive_write_set_bytes_in_last_block", a.write_set_bytes_in_last_block);
    if (st) st = a.lib.bind("archive_write_open2", a.write_open2);
    if (st) st = a.lib.bind("archive_error_string", a.error_string);
    if (st) st = a.lib.bind("archive_write_data", a.write_data);
    if (st) st = a.lib.bind("archive_write_header", a.write_header);
    if (st) st = a.lib.bind("archive_write_close", a.write_close);
    if (st) st = a.lib.bind("archive_write_free", a.write_free);
    if (st) st = a.lib.bind("archive_read_disk_new", a.read_disk_new);
    if (st)
      st = a.lib.bind("archive_read_disk_set_symlink_physical", a.read_disk_set_symlink_physical);
    if (st)
      st = a.lib.bind("archive_read_disk_set_standard_lookup", a.read_disk_set_standard_lookup);
    if (st) st = a.lib.bind("archive_read_disk_open", a.read_disk_open);
    if (st) st = a.lib.bind("archive_read_next_header2", a.read_next_header2);
    if (st) st = a.lib.bind("archive_read_disk_descend", a.read_disk_descend);
    if (st) st = a.lib.bind("archive_read_free", a.read_free);
    if (st) st = a.lib.bind("archive_entry_new", a.entry_new);
    if (st) st = a.lib.bind("archive_entry_free", a.entry_free);
    if (st) st = a.lib.bind("archive_entry_filetype", a.entry_filetype);
    if (st) st = a.lib.bind("archive_entry_sourcepath", a.entry_sourcepath);
    if (st) st = a.lib.bind("archive_entry_pathname", a.entry_pathname);
    if (st) st = a.lib.bind("archive_entry_set_pathname", a.entry_set_pathname);
    if (st) st = a.lib.bind("archive_entry_size", a.entry_size);
    if (!st) {
      failure = st.error();
      return;
    }
    api.emplace(std::move(a));
  });
  if (!api) return tl::unexpected(failure);
  return &*api;
}

// Only valid after load_libarchive() succeeded (write_media_tar checks it first).
const LibArchive& la() { return **load_libarchive(); }

struct ArchiveFree {
  void operator()(archive* a) const { la().write_free(a); }
};
struct DiskFree {
  void operator()(archive* a) const { la().read_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { la().entry_free(e); }
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
  const char* msg = la().error_string(a);
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
    if (la().write_data(w, buf.data(), static_cast<size_t>(n)) < 0) {
      return tl::unexpected(archive_error(w, std::string("archive ") + path, out));
    }
  }
}

}  // namespace

Result<MediaStats> write_media_tar(const std::vector<std::string>& paths, const ByteSink& sink) {
  GC_TRY(load_libarchive());
  Output out;
  out.sink = &sink;
  std::unique_ptr<archive, ArchiveFree> w(la().write_new());
  if (!w) return tl::unexpected(Error{Errc::kInternal, "libarchive: out of memory"});
  la().write_set_format_pax_restricted(w.get());
  // Blocks go straight to the sink; libarchive's default 10 KiB blocking only adds copies.
  la().write_set_bytes_per_block(w.get(), 64 * 1024);
  la().write_set_bytes_in_last_block(w.get(), 1);
  if (la().write_open2(w.get(), &out, nullptr, write_cb, nullptr, nullptr) != ARCHIVE_OK) {
    return tl::unexpected(archive_error(w.get(), "open tar stream", out));
  }
  MediaStats stats;
  for (const std::string& root : paths) {
    if (::access(root.c_str(), R_OK | X_OK) != 0) {
      return tl::unexpected(sys_error("read media directory", root, errno));
    }
    std::unique_ptr<archive, DiskFree> disk(la().read_disk_new());
    la().read_disk_set_symlink_physical(disk.get());
    la().read_disk_set_standard_lookup(disk.get());
    if (la().read_disk_open(disk.get(), root.c_str()) != ARCHIVE_OK) {
      return tl::unexpected(archive_error(disk.get(), "open " + root, out));
    }
    while (true) {
      std::unique_ptr<archive_entry, EntryFree> entry(la().entry_new());
      int r = la().read_next_header2(disk.get(), entry.get());
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        return tl::unexpected(archive_error(disk.get(), "walk " + root, out));
      }
      la().read_disk_descend(disk.get());
      mode_t type = la().entry_filetype(entry.get());
      if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) continue;  // Sockets, fifos.
      std::string source = la().entry_sourcepath(entry.get());
      std::string name = la().entry_pathname(entry.get());
      while (name.starts_with('/')) name.erase(0, 1);
      if (name.empty()) continue;
      la().entry_set_pathname(entry.get(), name.c_str());
      if (la().write_header(w.get(), entry.get()) != ARCHIVE_OK) {
        return tl::unexpected(archive_error(w.get(), "archive " + source, out));
      }
      if (type == AE_IFREG && la().entry_size(entry.get()) > 0) {
        GC_TRY(copy_file(w.get(), source.c_str(), la().entry_size(entry.get()), out));
      }
      ++stats.entries;
    }
  }
  if (la().write_close(w.get()) != ARCHIVE_OK) {
    return tl::unexpected(archive_error(w.get(), "finish tar stream", out));
  }
  stats.bytes = out.bytes;
  return stats;
}

}  // namespace gc::backup

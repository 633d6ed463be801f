// SPDX-License-Identifier: MIT
#include "storage/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "storage/detail/sha256.h"

namespace gc::storage {
namespace {

constexpr std::string_view kSidecarSuffix = ".sha256";
constexpr std::size_t kChunkBytes = 1 << 16;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// AtomicFile's temp files are "<name>.tmp-XXXXXX" (mkostemp's six characters).
bool is_temp_name(std::string_view name) {
  if (name.size() < 11) return false;
  std::string_view tail = name.substr(name.size() - 11);
  if (tail.substr(0, 5) != ".tmp-") return false;
  return std::all_of(tail.begin() + 5, tail.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

std::string_view last_segment(std::string_view key) {
  auto slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

SystemTime mtime_of(const struct stat& st) {
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(since_epoch));
}

Status fsync_dir(const std::string& dir) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return sys_error("fsync", dir, errno);
  return ok();
}

Status unlink_if_exists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("unlink", path, errno);
  return ok();
}

// Reads the sidecar: "" when there is none. Accepts "<hex>" or sha256sum's "<hex>  <name>".
Result<std::string> read_sidecar(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    if (text.error().code == Errc::kNotFound) return std::string();
    return text.error();
  }
  std::string_view hex = std::string_view(*text).substr(0, 64);
  if (!is_sha256_hex(hex)) {
    return make_error(Errc::kCorrupt, "sha256 sidecar " + path + " is malformed");
  }
  return std::string(hex);
}

Status check_local_key(std::string_view key) {
  GC_TRY(check_key(key));
  std::string_view name = last_segment(key);
  if (ends_with(name, kSidecarSuffix) || is_temp_name(name)) {
    return make_error(Errc::kInvalidArgument,
                      "invalid object key \"" + std::string(key) +
                          "\": names ending in .sha256 or .tmp-XXXXXX are reserved by the "
                          "local store");
  }
  return ok();
}

}  // namespace

Result<LocalStore> LocalStore::open(std::string root, LocalStoreOptions options) {
  if (root.empty()) return make_error(Errc::kInvalidArgument, "local store: empty directory path");
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  auto made = make_directories(root, options.dir_mode);
  if (!made) return made.error().with_context("local store " + root);
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return sys_error("stat", root, errno);
  if (!S_ISDIR(st.st_mode)) {
    return make_error(Errc::kInvalidConfig, "local store " + root + ": not a directory");
  }
  return LocalStore(std::move(root), options);
}

std::string LocalStore::describe() const { return "local " + root_; }

Error LocalStore::fail(std::string_view op, std::string_view key, const Error& e) const {
  return Error{e.code,
               describe() + ": " + std::string(op) + " \"" + std::string(key) + "\": " + e.message};
}

Status LocalStore::put_file(std::string_view key, const std::string& path,
                            const ObjectMetadata& metadata) {
  auto put = [&]() -> Status {
    GC_TRY(check_local_key(key));
    if (!metadata.sha256.empty() && !is_sha256_hex(metadata.sha256)) {
      return make_error(Errc::kInvalidArgument, "metadata sha256 is not 64 lowercase hex digits");
    }
    GC_ASSIGN_OR_RETURN(UniqueFd src, open_fd(path, O_RDONLY));
    struct stat st {};
    if (::fstat(src.get(), &st) != 0) return sys_error("stat", path, errno);
    if (!S_ISREG(st.st_mode)) {
      return make_error(Errc::kInvalidArgument, path + " is not a regular file");
    }
    std::string target = object_path(key);
    std::string sidecar = target + std::string(kSidecarSuffix);
    GC_TRY(make_directories(dir_of(target), options_.dir_mode));
    GC_TRY(unlink_if_exists(sidecar));
    GC_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::create(target, options_.file_mode));
    GC_ASSIGN_OR_RETURN(detail::Sha256 hash, detail::Sha256::create());
    std::string buf(kChunkBytes, '\0');
    std::uint64_t copied = 0;
    for (;;) {
      ssize_t n = ::read(src.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read", path, errno);
      if (n == 0) break;
      std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
      hash.update(chunk);
      GC_TRY(out.write(chunk));
      copied += static_cast<std::uint64_t>(n);
    }
    std::string actual = hash.finish_hex();
    if (!metadata.sha256.empty() && actual != metadata.sha256) {
      return make_error(Errc::kCorrupt, "content of " + path + " has sha256 " + actual +
                                            ", not the expected " + metadata.sha256 +
                                            " (was the file modified?)");
    }
    GC_TRY(out.commit());
    GC_TRY(write_file_atomic(sidecar, actual + "  " + std::string(last_segment(key)) + "\n",
                             options_.file_mode));
    // Read back what the file system now reports, as S3Store does with HEAD.
    struct stat written {};
    if (::stat(target.c_str(), &written) != 0) return sys_error("stat", target, errno);
    if (static_cast<std::uint64_t>(written.st_size) != copied) {
      return make_error(Errc::kCorrupt, target + " holds " + std::to_string(written.st_size) +
                                            " bytes after writing " + std::to_string(copied));
    }
    return ok();
  };
  auto st = put();
  if (!st) return fail("put", key, st.error());
  return ok();
}

Status LocalStore::get(std::string_view key, ByteSink&& sink) {
  auto get = [&]() -> Status {
    GC_TRY(check_local_key(key));
    std::string target = object_path(key);
    auto opened = open_fd(target, O_RDONLY);
    if (!opened) {
      if (opened.error().code == Errc::kNotFound) {
        return make_error(Errc::kNotFound, "no such object");
      }
      return opened.error();
    }
    UniqueFd fd = std::move(*opened);
    GC_ASSIGN_OR_RETURN(std::string expected, read_sidecar(target + std::string(kSidecarSuffix)));
    GC_ASSIGN_OR_RETURN(detail::Sha256 hash, detail::Sha256::create());
    std::vector<std::uint8_t> buf(kChunkBytes);
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read", target, errno);
      if (n == 0) break;
      std::span<const std::uint8_t> chunk(buf.data(), static_cast<std::size_t>(n));
      hash.update(chunk);
      GC_TRY(sink(chunk));
    }
    std::string actual = hash.finish_hex();
    if (!expected.empty() && actual != expected) {
      return make_error(Errc::kCorrupt, "content of " + target + " has sha256 " + actual +
                                            " but its metadata says " + expected +
                                            ": the stored object is corrupt");
    }
    return ok();
  };
  auto st = get();
  if (!st) return fail("get", key, st.error());
  return ok();
}

Result<ObjectInfo> LocalStore::head(std::string_view key) {
  auto head = [&]() -> Result<ObjectInfo> {
    GC_TRY(check_local_key(key));
    std::string target = object_path(key);
    struct stat st {};
    if (::stat(target.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return make_error(Errc::kNotFound, "no such object");
      return sys_error("stat", target, errno);
    }
    if (!S_ISREG(st.st_mode)) return make_error(Errc::kNotFound, "no such object");
    ObjectInfo info;
    info.key = std::string(key);
    info.size_bytes = static_cast<std::uint64_t>(st.st_size);
    info.last_modified = mtime_of(st);
    GC_ASSIGN_OR_RETURN(info.sha256, read_sidecar(target + std::string(kSidecarSuffix)));
    return info;
  };
  auto info = head();
  if (!info) return fail("head", key, info.error());
  return info;
}

Result<std::vector<ObjectInfo>> LocalStore::list(std::string_view prefix) {
  namespace fs = std::filesystem;
  std::vector<ObjectInfo> out;
  // A ".." segment would walk out of the repository.
  if (auto valid = check_prefix(prefix); !valid) {
    return fail("list", prefix, valid.error());
  }
  // Only the directory named by the prefix's complete segments can hold matches.
  std::string start = root_;
  if (auto slash = prefix.rfind('/'); slash != std::string_view::npos) {
    start += "/" + std::string(prefix.substr(0, slash));
  }
  std::error_code ec;
  if (!fs::is_directory(start, ec)) return out;
  auto it = fs::recursive_directory_iterator(start, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string path = it->path().string();
    std::string_view name = last_segment(path);
    if (ends_with(name, kSidecarSuffix) || is_temp_name(name)) continue;
    struct stat st {};
    // lstat: a symlink is not an object, and following one could leave the repository.
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    std::string key = path.substr(root_.size() + 1);
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    ObjectInfo info;
    info.key = std::move(key);
    info.size_bytes = static_cast<std::uint64_t>(st.st_size);
    info.last_modified = mtime_of(st);
    out.push_back(std::move(info));
  }
  if (ec) {
    return Error{Errc::kIo, describe() + ": list \"" + std::string(prefix) + "\": " + start + ": " +
                                ec.message()};
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status LocalStore::remove(std::string_view key) {
  auto remove = [&]() -> Status {
    GC_TRY(check_local_key(key));
    std::string target = object_path(key);
    GC_TRY(unlink_if_exists(target));
    GC_TRY(unlink_if_exists(target + std::string(kSidecarSuffix)));
    std::string dir = dir_of(target);
    // The directory may not exist at all: then nothing was there to remove.
    if (auto synced = fsync_dir(dir); !synced && synced.error().code != Errc::kNotFound) {
      return synced.error();
    }
    // Prune directories the key created, so the tree does not fill with empty ones. rmdir fails
    // harmlessly on the first non-empty one.
    while (dir.size() > root_.size() && ::rmdir(dir.c_str()) == 0) dir = dir_of(dir);
    return ok();
  };
  auto st = remove();
  if (!st) return fail("remove", key, st.error());
  return ok();
}

}  // namespace gc::storage

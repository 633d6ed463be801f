// SPDX-License-Identifier: MIT
#include "base/atomic_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace gc {
namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<AtomicFile> AtomicFile::create(std::string path, int mode) {
  std::string templ = path + ".tmp-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return sys_error("create temp file for", path, errno);
  UniqueFd owned(fd);
  std::string temp(buf.data());
  // mkostemp always makes 0600; apply the requested mode explicitly (umask does not apply).
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return sys_error("chmod", temp, err);
  }
  return AtomicFile(std::move(path), std::move(temp), std::move(owned));
}

AtomicFile::~AtomicFile() {
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Status AtomicFile::write(std::string_view data) {
  auto st = write_all(fd_.get(), data);
  if (!st) return st.error().with_context("write " + temp_path_);
  return ok();
}

Status AtomicFile::commit() {
  if (::fsync(fd_.get()) != 0) return sys_error("fsync", temp_path_, errno);
  auto st = fd_.close();
  if (!st) return st.error().with_context(temp_path_);
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) return sys_error("rename", path_, errno);
  committed_ = true;
  // The rename is durable only once the directory entry itself is on disk.
  GC_ASSIGN_OR_RETURN(UniqueFd dir, open_fd(dir_of(path_), O_RDONLY | O_DIRECTORY));
  if (::fsync(dir.get()) != 0) return sys_error("fsync", dir_of(path_), errno);
  return ok();
}

Status write_file_atomic(const std::string& path, std::string_view data, int mode) {
  GC_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::create(path, mode));
  GC_TRY(file.write(data));
  return file.commit();
}

}  // namespace gc

// SPDX-License-Identifier: MIT
#include "monitor/log_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace gc::monitor {

LogTail LogTail::follow(std::string path, bool from_end) {
  LogTail t(std::move(path));
  t.skip_existing_ = from_end;
  // Opening now pins "the end" to this moment. A file that only appears later holds nothing but
  // new lines, so it is read from its start. An open that fails for another reason (EACCES) is
  // retried by read_lines(), still from the end, and reported there.
  Status st = t.open_current();
  if (st && !t.fd_) t.skip_existing_ = false;
  return t;
}

Status LogTail::open_current() {
  auto fd = open_fd(path_, O_RDONLY | O_NOCTTY);
  if (!fd) return fd.error().code == Errc::kNotFound ? ok() : Status(fd.error());
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return sys_error("fstat", path_, errno);
  fd_ = std::move(*fd);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  offset_ = 0;
  partial_.clear();
  discarding_ = false;
  if (skip_existing_) {
    skip_existing_ = false;
    offset_ = st.st_size;
    // Starting mid-line would hand out the tail of an old line as if it were a new one.
    char last = '\n';
    if (offset_ > 0 && ::pread(fd_.get(), &last, 1, offset_ - 1) == 1 && last != '\n') {
      discarding_ = true;
    }
  }
  return ok();
}

Result<std::vector<std::string>> LogTail::read_lines(std::size_t max_bytes) {
  std::vector<std::string> lines;
  std::size_t budget = max_bytes;
  auto read_some = [&]() -> Status {
    if (!fd_) {
      GC_TRY(open_current());
      if (!fd_) return ok();
    }
    for (;;) {
      struct stat st {};
      if (::fstat(fd_.get(), &st) != 0) return sys_error("fstat", path_, errno);
      if (st.st_size < offset_) {
        // copytruncate: the file restarted. A partial line belonged to the old contents.
        offset_ = 0;
        partial_.clear();
        discarding_ = false;
      }
      GC_ASSIGN_OR_RETURN(bool at_eof, drain(budget, lines));
      if (!at_eof) return ok();
      struct stat now {};
      if (::stat(path_.c_str(), &now) != 0) {
        // Renamed away and not yet recreated: the writer may still append to the old file.
        if (errno == ENOENT) return ok();
        return sys_error("stat", path_, errno);
      }
      if (now.st_dev == dev_ && now.st_ino == ino_) return ok();
      // The path names a new file. What the writer appended to the old one between our EOF and
      // the rename comes first.
      GC_ASSIGN_OR_RETURN(bool drained, drain(budget, lines));
      if (!drained) return ok();
      if (!partial_.empty()) lines.push_back(std::move(partial_));
      partial_.clear();
      fd_.reset();
      GC_TRY(open_current());
      if (!fd_) return ok();
    }
  };
  Status st = read_some();
  // Lines already taken from the file are not lost to a later failure: they go out now, and the
  // failure, which persists (an unreadable new file), or recurs, is reported by the next call.
  if (!st && lines.empty()) return st.error();
  return lines;
}

Result<bool> LogTail::drain(std::size_t& budget, std::vector<std::string>& lines) {
  std::string buf(std::min<std::size_t>(budget, 64 * 1024), '\0');
  while (budget > 0) {
    std::size_t want = std::min(budget, buf.size());
    ssize_t n = ::pread(fd_.get(), buf.data(), want, offset_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read", path_, errno);
    }
    if (n == 0) return true;
    offset_ += n;
    budget -= static_cast<std::size_t>(n);
    split(buf.data(), static_cast<std::size_t>(n), lines);
  }
  return false;
}

void LogTail::split(const char* data, std::size_t n, std::vector<std::string>& lines) {
  std::string_view rest(data, n);
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view piece = rest.substr(0, nl);
    std::size_t consumed = nl == std::string_view::npos ? rest.size() : nl + 1;
    if (discarding_) {
      discarding_ = nl == std::string_view::npos;
    } else if (piece.size() > kMaxLineBytes - partial_.size()) {
      partial_.append(piece.substr(0, kMaxLineBytes - partial_.size()));
      lines.push_back(std::move(partial_));
      partial_.clear();
      discarding_ = nl == std::string_view::npos;
    } else {
      partial_.append(piece);
      if (nl != std::string_view::npos) {
        lines.push_back(std::move(partial_));
        partial_.clear();
      }
    }
    rest.remove_prefix(consumed);
  }
}

}  // namespace gc::monitor

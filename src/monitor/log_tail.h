// SPDX-License-Identifier: MIT
// monitor/log_tail.h: follows a growing log file by name, like `tail -F`, handing out complete
// lines. Survives logrotate's two styles (rename + create, and copytruncate).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace gc::monitor {

class LogTail {
 public:
  // Longer lines are cut to this many bytes; the rest of such a line, up to its newline, is
  // dropped. Bounds the memory one runaway line can take.
  static constexpr std::size_t kMaxLineBytes = 64 * 1024;

  // Follows `path`. With from_end, a file that exists now is read from its current end, so lines
  // already counted are not counted again after a daemon restart (a partial last line there is
  // skipped up to its newline too). A file that does not exist yet is not an error: it is opened,
  // from its start, when it appears. Does not block beyond open and fstat; never fails (an
  // unreadable file is reported by read_lines()).
  static LogTail follow(std::string path, bool from_end = true);

  LogTail(LogTail&&) noexcept = default;
  LogTail& operator=(LogTail&&) noexcept = default;
  LogTail(const LogTail&) = delete;
  LogTail& operator=(const LogTail&) = delete;

  // The lines completed since the last call, without their '\n', reading at most `max_bytes`
  // bytes of the file per call (what is left comes next time). Handles:
  // - rotation: when the path names a new file, the rest of the old one is read first, then the
  //   new one from its start. While the path is missing, the old file is still followed. Lines
  //   written to the old file after the switch are lost (as with tail -F).
  // - truncation (copytruncate): a size below the read offset restarts at 0. Data written past
  //   the old offset before the next call hides the truncation; that is inherent to polling.
  // - a partial last line: kept until its newline arrives; when the file is rotated away, it is
  //   handed out as a line.
  // Errors follow errno (mostly kIo, kPermission for an unreadable file); an absent file is not
  // one. After an error the next call tries again. Blocks on file reads only; not thread-safe.
  Result<std::vector<std::string>> read_lines(std::size_t max_bytes = 1 << 20);

  const std::string& path() const { return path_; }

 private:
  explicit LogTail(std::string path) : path_(std::move(path)) {}
  // Opens path_ if it exists; fd_ stays invalid when it does not.
  Status open_current();
  // Reads fd_ from offset_ until EOF or until `budget` is spent. Returns whether EOF was reached.
  Result<bool> drain(std::size_t& budget, std::vector<std::string>& lines);
  void split(const char* data, std::size_t n, std::vector<std::string>& lines);

  std::string path_;
  UniqueFd fd_;
  dev_t dev_ = 0;  // Identity of the file fd_ has open.
  ino_t ino_ = 0;
  off_t offset_ = 0;
  bool skip_existing_ = false;  // The next open starts at the end (from_end, not yet opened).
  bool discarding_ = false;     // Dropping bytes up to the next '\n'.
  std::string partial_;
};

}  // namespace gc::monitor

// SPDX-License-Identifier: MIT
// base/unique_fd.h: sole owner of one file descriptor. Move-only; closes on destruction.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace gc {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;  // Closes the current fd first.
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();  // Best effort; errors are dropped.

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }
  [[nodiscard]] int release() noexcept;  // Caller now owns the fd.
  void reset(int fd = -1) noexcept;      // Closes the current fd, then owns `fd`.
  Status close();                        // Reports errors such as EIO; use it on files we wrote.

 private:
  int fd_ = -1;
};

// A pipe whose both ends are O_CLOEXEC. Errors: kIo (EMFILE and friends).
struct Pipe {
  UniqueFd read;
  UniqueFd write;
  static Result<Pipe> create(int extra_flags = 0);
};

// Opens `path` with O_CLOEXEC added to `flags`. Errors follow errno (kNotFound, kPermission...).
Result<UniqueFd> open_fd(std::string_view path, int flags, int mode = 0600);

// Writes all of `data`, retrying on EINTR and short writes. Errors: kIo and friends.
Status write_all(int fd, std::string_view data);

// Reads a whole (small) file into a string. Errors follow errno.
Result<std::string> read_file(std::string_view path);

// mkdir -p: creates `path` and missing parents with `mode`; existing directories are fine.
// Errors follow errno (kPermission, kNotFound for a path through a file...).
Status make_directories(const std::string& path, int mode = 0755);

// Sets or clears O_NONBLOCK. Errors: kIo.
Status set_nonblocking(int fd, bool on);

}  // namespace gc

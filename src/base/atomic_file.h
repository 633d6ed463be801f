// SPDX-License-Identifier: MIT
// base/atomic_file.h: replaces a file atomically: temp file in the same directory, fsync, rename,
// fsync the directory. Without commit() the destructor unlinks the temp file and the old file
// stays untouched.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace gc {

class AtomicFile {
 public:
  // Opens a temp file beside `path` with `mode`. Errors follow errno (kNotFound for a missing
  // directory, kPermission...).
  static Result<AtomicFile> create(std::string path, int mode = 0644);
  AtomicFile(AtomicFile&&) noexcept = default;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();

  Status write(std::string_view data);
  // fsync, rename over the target, fsync the directory. After an error the target is unchanged.
  Status commit();

 private:
  AtomicFile(std::string path, std::string temp_path, UniqueFd fd)
      : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(std::move(fd)) {}
  std::string path_;
  std::string temp_path_;
  UniqueFd fd_;
  bool committed_ = false;
};

// Convenience: atomically replaces `path` with `data`.
Status write_file_atomic(const std::string& path, std::string_view data, int mode = 0644);

}  // namespace gc

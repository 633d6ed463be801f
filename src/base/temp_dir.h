// SPDX-License-Identifier: MIT
// base/temp_dir.h: a private (0700) temporary directory, removed recursively on destruction.
#pragma once

#include <string>

#include "base/result.h"

namespace gc {

class TempDir {
 public:
  // Creates "<parent>/<prefix>XXXXXX" (parent defaults to $TMPDIR or /tmp). Errors follow errno.
  static Result<TempDir> create(std::string_view prefix = "groundctl-", std::string parent = "");
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();  // Removes the tree unless keep() was called; errors are dropped.

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  void keep() { keep_ = true; }  // Leaves the directory in place, for debugging.

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void remove_tree() noexcept;
  std::string path_;
  bool keep_ = false;
};

}  // namespace gc

// SPDX-License-Identifier: MIT
// storage/local_store.h: an ObjectStore in a local directory (a mounted disk, a second drive).
// Key "db/x.age" is the plain file <root>/db/x.age, so stock tools can read the repository; its
// sha256 sits beside it in <root>/db/x.age.sha256, in `sha256sum -c` format.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"

namespace gc::storage {

struct LocalStoreOptions {
  int file_mode = 0600;  // Backups are private by default.
  int dir_mode = 0700;   // For the root and every directory a key creates.
};

class LocalStore final : public ObjectStore {
 public:
  // Uses the directory `root`, creating it (and missing parents) if needed. Errors:
  // kInvalidArgument (empty root), kInvalidConfig (root is not a directory), errno's
  // (kPermission...).
  static Result<LocalStore> open(std::string root, LocalStoreOptions options = {});

  LocalStore(LocalStore&&) noexcept = default;
  LocalStore& operator=(LocalStore&&) noexcept = default;

  std::string describe() const override;
  // Copies the file through a temp file (fsync, rename, fsync dir), then writes the sidecar the
  // same way; the old sidecar goes first, so a crash in between leaves an object without a
  // sha256 (unverified), never one with a stale sha256. Beyond check_key(), refuses keys whose
  // last segment ends in ".sha256" or looks like a temp file (".tmp-XXXXXX"): those names are
  // the store's own. A key below an existing object's name ("a/b" when "a" is an object) is
  // kConflict here, unlike S3.
  Status put_file(std::string_view key, const std::string& path,
                  const ObjectMetadata& metadata) override;
  Status get(std::string_view key, ByteSink&& sink) override;
  Result<ObjectInfo> head(std::string_view key) override;
  // Walks the directory; sidecars and leftover temp files are not objects.
  Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
  // Also removes directories the removal left empty (never the root).
  Status remove(std::string_view key) override;

  // The file that holds `key`: for operators' messages and for tests that corrupt an object.
  std::string object_path(std::string_view key) const { return root_ + "/" + std::string(key); }
  const std::string& root() const { return root_; }

 private:
  LocalStore(std::string root, LocalStoreOptions options)
      : root_(std::move(root)), options_(options) {}
  Error fail(std::string_view op, std::string_view key, const Error& e) const;
  std::string root_;
  LocalStoreOptions options_;
};

}  // namespace gc::storage

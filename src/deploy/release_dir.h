// SPDX-License-Identifier: MIT
// deploy/release_dir.h: the deploy root on disk: releases/ID (one checkout each), shared/ (what
// outlives releases: .env, uploads, logs) and `current`, the symlink the service's cwd goes
// through. Switching `current` is one rename, so a reader sees the old or the new release.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

namespace gc::deploy {

class ReleaseRoot {
 public:
  explicit ReleaseRoot(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string releases_dir() const { return root_ + "/releases"; }
  std::string shared_dir() const { return root_ + "/shared"; }
  std::string current_link() const { return root_ + "/current"; }
  std::string release_dir(const std::string& id) const { return releases_dir() + "/" + id; }

  // Creates root, releases/ and shared/ when missing (0755).
  Status prepare() const;
  // The release `current` points to; nullopt when there is no `current` yet. Errors when it
  // exists but is not a symlink to releases/<id> (groundctl never made it, so it never
  // replaces it).
  Result<std::optional<std::string>> active() const;
  // Points `current` at releases/<id> atomically (a new symlink renamed over it), then syncs
  // the root directory.
  Status switch_to(const std::string& id) const;
  // Release ids under releases/, any order. Other entries are ignored.
  Result<std::vector<std::string>> list() const;
  // Deletes releases/<id> (refusing anything that is not a release id).
  Status remove(const std::string& id) const;

  // Links each `shared` entry into `app_dir` as a symlink to shared/<entry>: an entry ending in
  // "/" is a directory created (owned by `owner`) when missing; any other must exist. Whatever
  // the checkout had at that path is replaced.
  Status link_shared(const std::string& app_dir, const std::vector<std::string>& shared,
                     const std::optional<Credentials>& owner) const;
  // The `shared` entries (not ending in "/") missing from shared/, with the fix, or empty.
  std::string missing_shared(const std::vector<std::string>& shared) const;

 private:
  std::string root_;
};

// Removes `path` and everything below it without following symlinks. Absent is fine.
Status remove_tree(const std::string& path);
// Gives `path` and everything below it (symlinks themselves, not their targets) to uid:gid.
Status chown_tree(const std::string& path, uid_t uid, gid_t gid);

}  // namespace gc::deploy

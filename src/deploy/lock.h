// SPDX-License-Identifier: MIT
// deploy/lock.h: one deploy or rollback at a time per server. An flock on state_dir/deploy.lock,
// released by the kernel when the holder dies, with the holder's pid, user, command and start
// time written inside so that a refused caller can say who holds it.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace gc::deploy {

class DeployLock {
 public:
  // Takes the lock without waiting. Errors: kConflict "another deploy is running: pid N (user
  // U) since T: COMMAND"; kIo for the lock file itself.
  static Result<DeployLock> acquire(const std::string& state_dir, const std::string& command);

 private:
  explicit DeployLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // Holds the flock; closing it releases the lock.
};

}  // namespace gc::deploy

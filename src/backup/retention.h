// SPDX-License-Identifier: MIT
// backup/retention.h: grandfather-father-son retention. Decides which backup sets to keep and
// which to delete, and says why for each. Pure: same input, same answer; no I/O, no clock.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/time_zone.h"

namespace gc::backup {

// What retention needs to know about one backup set in the repository.
struct BackupSetInfo {
  std::string id;                        // Unique in the repository, e.g. "20261127T031500Z".
  std::chrono::sys_seconds completed{};  // When the run ended (or failed).
  // The run finished and the set is usable. False for a failed or interrupted run, and for a
  // set whose verification failed: such a set never counts as a keeper.
  bool complete = false;
  bool verified = false;  // Verification (stream or restore) passed. Meaningful when complete.
};

struct RetentionDecision {
  std::string id;
  bool keep = true;
  // Why, for `backup prune --dry-run` and the log. Keeps list every rule that holds, e.g.
  // "daily 2026-11-29, weekly 2026-W48, monthly 2026-11, newest verified set".
  std::string reason;
};

// Decides the fate of every set in `sets` (one decision per set, in the same order). Days,
// ISO weeks and months are those of the local wall clock given by `zone`.
// - Keepers are complete sets completed at or before `now`: the newest set of each of the last
//   `policy.daily` days that have such sets ("daily 2026-11-27"), of each of the last
//   `policy.weekly` ISO weeks ("weekly 2026-W48") and of each of the last `policy.monthly`
//   months ("monthly 2026-11"). Days without sets do not use up the count, so a pause in
//   backups never empties the repository.
// - The newest complete, verified set at or before `now` is always kept ("newest verified set").
// - A set completed after `now` (clock skew) is always kept and counts for nothing.
// - An incomplete set is deleted once a complete set completed after it exists at or before
//   `now` ("newer complete set exists"); until then it is kept.
// Sets with the same completion time are ordered by id (the larger id is the newer).
std::vector<RetentionDecision> decide_retention(std::span<const BackupSetInfo> sets,
                                                const config::RetentionConfig& policy,
                                                std::chrono::sys_seconds now,
                                                const config::UtcOffsetFn& zone);

}  // namespace gc::backup

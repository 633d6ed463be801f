// SPDX-License-Identifier: MIT
// provision/apply.h: the driver behind `groundctl plan` and `groundctl apply`. It reads the
// target (files, owners, step checks, guard facts), asks the planner what would change and, for
// apply, makes it so one component at a time: steps, backups, atomic writes, validate (restoring
// the component's previous files when validation fails), reload, steps.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "provision/planner.h"
#include "provision/resource.h"

namespace gc::provision {

// Where the files go and what may run. With a non-empty root, every path is under it, and no
// step, validate or reload runs (they are listed as skipped); the placeholder certificate is
// still written (under the root).
struct ApplyOptions {
  std::string root;  // "" for the live system.
};

// The plan for `components` against the target: file changes with diffs (secrets never shown),
// the steps whose checks fail (checks run now, as root or as their run_as user; not with a
// root), the placeholder certificate when [nginx] has none, and the lock-out guards. Errors:
// unreadable target files, a check that cannot be spawned. Blocks.
Result<Plan> make_plan(const config::Config& config, const std::vector<Component>& components,
                       const ApplyOptions& options);

struct ApplyReport {
  Plan plan;                         // What apply set out to do (guards included).
  std::vector<std::string> applied;  // Components whose changes all landed, in order.
  std::string failed;                // The component that failed, "" if none did.
  std::string error;                 // Why it failed: the command and its trimmed stderr.
  std::vector<std::string> not_run;  // Components after the failed one, left untouched.
  std::string backup_dir;            // Where the previous versions went; "" if none changed.
  std::vector<std::string> log;      // What was done, in order ("nginx: wrote /etc/...").
  bool refused() const { return !plan.guards.empty(); }
  bool ok() const { return !refused() && failed.empty(); }
};

// Applies `components` in order. Refuses (nothing written, nothing run) when a lock-out guard
// fires. Per component with changes: runs the steps_before that are needed, backs up each
// file it will change under {state_dir}/provision/backups/<UTC time>/ (content, mode, owner, or
// "absent"; the last 10 applies are kept), writes the files atomically with their mode and
// owner, runs lifecycle.validate (failure: the component's previous files are restored exactly
// and apply stops, leaving earlier components applied), then lifecycle.reload (files changed)
// and the needed steps_after. Every apply that gets past the guards is recorded in the state
// store. The whole apply holds an exclusive lock, {root}{state_dir}/provision.lock (flock, 0600,
// the holder's pid inside). Errors (as opposed to a failed component in the report): kConflict
// "another groundctl apply is running (pid N)..." when another process (or another call in
// this one) holds the lock, at once and without waiting; I/O errors reading the target before
// anything was written. Blocks.
Result<ApplyReport> apply(const config::Config& config, const std::vector<Component>& components,
                          const ApplyOptions& options);

// One recorded apply, newest first from apply_history.
struct ApplyRecord {
  std::string started_at;  // RFC 3339 UTC.
  std::string finished_at;
  std::string root;
  std::string components;  // Comma-separated names of the components changed.
  std::string result;      // "ok", "no changes", "failed".
  std::string error;
  std::string backup_dir;
};

// The newest `limit` applies recorded under {root}{state_dir}. Errors: state store errors.
Result<std::vector<ApplyRecord>> apply_history(const config::Config& config,
                                               const std::string& root, int limit);

}  // namespace gc::provision

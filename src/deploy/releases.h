// SPDX-License-Identifier: MIT
// deploy/releases.h: the pure decisions about releases: how a release is named, which ones
// pruning removes, and which one a rollback goes back to. No I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gc::deploy {

// "20261127-184501-1a2b3c4": the UTC start time then the commit's first 7 hex digits, so that
// ids sort by time and say what they hold. `commit` must be at least 7 hex digits.
std::string make_release_id(std::chrono::system_clock::time_point started, std::string_view commit);

// Whether `name` has the shape make_release_id produces, optionally with a "-N" suffix that
// tells two releases of one second apart. Other entries of releases/ are never touched.
bool is_release_id(std::string_view name);

// The releases to delete, newest first: every release of `on_disk` (any order) that never went
// live (a failed or rolled-back deploy, an interrupted one), then all but the `keep` newest of
// those in `went_live`. Never `active` or `previous` (either may be empty), which count
// towards `keep`.
std::vector<std::string> releases_to_prune(std::vector<std::string> on_disk,
                                           const std::string& active, const std::string& previous,
                                           int keep, const std::vector<std::string>& went_live);

// One switch of `current` that took effect and stayed: a successful deploy or rollback.
struct Switch {
  std::string release;   // What `current` pointed to afterwards.
  std::string previous;  // What it pointed to before; empty for the first deploy.
};

// Where `groundctl rollback` without an id goes: the release that was active before `active`,
// from the newest switch to `active` in `switches` (oldest first), if it is still on disk;
// otherwise the newest release on disk older than `active` that a switch ever made current.
// nullopt when there is none.
std::optional<std::string> rollback_target(const std::vector<Switch>& switches,
                                           const std::string& active,
                                           const std::vector<std::string>& on_disk);

}  // namespace gc::deploy

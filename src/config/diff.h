// SPDX-License-Identifier: MIT
// config/diff.h: what changed between two configs, for `groundctl config reload` and SIGHUP.
// Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace gc::config {

// Service names by fate, plus whether the daemon-wide sections changed.
struct ConfigDiff {
  std::vector<std::string> added;      // In `after` only; in `after`'s order.
  std::vector<std::string> removed;    // In `before` only; in `before`'s order.
  std::vector<std::string> changed;    // In both, some field differs; in `after`'s order.
  std::vector<std::string> unchanged;  // In both, equal; in `after`'s order.
  bool server_changed = false;         // [server] differs (the daemon may need a restart).
  bool http_changed = false;           // [http] differs (the HTTP listener must be rebound).
  // [postgres] or [backup] differs (added, removed or edited): the backup job must be
  // rescheduled with the new config. Services are unaffected.
  bool backup_changed = false;

  // True if nothing was added, removed or changed and no section changed.
  bool empty() const;
};

// Compares services by name (ServiceConfig::operator== decides "changed") and the [server],
// [http], [postgres] and [backup] sections by value. Config::path is ignored. Service names are
// unique in a validated config; with duplicates the first of each name counts.
ConfigDiff diff_configs(const Config& before, const Config& after);

}  // namespace gc::config

// SPDX-License-Identifier: MIT
// cli/deploy_commands.h: `groundctl deploy [REF]`, `rollback [ID]`, `releases`.
#pragma once

#include <string>

#include "cli/commands.h"

namespace gc::cli {

// Deploys REF (empty: the default branch). Exit 0 when live and healthy; 1 when it failed
// (nothing switched) or was rolled back, or another deploy holds the lock; 2 for config and
// usage errors; 3 when the daemon is not reachable.
int cmd_deploy(const Globals& g, const std::string& ref);
// Switches back to release `id` (empty: the one active before the current one).
int cmd_rollback(const Globals& g, const std::string& id);
// Deploy history, newest first, and which release is active.
int cmd_releases(const Globals& g, int limit);

}  // namespace gc::cli

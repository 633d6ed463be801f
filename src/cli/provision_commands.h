// SPDX-License-Identifier: MIT
// cli/provision_commands.h: `groundctl plan` and `groundctl apply`: the managed files, steps
// and lock-out guards of provision/, printed for people or as --json.
#pragma once

#include <string>

#include "cli/commands.h"

namespace gc::cli {

struct ProvisionArgs {
  std::string root;  // --root DIR: render into DIR, run no commands. "": the live system.
};

// What apply would change: diffs, steps, guards. Exit 0 when nothing would change, 1 when
// something would, 2 on a config error or a lock-out guard (a refusal).
int cmd_plan(const Globals& g, const ProvisionArgs& args);

// Makes the server match the config (provision/apply.h). Exit 0 when it applied (or there was
// nothing to do: "no changes"), 1 when a component failed (which one, why, what stayed applied),
// 2 on a config error or a lock-out guard (nothing written).
int cmd_apply(const Globals& g, const ProvisionArgs& args);

}  // namespace gc::cli

// SPDX-License-Identifier: MIT
// cli/audit_commands.h: `groundctl audit [--json] [--root DIR]`.
#pragma once

#include <string>

#include "cli/commands.h"

namespace gc::cli {

// Runs every hardening check in-process (no daemon needed) and prints the report: failed checks
// first with evidence and remediation, or the report as JSON with --json. Without --root the
// report is saved in the state store (a failed save is a warning on stderr). Exit 0 when no
// check failed, 1 when one did, 2 for a bad config.
int cmd_audit(const Globals& g, const std::string& root);

}  // namespace gc::cli

// SPDX-License-Identifier: MIT
// cli/exit_codes.h: the CLI's exit codes (design.md), mapped in one place.
#pragma once

#include "base/error.h"

namespace gc::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblem = 1;      // The command ran and found a problem.
inline constexpr int kExitUsage = 2;        // Usage or configuration error.
inline constexpr int kExitUnreachable = 3;  // Daemon not reachable.

// The exit code for a command the daemon (or the CLI itself) refused or failed. Reaching the
// daemon at all is checked separately (kExitUnreachable).
inline int exit_code_for(const Error& e) {
  switch (e.code) {
    case Errc::kInvalidArgument:
    case Errc::kInvalidConfig:
    case Errc::kNotFound:
      return kExitUsage;
    default:
      return kExitProblem;
  }
}

}  // namespace gc::cli

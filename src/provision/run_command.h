// SPDX-License-Identifier: MIT
// provision/run_command.h: runs one provisioning command (a step, its check, validate, reload)
// to completion, without a shell, optionally as another user, with its output captured.
#pragma once

#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

namespace gc::provision {

struct CommandOutcome {
  ExitStatus status;
  std::string output;  // stdout and stderr interleaved, the last 64 KiB.
  // The output trimmed to its last few lines, for error messages.
  std::string tail() const;
};

// Replaces "{root}" in each argument with `root`.
std::vector<std::string> substitute_root(const std::vector<std::string>& argv,
                                         const std::string& root);

// Runs `argv` with `stdin_text` on its stdin (never logged: it may hold a password) as `run_as`
// ("" = the current user, normally root; else that user, its groups and HOME), in a fixed
// environment (PATH of the sbin and bin directories, LC_ALL=C). Blocks until it exits.
// Errors: kNotFound for an unknown run_as user or a missing program, spawn errors.
Result<CommandOutcome> run_command(const std::vector<std::string>& argv,
                                   const std::string& stdin_text, const std::string& run_as);

}  // namespace gc::provision

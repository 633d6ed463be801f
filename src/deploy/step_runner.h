// SPDX-License-Identifier: MIT
// deploy/step_runner.h: the commands of a deploy (git, build, migrate, backup), their output
// streamed live and kept in the deploy's log file, so that a failed `npm ci` can be read later.
#pragma once

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace gc::deploy {

// The log of one deploy: a file (0640) plus an optional live echo (the terminal).
class DeployLog {
 public:
  // Creates or truncates `path`. `echo` may be null (quiet); writes to it are best effort.
  static Result<DeployLog> open(const std::string& path, std::FILE* echo);

  // A line of groundctl's own: "==> build [1/2]: npm ci".
  void note(std::string_view line);
  // Raw output of a command.
  void write(std::string_view data);
  const std::string& path() const { return path_; }

 private:
  DeployLog(UniqueFd fd, std::string path, std::FILE* echo)
      : fd_(std::move(fd)), path_(std::move(path)), echo_(echo) {}
  UniqueFd fd_;
  std::string path_;
  std::FILE* echo_;
};

struct Step {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // The whole environment.
  std::string cwd;               // Empty: inherit.
  std::optional<Credentials> credentials;
  std::string what;  // Names it in errors: "build step 1 (npm ci)".
};

// Runs `step` with stdout and stderr into `log`. Polls `cancel` (may be null) and stops the
// command when it turns true. Errors: "WHAT failed (exit code N); its last output: ...",
// kCancelled, spawn errors.
Status run_step(const Step& step, DeployLog& log, const std::atomic<bool>* cancel);

struct Captured {
  ExitStatus status;
  std::string out;          // stdout, at most 1 MiB.
  std::string output_tail;  // The end of its stderr.
};

// Runs `step` to its end whatever its exit status; stderr goes to `log`. Errors: spawn
// failures, kCancelled.
Result<Captured> run_collect(const Step& step, DeployLog& log, const std::atomic<bool>* cancel);

// Runs `step` and returns its stdout (at most 1 MiB kept); stderr goes to `log`. Errors as
// run_step's.
Result<std::string> run_capture(const Step& step, DeployLog& log, const std::atomic<bool>* cancel);

}  // namespace gc::deploy

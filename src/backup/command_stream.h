// SPDX-License-Identifier: MIT
// backup/command_stream.h: external tools (pg_dump, pg_dumpall, pg_restore) as stages of a
// streaming pipeline: a command's stdout pumped into a ByteSink, or a ByteSink that feeds a
// command's stdin. stderr is kept (in memory-backed files) so a failure can quote its tail.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/byte_sink.h"
#include "base/child_process.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace gc::backup {

struct CommandSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // The child's whole environment.
  std::optional<Credentials> credentials;
  std::string what;  // Names the command in errors: "pg_dump of orbital".
};

// Runs `spec` and pumps its stdout into `sink` until EOF, then waits for it. Errors: spawn
// failures; the sink's own error (the command is killed); "WHAT failed (exit code N): TAIL" with
// the last lines of its stderr.
Status run_into(const CommandSpec& spec, const ByteSink& sink);

// A command fed through its stdin; its stdout and stderr are kept for the error message.
class CommandSink {
 public:
  static Result<CommandSink> start(const CommandSpec& spec);
  // Errors when the command exited early (its stderr tail included).
  Status write(std::span<const std::uint8_t> data);
  // Closes stdin and waits. Errors as run_into's.
  Status finish();
  ByteSink sink() {
    return [this](std::span<const std::uint8_t> d) { return write(d); };
  }

 private:
  CommandSink(CommandSpec spec, ChildProcess child, UniqueFd in, UniqueFd err)
      : spec_(std::move(spec)),
        child_(std::move(child)),
        stdin_(std::move(in)),
        stderr_(std::move(err)) {}
  Status failed();
  CommandSpec spec_;
  ChildProcess child_;
  UniqueFd stdin_;
  UniqueFd stderr_;
};

// The last `max_bytes` of what a command wrote to `fd` (a memfd), trimmed to whole lines.
std::string stderr_tail(int fd, size_t max_bytes = 2048);

}  // namespace gc::backup

// SPDX-License-Identifier: MIT
// base/child_process.h: one spawned child, held by pid *and* pidfd so that a signal never reaches
// a recycled PID. The destructor kills the child's process group and reaps it: no zombies, no
// orphans.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "base/units.h"

namespace gc {

// How a child ended.
struct ExitStatus {
  bool signaled = false;
  int code = 0;    // Exit code when !signaled.
  int signal = 0;  // Terminating signal when signaled.
  bool success() const { return !signaled && code == 0; }
  std::string to_string() const;  // "exit code 3", "killed by SIGKILL".
};

struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // Supplementary groups (from getgrouplist).
};

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] without '/' is looked up in the PATH of `env`.
  std::vector<std::string> env;   // "KEY=VALUE" entries: the child's whole environment.
  std::string cwd;                // Empty: inherit.
  // Child fds 0, 1, 2. -1 means /dev/null. The caller keeps ownership.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Become fds 3, 4, ... in the child, with close-on-exec cleared even when a source already is
  // that number. Every other fd is closed in the child.
  std::vector<int> extra_fds;
  std::optional<Credentials> credentials;  // Switch user before exec.
  bool new_session = true;                 // setsid(): own session and process group.
  int parent_death_signal = 0;             // PR_SET_PDEATHSIG after the credential change.
  bool set_listen_pid = false;             // Adds LISTEN_PID=<child pid> (systemd protocol).
};

// Resolves argv[0] against `path_var` (a PATH value) as execvp would. Errors: kNotFound.
Result<std::string> find_executable(const std::string& name, const std::string& path_var);

class ChildProcess {
 public:
  // Forks and execs. Errors from inside the child (chdir, setuid, exec...) are reported back
  // through a close-on-exec pipe, so a bad cwd is an Error here, not a mysterious exit 127.
  // Blocks only until exec succeeds or fails.
  static Result<ChildProcess> spawn(const SpawnOptions& options);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // Live child: SIGKILL to its group, then reap. Blocks briefly.

  pid_t pid() const { return pid_; }
  // Readable once the child has exited; watch it with poll or Asio. Owned by this object.
  int pidfd() const { return pidfd_.get(); }
  bool reaped() const { return reaped_; }

  // Signals the child through its pidfd. Errors: kNotFound if already reaped.
  Status signal(int signo);
  // Signals the child's process group (pgid == pid after setsid). Only while the leader is not
  // reaped: the unreaped leader holds the pgid, so the group cannot be a recycled one.
  Status signal_group(int signo);
  // Reaps if exited; nullopt while still running. Before reaping, SIGKILLs whatever is left in the
  // process group, so no orphan outlives its leader.
  Result<std::optional<ExitStatus>> try_wait();
  // Blocks until exit, then reaps (with the same group cleanup).
  Result<ExitStatus> wait();
  // Sends `signo` to the group, waits up to `grace`, then SIGKILLs the group. Blocks.
  Result<ExitStatus> terminate(int signo, Duration grace);

 private:
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  Result<ExitStatus> reap();
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool reaped_ = false;
  ExitStatus status_;
};

// "SIGTERM" for 15; "signal 99" for unknown numbers.
std::string signal_name(int signo);

}  // namespace gc

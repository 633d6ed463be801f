// SPDX-License-Identifier: MIT
// tests/support/netns.h: a "droplet in a box" for end-to-end tests: network namespaces (one
// server, N clients joined by veth pairs) and a server box (the server netns plus a private mount
// namespace whose /etc and /var are overlays, so daemons and `groundctl apply` inside it can
// write "system" files while the machine's own /etc and /var are never touched).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"
#include "base/temp_dir.h"

namespace gc::testing {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed.
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
};

// Runs `argv` to completion with `stdin_text` as its stdin and stdout/stderr captured through
// files (no pipe deadlocks). PATH includes the sbin directories. Errors: spawn failures only; a
// non-zero exit is a CommandResult.
Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                  const std::string& stdin_text = "");

// A server network namespace and `clients` client namespaces. Client i is joined to the server
// by its own veth pair on 10.77.<i+1>.0/24 and fd77:<i+1>::/64 (the server is .1 / ::1, the
// client .2 / ::2); loopback is up everywhere. Names are "gc-<pid>-<n>" and "gc-<pid>-<n>c<i>",
// so parallel test processes never collide. Requires root (CAP_NET_ADMIN, CAP_SYS_ADMIN).
class Netns {
 public:
  // Errors: kPermission when not root; kInternal with `ip`'s stderr otherwise. Whatever was
  // created before an error is deleted again.
  static Result<std::unique_ptr<Netns>> create(int clients);
  ~Netns();  // Deletes the namespaces (and with them the veth pairs). Best effort.
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& server() const { return server_; }
  const std::string& client(int i) const { return clients_.at(i); }
  int clients() const { return static_cast<int>(clients_.size()); }
  std::string server_address(int client) const;   // "10.77.<client+1>.1"
  std::string server_address6(int client) const;  // "fd77:<client+1>::1"
  std::string client_address(int client) const;   // "10.77.<client+1>.2"
  // argv prefix that runs a command inside client namespace i: {"ip", "netns", "exec", NAME}.
  std::vector<std::string> in_client(int i) const;

 private:
  Netns() = default;
  std::string server_;
  std::vector<std::string> clients_;
};

// A long-lived holder process (`sleep infinity`) inside the server netns and a private mount
// namespace, plus the daemons the test starts in it. Inside the box:
//   /etc, /var   overlays on the machine's own trees, writes go to a tmpfs (upper) layer;
//   /run, /home, /root  empty tmpfs.
// Every daemon started with start_daemon() runs in its own process group and is stopped (TERM,
// then KILL) by stop_daemon() or the destructor, before the holder itself; once the last process
// in the mount namespace is gone, the kernel drops the namespace and its tmpfs layers.
class ServerBox {
 public:
  // Errors: kInternal with the failing command's stderr.
  static Result<std::unique_ptr<ServerBox>> create(const Netns& ns);
  ~ServerBox();
  ServerBox(const ServerBox&) = delete;
  ServerBox& operator=(const ServerBox&) = delete;

  pid_t holder_pid() const { return holder_->pid(); }
  // argv prefix entering the box: {"nsenter", "-t", PID, "-n", "-m", "--"}.
  std::vector<std::string> prefix() const;
  // `argv` with prefix() in front, run as root inside the box (or as `user` through setpriv).
  Result<CommandResult> run(const std::vector<std::string>& argv,
                            const std::string& stdin_text = "", const std::string& user = "") const;
  // `sh -c script` inside the box, as root.
  Result<CommandResult> sh(const std::string& script, const std::string& stdin_text = "") const;
  // The box's view of an absolute path, readable and writable from outside:
  // "/proc/<holder>/root" + path.
  std::string path(const std::string& absolute) const;

  // Starts `argv` inside the box (as `user` if set) with stdout and stderr appended to `log`
  // (a host path; "" for /dev/null), in its own process group. Returns an id for stop_daemon.
  Result<int> start_daemon(const std::string& name, const std::vector<std::string>& argv,
                           const std::string& log, const std::string& user = "");
  // TERM to the daemon's process group, then KILL after a grace period; waits for it.
  Status stop_daemon(int id);
  // The daemon's leader pid (sh, nsenter's exec'd program...), or -1 once stopped.
  pid_t daemon_pid(int id) const;
  // True while the daemon's leader has not exited.
  bool daemon_running(int id);

 private:
  struct Daemon {
    std::string name;
    std::optional<ChildProcess> child;
  };
  ServerBox() = default;
  std::vector<std::string> as_user(const std::string& user,
                                   const std::vector<std::string>& argv) const;
  std::optional<ChildProcess> holder_;
  std::optional<TempDir> dir_;  // Mount points for the overlay layers (empty outside the box).
  std::vector<Daemon> daemons_;
};

}  // namespace gc::testing

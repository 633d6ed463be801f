// SPDX-License-Identifier: MIT
// tests/e2e/harness.h: drives the built groundctl binary: a daemon on a temp-dir config, CLI
// calls, and plain HTTP clients (single requests and a background load) against what it serves.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/child_process.h"
#include "base/temp_dir.h"

namespace gc::e2e {

using nlohmann::json;

// Path of the Node fixture app directory and of the groundctl binary (from CMake).
std::string fixture_dir();
std::string groundctl_bin();

// Polls `pred` every 20 ms until it is true or `within` passes.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds within = std::chrono::seconds(15));

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  json parsed() const;  // stdout as JSON (null if it does not parse).
};

// Runs `argv` to completion with stdout/stderr in files under `dir` (no pipe deadlocks). The
// environment is `env` plus a standard PATH.
CliResult run_capture(const std::vector<std::string>& argv, const std::string& dir,
                      std::vector<std::string> env = {});

class Daemon {
 public:
  // Writes `services_toml` below a [server] section pointing into a fresh TempDir (and an
  // [http] on a kernel-chosen port unless `services_toml` has its own), starts
  // `groundctl daemon` and waits for its control socket. Fails the test on error.
  // `server_extra` adds lines to the [server] section.
  // `argv_prefix` runs the daemon through a wrapper (`unshare --mount ...`); the wrapper must
  // exec the daemon so that pid() is the daemon's.
  static std::unique_ptr<Daemon> start(const std::string& services_toml,
                                       const std::string& server_extra = "",
                                       std::vector<std::string> argv_prefix = {});
  ~Daemon();  // SIGTERM, wait; SIGKILL if it hangs.

  CliResult cli(std::vector<std::string> args) const;
  json ps() const;
  json describe(const std::string& service) const;
  std::string address(const std::string& service) const;  // First bound listen address.
  std::vector<int> pids(const std::string& service) const;
  void write_config(const std::string& services_toml) const;
  // SIGTERM the daemon and wait for its exit status.
  ExitStatus terminate();
  // terminate(), then start it again on the same directory and config; waits until it answers.
  void restart();
  pid_t pid() const { return daemon_->pid(); }
  const std::string& dir() const { return dir_.path(); }
  std::string config_path() const { return dir_.file("groundctl.toml"); }
  std::string daemon_log() const;

 private:
  Daemon(TempDir dir, std::string server_extra)
      : dir_(std::move(dir)), server_extra_(std::move(server_extra)) {}
  void spawn();  // Starts the daemon process and waits for its control socket.
  TempDir dir_;
  std::string server_extra_;
  std::vector<std::string> argv_prefix_;
  std::optional<ChildProcess> daemon_;
};

enum class Outcome { kOk, kRefused, kReset, kTimeout, kOther };

struct HttpReply {
  Outcome outcome = Outcome::kOther;
  int status = 0;
  std::string body;
  std::string head;  // The status line and headers as received, without the blank line.
  // The value of header `name` (case-insensitive), trimmed; "" if absent.
  std::string header(const std::string& name) const;
};

// One GET over a new connection ("Connection: close"). `extra_headers`: "Name: value\r\n"...
HttpReply http_get(const std::string& host_port, const std::string& target,
                   const std::string& extra_headers = "");

struct LoadCounts {
  long ok = 0, refused = 0, reset = 0, timeout = 0, other = 0, non_2xx = 0;
  long failed() const { return refused + reset + timeout + other + non_2xx; }
};

// Background clients sending GET / in a loop until stop(): `keep_alive` reuses connections
// (reconnecting after a "Connection: close" answer), otherwise one connection per request.
class Load {
 public:
  Load(std::string host_port, int threads, bool keep_alive);
  ~Load();
  LoadCounts stop();
  long completed() const { return completed_.load(); }

 private:
  void run(LoadCounts& counts);
  std::string host_port_;
  bool keep_alive_;
  std::atomic<bool> stop_{false};
  std::atomic<long> completed_{0};
  std::vector<LoadCounts> counts_;
  std::vector<std::thread> threads_;
};

bool process_exists(pid_t pid);
// True if a TCP connection to `host_port` is accepted (by the kernel: nobody need accept()).
bool can_connect(const std::string& host_port);

}  // namespace gc::e2e

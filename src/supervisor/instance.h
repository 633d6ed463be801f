// SPDX-License-Identifier: MIT
// supervisor/instance.h: one running child of a service, driven by the event loop: exit seen
// through its pidfd, output read from its pipes, readiness from IPC, NOTIFY_SOCKET, an HTTP probe
// or a delay. It reports events to its owner and decides nothing itself.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/child_process.h"
#include "config/config.h"

namespace gc::supervisor {

enum class OutputStream { kStdout, kStderr };

class Instance;

// Events an instance reports; all run on the loop thread.
struct InstanceEvents {
  std::function<void(Instance&)> on_ready;
  std::function<void(Instance&, const std::string& reason)> on_not_ready;  // Timed out.
  std::function<void(Instance&, const ExitStatus&)> on_exit;
  // Complete lines, each ending in '\n'.
  std::function<void(Instance&, OutputStream, std::string_view)> on_output;
};

struct InstanceSpec {
  int slot = 0;
  SpawnOptions spawn;  // argv, env, cwd, credentials, listen fds as extra_fds.
  config::ReadySpec ready;
  Duration ready_timeout{30000};
  std::string notify_name;  // Abstract socket name for ready = "notify".
};

class Instance : public std::enable_shared_from_this<Instance> {
 public:
  enum class Phase { kStarting, kReady, kStopping, kExited };

  // Spawns the child and starts watching it. Errors: those of ChildProcess::spawn, plus socket
  // errors for the readiness channel.
  static Result<std::shared_ptr<Instance>> start(boost::asio::io_context& io, InstanceSpec spec,
                                                 InstanceEvents events);
  ~Instance() = default;  // A live child is killed with its group and reaped by ChildProcess.

  // Sends `signo` to the process group; SIGKILL after `timeout`. on_exit fires when it is gone.
  void stop(int signo, Duration timeout);
  // True once stop() was called: the exit that follows was asked for.
  bool stop_requested() const { return stop_requested_; }

  Phase phase() const { return phase_; }
  int slot() const { return spec_.slot; }
  pid_t pid() const { return pid_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  const std::string& stderr_tail() const { return stderr_tail_; }

 private:
  Instance(boost::asio::io_context& io, InstanceSpec spec, InstanceEvents events);
  Status begin();
  void watch_exit();
  void on_pidfd_readable();
  void read_output(int index);
  void handle_output(int index, std::string_view data, bool eof);
  void drain_output_now();
  void mark_ready();
  void arm_readiness();
  void read_ipc();
  void read_notify();
  void probe_http();
  void finish(const ExitStatus& status);

  boost::asio::io_context& io_;
  InstanceSpec spec_;
  InstanceEvents events_;
  Phase phase_ = Phase::kStarting;
  bool stop_requested_ = false;
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<ChildProcess> child_;
  boost::asio::posix::stream_descriptor pidfd_watch_;
  boost::asio::posix::stream_descriptor out_[2];
  std::string partial_[2];
  std::string read_buf_[2];
  std::string stderr_tail_;
  boost::asio::posix::stream_descriptor ipc_;
  std::string ipc_partial_;
  std::string ipc_buf_;
  boost::asio::posix::stream_descriptor notify_;
  boost::asio::steady_timer ready_timer_;
  boost::asio::steady_timer probe_timer_;
  boost::asio::steady_timer kill_timer_;
};

const char* phase_name(Instance::Phase phase);

}  // namespace gc::supervisor

// SPDX-License-Identifier: MIT
// supervisor/service.h: one [[service]]: its instance slots, restart decisions, stop, start and
// zero-downtime reload (start the new instance, wait until ready, then stop the old one), memory
// limit replacement and log capture. Runs on the loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "supervisor/instance.h"
#include "supervisor/listener.h"
#include "supervisor/log_writer.h"
#include "supervisor/proc_stats.h"
#include "supervisor/restart_policy.h"

namespace gc::supervisor {

using Done = std::function<void(Status)>;

// What services share: the loop, the log writer, the log directory.
struct ServiceContext {
  boost::asio::io_context& io;
  LogWriter& logs;
  std::string log_dir;
};

struct ExitRecord {
  std::chrono::system_clock::time_point when;
  int instance = 0;
  pid_t pid = 0;
  std::string status;  // "exit code 3", "killed by SIGKILL", "spawn failed".
  std::string reason;  // Why it ended or what happens next.
  std::string stderr_tail;
};

struct InstanceInfo {
  std::string service;
  int instance = 0;
  pid_t pid = 0;
  std::string state;  // starting, running, stopping, backoff, failed, stopped.
  std::int64_t uptime_ms = 0;
  int restarts = 0;
  double cpu_percent = 0;
  std::uint64_t rss_bytes = 0;
};

// A subscriber to a service's output; returns false to unsubscribe.
using OutputSink = std::function<bool(OutputStream, int instance, std::string_view lines)>;

class Service : public std::enable_shared_from_this<Service> {
 public:
  Service(ServiceContext& ctx, config::ServiceConfig config);
  ~Service();

  const config::ServiceConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  // Aggregate state: running, starting, degraded, backoff, failed, stopped, reloading.
  std::string state() const;

  // Starts every slot that is not running; `done` runs when each has become ready or failed.
  void start(Done done);
  // Stops every instance (stop_signal, stop_timeout, then SIGKILL); `done` when all are gone.
  void stop(Done done);
  // Zero-downtime replacement, one slot at a time. If a new instance fails to become ready the
  // old one keeps serving, the reload stops there and `done` gets the reason. kConflict if a
  // reload is already running.
  void reload(Done done);
  // Takes a changed config and reloads with it (instance count, listen sockets, command...).
  void update(config::ServiceConfig config, Done done);
  // Samples CPU and RSS of every instance; replaces instances above max_memory.
  void sample(std::chrono::steady_clock::time_point now);

  std::vector<InstanceInfo> instances() const;
  const std::deque<ExitRecord>& recent_exits() const { return exits_; }
  std::vector<std::string> bound_addresses() const;
  std::uint64_t dropped_log_bytes() const;
  std::string log_path(OutputStream stream) const;
  void subscribe(OutputSink sink) { sinks_.push_back(std::move(sink)); }

 private:
  enum class SlotState { kStopped, kStarting, kRunning, kBackoff, kFailed };
  struct Slot {
    std::shared_ptr<Instance> current;  // Serving, or starting.
    std::shared_ptr<Instance> next;     // A replacement being started by reload.
    Done on_next;                       // Completes the replacement.
    std::string replace_why;            // Why `next` is replacing `current`.
    RestartTracker tracker;
    SlotState state = SlotState::kStopped;
    std::unique_ptr<boost::asio::steady_timer> backoff;
    std::vector<Done> start_waiters;
    std::string not_ready_reason;
    ProcStats last_stats;
    pid_t sampled_pid = 0;                                     // Whose stats last_stats holds.
    std::chrono::steady_clock::time_point memory_retry_after;  // After a failed replacement.
    std::chrono::steady_clock::time_point last_sample;
    double cpu_percent = 0;
    std::uint64_t rss_bytes = 0;
    bool replacing = false;
  };

  Status ensure_listeners();
  Result<std::shared_ptr<Instance>> spawn(int slot);
  void start_slot(int slot, Done done);
  void replace_slot(int slot, std::string why, Done done);
  void reload_from(int slot, Done done);
  void on_ready(Instance& inst);
  void on_not_ready(Instance& inst, const std::string& reason);
  void on_exit(Instance& inst, const ExitStatus& status);
  void on_output(Instance& inst, OutputStream stream, std::string_view lines);
  void handle_failure(int slot, const std::string& status, const std::string& why, Duration uptime);
  void finish_start_waiters(Slot& slot, const Status& result);
  void record_exit(int slot, pid_t pid, std::string status, std::string reason, std::string tail);
  void check_stopped();
  void cancel_pending_stop();
  int next_generation() { return ++generation_; }

  ServiceContext& ctx_;
  config::ServiceConfig config_;
  std::vector<Slot> slots_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::set<std::shared_ptr<Instance>> live_;
  std::map<const Instance*, std::string> stop_reasons_;
  std::vector<Done> stop_waiters_;
  std::deque<ExitRecord> exits_;
  std::vector<OutputSink> sinks_;
  std::shared_ptr<LogStream> out_log_;
  std::shared_ptr<LogStream> err_log_;
  bool want_running_ = false;
  bool reloading_ = false;
  // A config change that arrived during a reload, applied when it ends.
  std::optional<std::pair<config::ServiceConfig, Done>> pending_update_;
  int generation_ = 0;
};

}  // namespace gc::supervisor

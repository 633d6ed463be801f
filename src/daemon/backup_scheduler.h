// SPDX-License-Identifier: MIT
// daemon/backup_scheduler.h: runs `groundctl backup run` on [backup] schedule, as a child process
// of the daemon (crash isolation, and the daemon's own memory stays small), never two at once.
// Its output is appended to log_dir/backup.log; the outcome is in the catalog and the daemon log.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/child_process.h"
#include "config/config.h"

namespace gc::daemon {

class BackupScheduler {
 public:
  // `exe` is this binary, `config_path` the file the child reads.
  BackupScheduler(boost::asio::io_context& io, std::string exe, std::string config_path,
                  std::string log_dir);
  BackupScheduler(const BackupScheduler&) = delete;
  BackupScheduler& operator=(const BackupScheduler&) = delete;

  // (Re)computes the next run from the config; no [backup] section disarms. A run in progress
  // is left to finish.
  void configure(const config::Config& cfg);
  // Cancels the timer and stops a running backup (SIGTERM to its group, SIGKILL after 10 s);
  // its staging directory is removed by the next run.
  void stop();

  // {"enabled", "next_run" (RFC 3339), "running_pid", "last_exit", "last_finished"} and, from
  // the catalog, "last_run", "last_success", "last_set", "last_drill", "oldest_pending_upload".
  nlohmann::json status_json() const;

 private:
  void arm();
  void on_timer();
  void start_run();
  void on_exit();

  boost::asio::io_context& io_;
  std::string exe_;
  std::string config_path_;
  std::string log_path_;
  std::string state_dir_;
  std::optional<config::Schedule> schedule_;
  std::optional<std::chrono::sys_seconds> next_;
  boost::asio::steady_timer timer_;
  std::optional<ChildProcess> child_;
  boost::asio::posix::stream_descriptor child_watch_;
  std::string last_exit_;
  std::string last_finished_;
};

}  // namespace gc::daemon

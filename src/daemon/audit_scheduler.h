// SPDX-License-Identifier: MIT
// daemon/audit_scheduler.h: the daemon's daily hardening audit. A thread of its own runs
// `groundctl audit` as a child process (the audit spawns sshd, ufw, fail2ban-client and apt-get
// and connects to PostgreSQL, so it may take a minute; a child can be killed at shutdown), at
// start when the newest saved report is 24 hours old or more, then 24 hours after each report. It
// also picks up reports saved by others (`groundctl audit`, `groundctl apply`), so a finding from
// any run shows in the metrics and fires AuditCheckFailed.
#pragma once

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "audit/report.h"
#include "config/config.h"
#include "monitor/metrics.h"

namespace gc::daemon {

class AuditScheduler {
 public:
  // Starts the thread. `exe` is this binary, `config_path` the file the child reads.
  AuditScheduler(std::string exe, std::string config_path, const config::Config& cfg);
  ~AuditScheduler();  // Kills an audit in progress, then joins.
  AuditScheduler(const AuditScheduler&) = delete;
  AuditScheduler& operator=(const AuditScheduler&) = delete;

  // The config the next audit judges against. Thread-safe.
  void configure(const config::Config& cfg);
  // groundctl_audit_score, groundctl_audit_last_run_timestamp_seconds and
  // groundctl_audit_check_failed{check, severity} (0/1, checks that applied) of the newest report;
  // nothing before there is one. Thread-safe; never blocks on an audit.
  void add_metrics(monitor::MetricSet& out) const;
  // {"score", "failed", "time"} of the newest report, or null. Thread-safe.
  nlohmann::json status_json() const;

 private:
  void run();
  // Runs one audit child to its end (or until stop); it saves its report in the state store.
  void run_child();
  std::string exe_;
  std::string config_path_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;                    // Guarded by mu_.
  config::Config config_;                // Guarded by mu_.
  std::optional<audit::Report> latest_;  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace gc::daemon

// SPDX-License-Identifier: MIT
#include "supervisor/restart_policy.h"

#include <algorithm>

namespace gc::supervisor {

RestartTracker::RestartTracker(const config::ServiceConfig& service)
    : mode_(service.restart),
      backoff_(service.backoff),
      min_uptime_(service.min_uptime),
      max_restarts_(service.max_restarts) {}

void RestartTracker::reconfigure(const config::ServiceConfig& service) {
  mode_ = service.restart;
  backoff_ = service.backoff;
  min_uptime_ = service.min_uptime;
  max_restarts_ = service.max_restarts;
}

void RestartTracker::reset() {
  consecutive_ = 0;
  recent_.clear();
}

RestartDecision RestartTracker::on_exit(bool success, Duration uptime, SteadyTime now) {
  using Kind = RestartDecision::Kind;
  if (mode_ == config::RestartMode::kNever)
    return {Kind::kStayStopped, Duration(0), "restart = \"never\""};
  if (mode_ == config::RestartMode::kOnFailure && success) {
    return {Kind::kStayStopped, Duration(0), "exited successfully and restart = \"on-failure\""};
  }
  while (!recent_.empty() && now - recent_.front() >= config::kRestartWindow) recent_.pop_front();
  if (static_cast<int>(recent_.size()) >= max_restarts_) {
    return {Kind::kFail, Duration(0),
            "restarted " + std::to_string(recent_.size()) + " times within " +
                format_duration(config::kRestartWindow) +
                " (max_restarts = " + std::to_string(max_restarts_) + ")"};
  }
  ++total_restarts_;
  recent_.push_back(now);
  // A crash after a healthy run (min_uptime or more) restarts at once: waiting would only
  // lengthen the outage. Only a crash loop backs off, and a healthy run starts it over.
  if (uptime >= min_uptime_) {
    consecutive_ = 0;
    return {Kind::kRestart, Duration(0), "restarting now"};
  }
  Duration delay = backoff_.initial;
  for (int i = 0; i < consecutive_ && delay < backoff_.max; ++i) delay *= 2;
  delay = std::min(delay, backoff_.max);
  ++consecutive_;
  return {Kind::kRestart, delay, "restarting in " + format_duration(delay)};
}

}  // namespace gc::supervisor

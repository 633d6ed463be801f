// SPDX-License-Identifier: MIT
// supervisor/restart_policy.h: decides what happens after an instance exits on its own:
// restart after an exponential backoff, stay stopped, or give up ("failed"). Pure: no I/O, no
// clock reads; `now` comes in.
#pragma once

#include <chrono>
#include <deque>
#include <string>

#include "base/units.h"
#include "config/config.h"

namespace gc::supervisor {

using SteadyTime = std::chrono::steady_clock::time_point;

struct RestartDecision {
  enum class Kind { kRestart, kStayStopped, kFail };
  Kind kind = Kind::kStayStopped;
  Duration delay{0};   // kRestart: wait this long first.
  std::string reason;  // Human explanation, shown in describe and logs.
};

class RestartTracker {
 public:
  RestartTracker() : RestartTracker(config::ServiceConfig{}) {}
  explicit RestartTracker(const config::ServiceConfig& service);

  // An instance exited without being asked to. `success` is exit code 0; `uptime` is how long it
  // ran. After a run of at least min_uptime the restart is immediate and the backoff starts over;
  // shorter runs wait backoff.initial, doubling up to backoff.max. More than max_restarts
  // restarts within kRestartWindow means kFail.
  RestartDecision on_exit(bool success, Duration uptime, SteadyTime now);
  // Takes a changed service config; the history and the restart count stay.
  void reconfigure(const config::ServiceConfig& service);
  // A start or restart asked for by the operator: forget the history.
  void reset();
  // Restarts decided so far (for `ps`); survives reset() like PM2's counter does not.
  int restarts() const { return total_restarts_; }

 private:
  config::RestartMode mode_ = config::RestartMode::kAlways;
  config::BackoffConfig backoff_;
  Duration min_uptime_{0};
  int max_restarts_ = 10;
  int consecutive_ = 0;
  int total_restarts_ = 0;
  std::deque<SteadyTime> recent_;  // Restart times inside the window.
};

}  // namespace gc::supervisor

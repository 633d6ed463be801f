// SPDX-License-Identifier: MIT
// Tests for supervisor/restart_policy.h: backoff, min_uptime, restart modes and the max_restarts
// window. Pure: every `now` is made up.
#include "supervisor/restart_policy.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

namespace gc::supervisor {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using Kind = RestartDecision::Kind;

// A service that restarts always, backs off 100ms..1s, needs 10s to count as healthy and may
// restart `max_restarts` times within the window.
config::ServiceConfig service(int max_restarts = 100,
                              config::RestartMode mode = config::RestartMode::kAlways) {
  config::ServiceConfig s;
  s.name = "web";
  s.restart = mode;
  s.backoff.initial = milliseconds(100);
  s.backoff.max = seconds(1);
  s.min_uptime = seconds(10);
  s.max_restarts = max_restarts;
  return s;
}

const SteadyTime kT0 = SteadyTime() + std::chrono::hours(1);
constexpr Duration kShortRun = milliseconds(50);  // Below min_uptime: a crash loop.

TEST(RestartTracker, BacksOffExponentiallyUpToMax) {
  RestartTracker tracker(service());
  std::vector<Duration> delays;
  for (int i = 0; i < 7; ++i) {
    RestartDecision d = tracker.on_exit(false, kShortRun, kT0 + seconds(i));
    ASSERT_EQ(d.kind, Kind::kRestart) << "exit " << i << ": " << d.reason;
    delays.push_back(d.delay);
  }
  std::vector<Duration> want = {milliseconds(100), milliseconds(200), milliseconds(400),
                                milliseconds(800), seconds(1),        seconds(1),
                                seconds(1)};
  EXPECT_EQ(delays, want);
}

TEST(RestartTracker, ReasonNamesTheDelay) {
  RestartTracker tracker(service());
  RestartDecision d = tracker.on_exit(false, kShortRun, kT0);
  EXPECT_EQ(d.reason, "restarting in 100ms");
}

TEST(RestartTracker, InitialAboveMaxIsCappedAtMax) {
  config::ServiceConfig s = service();
  s.backoff.initial = seconds(5);
  s.backoff.max = seconds(2);
  RestartTracker tracker(s);
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0).delay, seconds(2));
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(1)).delay, seconds(2));
}

TEST(RestartTracker, ZeroInitialBackoffRestartsImmediately) {
  config::ServiceConfig s = service();
  s.backoff.initial = Duration(0);
  RestartTracker tracker(s);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(i)).delay, Duration(0));
  }
}

TEST(RestartTracker, RunOfAtLeastMinUptimeResetsBackoff) {
  RestartTracker tracker(service());
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0).delay, milliseconds(100));
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(1)).delay, milliseconds(200));
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(2)).delay, milliseconds(400));
  // Exactly min_uptime counts as healthy: restart at once, and the backoff starts over.
  RestartDecision healthy = tracker.on_exit(false, seconds(10), kT0 + seconds(13));
  EXPECT_EQ(healthy.kind, Kind::kRestart);
  EXPECT_EQ(healthy.delay, Duration(0));
  EXPECT_EQ(healthy.reason, "restarting now");
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(14)).delay, milliseconds(100));
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(15)).delay, milliseconds(200));
}

TEST(RestartTracker, RunJustUnderMinUptimeKeepsBackingOff) {
  RestartTracker tracker(service());
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0).delay, milliseconds(100));
  EXPECT_EQ(tracker.on_exit(false, seconds(10) - milliseconds(1), kT0 + seconds(11)).delay,
            milliseconds(200));
}

TEST(RestartTracker, NeverStaysStoppedWhateverTheExit) {
  RestartTracker tracker(service(100, config::RestartMode::kNever));
  RestartDecision failed = tracker.on_exit(false, kShortRun, kT0);
  EXPECT_EQ(failed.kind, Kind::kStayStopped);
  EXPECT_NE(failed.reason.find("never"), std::string::npos) << failed.reason;
  EXPECT_EQ(tracker.on_exit(true, seconds(60), kT0 + minutes(1)).kind, Kind::kStayStopped);
  EXPECT_EQ(tracker.restarts(), 0);
}

TEST(RestartTracker, OnFailureStaysStoppedAfterSuccess) {
  RestartTracker tracker(service(100, config::RestartMode::kOnFailure));
  RestartDecision d = tracker.on_exit(true, kShortRun, kT0);
  EXPECT_EQ(d.kind, Kind::kStayStopped);
  EXPECT_NE(d.reason.find("on-failure"), std::string::npos) << d.reason;
  EXPECT_EQ(tracker.restarts(), 0);
}

TEST(RestartTracker, OnFailureRestartsAfterFailure) {
  RestartTracker tracker(service(100, config::RestartMode::kOnFailure));
  RestartDecision d = tracker.on_exit(false, kShortRun, kT0);
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.delay, milliseconds(100));
  EXPECT_EQ(tracker.restarts(), 1);
}

TEST(RestartTracker, AlwaysRestartsAfterSuccessToo) {
  RestartTracker tracker(service());
  RestartDecision d = tracker.on_exit(true, kShortRun, kT0);
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.delay, milliseconds(100));
}

TEST(RestartTracker, FailsAfterMoreThanMaxRestartsWithinWindow) {
  RestartTracker tracker(service(3));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(i)).kind, Kind::kRestart) << i;
  }
  RestartDecision d = tracker.on_exit(false, kShortRun, kT0 + seconds(3));
  EXPECT_EQ(d.kind, Kind::kFail);
  EXPECT_NE(d.reason.find("max_restarts = 3"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("5m"), std::string::npos) << d.reason;
  EXPECT_EQ(tracker.restarts(), 3);
}

TEST(RestartTracker, HealthyRunsStillCountTowardsTheWindow) {
  // max_restarts counts restarts in the window, whether or not the runs were long.
  RestartTracker tracker(service(2));
  EXPECT_EQ(tracker.on_exit(false, seconds(20), kT0).kind, Kind::kRestart);
  EXPECT_EQ(tracker.on_exit(false, seconds(20), kT0 + seconds(30)).kind, Kind::kRestart);
  EXPECT_EQ(tracker.on_exit(false, seconds(20), kT0 + seconds(60)).kind, Kind::kFail);
}

TEST(RestartTracker, ZeroMaxRestartsFailsOnFirstExit) {
  RestartTracker tracker(service(0));
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0).kind, Kind::kFail);
  EXPECT_EQ(tracker.restarts(), 0);
}

TEST(RestartTracker, RestartsOlderThanTheWindowNoLongerCount) {
  RestartTracker tracker(service(2));
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0).kind, Kind::kRestart);
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + minutes(1)).kind, Kind::kRestart);
  // Just inside the window of the first restart: still two recent restarts.
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + minutes(5) - milliseconds(1)).kind,
            Kind::kFail);
  // Exactly one window after the first restart, it has aged out; the second still counts.
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + minutes(5)).kind, Kind::kRestart);
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + minutes(5) + seconds(1)).kind, Kind::kFail);
  // Long after everything: the window is empty again.
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + minutes(30)).kind, Kind::kRestart);
}

TEST(RestartTracker, ResetForgetsBackoffAndWindow) {
  RestartTracker tracker(service(2));
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0).delay, milliseconds(100));
  EXPECT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(1)).delay, milliseconds(200));
  ASSERT_EQ(tracker.on_exit(false, kShortRun, kT0 + seconds(2)).kind, Kind::kFail);
  tracker.reset();
  RestartDecision d = tracker.on_exit(false, kShortRun, kT0 + seconds(3));
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.delay, milliseconds(100));
}

TEST(RestartTracker, RestartsCountsOnlyRestartsAndSurvivesReset) {
  RestartTracker tracker(service(2, config::RestartMode::kOnFailure));
  EXPECT_EQ(tracker.restarts(), 0);
  (void)tracker.on_exit(false, kShortRun, kT0);
  (void)tracker.on_exit(true, kShortRun, kT0 + seconds(1));  // Stays stopped: not a restart.
  (void)tracker.on_exit(false, kShortRun, kT0 + seconds(2));
  EXPECT_EQ(tracker.restarts(), 2);
  (void)tracker.on_exit(false, kShortRun, kT0 + seconds(3));  // kFail: not a restart.
  EXPECT_EQ(tracker.restarts(), 2);
  tracker.reset();
  EXPECT_EQ(tracker.restarts(), 2);
  (void)tracker.on_exit(false, kShortRun, kT0 + seconds(4));
  EXPECT_EQ(tracker.restarts(), 3);
}

TEST(RestartTracker, DefaultConstructedUsesConfigDefaults) {
  RestartTracker tracker;
  RestartDecision d = tracker.on_exit(false, kShortRun, kT0);
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.delay, config::BackoffConfig{}.initial);
}

}  // namespace
}  // namespace gc::supervisor

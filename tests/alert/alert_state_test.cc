// SPDX-License-Identifier: MIT
// The alert state machine: for, clear (hysteresis), flapping input, reminders, silences,
// restarts.
#include "alert/alert_state.h"

#include <gtest/gtest.h>

namespace gc::alert {
namespace {

constexpr int64_t kS = 1000;

Rule make_rule(int64_t for_ms, bool with_clear = false) {
  Rule r;
  r.name = "DiskAlmostFull";
  r.severity = "warning";
  r.for_ms = for_ms;
  r.summary = "disk {{ $labels.mountpoint }} at {{ $value }}";
  if (with_clear) r.clear_text = "x";
  return r;
}

Vector disk(double v) { return {{{{"__name__", "used"}, {"mountpoint", "/"}}, v}}; }

struct Driver {
  AlertStates states;
  std::vector<Notice> notices;
  std::vector<Notice> history;
  std::vector<Silence> silences;
  StepResult step(const Rule& r, const Vector& fired, const Vector& kept, int64_t now,
                  int64_t repeat = 0) {
    StepResult s = states.step(r, fired, kept, now, repeat, silences);
    notices.insert(notices.end(), s.notices.begin(), s.notices.end());
    history.insert(history.end(), s.history.begin(), s.history.end());
    return s;
  }
};

TEST(AlertState, PendingForThenFiringThenResolved) {
  Rule r = make_rule(30 * kS);
  Driver run;
  run.step(r, disk(0.85), {}, 0);
  ASSERT_EQ(run.states.alerts().size(), 1u);
  EXPECT_EQ(run.states.alerts().begin()->second.phase, Phase::kPending);
  run.step(r, disk(0.86), {}, 20 * kS);
  EXPECT_TRUE(run.notices.empty());
  run.step(r, disk(0.87), {}, 30 * kS);
  ASSERT_EQ(run.notices.size(), 1u);
  EXPECT_EQ(run.notices[0].kind, NoticeKind::kFiring);
  const ActiveAlert& a = run.notices[0].alert;
  EXPECT_EQ(a.labels.at("alertname"), "DiskAlmostFull");
  EXPECT_EQ(a.labels.at("severity"), "warning");
  EXPECT_EQ(a.labels.count("__name__"), 0u);
  EXPECT_EQ(a.summary, "disk / at 0.87");
  EXPECT_EQ(a.active_since_ms, 0);
  EXPECT_EQ(a.fired_at_ms, 30 * kS);
  run.step(r, disk(0.88), {}, 40 * kS);  // Still firing: no second notice.
  EXPECT_EQ(run.notices.size(), 1u);
  run.step(r, {}, {}, 50 * kS);
  ASSERT_EQ(run.notices.size(), 2u);
  EXPECT_EQ(run.notices[1].kind, NoticeKind::kResolved);
  EXPECT_EQ(run.notices[1].ended_ms, 50 * kS);
  EXPECT_TRUE(run.states.alerts().empty());
  EXPECT_EQ(run.history.size(), 2u);
}

TEST(AlertState, FlappingShorterThanForNeverFires) {
  Rule r = make_rule(30 * kS);
  Driver run;
  for (int i = 0; i < 20; ++i) {
    run.step(r, i % 3 == 2 ? Vector{} : disk(0.9), {}, i * 10 * kS);
  }
  EXPECT_TRUE(run.notices.empty());
  EXPECT_TRUE(run.history.empty());
}

TEST(AlertState, NoForFiresAtOnce) {
  Driver run;
  auto s = run.step(make_rule(0), disk(0.9), {}, 5 * kS);
  ASSERT_EQ(s.notices.size(), 1u);
  EXPECT_TRUE(s.changed);
}

TEST(AlertState, ClearKeepsItFiringInTheBand) {
  Rule r = make_rule(0, true);
  Driver run;
  run.step(r, disk(0.81), disk(0.81), 0);
  ASSERT_EQ(run.notices.size(), 1u);
  // Below the firing threshold, above the clear one: flapping around 80 % sends nothing.
  for (int i = 1; i < 10; ++i) {
    run.step(r, i % 2 ? Vector{} : disk(0.80), disk(0.79), i * 10 * kS);
  }
  EXPECT_EQ(run.notices.size(), 1u);
  EXPECT_EQ(run.states.alerts().begin()->second.value, 0.79);
  run.step(r, {}, {}, 200 * kS);  // Below clear too: resolved.
  ASSERT_EQ(run.notices.size(), 2u);
  EXPECT_EQ(run.notices[1].kind, NoticeKind::kResolved);
}

TEST(AlertState, ClearDoesNotStartAnAlert) {
  Driver run;
  run.step(make_rule(0, true), {}, disk(0.79), 0);
  EXPECT_TRUE(run.states.alerts().empty());
}

TEST(AlertState, PendingDroppedSilently) {
  Driver run;
  run.step(make_rule(60 * kS), disk(0.9), {}, 0);
  run.step(make_rule(60 * kS), {}, {}, 10 * kS);
  EXPECT_TRUE(run.states.alerts().empty());
  EXPECT_TRUE(run.notices.empty());
  EXPECT_TRUE(run.history.empty());
}

TEST(AlertState, Reminders) {
  Rule r = make_rule(0);
  Driver run;
  run.step(r, disk(0.9), {}, 0, 100 * kS);
  run.step(r, disk(0.9), {}, 99 * kS, 100 * kS);
  EXPECT_EQ(run.notices.size(), 1u);
  run.step(r, disk(0.9), {}, 100 * kS, 100 * kS);
  ASSERT_EQ(run.notices.size(), 2u);
  EXPECT_EQ(run.notices[1].kind, NoticeKind::kReminder);
  EXPECT_EQ(run.history.size(), 1u);  // Reminders are not history.
}

TEST(AlertState, SilencedAlertsAreHeldBackThenNotified) {
  Rule r = make_rule(0);
  Driver run;
  run.silences.push_back({1, {{"alertname", "DiskAlmostFull"}}, 0, 50 * kS, "", ""});
  run.step(r, disk(0.9), {}, 0);
  EXPECT_TRUE(run.notices.empty());
  EXPECT_EQ(run.history.size(), 1u);  // It did fire.
  run.step(r, disk(0.9), {}, 40 * kS);
  EXPECT_TRUE(run.notices.empty());
  run.step(r, disk(0.9), {}, 50 * kS);  // The silence is over, still firing: notified now.
  ASSERT_EQ(run.notices.size(), 1u);
  EXPECT_EQ(run.notices[0].kind, NoticeKind::kFiring);
}

TEST(AlertState, AlertResolvedWhileSilencedSendsNothing) {
  Rule r = make_rule(0);
  Driver run;
  run.silences.push_back({1, {{"alertname", "DiskAlmostFull"}}, 0, 500 * kS, "", ""});
  run.step(r, disk(0.9), {}, 0);
  run.step(r, {}, {}, 10 * kS);
  EXPECT_TRUE(run.notices.empty());
  EXPECT_EQ(run.history.size(), 2u);
}

TEST(AlertState, SilenceMatchersNarrow) {
  Silence s{1, {{"alertname", "DiskAlmostFull"}, {"mountpoint", "/srv"}}, 0, 100, "", ""};
  EXPECT_FALSE(s.matches({{"alertname", "DiskAlmostFull"}, {"mountpoint", "/"}}));
  EXPECT_TRUE(s.matches({{"alertname", "DiskAlmostFull"}, {"mountpoint", "/srv"}}));
}

TEST(AlertState, RestartNeitherRenotifiesNorForgetsFor) {
  Rule r = make_rule(30 * kS);
  Driver before;
  before.step(r, disk(0.9), {}, 0);
  Rule fast = make_rule(0);
  fast.name = "Other";
  before.step(fast, disk(0.9), {}, 0);
  ASSERT_EQ(before.notices.size(), 1u);  // "Other" fired.
  std::vector<ActiveAlert> saved;
  for (const auto& [k, a] : before.states.alerts()) saved.push_back(a);

  Driver after;
  after.states = AlertStates(saved);
  after.step(r, disk(0.9), {}, 20 * kS);  // The pending one keeps its start.
  after.step(fast, disk(0.9), {}, 20 * kS);
  EXPECT_TRUE(after.notices.empty());
  after.step(r, disk(0.9), {}, 30 * kS);
  ASSERT_EQ(after.notices.size(), 1u);
  EXPECT_EQ(after.notices[0].alert.rule, "DiskAlmostFull");
  EXPECT_EQ(after.notices[0].alert.active_since_ms, 0);
}

TEST(AlertState, RemovedRulesAreDropped) {
  Driver run;
  run.step(make_rule(0), disk(0.9), {}, 0);
  EXPECT_FALSE(run.states.retain_rules({"DiskAlmostFull"}));
  EXPECT_TRUE(run.states.retain_rules({"Other"}));
  EXPECT_TRUE(run.states.alerts().empty());
}

TEST(AlertState, SeveralSeriesAreSeparateAlerts) {
  Rule r = make_rule(0);
  Driver run;
  Vector two = {{{{"mountpoint", "/"}}, 0.9}, {{{"mountpoint", "/srv"}}, 0.95}};
  run.step(r, two, {}, 0);
  EXPECT_EQ(run.notices.size(), 2u);
  run.step(r, {two[1]}, {}, 10 * kS);
  ASSERT_EQ(run.notices.size(), 3u);
  EXPECT_EQ(run.notices[2].kind, NoticeKind::kResolved);
  EXPECT_EQ(run.notices[2].alert.labels.at("mountpoint"), "/");
}

}  // namespace
}  // namespace gc::alert

// SPDX-License-Identifier: MIT
#include "backup/retention.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>

namespace gc::backup {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

sys_seconds at(int y, unsigned m, unsigned d, int hh = 3, int mm = 15) {
  return sys_seconds(sys_days(std::chrono::year(y) / m / d)) + hours(hh) + minutes(mm);
}

std::string id_of(sys_seconds t) {
  auto day = std::chrono::floor<days>(t);
  std::chrono::year_month_day ymd(day);
  std::chrono::hh_mm_ss hms(t - day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02u%02uT%02d%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
  return text;
}

BackupSetInfo set_at(sys_seconds t, bool verified = true, bool complete = true) {
  return BackupSetInfo{id_of(t), t, complete, verified};
}

// One verified set a day at 03:15 UTC, for `count` days from y-m-d.
std::vector<BackupSetInfo> daily_sets(int y, unsigned m, unsigned d, int count) {
  std::vector<BackupSetInfo> sets;
  for (int i = 0; i < count; ++i) sets.push_back(set_at(at(y, m, d) + days(i)));
  return sets;
}

const config::UtcOffsetFn kUtc = config::fixed_utc_offset(std::chrono::seconds(0));

config::RetentionConfig policy(int daily, int weekly, int monthly) {
  return config::RetentionConfig{daily, weekly, monthly};
}

using Reasons = std::map<std::string, std::string>;

// id -> reason of each kept set.
Reasons kept(const std::vector<RetentionDecision>& decisions) {
  Reasons out;
  for (const auto& d : decisions) {
    if (d.keep) out[d.id] = d.reason;
  }
  return out;
}

std::string dump(const std::vector<RetentionDecision>& decisions) {
  std::string out;
  for (const auto& d : decisions) {
    out += d.id + (d.keep ? " keep: " : " delete: ") + d.reason + "\n";
  }
  return out;
}

TEST(Retention, KeepsDailyWeeklyAndMonthlyFromAMonthOfDailySets) {
  // 2026-11-01 (a Sunday) .. 2026-11-30 (a Monday), one set a day.
  auto sets = daily_sets(2026, 11, 1, 30);
  auto decisions = decide_retention(sets, policy(7, 4, 6), at(2026, 11, 30, 12), kUtc);
  ASSERT_EQ(decisions.size(), sets.size());
  EXPECT_EQ(kept(decisions),
            (Reasons{
                {"20261130T0315",
                 "daily 2026-11-30, weekly 2026-W49, monthly 2026-11, newest verified set"},
                {"20261129T0315", "daily 2026-11-29, weekly 2026-W48"},
                {"20261128T0315", "daily 2026-11-28"},
                {"20261127T0315", "daily 2026-11-27"},
                {"20261126T0315", "daily 2026-11-26"},
                {"20261125T0315", "daily 2026-11-25"},
                {"20261124T0315", "daily 2026-11-24"},
                {"20261122T0315", "weekly 2026-W47"},
                {"20261115T0315", "weekly 2026-W46"},
            }))
      << dump(decisions);
  // Order and ids are preserved; everything else goes, with a reason.
  for (std::size_t i = 0; i < sets.size(); ++i) {
    EXPECT_EQ(decisions[i].id, sets[i].id);
    if (!decisions[i].keep) {
      EXPECT_EQ(decisions[i].reason, "outside retention (daily 7, weekly 4, monthly 6)");
    }
  }
}

TEST(Retention, KeepsTheNewestOfEachMonthAcrossAYearBoundary) {
  // 2025-09-01 .. 2026-02-28: six months of daily sets.
  auto sets = daily_sets(2025, 9, 1, 181);
  ASSERT_EQ(sets.back().id, "20260228T0315");
  auto decisions = decide_retention(sets, policy(0, 0, 4), at(2026, 3, 1), kUtc);
  EXPECT_EQ(kept(decisions), (Reasons{{"20260228T0315", "monthly 2026-02, newest verified set"},
                                      {"20260131T0315", "monthly 2026-01"},
                                      {"20251231T0315", "monthly 2025-12"},
                                      {"20251130T0315", "monthly 2025-11"}}))
      << dump(decisions);
}

TEST(Retention, CountsOnlyDaysThatHaveSets) {
  // A two-week outage: the last two days with sets are kept however old they are.
  std::vector<BackupSetInfo> sets = {set_at(at(2026, 11, 1)), set_at(at(2026, 11, 2)),
                                     set_at(at(2026, 11, 10)), set_at(at(2026, 11, 20))};
  auto decisions = decide_retention(sets, policy(2, 0, 0), at(2026, 12, 5), kUtc);
  EXPECT_EQ(kept(decisions), (Reasons{{"20261120T0315", "daily 2026-11-20, newest verified set"},
                                      {"20261110T0315", "daily 2026-11-10"}}))
      << dump(decisions);
}

TEST(Retention, KeepsOnlyTheNewestOfSeveralSetsADay) {
  std::vector<BackupSetInfo> sets = {
      set_at(at(2026, 11, 27, 3, 15)), set_at(at(2026, 11, 27, 9, 0)),
      set_at(at(2026, 11, 27, 18, 30)), set_at(at(2026, 11, 28, 3, 15)),
      set_at(at(2026, 11, 28, 12, 0))};
  auto decisions = decide_retention(sets, policy(2, 0, 0), at(2026, 11, 28, 13), kUtc);
  EXPECT_EQ(kept(decisions), (Reasons{{"20261128T1200", "daily 2026-11-28, newest verified set"},
                                      {"20261127T1830", "daily 2026-11-27"}}))
      << dump(decisions);
  EXPECT_EQ(decisions[0].reason, "not the newest set of 2026-11-27");
  EXPECT_EQ(decisions[3].reason, "not the newest set of 2026-11-28");
}

TEST(Retention, NeverDeletesTheNewestVerifiedSet) {
  // Only the last day is kept by policy, but its sets are unverified: the newest verified set
  // stays, however old.
  std::vector<BackupSetInfo> sets = {set_at(at(2026, 10, 1), true), set_at(at(2026, 10, 2), true),
                                     set_at(at(2026, 11, 27), false)};
  auto decisions = decide_retention(sets, policy(1, 0, 0), at(2026, 11, 28), kUtc);
  EXPECT_EQ(kept(decisions), (Reasons{{"20261127T0315", "daily 2026-11-27"},
                                      {"20261002T0315", "newest verified set"}}))
      << dump(decisions);
}

TEST(Retention, AppliesThePolicyWhenNothingIsVerified) {
  auto sets = daily_sets(2026, 11, 20, 5);
  for (auto& s : sets) s.verified = false;
  auto decisions = decide_retention(sets, policy(3, 0, 0), at(2026, 11, 25), kUtc);
  EXPECT_EQ(kept(decisions), (Reasons{{"20261124T0315", "daily 2026-11-24"},
                                      {"20261123T0315", "daily 2026-11-23"},
                                      {"20261122T0315", "daily 2026-11-22"}}))
      << dump(decisions);
}

TEST(Retention, KeepsIncompleteSetsUntilANewerCompleteOneExists) {
  std::vector<BackupSetInfo> sets = {
      set_at(at(2026, 11, 25), true, false),  // Failed, then a good set: goes.
      set_at(at(2026, 11, 26), true, true),
      set_at(at(2026, 11, 27), false, false),  // Failed, nothing newer: stays.
  };
  auto decisions = decide_retention(sets, policy(1, 0, 0), at(2026, 11, 28), kUtc);
  EXPECT_FALSE(decisions[0].keep);
  EXPECT_EQ(decisions[0].reason, "newer complete set exists");
  EXPECT_TRUE(decisions[1].keep);
  EXPECT_EQ(decisions[1].reason, "daily 2026-11-26, newest verified set");
  EXPECT_TRUE(decisions[2].keep);
  EXPECT_EQ(decisions[2].reason, "incomplete, kept until a newer complete set exists");
}

TEST(Retention, NeverCountsAnIncompleteSetAsAKeeper) {
  // The newest set of the day failed: the day's keeper is the older complete one, and the
  // failed set is also kept as nothing complete is newer.
  std::vector<BackupSetInfo> sets = {set_at(at(2026, 11, 27, 3, 0), false),
                                     set_at(at(2026, 11, 27, 9, 0), true, false)};
  auto decisions = decide_retention(sets, policy(1, 0, 0), at(2026, 11, 28), kUtc);
  EXPECT_EQ(decisions[0].reason, "daily 2026-11-27");
  EXPECT_EQ(decisions[1].reason, "incomplete, kept until a newer complete set exists");
  // A "verified" flag on an incomplete set does not make it the newest verified set.
  std::vector<BackupSetInfo> only_failed = {set_at(at(2026, 11, 27), true, false)};
  auto alone = decide_retention(only_failed, policy(1, 1, 1), at(2026, 11, 28), kUtc);
  EXPECT_EQ(alone[0].reason, "incomplete, kept until a newer complete set exists");
}

TEST(Retention, KeepsSetsFromTheFutureAndCountsThemForNothing) {
  std::vector<BackupSetInfo> sets = {set_at(at(2026, 11, 26)), set_at(at(2026, 11, 27)),
                                     set_at(at(2026, 12, 1, 3, 15)),
                                     set_at(at(2026, 12, 2), true, false)};
  auto decisions = decide_retention(sets, policy(1, 0, 0), at(2026, 11, 28), kUtc);
  EXPECT_EQ(kept(decisions), (Reasons{{"20261127T0315", "daily 2026-11-27, newest verified set"},
                                      {"20261201T0315",
                                       "completed in the future (2026-12-01T03:15:00Z), clock "
                                       "skew?"},
                                      {"20261202T0315",
                                       "completed in the future (2026-12-02T03:15:00Z), clock "
                                       "skew?"}}))
      << dump(decisions);
  // A set completed exactly at `now` is not in the future.
  auto exact = decide_retention(sets, policy(1, 0, 0), at(2026, 12, 1), kUtc);
  EXPECT_EQ(exact[2].reason, "daily 2026-12-01, newest verified set");
}

TEST(Retention, NamesIsoWeek53AndItsYear) {
  // 2026 has 53 ISO weeks: Mon 2026-12-28 .. Sun 2027-01-03 is 2026-W53.
  std::vector<BackupSetInfo> sets = {set_at(at(2026, 12, 27)), set_at(at(2026, 12, 31)),
                                     set_at(at(2027, 1, 3)), set_at(at(2027, 1, 4))};
  auto decisions = decide_retention(sets, policy(0, 3, 0), at(2027, 1, 5), kUtc);
  EXPECT_EQ(kept(decisions), (Reasons{{"20270104T0315", "weekly 2027-W01, newest verified set"},
                                      {"20270103T0315", "weekly 2026-W53"},
                                      {"20261227T0315", "weekly 2026-W52"}}))
      << dump(decisions);
  EXPECT_EQ(decisions[1].reason, "outside retention (daily 0, weekly 3, monthly 0)");
  // Monday 2024-12-30 belongs to 2025-W01.
  std::vector<BackupSetInfo> early = {set_at(at(2024, 12, 30))};
  EXPECT_EQ(decide_retention(early, policy(0, 1, 1), at(2025, 1, 1), kUtc)[0].reason,
            "weekly 2025-W01, monthly 2024-12, newest verified set");
}

TEST(Retention, UsesTheLocalCalendar) {
  // 23:30 UTC on the 30th is already December 1st at UTC+2, and still the 30th at UTC-5.
  std::vector<BackupSetInfo> sets = {set_at(at(2026, 11, 30, 23, 30))};
  auto plus2 = config::fixed_utc_offset(hours(2));
  auto minus5 = config::fixed_utc_offset(hours(-5));
  EXPECT_EQ(decide_retention(sets, policy(1, 1, 1), at(2026, 12, 2), plus2)[0].reason,
            "daily 2026-12-01, weekly 2026-W49, monthly 2026-12, newest verified set");
  EXPECT_EQ(decide_retention(sets, policy(1, 1, 1), at(2026, 12, 2), minus5)[0].reason,
            "daily 2026-11-30, weekly 2026-W49, monthly 2026-11, newest verified set");
}

TEST(Retention, DoesNotDependOnInputOrder) {
  auto sets = daily_sets(2026, 10, 1, 61);
  sets.push_back(set_at(at(2026, 11, 30, 20, 0), false));
  auto forward = decide_retention(sets, policy(7, 4, 6), at(2026, 12, 1), kUtc);
  std::vector<BackupSetInfo> reversed(sets.rbegin(), sets.rend());
  auto backward = decide_retention(reversed, policy(7, 4, 6), at(2026, 12, 1), kUtc);
  EXPECT_EQ(kept(forward), kept(backward));
  // 7 days; weeks W47 and W46 (W49 and W48 are kept days); October; the newest verified set,
  // as the newest of all is unverified.
  EXPECT_EQ(kept(forward).size(), 7u + 2u + 1u + 1u) << dump(forward);
}

TEST(Retention, HandlesAnEmptyRepository) {
  EXPECT_TRUE(decide_retention({}, policy(7, 4, 6), at(2026, 11, 28), kUtc).empty());
}

}  // namespace
}  // namespace gc::backup

// SPDX-License-Identifier: MIT
// HistoryStore on a real SQLite file: the minute and hour rollups, the tier a range reads,
// retention, reopening, the open bucket and series kept apart by labels.
#include "monitor/history.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "base/temp_dir.h"
#include "store/database.h"

namespace gc::monitor {
namespace {

constexpr int64_t kSec = 1000;
constexpr int64_t kMin = kMinuteMs;
constexpr int64_t kHour = kHourMs;
// An hour boundary that is also a multiple of 5 h, so aggregated buckets start on it.
constexpr int64_t kT0 = 1'700'000'000'000 / (5 * kHour) * (5 * kHour);
constexpr auto kMonth = std::chrono::hours(24 * 30);

struct Fixture {
  TempDir dir = TempDir::create("gc-history-").value();
  std::string state() const { return dir.file("state"); }
  HistoryStore open(Duration retention = kMonth) const {
    auto h = HistoryStore::open(state(), retention);
    EXPECT_TRUE(h) << h.error().message;
    return std::move(*h);
  }
  int64_t count(const std::string& table) const {
    auto db = store::Database::open(state() + "/state.db");
    EXPECT_TRUE(db);
    auto q = db->prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(q);
    EXPECT_TRUE(q->step().value_or(false));
    return q->column_int(0);
  }
};

std::vector<SeriesPoints> query(HistoryStore& h, const std::string& name, int64_t range,
                                int64_t now, int64_t* step = nullptr) {
  auto r = h.query(name, range, now, step);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::vector<SeriesPoints>{};
}

void expect_point(const HistoryPoint& p, int64_t t, double avg, double min, double max,
                  double last) {
  EXPECT_EQ(p.t_ms, t);
  EXPECT_DOUBLE_EQ(p.avg, avg);
  EXPECT_DOUBLE_EQ(p.min, min);
  EXPECT_DOUBLE_EQ(p.max, max);
  EXPECT_DOUBLE_EQ(p.last, last);
}

TEST(HistoryStore, AMinuteKeepsAvgMinMaxAndLast) {
  Fixture f;
  HistoryStore h = f.open();
  // Ticks every 10 s, each followed by a flush as the daemon does; the last value is not the
  // largest, so last and max differ.
  for (auto [t, v] : {std::pair{0, 1.0}, {10, 3.0}, {20, 2.0}, {30, 6.0}, {40, 0.5}}) {
    h.add("m", {}, kT0 + t * kSec, v);
    ASSERT_TRUE(h.flush(kT0 + t * kSec));
  }
  EXPECT_EQ(f.count("history_1m"), 0) << "the minute is still open";
  h.add("m", {}, kT0 + kMin, 9);
  ASSERT_TRUE(h.flush(kT0 + kMin));
  EXPECT_EQ(f.count("history_1m"), 1);
  int64_t step = 0;
  auto s = query(h, "m", 5 * kMin, kT0 + kMin + 5 * kSec, &step);
  EXPECT_EQ(step, kMin);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].points.size(), 2u);
  expect_point(s[0].points[0], kT0, 2.5, 0.5, 6, 0.5);
  expect_point(s[0].points[1], kT0 + kMin, 9, 9, 9, 9);  // The open minute, from memory.
}

TEST(HistoryStore, AnHourIsRolledUpFromItsMinutes) {
  Fixture f;
  {
    HistoryStore h = f.open();
    // Minute 0 has two samples, minutes 30 and 59 one each: the hour's average weighs samples,
    // not minutes.
    for (auto [t, v] : {std::pair{0 * kMin, 1.0},
                        {0 * kMin + 10 * kSec, 2.0},
                        {30 * kMin, 10.0},
                        {59 * kMin, 4.0}}) {
      h.add("m", {}, kT0 + t, v);
      ASSERT_TRUE(h.flush(kT0 + t));
    }
    ASSERT_TRUE(h.flush(kT0 + kHour + kSec));
    EXPECT_EQ(f.count("history_1h"), 1);
  }
  HistoryStore h = f.open();  // Nothing in memory: the hour comes from the 1-hour tier.
  int64_t step = 0;
  auto s = query(h, "m", 24 * kHour, kT0 + kHour + 2 * kSec, &step);
  EXPECT_EQ(step, kHour);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].points.size(), 1u);
  expect_point(s[0].points[0], kT0, 17.0 / 4, 1, 10, 4);
  // The same data from the 1-minute tier: three minutes.
  s = query(h, "m", 6 * kHour, kT0 + kHour + 2 * kSec, &step);
  EXPECT_EQ(step, kMin);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].points.size(), 3u);
  expect_point(s[0].points[0], kT0, 1.5, 1, 2, 2);
}

TEST(HistoryStore, TheRangePicksTheTierAndBoundsThePoints) {
  Fixture f;
  HistoryStore h = f.open();
  int64_t step = 0;
  (void)query(h, "m", 5 * kMin, kT0, &step);
  EXPECT_EQ(step, kMin);
  (void)query(h, "m", 6 * kHour, kT0, &step);
  EXPECT_EQ(step, kMin);
  (void)query(h, "m", 6 * kHour + kMin, kT0, &step);
  EXPECT_EQ(step, kHour);
  (void)query(h, "m", 30 * 24 * kHour, kT0, &step);
  EXPECT_EQ(step, kHour);  // 720 points.
  (void)query(h, "m", 400 * 24 * kHour, kT0, &step);
  EXPECT_EQ(step, 5 * kHour);  // 9600 hours would be too many points.
  EXPECT_LE(400 * 24 * kHour / step + 1, kMaxPointsPerSeries);
}

TEST(HistoryStore, LongRangesMergeHoursIntoWiderBuckets) {
  Fixture f;
  HistoryStore h = f.open(std::chrono::hours(24 * 400));
  h.add("m", {}, kT0 + kMin, 1);
  ASSERT_TRUE(h.flush(kT0 + kMin));
  h.add("m", {}, kT0 + kHour + kMin, 2);
  h.add("m", {}, kT0 + kHour + kMin + 10 * kSec, 6);
  ASSERT_TRUE(h.flush(kT0 + kHour + kMin + 10 * kSec));
  ASSERT_TRUE(h.flush(kT0 + 2 * kHour + kMin));
  EXPECT_EQ(f.count("history_1h"), 2);
  int64_t step = 0;
  auto s = query(h, "m", 400 * 24 * kHour, kT0 + 2 * kHour + kMin, &step);
  EXPECT_EQ(step, 5 * kHour);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].points.size(), 1u);
  expect_point(s[0].points[0], kT0, 3, 1, 6, 6);
}

TEST(HistoryStore, PrunesEachTierPastItsRetentionAtMostHourly) {
  Fixture f;
  HistoryStore h = f.open(std::chrono::hours(72));
  h.add("m", {}, kT0, 1);
  ASSERT_TRUE(h.flush(kT0));
  ASSERT_TRUE(h.flush(kT0 + kHour));  // Writes the minute, rolls the hour.
  EXPECT_EQ(f.count("history_1m"), 1);
  EXPECT_EQ(f.count("history_1h"), 1);
  // Past 48 h the minute goes; the hour stays for the configured 72 h.
  ASSERT_TRUE(h.flush(kT0 + 49 * kHour));
  EXPECT_EQ(f.count("history_1m"), 0);
  EXPECT_EQ(f.count("history_1h"), 1);
  EXPECT_EQ(f.count("history_series"), 1);
  // A shorter retention waits for the next hourly prune.
  h.set_retention(std::chrono::hours(24));
  ASSERT_TRUE(h.flush(kT0 + 49 * kHour + 30 * kMin));
  EXPECT_EQ(f.count("history_1h"), 1);
  ASSERT_TRUE(h.flush(kT0 + 50 * kHour));
  EXPECT_EQ(f.count("history_1h"), 0);
  EXPECT_EQ(f.count("history_series"), 0) << "a series without rows is forgotten";
}

TEST(HistoryStore, ReopenKeepsWhatWasWritten) {
  Fixture f;
  {
    HistoryStore h = f.open();
    h.add("host_load1", {}, kT0 + 5 * kSec, 0.25);
    ASSERT_TRUE(h.flush(kT0 + kMin));
  }
  HistoryStore h = f.open();
  auto names = h.names();
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, std::vector<std::string>{"host_load1"});
  auto s = query(h, "host_load1", kHour, kT0 + 2 * kMin);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].points.size(), 1u);
  expect_point(s[0].points[0], kT0, 0.25, 0.25, 0.25, 0.25);
}

TEST(HistoryStore, FlushOpenWritesTheMinuteInProgressAndARestartMergesIntoIt) {
  Fixture f;
  {
    HistoryStore h = f.open();
    h.add("m", {}, kT0 + 5 * kSec, 2);
    h.add("m", {}, kT0 + 15 * kSec, 4);
    ASSERT_TRUE(h.flush(kT0 + 20 * kSec));
    EXPECT_EQ(f.count("history_1m"), 0);  // flush() writes closed minutes only.
    ASSERT_TRUE(h.flush_open(kT0 + 20 * kSec));
    EXPECT_EQ(f.count("history_1m"), 1);
    h.add("m", {}, kT0 + 25 * kSec, 100);  // After the final write: skipped.
    ASSERT_TRUE(h.flush_open(kT0 + 30 * kSec));
  }
  HistoryStore h = f.open();  // The next daemon, in the same minute.
  h.add("m", {}, kT0 + 35 * kSec, 6);
  ASSERT_TRUE(h.flush(kT0 + kMin));
  EXPECT_EQ(f.count("history_1m"), 1);
  auto s = query(h, "m", kHour, kT0 + kMin);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].points.size(), 1u);
  expect_point(s[0].points[0], kT0, 4, 2, 6, 6);
}

TEST(HistoryStore, QueriesIncludeTheOpenBucket) {
  Fixture f;
  HistoryStore h = f.open();
  h.add("m", {}, kT0 + 5 * kSec, 7);
  auto names = h.names();
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, std::vector<std::string>{"m"});
  auto s = query(h, "m", 5 * kMin, kT0 + 6 * kSec);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].points.size(), 1u);
  expect_point(s[0].points[0], kT0, 7, 7, 7, 7);
  // And on the 1-hour tier, the hour in progress is its minutes so far.
  h.add("m", {}, kT0 + kMin + 5 * kSec, 9);
  ASSERT_TRUE(h.flush(kT0 + kMin + 5 * kSec));
  s = query(h, "m", 24 * kHour, kT0 + kMin + 6 * kSec);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].points.size(), 1u);
  expect_point(s[0].points[0], kT0, 8, 7, 9, 9);
  EXPECT_TRUE(query(h, "other", 5 * kMin, kT0 + 6 * kSec).empty());
}

TEST(HistoryStore, SeriesAreKeptApartByLabels) {
  Fixture f;
  {
    HistoryStore h = f.open();
    h.add("fs", {{"mountpoint", "/srv"}}, kT0, 0.7);
    h.add("fs", {{"mountpoint", "/"}}, kT0, 0.5);
    h.add("fs", {{"mountpoint", "/"}}, kT0 + 10 * kSec, 0.6);
    ASSERT_TRUE(h.flush(kT0 + kMin));
  }
  HistoryStore h = f.open();
  h.add("fs", {{"mountpoint", "/srv"}}, kT0 + kMin, 0.8);
  auto s = query(h, "fs", 5 * kMin, kT0 + kMin + kSec);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].labels, (Labels{{"mountpoint", "/"}}));
  ASSERT_EQ(s[0].points.size(), 1u);
  expect_point(s[0].points[0], kT0, 0.55, 0.5, 0.6, 0.6);
  EXPECT_EQ(s[1].labels, (Labels{{"mountpoint", "/srv"}}));
  ASSERT_EQ(s[1].points.size(), 2u);
  expect_point(s[1].points[1], kT0 + kMin, 0.8, 0.8, 0.8, 0.8);
}

TEST(HistoryStore, SkipsValuesJsonCannotCarry) {
  Fixture f;
  HistoryStore h = f.open();
  h.add("m", {}, kT0, std::nan(""));
  h.add("m", {}, kT0 + kSec, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(query(h, "m", 5 * kMin, kT0 + 2 * kSec).empty());
  auto names = h.names();
  ASSERT_TRUE(names);
  EXPECT_TRUE(names->empty());
}

}  // namespace
}  // namespace gc::monitor

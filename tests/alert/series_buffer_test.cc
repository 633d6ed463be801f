// SPDX-License-Identifier: MIT
// SeriesBuffer: which names it keeps, staleness, the lookback, range windows and pruning.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "alert/series_buffer.h"
#include "monitor/metrics.h"

namespace gc::alert {
namespace {

using monitor::Labels;
using Points = std::vector<std::pair<int64_t, double>>;

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kSec = 1000;

monitor::MetricSet gauges(const std::string& name,
                          const std::vector<std::pair<Labels, double>>& series) {
  monitor::MetricSet set;
  for (const auto& [labels, value] : series) set.gauge(name, "A gauge.", labels, value);
  return set;
}

// "x=1:5,x=2:7": the label x and the value of each sample, in label order.
std::string show(const Vector& v) {
  std::string out;
  for (const InstantSample& s : v) {
    if (!out.empty()) out += ",";
    auto x = s.labels.find("x");
    out += (x == s.labels.end() ? "-" : "x=" + x->second) + ":" +
           std::to_string(static_cast<int>(s.value));
  }
  return out;
}

TEST(SeriesBuffer, KeepsOnlyTheNamesTheRulesRead) {
  SeriesBuffer buffer({{"a", 60 * kSec}});
  monitor::MetricSet set = gauges("a", {{{{"x", "1"}}, 5}});
  set.merge(gauges("b", {{{{"x", "1"}}, 6}}));
  buffer.append(set, kT0);
  EXPECT_EQ(buffer.point_count(), 1u);
  EXPECT_TRUE(buffer.instant("b", kT0).empty());
  const Vector a = buffer.instant("a", kT0);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].labels, (Labels{{"__name__", "a"}, {"x", "1"}}));
  EXPECT_EQ(a[0].value, 5);
}

TEST(SeriesBuffer, SeriesMissingFromTheLatestCollectionAreStale) {
  SeriesBuffer buffer({{"a", 60 * kSec}});
  buffer.append(gauges("a", {{{{"x", "1"}}, 1}, {{{"x", "2"}}, 2}}), kT0);
  buffer.append(gauges("a", {{{{"x", "1"}}, 3}}), kT0 + 15 * kSec);
  EXPECT_EQ(show(buffer.instant("a", kT0 + 15 * kSec)), "x=1:3");
  EXPECT_EQ(show(buffer.instant("a", kT0 + 20 * kSec)), "x=1:3");
  // Before the collection that lacked it, x=2 was fresh.
  EXPECT_EQ(show(buffer.instant("a", kT0 + 10 * kSec)), "x=1:1,x=2:2");
  // Its earlier point is still history for range functions.
  const std::vector<RangeSeries> r = buffer.range("a", 60 * kSec, kT0 + 15 * kSec);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].points, (Points{{kT0, 1}, {kT0 + 15 * kSec, 3}}));
  EXPECT_EQ(r[1].points, (Points{{kT0, 2}}));
  // And it is fresh again once it comes back.
  buffer.append(gauges("a", {{{{"x", "2"}}, 4}}), kT0 + 30 * kSec);
  EXPECT_EQ(show(buffer.instant("a", kT0 + 30 * kSec)), "x=2:4");
}

TEST(SeriesBuffer, InstantLooksBackLessThanFiveMinutes) {
  SeriesBuffer buffer({{"a", 0}});
  buffer.append(gauges("a", {{{{"x", "1"}}, 1}}), kT0);
  EXPECT_EQ(show(buffer.instant("a", kT0 + 5 * 60 * kSec - 1)), "x=1:1");
  EXPECT_EQ(show(buffer.instant("a", kT0 + 5 * 60 * kSec)), "");
  EXPECT_EQ(show(buffer.instant("a", kT0 - 1)), "");
}

TEST(SeriesBuffer, RangeWindowIsOpenAtItsStart) {
  SeriesBuffer buffer({{"a", 60 * kSec}});
  for (int i = 0; i <= 4; ++i) {
    buffer.append(gauges("a", {{{{"x", "1"}}, static_cast<double>(i)}}), kT0 + i * 15 * kSec);
  }
  const int64_t end = kT0 + 60 * kSec;
  auto r = buffer.range("a", 60 * kSec, end);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].labels, (Labels{{"__name__", "a"}, {"x", "1"}}));
  EXPECT_EQ(r[0].points,
            (Points{{kT0 + 15 * kSec, 1}, {kT0 + 30 * kSec, 2}, {kT0 + 45 * kSec, 3}, {end, 4}}));
  // An earlier evaluation sees no later points.
  r = buffer.range("a", 30 * kSec, kT0 + 40 * kSec);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].points, (Points{{kT0 + 15 * kSec, 1}, {kT0 + 30 * kSec, 2}}));
  EXPECT_TRUE(buffer.range("a", 10 * kSec, kT0 + 14 * kSec).empty());
  EXPECT_TRUE(buffer.range("missing", 60 * kSec, end).empty());
}

TEST(SeriesBuffer, PrunesPointsOlderThanTheRangePlusOneInterval) {
  SeriesBuffer buffer({{"a", 60 * kSec}, {"b", 0}});
  int64_t t = kT0;
  for (int i = 0; i < 100; ++i, t += 15 * kSec) {
    monitor::MetricSet set = gauges(
        "a", {{{{"x", "1"}}, static_cast<double>(i)}, {{{"x", "2"}}, static_cast<double>(i)}});
    set.merge(gauges("b", {{{{"x", "1"}}, static_cast<double>(i)}}));
    buffer.append(set, t);
  }
  const int64_t last = t - 15 * kSec;
  // Kept: t > last - 60 s - 15 s, i.e. last - 60 s .. last: 5 points per series of "a", and
  // only the latest point of "b".
  EXPECT_EQ(buffer.point_count(), 5u + 5u + 1u);
  auto r = buffer.range("a", 75 * kSec, last);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].points.front().first, last - 60 * kSec);
  EXPECT_EQ(show(buffer.instant("b", last)), "x=1:99");
}

TEST(SeriesBuffer, ForgetsStaleSeriesOnceOutOfEveryWindow) {
  SeriesBuffer buffer({{"a", 60 * kSec}, {"b", 0}});
  monitor::MetricSet first = gauges("a", {{{{"x", "gone"}}, 1}});
  first.merge(gauges("b", {{{{"x", "gone"}}, 1}}));
  buffer.append(first, kT0);
  EXPECT_EQ(buffer.point_count(), 2u);
  // Range 0: stale at once, nothing to keep.
  buffer.append(gauges("a", {{{{"x", "1"}}, 1}}), kT0 + 15 * kSec);
  EXPECT_EQ(buffer.point_count(), 2u);
  for (int i = 2; i <= 6; ++i) {
    buffer.append(gauges("a", {{{{"x", "1"}}, static_cast<double>(i)}}), kT0 + i * 15 * kSec);
  }
  EXPECT_EQ(buffer.point_count(), 5u);
  EXPECT_EQ(buffer.range("a", 60 * kSec, kT0 + 90 * kSec).size(), 1u);
}

TEST(SeriesBuffer, IgnoresCollectionsThatGoBackInTime) {
  SeriesBuffer buffer({{"a", 60 * kSec}});
  buffer.append(gauges("a", {{{{"x", "1"}}, 1}}), kT0);
  buffer.append(gauges("a", {{{{"x", "1"}}, 2}}), kT0);
  buffer.append(gauges("a", {{{{"x", "2"}}, 3}}), kT0 - 15 * kSec);
  EXPECT_EQ(buffer.point_count(), 1u);
  EXPECT_EQ(show(buffer.instant("a", kT0)), "x=1:1");
}

TEST(SeriesBuffer, SampleSuffixesNameHistogramSeries) {
  SeriesBuffer buffer({{"lat_bucket", 0}, {"lat_sum", 0}});
  monitor::MetricSet set;
  auto& family = set.family("lat", "Latency.", monitor::MetricType::kHistogram);
  family.samples.push_back({{{"le", "1"}}, 2, "_bucket"});
  family.samples.push_back({{{"le", "+Inf"}}, 3, "_bucket"});
  family.samples.push_back({{}, 4.5, "_sum"});
  family.samples.push_back({{}, 3, "_count"});
  buffer.append(set, kT0);
  EXPECT_EQ(buffer.point_count(), 3u);
  const Vector buckets = buffer.instant("lat_bucket", kT0);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].labels, (Labels{{"__name__", "lat_bucket"}, {"le", "+Inf"}}));
  EXPECT_TRUE(buffer.instant("lat", kT0).empty());
  EXPECT_TRUE(buffer.instant("lat_count", kT0).empty());
}

TEST(SeriesBuffer, DropsEmptyLabelValuesAndKeepsTheLastDuplicate) {
  SeriesBuffer buffer({{"a", 0}});
  buffer.append(gauges("a", {{{{"x", "1"}, {"empty", ""}}, 1}, {{{"x", "1"}}, 2}}), kT0);
  const Vector v = buffer.instant("a", kT0);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].labels, (Labels{{"__name__", "a"}, {"x", "1"}}));
  EXPECT_EQ(v[0].value, 2);
}

}  // namespace
}  // namespace gc::alert

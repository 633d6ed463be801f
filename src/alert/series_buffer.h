// SPDX-License-Identifier: MIT
// alert/series_buffer.h: the recent samples of the metrics the alert rules read, kept in memory
// so range functions like rate(x[5m]) have history to read. Pure: time comes from the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "alert/promql.h"
#include "monitor/metrics.h"

namespace gc::alert {

// A SampleSource fed one collection at a time. Memory is one (int64, double) per kept point.
// Not thread-safe: the owner serializes append() and the reads.
class SeriesBuffer : public SampleSource {
 public:
  // `ranges`: metric name -> longest range read in ms (metric_ranges() of every rule, merged by
  // max). Names not in `ranges` are not kept at all; range 0 keeps only the latest point.
  explicit SeriesBuffer(std::map<std::string, int64_t> ranges);

  // Adds one collection taken at `t_ms`. Each sample becomes a point of the series named
  // family name + sample suffix (histograms' "_bucket", "_sum", "_count"), labelled with its
  // labels minus empty-valued ones (Prometheus treats those as absent) plus "__name__".
  // A series of a kept name absent from this collection is stale from t_ms on: instant() no
  // longer returns it (Prometheus staleness), while range() still returns its earlier points.
  // Points older than the name's range plus one collection interval are dropped.
  // Collections must come in strictly increasing t_ms; one that does not (the wall clock
  // stepped back) is ignored whole.
  void append(const monitor::MetricSet& set, int64_t t_ms);

  // The series named `name` whose latest point at or before at_ms came from the latest
  // collection at or before at_ms (so not stale) and is less than 5 minutes old.
  Vector instant(const std::string& name, int64_t at_ms) const override;

  // The points with t in (at_ms - range_ms, at_ms] of each series named `name` that has any
  // there, including series now stale. Points already dropped by append() are not returned.
  std::vector<RangeSeries> range(const std::string& name, int64_t range_ms,
                                 int64_t at_ms) const override;

  // How many points are kept in all, for tests and memory accounting.
  size_t point_count() const;

 private:
  using Points = std::deque<std::pair<int64_t, double>>;  // (t ms, value), t ascending.
  struct Metric {
    int64_t range_ms = 0;
    std::map<monitor::Labels, Points> series;
  };

  std::map<std::string, Metric> metrics_;
  std::deque<int64_t> collections_;  // Times of the recent append() calls, ascending.
  int64_t max_range_ms_ = 0;
};

}  // namespace gc::alert

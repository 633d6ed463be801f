// SPDX-License-Identifier: MIT
// alert/series_buffer.cc: per-series deques of recent points, pruned on every append.
#include "alert/series_buffer.h"

#include <algorithm>
#include <iterator>

namespace gc::alert {
namespace {

// Prometheus's default lookback: an instant selector sees a sample for at most this long.
constexpr int64_t kLookbackMs = 5 * 60 * 1000;

}  // namespace

SeriesBuffer::SeriesBuffer(std::map<std::string, int64_t> ranges) {
  for (const auto& [name, range_ms] : ranges) {
    metrics_[name].range_ms = std::max<int64_t>(range_ms, 0);
    max_range_ms_ = std::max(max_range_ms_, range_ms);
  }
}

void SeriesBuffer::append(const monitor::MetricSet& set, int64_t t_ms) {
  if (!collections_.empty() && t_ms <= collections_.back()) return;
  const int64_t interval = collections_.empty() ? 0 : t_ms - collections_.back();
  collections_.push_back(t_ms);

  for (const auto& [family_name, family] : set.families()) {
    for (const monitor::Sample& sample : family.samples) {
      const std::string name = family_name + sample.suffix;
      auto metric = metrics_.find(name);
      if (metric == metrics_.end()) continue;
      monitor::Labels labels;
      for (const auto& [k, v] : sample.labels) {
        if (!v.empty()) labels.emplace(k, v);
      }
      labels["__name__"] = name;
      Points& points = metric->second.series[std::move(labels)];
      // Two samples with the same labels in one collection: the last one wins.
      if (!points.empty() && points.back().first == t_ms) {
        points.back().second = sample.value;
      } else {
        points.emplace_back(t_ms, sample.value);
      }
    }
  }

  for (auto& [name, metric] : metrics_) {
    // The slack of one interval keeps a full window for an evaluation that runs a little after
    // the collection it reads.
    const int64_t drop_at_or_before = t_ms - metric.range_ms - interval;
    for (auto it = metric.series.begin(); it != metric.series.end();) {
      Points& points = it->second;
      if (metric.range_ms == 0) {
        while (points.size() > 1) points.pop_front();
      } else {
        while (!points.empty() && points.front().first <= drop_at_or_before) points.pop_front();
      }
      // A stale series with nothing left in any window it could be read through is forgotten.
      const bool stale = points.empty() || points.back().first != t_ms;
      const bool gone = points.empty() || (metric.range_ms == 0 && stale);
      it = gone ? metric.series.erase(it) : std::next(it);
    }
  }

  // instant() needs the latest collection at or before its time; keep as many as any window
  // or the lookback can reach back to.
  const int64_t keep_after = t_ms - std::max(max_range_ms_, kLookbackMs) - interval;
  while (collections_.size() > 1 && collections_.front() <= keep_after) collections_.pop_front();
}

Vector SeriesBuffer::instant(const std::string& name, int64_t at_ms) const {
  Vector out;
  auto metric = metrics_.find(name);
  if (metric == metrics_.end()) return out;
  auto c = std::upper_bound(collections_.begin(), collections_.end(), at_ms);
  if (c == collections_.begin()) return out;
  const int64_t latest = *std::prev(c);
  if (at_ms - latest >= kLookbackMs) return out;
  for (const auto& [labels, points] : metric->second.series) {
    auto p = std::partition_point(points.begin(), points.end(),
                                  [&](const auto& pt) { return pt.first <= at_ms; });
    // A series that missed the latest collection is stale, as after a Prometheus stale marker.
    if (p == points.begin() || std::prev(p)->first != latest) continue;
    out.push_back({labels, std::prev(p)->second});
  }
  return out;
}

std::vector<RangeSeries> SeriesBuffer::range(const std::string& name, int64_t range_ms,
                                             int64_t at_ms) const {
  std::vector<RangeSeries> out;
  auto metric = metrics_.find(name);
  if (metric == metrics_.end()) return out;
  for (const auto& [labels, points] : metric->second.series) {
    auto first = std::partition_point(points.begin(), points.end(),
                                      [&](const auto& pt) { return pt.first <= at_ms - range_ms; });
    auto last = std::partition_point(first, points.end(),
                                     [&](const auto& pt) { return pt.first <= at_ms; });
    if (first == last) continue;
    out.push_back({labels, {first, last}});
  }
  return out;
}

size_t SeriesBuffer::point_count() const {
  size_t n = 0;
  for (const auto& [name, metric] : metrics_) {
    for (const auto& [labels, points] : metric.series) n += points.size();
  }
  return n;
}

}  // namespace gc::alert

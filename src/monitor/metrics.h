// SPDX-License-Identifier: MIT
// monitor/metrics.h: metric families and the Prometheus text exposition format (version 0.0.4)
// they are served in. Pure: collectors fill a MetricSet, render() writes the text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gc::monitor {

// kUntyped is for counters whose established names lack "_total" (postgres_exporter's
// pg_stat_database_xact_commit): typed as counters they would fail promtool's lint.
// kHistogram is a classic (bucketed) Prometheus histogram; see Sample::suffix.
enum class MetricType { kGauge, kCounter, kUntyped, kHistogram };

using Labels = std::map<std::string, std::string>;

// One series of a family. Its series name is family.name + suffix: the suffix is "" for gauges,
// counters and untyped samples, and "_bucket", "_sum" or "_count" for the parts of a histogram,
// whose buckets also carry an "le" label (the upper bound, format_value() text, "+Inf" last).
// Readers of samples (rule evaluators, history) match on that series name.
struct Sample {
  Labels labels;
  double value = 0;
  std::string suffix = {};  // The initializer lets {labels, value} pass -Wextra.
};

// Observations bucketed by upper bound, as a client library's histogram keeps them.
struct Histogram {
  std::vector<double> bounds;    // Finite upper bounds, ascending; the +Inf bucket is implicit.
  std::vector<uint64_t> counts;  // Per bucket, NOT cumulative: counts[i] counts the values v
                                 // with bounds[i-1] < v <= bounds[i]. Same size as bounds
                                 // (observe() sizes it). Values above the last bound (and NaN)
                                 // are only in `count`; the rendering makes buckets cumulative.
  double sum = 0;
  uint64_t count = 0;

  // Adds `v`: a value equal to a bound falls in that bound's bucket (le means <=).
  void observe(double v);
};

// {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}: the Prometheus clients' defaults,
// in seconds.
std::vector<double> default_latency_buckets();

struct MetricFamily {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in "_total".
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

// The families of one scrape, by name. Adding to an existing family appends samples.
class MetricSet {
 public:
  // The family `name`, created with `help` and `type` on first use.
  MetricFamily& family(const std::string& name, const std::string& help, MetricType type);
  void gauge(const std::string& name, const std::string& help, Labels labels, double value);
  void counter(const std::string& name, const std::string& help, Labels labels, double value);
  void untyped(const std::string& name, const std::string& help, Labels labels, double value);
  // Adds the series of `h` under `labels` (which must not hold "le"): one "_bucket" sample per
  // bound plus le="+Inf", all cumulative, then "_sum" and "_count". `name` has no suffix.
  void histogram(const std::string& name, const std::string& help, Labels labels,
                 const Histogram& h);
  // Adds every sample of `other` (families it has that this set lacks are copied whole).
  void merge(const MetricSet& other);
  const std::map<std::string, MetricFamily>& families() const { return families_; }

 private:
  std::map<std::string, MetricFamily> families_;
};

// "1", "0.25", "1.5e+09", "NaN", "+Inf": the shortest text that reads back as `v`.
std::string format_value(double v);
// A label value with \, " and newline escaped as the format requires.
std::string escape_label_value(std::string_view v);

// The exposition text: families sorted by name, each with HELP and TYPE, samples sorted by
// labels; a histogram's series each in the order bucket (by le), sum, count. What
// `promtool check metrics` accepts without lint warnings.
std::string render(const MetricSet& set);

}  // namespace gc::monitor

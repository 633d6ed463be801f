// SPDX-License-Identifier: MIT
// monitor/metrics.h: metric families and the Prometheus text exposition format (version 0.0.4)
// they are served in. Pure: collectors fill a MetricSet, render() writes the text.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gc::monitor {

// kUntyped is for counters whose established names lack "_total" (postgres_exporter's
// pg_stat_database_xact_commit): typed as counters they would fail promtool's lint.
enum class MetricType { kGauge, kCounter, kUntyped };

using Labels = std::map<std::string, std::string>;

struct Sample {
  Labels labels;
  double value = 0;
};

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
// labels. What `promtool check metrics` accepts without lint warnings.
std::string render(const MetricSet& set);

}  // namespace gc::monitor

// SPDX-License-Identifier: MIT
// alert/recording.h: the built-in recording rules: PromQL expressions evaluated with the alert
// rules at every [monitor].interval, whose results the metric history keeps under the rules'
// names. Their names are a contract: the dashboard charts them. Pure: no I/O, no clock reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "alert/promql.h"
#include "base/result.h"

namespace gc::alert {

struct RecordingRule {
  std::string name;  // What the history stores the results under, e.g. "host_cpu_usage_ratio".
  std::string expr;  // In the language of promql.h.
};

struct ParsedRecording {
  std::string name;
  ExprPtr expr;
};

// host_cpu_usage_ratio, host_memory_used_ratio, host_filesystem_used_ratio{mountpoint},
// host_load1, http_requests_per_second, http_5xx_ratio, http_latency_p95_seconds,
// probe_latency_p95_seconds{probe}, probe_success{probe}, app_errors_per_minute{service},
// pg_connections, pg_max_connections, service_cpu_ratio{service} and
// service_resident_memory_bytes{service}, in that order.
std::vector<RecordingRule> builtin_recordings();

// Parses every rule. Errors: kInvalidArgument naming the rule, with the expression's column.
Result<std::vector<ParsedRecording>> parse_recordings(const std::vector<RecordingRule>& rules);

// The metric names the rules read with the longest range each (metric_ranges(), merged by max):
// what a SeriesBuffer must keep for them.
std::map<std::string, int64_t> recording_ranges(const std::vector<ParsedRecording>& rules);

// Evaluates `rule` at `at_ms`: one sample per result series, labelled with the series' labels
// minus "__name__" (a scalar result is one sample without labels). NaN results are skipped:
// 0/0 when nothing happened is no data, not a value. Errors: those of evaluate().
Result<Vector> evaluate_recording(const ParsedRecording& rule, const SampleSource& src,
                                  int64_t at_ms);

}  // namespace gc::alert

// SPDX-License-Identifier: MIT
#include "alert/recording.h"

#include <algorithm>
#include <cmath>

namespace gc::alert {

std::vector<RecordingRule> builtin_recordings() {
  // Rates over 1m follow the dashboard's minute buckets; the ratios and quantiles of sparse
  // events (errors, request latencies) use 5m so that one quiet minute is not a gap.
  return {
      {"host_cpu_usage_ratio", R"(1 - avg(rate(node_cpu_seconds_total{mode="idle"}[1m])))"},
      {"host_memory_used_ratio", "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"},
      {"host_filesystem_used_ratio",
       "max by (mountpoint) (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes)"},
      {"host_load1", "node_load1"},
      {"http_requests_per_second", "sum(rate(groundctl_nginx_http_requests_total[1m]))"},
      {"http_5xx_ratio", R"(sum(rate(groundctl_nginx_http_requests_total{status="5xx"}[5m])))"
                         " / sum(rate(groundctl_nginx_http_requests_total[5m]))"},
      {"http_latency_p95_seconds",
       "histogram_quantile(0.95, sum by (le) "
       "(rate(groundctl_nginx_http_request_duration_seconds_bucket[5m])))"},
      {"probe_latency_p95_seconds",
       "histogram_quantile(0.95, sum by (probe, le) "
       "(rate(groundctl_http_probe_duration_seconds_bucket[5m])))"},
      {"probe_success", "groundctl_http_probe_success"},
      {"app_errors_per_minute",
       R"(sum by (service) (rate(groundctl_app_log_messages_total{level="error"}[5m])) * 60)"},
      {"pg_connections", "sum(pg_stat_activity_count)"},
      {"pg_max_connections", "max(pg_settings_max_connections)"},
      {"service_cpu_ratio", "sum by (service) (groundctl_instance_cpu_usage_ratio)"},
      {"service_resident_memory_bytes",
       "sum by (service) (groundctl_instance_resident_memory_bytes)"},
  };
}

Result<std::vector<ParsedRecording>> parse_recordings(const std::vector<RecordingRule>& rules) {
  std::vector<ParsedRecording> out;
  out.reserve(rules.size());
  for (const auto& r : rules) {
    auto e = parse_expr(r.expr);
    if (!e) {
      return make_error(Errc::kInvalidArgument,
                        "recording rule " + r.name + ": " + e.error().message);
    }
    out.push_back({r.name, std::move(*e)});
  }
  return out;
}

std::map<std::string, int64_t> recording_ranges(const std::vector<ParsedRecording>& rules) {
  std::map<std::string, int64_t> out;
  for (const auto& r : rules) {
    for (const auto& [name, range] : metric_ranges(*r.expr)) {
      out[name] = std::max(out[name], range);
    }
  }
  return out;
}

Result<Vector> evaluate_recording(const ParsedRecording& rule, const SampleSource& src,
                                  int64_t at_ms) {
  GC_ASSIGN_OR_RETURN(Value v, evaluate(*rule.expr, src, at_ms));
  Vector out;
  if (v.scalar) {
    if (!std::isnan(v.number)) out.push_back({{}, v.number});
    return out;
  }
  for (auto& s : v.vector) {
    if (std::isnan(s.value)) continue;
    s.labels.erase("__name__");
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace gc::alert

// SPDX-License-Identifier: MIT
// The built-in recording rules: each parses, and over a small collection they give the numbers
// a dashboard expects, labelled without __name__, NaN skipped.
#include "alert/recording.h"

#include <gtest/gtest.h>

#include <set>

#include "alert/series_buffer.h"
#include "monitor/metrics.h"

namespace gc::alert {
namespace {

using monitor::Labels;

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kSec = 1000;

std::vector<ParsedRecording> parsed() {
  auto r = parse_recordings(builtin_recordings());
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::vector<ParsedRecording>{};
}

const ParsedRecording& rule_named(const std::vector<ParsedRecording>& all,
                                  const std::string& name) {
  for (const auto& r : all) {
    if (r.name == name) return r;
  }
  ADD_FAILURE() << "no recording rule " << name;
  static const ParsedRecording kNone{};
  return kNone;
}

// Two collections 30 s apart: idle CPU seconds grow by 24 and 18 on two CPUs (0.8 and 0.6 of a
// second per second), two filesystems, memory, load, and an Nginx that served no request.
SeriesBuffer collected(const std::vector<ParsedRecording>& rules) {
  SeriesBuffer buffer(recording_ranges(rules));
  for (int i = 0; i < 2; ++i) {
    monitor::MetricSet set;
    const char* help = "h";
    set.counter("node_cpu_seconds_total", help, {{"cpu", "0"}, {"mode", "idle"}}, 100 + 24 * i);
    set.counter("node_cpu_seconds_total", help, {{"cpu", "1"}, {"mode", "idle"}}, 200 + 18 * i);
    set.counter("node_cpu_seconds_total", help, {{"cpu", "0"}, {"mode", "user"}}, 50 + 6 * i);
    Labels root_a = {{"device", "/dev/a"}, {"fstype", "ext4"}, {"mountpoint", "/"}};
    Labels root_b = {{"device", "/dev/b"}, {"fstype", "ext4"}, {"mountpoint", "/"}};
    Labels srv = {{"device", "/dev/c"}, {"fstype", "xfs"}, {"mountpoint", "/srv"}};
    set.gauge("node_filesystem_avail_bytes", help, root_a, 20);
    set.gauge("node_filesystem_size_bytes", help, root_a, 100);
    set.gauge("node_filesystem_avail_bytes", help, root_b, 10);
    set.gauge("node_filesystem_size_bytes", help, root_b, 100);
    set.gauge("node_filesystem_avail_bytes", help, srv, 50);
    set.gauge("node_filesystem_size_bytes", help, srv, 200);
    set.gauge("node_memory_MemAvailable_bytes", help, {}, 250);
    set.gauge("node_memory_MemTotal_bytes", help, {}, 1000);
    set.gauge("node_load1", help, {}, 1.5);
    set.counter("groundctl_nginx_http_requests_total", help, {{"status", "2xx"}}, 10);
    set.counter("groundctl_nginx_http_requests_total", help, {{"status", "5xx"}}, 0);
    buffer.append(set, kT0 + 30 * kSec * i);
  }
  return buffer;
}

Vector eval(const std::vector<ParsedRecording>& all, const std::string& name,
            const SampleSource& src) {
  auto v = evaluate_recording(rule_named(all, name), src, kT0 + 30 * kSec);
  EXPECT_TRUE(v) << name << ": " << v.error().message;
  return v ? *v : Vector{};
}

TEST(Recording, EveryBuiltinParsesUnderAUniqueName) {
  std::vector<RecordingRule> rules = builtin_recordings();
  EXPECT_EQ(rules.size(), 14u);
  std::set<std::string> names;
  for (const auto& r : rules) {
    EXPECT_TRUE(names.insert(r.name).second) << r.name;
    auto e = parse_expr(r.expr);
    EXPECT_TRUE(e) << r.name << ": " << (e ? "" : e.error().message);
    if (e) {
      EXPECT_EQ(value_type(**e), ValueType::kInstantVector) << r.name;
    }
  }
  // The names the dashboard charts.
  for (const char* want :
       {"host_cpu_usage_ratio", "host_memory_used_ratio", "host_filesystem_used_ratio",
        "host_load1", "http_requests_per_second", "http_5xx_ratio", "http_latency_p95_seconds",
        "probe_latency_p95_seconds", "probe_success", "app_errors_per_minute", "pg_connections",
        "pg_max_connections", "service_cpu_ratio", "service_resident_memory_bytes"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  EXPECT_EQ(parsed().size(), rules.size());
}

TEST(Recording, RangesCoverWhatTheRulesRead) {
  auto ranges = recording_ranges(parsed());
  EXPECT_EQ(ranges["node_cpu_seconds_total"], 60 * kSec);
  EXPECT_EQ(ranges["groundctl_nginx_http_requests_total"], 300 * kSec);
  EXPECT_EQ(ranges["groundctl_nginx_http_request_duration_seconds_bucket"], 300 * kSec);
  EXPECT_EQ(ranges["node_load1"], 0);
  EXPECT_TRUE(ranges.count("pg_stat_activity_count"));
}

TEST(Recording, CpuUsageIsOneMinusTheIdleShare) {
  auto all = parsed();
  SeriesBuffer buffer = collected(all);
  Vector v = eval(all, "host_cpu_usage_ratio", buffer);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].labels.empty());
  EXPECT_NEAR(v[0].value, 1 - (0.8 + 0.6) / 2, 1e-9);
}

TEST(Recording, FilesystemRatioIsTheFullestDevicePerMountpoint) {
  auto all = parsed();
  SeriesBuffer buffer = collected(all);
  Vector v = eval(all, "host_filesystem_used_ratio", buffer);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].labels, (Labels{{"mountpoint", "/"}}));
  EXPECT_NEAR(v[0].value, 0.9, 1e-9);
  EXPECT_EQ(v[1].labels, (Labels{{"mountpoint", "/srv"}}));
  EXPECT_NEAR(v[1].value, 0.75, 1e-9);
}

TEST(Recording, ResultsDropTheMetricNameAndNaN) {
  auto all = parsed();
  SeriesBuffer buffer = collected(all);
  Vector load = eval(all, "host_load1", buffer);
  ASSERT_EQ(load.size(), 1u);
  EXPECT_TRUE(load[0].labels.empty()) << "no __name__";
  EXPECT_EQ(load[0].value, 1.5);
  Vector mem = eval(all, "host_memory_used_ratio", buffer);
  ASSERT_EQ(mem.size(), 1u);
  EXPECT_NEAR(mem[0].value, 0.75, 1e-9);
  // No request in 5 minutes: 0 / 0 is no data, not a ratio.
  EXPECT_TRUE(eval(all, "http_5xx_ratio", buffer).empty());
  Vector rps = eval(all, "http_requests_per_second", buffer);
  ASSERT_EQ(rps.size(), 1u);
  EXPECT_EQ(rps[0].value, 0);
  // Nothing collected for PostgreSQL: sum() of nothing is nothing.
  EXPECT_TRUE(eval(all, "pg_connections", buffer).empty());
}

}  // namespace
}  // namespace gc::alert

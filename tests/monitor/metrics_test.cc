// SPDX-License-Identifier: MIT
// The exposition format and the /proc parsers, on fixed text; histograms also through the real
// `promtool check metrics`.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "monitor/host_metrics.h"
#include "monitor/metrics.h"
#include "monitor/pg_metrics.h"

namespace gc::monitor {
namespace {

double value_of(const MetricSet& set, const std::string& name, const Labels& labels = {}) {
  auto it = set.families().find(name);
  if (it == set.families().end()) return NAN;
  for (const auto& s : it->second.samples) {
    if (s.labels == labels) return s.value;
  }
  return NAN;
}

TEST(Exposition, RendersSortedFamiliesWithHelpAndType) {
  MetricSet set;
  set.counter("b_total", "B things.", {{"z", "1"}}, 2);
  set.counter("b_total", "B things.", {{"a", "q\"\\\nx"}}, 1.5);
  set.gauge("a", "A with a \\ and\nnewline.", {}, 3);
  EXPECT_EQ(render(set),
            "# HELP a A with a \\\\ and\\nnewline.\n"
            "# TYPE a gauge\n"
            "a 3\n"
            "# HELP b_total B things.\n"
            "# TYPE b_total counter\n"
            "b_total{a=\"q\\\"\\\\\\nx\"} 1.5\n"
            "b_total{z=\"1\"} 2\n");
}

TEST(Exposition, FormatsValuesSoTheyReadBack) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1795805101), "1795805101");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(std::strtod(format_value(1.0 / 3).c_str(), nullptr), 1.0 / 3);
  EXPECT_EQ(format_value(1e20), "1e+20");
  EXPECT_EQ(format_value(NAN), "NaN");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
}

TEST(HostParsers, LoadAndMemory) {
  MetricSet set;
  parse_loadavg("0.52 0.58 0.59 2/512 12345\n", set);
  EXPECT_EQ(value_of(set, "node_load1"), 0.52);
  EXPECT_EQ(value_of(set, "node_load15"), 0.59);
  parse_meminfo(
      "MemTotal:        2014548 kB\nMemAvailable:    1200000 kB\nActive(anon):      1000 kB\n"
      "HugePages_Total:       0\n",
      set);
  EXPECT_EQ(value_of(set, "node_memory_MemTotal_bytes"), 2014548.0 * 1024);
  EXPECT_EQ(value_of(set, "node_memory_MemAvailable_bytes"), 1200000.0 * 1024);
  EXPECT_EQ(value_of(set, "node_memory_Active_anon_bytes"), 1000.0 * 1024);
  EXPECT_EQ(value_of(set, "node_memory_HugePages_Total_bytes"), 0);  // node_exporter's naming.
}

TEST(HostParsers, CpuByModeAndBootTime) {
  MetricSet set;
  parse_stat(
      "cpu  100 2 30 4000 5 0 6 0 0 0\n"
      "cpu0 50 1 15 2000 3 0 3 0 0 0\n"
      "cpu1 50 1 15 2000 2 0 3 0 0 0\n"
      "intr 12345 0 0\nctxt 999\nbtime 1795800000\nprocesses 4242\nprocs_running 3\n"
      "procs_blocked 1\n",
      100, set);
  EXPECT_EQ(value_of(set, "node_cpu_seconds_total", {{"cpu", "0"}, {"mode", "user"}}), 0.5);
  EXPECT_EQ(value_of(set, "node_cpu_seconds_total", {{"cpu", "1"}, {"mode", "idle"}}), 20);
  EXPECT_EQ(value_of(set, "node_cpu_seconds_total", {{"cpu", "1"}, {"mode", "softirq"}}), 0.03);
  // The "cpu" total line is not a CPU.
  EXPECT_TRUE(std::isnan(value_of(set, "node_cpu_seconds_total", {{"cpu", ""}, {"mode", "user"}})));
  EXPECT_EQ(set.families().at("node_cpu_seconds_total").samples.size(), 16u);
  EXPECT_EQ(value_of(set, "node_boot_time_seconds"), 1795800000);
  EXPECT_EQ(value_of(set, "node_context_switches_total"), 999);
  EXPECT_EQ(value_of(set, "node_forks_total"), 4242);
  EXPECT_EQ(value_of(set, "node_procs_running"), 3);
}

TEST(HostParsers, NetworkDevices) {
  MetricSet set;
  parse_net_dev(
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n"
      "  eth0: 5000 50 1 2 0 0 0 0 7000 70 3 4 0 0 0 0\n",
      set);
  EXPECT_EQ(value_of(set, "node_network_receive_bytes_total", {{"device", "eth0"}}), 5000);
  EXPECT_EQ(value_of(set, "node_network_receive_drop_total", {{"device", "eth0"}}), 2);
  EXPECT_EQ(value_of(set, "node_network_transmit_bytes_total", {{"device", "eth0"}}), 7000);
  EXPECT_EQ(value_of(set, "node_network_transmit_errs_total", {{"device", "eth0"}}), 3);
  EXPECT_EQ(value_of(set, "node_network_receive_packets_total", {{"device", "lo"}}), 10);
  EXPECT_EQ(set.families().at("node_network_receive_bytes_total").help,
            "Network device statistic receive_bytes.");
}

TEST(HostParsers, MountsSkipPseudoFilesystems) {
  auto mounts = parse_mounts(
      "/dev/vda1 / ext4 rw,relatime 0 0\n"
      "proc /proc proc rw 0 0\n"
      "sysfs /sys sysfs rw 0 0\n"
      "tmpfs /run tmpfs rw 0 0\n"
      "devpts /dev/pts devpts rw 0 0\n"
      "/dev/vdb /srv/my\\040media ext4 rw 0 0\n"
      "overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0\n"
      "/dev/vda1 / ext4 rw 0 0\n");
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].mountpoint, "/");
  EXPECT_EQ(mounts[0].device, "/dev/vda1");
  EXPECT_EQ(mounts[1].mountpoint, "/run");  // tmpfs counts: it fills up too.
  EXPECT_EQ(mounts[2].mountpoint, "/srv/my media");
}

}  // namespace
}  // namespace gc::monitor

namespace gc::monitor {
namespace {

TEST(PgSamples, DownIsOnlyPgUpZero) {
  MetricSet set;
  PgSnapshot down;
  down.error = "connection refused";
  pg_samples(down, set);
  EXPECT_EQ(render(set),
            "# HELP pg_up Whether the last scrape of PostgreSQL was able to connect.\n"
            "# TYPE pg_up gauge\npg_up 0\n");
}

TEST(PgSamples, UsesPostgresExporterNames) {
  PgSnapshot s;
  s.up = true;
  s.max_connections = 100;
  s.databases = {{"16384", "orbital", "3", "120", "4", "10", "990", "5", "6", "7", "8", "9", "0",
                  "1", "4096", "2", "8000000"}};
  s.activity = {{"orbital", "active", "1", "0.5"}, {"orbital", "idle", "2", "0"}};
  s.locks = {{"orbital", "AccessShareLock", "3"}};
  s.lock_waits = 1;
  MetricSet set;
  pg_samples(s, set);
  const auto& f = set.families();
  Labels db = {{"datid", "16384"}, {"datname", "orbital"}};
  EXPECT_EQ(f.at("pg_up").samples[0].value, 1);
  EXPECT_EQ(f.at("pg_settings_max_connections").samples[0].value, 100);
  EXPECT_EQ(f.at("pg_stat_database_xact_commit").samples[0].labels, db);
  EXPECT_EQ(f.at("pg_stat_database_xact_commit").samples[0].value, 120);
  EXPECT_EQ(f.at("pg_stat_database_xact_commit").type, MetricType::kUntyped);
  EXPECT_EQ(f.at("pg_stat_database_blks_hit").samples[0].value, 990);
  EXPECT_EQ(f.at("pg_stat_database_deadlocks").samples[0].value, 2);
  EXPECT_EQ(f.at("pg_stat_database_temp_bytes").samples[0].value, 4096);
  EXPECT_EQ(f.at("pg_database_size_bytes").samples[0].value, 8000000);
  // Every state of every database, 0 when nobody is in it.
  EXPECT_EQ(f.at("pg_stat_activity_count").samples.size(), 6u);
  for (const auto& sample : f.at("pg_stat_activity_count").samples) {
    double want = sample.labels.at("state") == "active" ? 1
                  : sample.labels.at("state") == "idle" ? 2
                                                        : 0;
    EXPECT_EQ(sample.value, want) << sample.labels.at("state");
  }
  EXPECT_NE(render(set).find("# TYPE pg_stat_database_xact_commit untyped\n"), std::string::npos);
  EXPECT_EQ(f.at("pg_locks_count").samples[0].value, 3);
  EXPECT_EQ(f.at("groundctl_pg_lock_waits").samples[0].value, 1);
}

}  // namespace
}  // namespace gc::monitor

namespace gc::monitor {
namespace {

TEST(Histogram, ValueOnABoundFallsInThatBucket) {
  Histogram h;
  h.bounds = {1, 2, 5};
  for (double v : {0.5, 1.0, 1.5, 2.0, 5.0, 7.0}) h.observe(v);
  EXPECT_EQ(h.counts, (std::vector<uint64_t>{2, 2, 1}));  // Per bucket; 7 only in count.
  EXPECT_EQ(h.count, 6u);
  EXPECT_EQ(h.sum, 17);
  h.observe(NAN);  // As the Prometheus clients do: counted, in no finite bucket.
  EXPECT_EQ(h.count, 7u);
  EXPECT_EQ(h.counts, (std::vector<uint64_t>{2, 2, 1}));
}

TEST(Histogram, DefaultLatencyBucketsAreThePrometheusClientOnes) {
  EXPECT_EQ(default_latency_buckets(),
            (std::vector<double>{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}));
}

TEST(Histogram, RendersCumulativeBucketsInBoundOrderThenSumAndCount) {
  Histogram h;
  h.bounds = {0.5, 2.5, 10};  // As text "10" sorts before "2.5": the order must be numeric.
  for (double v : {0.25, 0.5, 3.0, 20.0}) h.observe(v);
  Histogram empty;
  empty.bounds = {0.5, 2.5, 10};
  MetricSet set;
  set.histogram("req_seconds", "Request time.", {{"path", "/b"}}, empty);
  set.histogram("req_seconds", "Request time.", {{"path", "/a"}}, h);
  EXPECT_EQ(render(set),
            "# HELP req_seconds Request time.\n"
            "# TYPE req_seconds histogram\n"
            "req_seconds_bucket{le=\"0.5\",path=\"/a\"} 2\n"
            "req_seconds_bucket{le=\"2.5\",path=\"/a\"} 2\n"
            "req_seconds_bucket{le=\"10\",path=\"/a\"} 3\n"
            "req_seconds_bucket{le=\"+Inf\",path=\"/a\"} 4\n"
            "req_seconds_sum{path=\"/a\"} 23.75\n"
            "req_seconds_count{path=\"/a\"} 4\n"
            "req_seconds_bucket{le=\"0.5\",path=\"/b\"} 0\n"
            "req_seconds_bucket{le=\"2.5\",path=\"/b\"} 0\n"
            "req_seconds_bucket{le=\"10\",path=\"/b\"} 0\n"
            "req_seconds_bucket{le=\"+Inf\",path=\"/b\"} 0\n"
            "req_seconds_sum{path=\"/b\"} 0\n"
            "req_seconds_count{path=\"/b\"} 0\n");
}

TEST(Histogram, SamplesNameTheirSeriesBySuffix) {
  Histogram h;
  h.bounds = {1};
  h.observe(0.5);
  MetricSet set;
  set.histogram("x_seconds", "X.", {}, h);
  MetricSet merged;
  merged.gauge("g", "G.", {}, 1);
  merged.merge(set);
  const MetricFamily& f = merged.families().at("x_seconds");
  EXPECT_EQ(f.type, MetricType::kHistogram);
  ASSERT_EQ(f.samples.size(), 4u);
  EXPECT_EQ(f.samples[0].suffix, "_bucket");
  EXPECT_EQ(f.samples[0].labels, (Labels{{"le", "1"}}));
  EXPECT_EQ(f.samples[1].labels, (Labels{{"le", "+Inf"}}));
  EXPECT_EQ(f.samples[2].suffix, "_sum");
  EXPECT_EQ(f.samples[2].value, 0.5);
  EXPECT_EQ(f.samples[3].suffix, "_count");
  EXPECT_TRUE(f.samples[3].labels.empty());
  EXPECT_EQ(merged.families().at("g").samples[0].suffix, "");
}

// `promtool check metrics` on `text`: its exit code and everything it printed.
std::pair<int, std::string> promtool(const std::string& text) {
  auto dir = TempDir::create();
  if (!dir) return {-1, dir.error().message};
  if (!write_file_atomic(dir->file("metrics.txt"), text)) return {-1, "cannot write"};
  std::string cmd = "/usr/bin/promtool check metrics < " + dir->file("metrics.txt") + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

TEST(Histogram, PromtoolAcceptsTheRendering) {
  Histogram h;
  h.bounds = default_latency_buckets();
  for (double v : {0.003, 0.005, 0.2, 1.0, 42.0}) h.observe(v);
  MetricSet set;
  set.histogram("demo_request_duration_seconds", "Request time.", {{"method", "GET"}}, h);
  set.histogram("demo_request_duration_seconds", "Request time.", {{"method", "POST"}},
                Histogram{default_latency_buckets(), {}, 0, 0});
  set.counter("demo_requests_total", "Requests.", {{"code", "200"}}, 5);
  set.gauge("demo_up", "Up.", {}, 1);
  auto [code, out] = promtool(render(set));
  EXPECT_EQ(code, 0) << out << render(set);
  EXPECT_EQ(out, "") << render(set);
}

}  // namespace
}  // namespace gc::monitor

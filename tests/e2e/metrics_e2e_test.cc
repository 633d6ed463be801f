// SPDX-License-Identifier: MIT
// GET /metrics from the daemon, checked by the real `promtool check metrics`.
#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"
#include "support/postgres.h"

namespace gc::e2e {
namespace {

std::string app_service() {
  return "[[service]]\nname = \"web\"\ncommand = [\"node\", \"" + fixture_dir() +
         "/server.js\"]\nlisten = [\"127.0.0.1:0\"]\nready = \"ipc\"\ninstances = 2\n";
}

std::string http_address(const Daemon& d) {
  json st = d.cli({"status", "--json"}).parsed();
  return st["http"].value("listen", "");
}

// Runs the real `promtool check metrics` on `body`.
void expect_promtool_accepts(const std::string& dir, const std::string& body) {
  ASSERT_TRUE(write_file_atomic(dir + "/metrics.txt", body));
  // promtool reads the exposition on stdin; it exits 1 for a format error and 3 for lint
  // findings, which it prints one a line.
  CliResult check =
      run_capture({"sh", "-c", "promtool check metrics < " + dir + "/metrics.txt"}, dir);
  ASSERT_TRUE(check.exit_code == 0 || check.exit_code == 3) << check.out << check.err;
  // The findings allowed are those about the exporters' own names, which dashboards and rules
  // query as they are, and which promtool reports for the exporters themselves too:
  // node_exporter's camelCase meminfo names (node_memory_MemAvailable_bytes) and
  // postgres_exporter's gauges that end in "_count". Every other name must be clean.
  std::string findings = check.out + check.err;
  std::size_t start = 0, compat_findings = 0;
  while (start < findings.size()) {
    std::size_t end = findings.find('\n', start);
    if (end == std::string::npos) end = findings.size();
    std::string line = findings.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    bool meminfo = line.rfind("node_memory_", 0) == 0 &&
                   line.find(" metric names should be written in 'snake_case' not 'camelCase'") !=
                       std::string::npos;
    bool pg_count =
        (line.rfind("pg_stat_activity_count ", 0) == 0 || line.rfind("pg_locks_count ", 0) == 0) &&
        line.find("should not have \"_count\" suffix") != std::string::npos;
    EXPECT_TRUE(meminfo || pg_count) << "promtool finding: " << line;
    compat_findings += meminfo || pg_count ? 1 : 0;
  }
  EXPECT_EQ(check.exit_code == 0, compat_findings == 0) << findings;
}

TEST(MetricsE2e, PromtoolAcceptsWhatMetricsServes) {
  auto d = Daemon::start(app_service());
  ASSERT_TRUE(eventually([&] {
    json ps = d->ps();
    if (ps.size() != 2) return false;
    for (const auto& i : ps) {
      if (i["state"] != "running") return false;
    }
    return true;
  }));
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty()) << d->cli({"status", "--json"}).out;
  HttpReply r = http_get(addr, "/metrics");
  ASSERT_EQ(r.status, 200) << r.body;
  // node_exporter's names for the host, ours for the instances.
  for (const char* want :
       {"# TYPE node_cpu_seconds_total counter", "node_load1 ", "node_memory_MemAvailable_bytes ",
        "node_filesystem_avail_bytes{device=", "mountpoint=\"/\"", "node_boot_time_seconds ",
        "groundctl_instance_up{instance=\"0\",service=\"web\"} 1",
        "groundctl_instance_up{instance=\"1\",service=\"web\"} 1",
        "groundctl_instance_restarts_total{instance=\"0\",service=\"web\"} 0",
        "groundctl_service_instances_desired{service=\"web\"} 2",
        "process_resident_memory_bytes "}) {
    EXPECT_NE(r.body.find(want), std::string::npos) << "missing " << want << " in:\n" << r.body;
  }
  expect_promtool_accepts(d->dir(), r.body);
}

// The PostgreSQL collector against a real PostgreSQL 15: postgres_exporter's names while it runs,
// pg_up 0 once it is gone, and the daemon serving throughout.
TEST(MetricsE2e, PostgresMetricsFollowTheServer) {
  auto pg = gc::testing::PostgresServer::start();
  ASSERT_TRUE(pg) << pg.error().message;
  ASSERT_TRUE((*pg)->create_database("orbital"));
  ASSERT_TRUE((*pg)->psql("orbital", "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);"));
  auto d = Daemon::start("[postgres]\nhost = \"" + (*pg)->socket_dir() +
                         "\"\ndatabases = [\"orbital\"]\n");
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty());
  std::string body;
  ASSERT_TRUE(eventually(
      [&] {
        body = http_get(addr, "/metrics").body;
        return body.find("\npg_up 1\n") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << body;
  for (const char* want :
       {"pg_settings_max_connections ", "pg_stat_database_xact_commit{datid=",
        "datname=\"orbital\"", "# TYPE pg_stat_database_xact_commit untyped",
        "pg_stat_activity_count{datname=\"orbital\",state=\"idle\"}",
        "pg_database_size_bytes{datname=\"orbital\"} ", "groundctl_pg_lock_waits 0"}) {
    EXPECT_NE(body.find(want), std::string::npos) << "missing " << want << " in:\n" << body;
  }
  expect_promtool_accepts(d->dir(), body);
  pg->reset();  // Stop PostgreSQL: the next collection reports it down.
  ASSERT_TRUE(eventually(
      [&] {
        body = http_get(addr, "/metrics").body;
        return body.find("\npg_up 0\n") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << body;
  EXPECT_EQ(http_get(addr, "/healthz").status, 200);
}

// `groundctl metrics` reads the same data over the control socket, filtered by prefix.
TEST(MetricsE2e, TheCliShowsTheSameMetrics) {
  auto d = Daemon::start(app_service());
  ASSERT_TRUE(eventually([&] {
    CliResult r = d->cli({"metrics", "groundctl_instance_up"});
    return r.out.find("groundctl_instance_up{instance=\"1\",service=\"web\"} 1\n") !=
           std::string::npos;
  }));
  CliResult text = d->cli({"metrics", "groundctl_instance_up"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out.find("node_load1"), std::string::npos) << "the prefix filters";
  json j = d->cli({"metrics", "node_load", "--json"}).parsed();
  ASSERT_TRUE(j.is_array()) << j.dump();
  ASSERT_EQ(j.size(), 3u) << j.dump();  // node_load1, node_load15, node_load5
  EXPECT_EQ(j[0]["name"], "node_load1");
  EXPECT_EQ(j[0]["type"], "gauge");
  EXPECT_TRUE(j[0]["samples"][0]["value"].is_number());
}

TEST(MetricsE2e, HealthzAndUnknownPaths) {
  auto d = Daemon::start("");
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty());
  HttpReply ok = http_get(addr, "/healthz");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok\n");
  EXPECT_EQ(http_get(addr, "/nope").status, 404);
}

TEST(MetricsE2e, ATokenIsRequiredWhenConfigured) {
  auto dir = TempDir::create("gc-metrics-token-");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_file_atomic(dir->file("token"), "s3cr3t-token\n", 0600));
  auto d = Daemon::start("[http]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"" + dir->file("token") +
                         "\"\n");
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty()) << d->daemon_log();
  EXPECT_EQ(http_get(addr, "/metrics").status, 401);
  EXPECT_EQ(http_get(addr, "/metrics", "Authorization: Bearer wrong-token!\r\n").status, 401);
  HttpReply ok = http_get(addr, "/metrics", "Authorization: Bearer s3cr3t-token\r\n");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("node_load1 "), std::string::npos);
  // Liveness checks need no token; and the token never shows in status or the daemon's log.
  EXPECT_EQ(http_get(addr, "/healthz").status, 200);
  EXPECT_EQ(d->cli({"status", "--json"}).out.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(d->daemon_log().find("s3cr3t"), std::string::npos);
}

TEST(MetricsE2e, OversizedAndNonGetRequestsAreRefused) {
  auto d = Daemon::start("");
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty());
  HttpReply big = http_get(addr, "/metrics", "X-Big: " + std::string(20000, 'a') + "\r\n");
  EXPECT_EQ(big.status, 431);
  EXPECT_EQ(http_get(addr, "/healthz").status, 200);  // Still serving.
}

}  // namespace
}  // namespace gc::e2e

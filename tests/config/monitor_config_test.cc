// SPDX-License-Identifier: MIT
// The [monitor] and [[alert]] sections of the loader (expressions are checked in tests/alert).
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace gc::config {
namespace {

constexpr const char* kPath = "/etc/groundctl/groundctl.toml";

LoadOutcome load(const std::string& text) { return load_config_from_string(text, kPath); }

std::string dump(const LoadOutcome& outcome) {
  std::string out;
  for (const auto& d : outcome.diagnostics) out += d.to_string() + "\n";
  return out;
}

std::string errors_of(const std::string& text) {
  LoadOutcome o = load(text);
  EXPECT_FALSE(o.config.has_value()) << "accepted:\n" << text;
  return dump(o);
}

constexpr const char* kService = R"(
[[service]]
name = "orbital-backend"
command = ["node", "src/server.js"]
)";

TEST(MonitorConfig, LoadsTheIssueExample) {
  LoadOutcome o = load(std::string(kService) + R"(
[monitor]
interval = "10s"
history = "30d"

[[monitor.http]]
name = "api"
url = "http://127.0.0.1:3000/health"
timeout = "5s"
expect_status = 200

[monitor.logs]
services = ["orbital-backend"]
files = ["/home/orbital/apps/orbital/shared/logs/error.log"]

[monitor.nginx]
status_url = "http://127.0.0.1/nginx_status"
access_log = "/var/log/nginx/access.log"

[monitor.tls]
endpoints = ["api.orbitl.org:443"]
files = ["/etc/letsencrypt/live/api.orbitl.org/fullchain.pem"]

[[alert]]
name = "DiskAlmostFull"
expr = 'node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"} < 0.20'
for = "5m"
severity = "warning"
summary = "disk {{ $labels.mountpoint }} almost full"
)");
  ASSERT_TRUE(o.config) << dump(o);
  const MonitorConfig& m = o.config->monitor;
  EXPECT_EQ(m.interval, std::chrono::seconds(10));
  EXPECT_EQ(m.history, std::chrono::hours(24 * 30));
  ASSERT_EQ(m.http.size(), 1u);
  EXPECT_EQ(m.http[0].name, "api");
  EXPECT_EQ(m.http[0].url, "http://127.0.0.1:3000/health");
  EXPECT_EQ(m.http[0].expect_status, 200);
  EXPECT_EQ(m.log_services, std::vector<std::string>{"orbital-backend"});
  EXPECT_EQ(m.log_files,
            std::vector<std::string>{"/home/orbital/apps/orbital/shared/logs/error.log"});
  EXPECT_EQ(m.nginx_status_url, "http://127.0.0.1/nginx_status");
  EXPECT_EQ(m.nginx_access_log, "/var/log/nginx/access.log");
  EXPECT_EQ(m.tls_endpoints, std::vector<std::string>{"api.orbitl.org:443"});
  ASSERT_EQ(o.config->alerts.size(), 1u);
  const AlertRuleConfig& a = o.config->alerts[0];
  EXPECT_EQ(a.name, "DiskAlmostFull");
  EXPECT_EQ(a.for_, std::chrono::minutes(5));
  EXPECT_TRUE(a.has_for);
  EXPECT_EQ(a.severity, "warning");
  EXPECT_EQ(a.expr_line, 30);
  EXPECT_EQ(a.expr_column, 8);
}

TEST(MonitorConfig, DefaultsWithoutTheSection) {
  LoadOutcome o = load(kService);
  ASSERT_TRUE(o.config) << dump(o);
  EXPECT_EQ(o.config->monitor.interval, std::chrono::seconds(10));
  EXPECT_TRUE(o.config->monitor.default_rules);
  EXPECT_EQ(o.config->monitor.repeat_interval, std::chrono::hours(4));
  EXPECT_TRUE(o.config->alerts.empty());
}

TEST(MonitorConfig, RefusesBadValues) {
  EXPECT_NE(
      errors_of("[monitor]\ninterval = \"100ms\"\n").find("monitor.interval: must be at least 1s"),
      std::string::npos);
  EXPECT_NE(errors_of("[monitor]\nintervall = \"10s\"\n").find("interval"), std::string::npos);
  EXPECT_NE(errors_of("[[monitor.http]]\nurl = \"ftp://x\"\n").find("monitor.http #1: url"),
            std::string::npos);
  EXPECT_NE(errors_of("[[monitor.http]]\nname = \"api\"\n").find("url"), std::string::npos);
  EXPECT_NE(errors_of("[[monitor.http]]\nurl = \"http://a/\"\nexpect_status = 99\n")
                .find("expect_status"),
            std::string::npos);
  EXPECT_NE(
      errors_of("[monitor.logs]\nservices = [\"nope\"]\n").find("no [[service]] is named \"nope\""),
      std::string::npos);
  EXPECT_NE(errors_of("[monitor.tls]\nendpoints = [\"example.org\"]\n").find("is not HOST:PORT"),
            std::string::npos);
  EXPECT_NE(errors_of("[monitor]\nnginx = 3\n").find("monitor.nginx"), std::string::npos);
}

TEST(MonitorConfig, RefusesBadAlerts) {
  EXPECT_NE(errors_of("[[alert]]\nexpr = \"up == 0\"\n").find("name"), std::string::npos);
  EXPECT_NE(
      errors_of("[[alert]]\nname = \"bad name\"\nexpr = \"x\"\n").find("not a valid alert name"),
      std::string::npos);
  EXPECT_NE(errors_of("[[alert]]\nname = \"A\"\nexpr = \"x\"\nseverity = \"page\"\n")
                .find("expected \"critical\", \"warning\" or \"info\""),
            std::string::npos);
  EXPECT_NE(
      errors_of("[[alert]]\nname = \"A\"\nexpr = \"x\"\n[[alert]]\nname = \"A\"\nexpr = \"y\"\n")
          .find("also defined on line 1"),
      std::string::npos);
  EXPECT_NE(errors_of("[[alert]]\nname = \"A\"\nexpr = \"x\"\nlabels = { severity = \"x\" }\n")
                .find("cannot be a label name here"),
            std::string::npos);
  EXPECT_NE(errors_of("[[alert]]\nname = \"A\"\nexpr = \"x\"\nfor = \"5 minutes\"\n").find("for"),
            std::string::npos);
}

TEST(MonitorConfig, DisablingABuiltInNeedsNoExpression) {
  LoadOutcome o = load("[[alert]]\nname = \"LoadHigh\"\nenabled = false\n");
  ASSERT_TRUE(o.config) << dump(o);
  EXPECT_FALSE(o.config->alerts[0].enabled);
  EXPECT_TRUE(o.config->alerts[0].expr.empty());
}

}  // namespace
}  // namespace gc::config

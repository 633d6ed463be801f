// SPDX-License-Identifier: MIT
// Winston's JSON lines, and AppLogCollector over real log files in a temp dir.
#include "monitor/app_log_metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "base/temp_dir.h"
#include "base/unique_fd.h"

namespace gc::monitor {
namespace {

double value_of(const MetricSet& set, const std::string& name, const Labels& labels) {
  auto it = set.families().find(name);
  if (it == set.families().end()) return NAN;
  for (const auto& s : it->second.samples) {
    if (s.labels == labels) return s.value;
  }
  return NAN;
}

double messages(const MetricSet& set, const std::string& service, const std::string& level) {
  return value_of(set, "groundctl_app_log_messages_total",
                  {{"service", service}, {"level", level}});
}

double unparsed(const MetricSet& set, const std::string& service) {
  return value_of(set, "groundctl_app_log_unparsed_lines_total", {{"service", service}});
}

void append(const std::string& path, std::string_view text) {
  auto fd = open_fd(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  ASSERT_TRUE(fd) << fd.error().message;
  ASSERT_TRUE(write_all(fd->get(), text));
}

TEST(WinstonLevel, ReadsTheLevelOfJsonLines) {
  EXPECT_EQ(winston_level(R"({"level":"error","message":"connect ECONNREFUSED 127.0.0.1:5432",)"
                          R"("timestamp":"2023-10-10T13:55:36.123Z"})"),
            "error");
  EXPECT_EQ(winston_level(R"(  {"message":"listening","level":"info","port":3000})"), "info");
  EXPECT_EQ(winston_level(R"({"level":"http","message":"GET / 200 \"quoted\" 3 ms"})"), "http");
  // format.colorize() before format.json(): the ANSI codes are in the JSON string.
  EXPECT_EQ(winston_level(R"({"level":"\u001b[31merror\u001b[39m","message":"boom"})"), "error");
  EXPECT_EQ(winston_level(R"({"level":"\u001b[1m\u001b[33mwarn\u001b[39m\u001b[22m"})"), "warn");
  EXPECT_EQ(winston_level(R"({"level":"WARN","message":"upper"})"), "warn");
  EXPECT_EQ(winston_level("{\"level\":\"debug\"}\r"), "debug");
}

TEST(WinstonLevel, NulloptForOtherLines) {
  EXPECT_EQ(winston_level(""), std::nullopt);
  EXPECT_EQ(winston_level("Server listening on port 3000"), std::nullopt);
  EXPECT_EQ(winston_level(R"(2023-10-10 error: {"level":"error"})"), std::nullopt);  // Prefix.
  EXPECT_EQ(winston_level(R"({"level":"error","message":"cut)"), std::nullopt);
  EXPECT_EQ(winston_level(R"({"message":"no level"})"), std::nullopt);
  EXPECT_EQ(winston_level(R"({"level":50,"msg":"pino numbers"})"), std::nullopt);
  EXPECT_EQ(winston_level(R"({"level":""})"), std::nullopt);
  EXPECT_EQ(winston_level(R"(["level","error"])"), std::nullopt);
  EXPECT_EQ(winston_level("{\"level\":\"error\"} trailing"), std::nullopt);
  EXPECT_EQ(winston_level("{\"level\":\"\xff\xfe\"}"), std::nullopt);  // Not UTF-8.
  EXPECT_EQ(winston_level(std::string(10000, '[')), std::nullopt);
  EXPECT_EQ(winston_level("{" + std::string(5000, '[')), std::nullopt);
}

TEST(ServiceFromPath, IsTheBasenameWithoutItsExtension) {
  EXPECT_EQ(service_from_path("/var/log/orbital/api.log"), "api");
  EXPECT_EQ(service_from_path("/var/lib/groundctl/logs/web.out.log"), "web.out");
  EXPECT_EQ(service_from_path("worker"), "worker");
  EXPECT_EQ(service_from_path("/srv/.hidden"), ".hidden");
}

class AppLogCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("app-log-");
    ASSERT_TRUE(d) << d.error().message;
    dir_.emplace(std::move(*d));
  }
  std::optional<TempDir> dir_;
};

TEST_F(AppLogCollectorTest, CountsLevelsPerServiceFromTheEndOfEachFile) {
  std::string api = dir_->file("api.log");
  std::string out = dir_->file("web-0.out");
  append(api, R"({"level":"error","message":"before groundctl started"})"
              "\n");
  AppLogCollector c;
  c.add_source("", api);
  c.add_source("web", out);  // Appears later.
  MetricSet start;
  c.collect(start);
  EXPECT_TRUE(c.last_errors().empty());
  // error and warn exist at 0 from the first scrape, for every service.
  EXPECT_EQ(messages(start, "api", "error"), 0);
  EXPECT_EQ(messages(start, "api", "warn"), 0);
  EXPECT_EQ(messages(start, "web", "error"), 0);
  EXPECT_EQ(unparsed(start, "web"), 0);

  append(api, R"({"level":"error","message":"a"})"
              "\n"
              R"({"level":"info","message":"b"})"
              "\n"
              R"({"level":"\u001b[31merror\u001b[39m","message":"c"})"
              "\n"
              R"({"level":"fatal","message":"custom level"})"
              "\n"
              "\n"
              "plain console.log output\n"
              R"({"level":"warn","message":"partial)");
  append(out, R"({"level":"warn","message":"w"})"
              "\nTypeError: x is undefined\n");
  MetricSet set;
  c.collect(set);
  EXPECT_EQ(messages(set, "api", "error"), 2);
  EXPECT_EQ(messages(set, "api", "info"), 1);
  EXPECT_EQ(messages(set, "api", "other"), 1);  // Unknown levels do not mint new series.
  EXPECT_EQ(messages(set, "api", "warn"), 0);   // Its line is not complete yet.
  EXPECT_EQ(unparsed(set, "api"), 1);
  EXPECT_EQ(messages(set, "web", "warn"), 1);
  EXPECT_EQ(unparsed(set, "web"), 1);

  append(api, "\"}\n");
  MetricSet later;
  c.collect(later);
  EXPECT_EQ(messages(later, "api", "warn"), 1);
  EXPECT_EQ(messages(later, "api", "error"), 2);  // Counters keep their totals.
  EXPECT_NE(render(later).find("# TYPE groundctl_app_log_messages_total counter\n"),
            std::string::npos);
}

TEST_F(AppLogCollectorTest, SourcesOfOneServiceAddUpAndFailuresAreReported) {
  std::string a = dir_->file("a.log");
  std::string b = dir_->file("b.log");
  std::string broken = dir_->file("broken.log");
  ASSERT_EQ(::mkdir(broken.c_str(), 0755), 0);  // Opens, but cannot be read.
  append(a, "");
  append(b, "");
  AppLogCollector c;
  c.add_source("web", a);
  c.add_source("web", b);
  c.add_source("", broken);
  append(a, R"({"level":"error"})"
            "\n");
  append(b, R"({"level":"error"})"
            "\n"
            R"({"level":"error"})"
            "\n");
  MetricSet set;
  c.collect(set);
  EXPECT_EQ(messages(set, "web", "error"), 3);
  ASSERT_EQ(c.last_errors().size(), 1u);
  EXPECT_NE(c.last_errors()[0].find(broken), std::string::npos) << c.last_errors()[0];
  EXPECT_EQ(messages(set, "broken", "error"), 0);
}

}  // namespace
}  // namespace gc::monitor

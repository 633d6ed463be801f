// SPDX-License-Identifier: MIT
// Rules against real files and the real promtool.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "alert/rules.h"
#include "base/temp_dir.h"
#include "config/loader.h"

namespace gc::alert {
namespace {

config::Config load(const std::string& text) {
  auto o = config::load_config_from_string(text, "/etc/groundctl/groundctl.toml");
  EXPECT_TRUE(o.config.has_value());
  return o.config.value_or(config::Config{});
}

TEST(RulesOs, LoadConfigChecksRules) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->path() + "/g.toml";
  std::ofstream(path) << "[[alert]]\nname = \"Bad\"\nexpr = 'sum(('\n";
  auto o = load_config(path);
  EXPECT_FALSE(o.config);
  ASSERT_EQ(o.diagnostics.size(), 1u);
  EXPECT_EQ(o.diagnostics[0].line, 3);
  auto r = load_config_or_error(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidConfig);
}

TEST(RulesOs, ExportedRuleFileIsAcceptedByPromtool) {
  auto rules = build_rules(load(R"(
[[alert]]
name = "QueueLong"
expr = 'groundctl_queue_length{queue="mail \"x\""} > 100'
clear = 'groundctl_queue_length{queue="mail \"x\""} > 50'
for = "90s"
summary = "queue {{ $labels.queue }} is {{ $value }} long"
labels = { team = "ops" }
)"));
  ASSERT_TRUE(rules) << rules.error().message;
  std::string yaml = export_rules_yaml(*rules, "groundctl-test");
  EXPECT_NE(yaml.find("- alert: DiskAlmostFull"), std::string::npos);
  EXPECT_NE(yaml.find("for: 1m30s"), std::string::npos);
  EXPECT_NE(yaml.find("ALERTS{alertname=\\\"QueueLong\\\", alertstate=\\\"firing\\\"}"),
            std::string::npos)
      << yaml;
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->path() + "/rules.yml";
  std::ofstream(path) << yaml;
  std::string cmd = "promtool check rules " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << out << "\n" << yaml;
  EXPECT_NE(out.find("SUCCESS: " + std::to_string(rules->size()) + " rules found"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace gc::alert

// SPDX-License-Identifier: MIT
// Built-in rules, [[alert]] merging, diagnostics positions, templates and the rule file export.
#include "alert/rules.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace gc::alert {
namespace {

constexpr const char* kPath = "/etc/groundctl/groundctl.toml";

config::Config load(const std::string& text) {
  auto o = config::load_config_from_string(text, kPath);
  EXPECT_TRUE(o.config.has_value());
  return o.config.value_or(config::Config{});
}

const Rule* find(const std::vector<Rule>& rules, const std::string& name) {
  for (const auto& r : rules) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

TEST(Rules, EveryBuiltInParses) {
  auto rules = build_rules(load(""));
  ASSERT_TRUE(rules) << rules.error().message;
  EXPECT_EQ(rules->size(), builtin_rules().size());
  for (const char* name : {"DiskAlmostFull",
                           "MemoryHigh",
                           "LoadHigh",
                           "InstanceDown",
                           "InstanceCrashLooping",
                           "ServiceFailed",
                           "ApiProbeFailing",
                           "ApiLatencyHigh",
                           "Http5xxRatioHigh",
                           "AppErrorRateHigh",
                           "CertificateExpiringSoon",
                           "CertificateExpiring",
                           "BackupTooOld",
                           "BackupFailed",
                           "BackupUnverified",
                           "BackupUploadPending",
                           "PostgresDown",
                           "PostgresConnectionsNearMax",
                           "PostgresLongTransaction",
                           "PostgresDeadlocks",
                           "ApiErrorBudgetBurn",
                           "NotifierFailing"}) {
    const Rule* r = find(*rules, name);
    ASSERT_NE(r, nullptr) << name;
    EXPECT_TRUE(r->builtin);
    EXPECT_TRUE(r->expr);
  }
  EXPECT_TRUE(find(*rules, "DiskAlmostFull")->clear);
}

TEST(Rules, ConfigTunesReplacesDisablesAndAdds) {
  auto rules = build_rules(load(R"(
[[alert]]
name = "DiskAlmostFull"
for = "0s"
severity = "critical"
labels = { team = "ops" }

[[alert]]
name = "LoadHigh"
enabled = false

[[alert]]
name = "MemoryHigh"
expr = "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > 0.5"

[[alert]]
name = "QueueLong"
expr = "groundctl_queue_length > 100"
summary = "queue {{ $value }}"
)"));
  ASSERT_TRUE(rules) << rules.error().message;
  const Rule* disk = find(*rules, "DiskAlmostFull");
  ASSERT_NE(disk, nullptr);
  EXPECT_EQ(disk->for_ms, 0);
  EXPECT_EQ(disk->severity, "critical");
  EXPECT_EQ(disk->labels.at("team"), "ops");
  EXPECT_TRUE(disk->clear);  // Tuning keeps the built-in expression and its hysteresis.
  EXPECT_EQ(find(*rules, "LoadHigh"), nullptr);
  const Rule* mem = find(*rules, "MemoryHigh");
  EXPECT_NE(mem->expr_text.find("> 0.5"), std::string::npos);
  EXPECT_FALSE(mem->clear);  // A replaced expression does not inherit the old clear.
  EXPECT_EQ(mem->for_ms, 10 * 60 * 1000);
  const Rule* q = find(*rules, "QueueLong");
  ASSERT_NE(q, nullptr);
  EXPECT_FALSE(q->builtin);
  EXPECT_EQ(q->severity, "warning");
}

TEST(Rules, DefaultRulesOff) {
  auto rules = build_rules(
      load("[monitor]\ndefault_rules = false\n[[alert]]\nname = \"A\"\nexpr = \"x > 1\"\n"));
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].name, "A");
}

TEST(Rules, ExpressionErrorsPointIntoTheFile) {
  config::Config c = load("[[alert]]\nname = \"Bad\"\nexpr = 'rate(x)'\n");
  auto diags = check_rules(c);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 3);
  // The quote is at column 8; the expression's column 1 is file column 9.
  EXPECT_GE(diags[0].column, 9);
  EXPECT_NE(diags[0].message.find("alert \"Bad\": expr: column"), std::string::npos)
      << diags[0].message;
  EXPECT_NE(diags[0].to_string().find("groundctl.toml:3:"), std::string::npos);
  EXPECT_FALSE(build_rules(c));
}

TEST(Rules, UnknownNameWithoutExpressionIsRefused) {
  config::Config c = load("[[alert]]\nname = \"Nope\"\nfor = \"1m\"\n");
  auto diags = check_rules(c);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find("expr is required"), std::string::npos);
  EXPECT_EQ(diags[0].line, 1);
}

TEST(Rules, Templates) {
  monitor::Labels l = {{"mountpoint", "/srv"}, {"service", "api"}};
  EXPECT_EQ(expand_template("disk {{ $labels.mountpoint }} at {{ $value }}", l, 0.5),
            "disk /srv at 0.5");
  EXPECT_EQ(expand_template("{{$value | humanizePercentage}}", l, 0.8312), "83.12%");
  EXPECT_EQ(expand_template("{{ $value | humanize }}", l, 1234567), "1.235M");
  EXPECT_EQ(expand_template("{{ $value | humanize }}", l, 0.0042), "4.2m");
  EXPECT_EQ(expand_template("{{ $value | humanizeDuration }}", l, 93784), "1d 2h 3m 4s");
  EXPECT_EQ(expand_template("{{ $labels.missing }}|", l, 1), "|");
  EXPECT_EQ(expand_template("{{ .Unknown }} {{ broken", l, 1), "{{ .Unknown }} {{ broken");
}

}  // namespace
}  // namespace gc::alert

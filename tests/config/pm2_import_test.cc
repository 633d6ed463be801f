// SPDX-License-Identifier: MIT
#include "config/pm2_import.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace gc::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Pm2ImportOptions kFourCpus{4};

std::string convert(std::string_view json) {
  Result<std::string> toml = pm2_ecosystem_to_toml(json, kFourCpus);
  EXPECT_TRUE(toml) << toml.error().message;
  return toml ? *toml : "";
}

// Converts and loads the result, which must be free of diagnostics.
Config round_trip(std::string_view json) {
  std::string toml = convert(json);
  LoadOutcome outcome = load_config_from_string(toml, "/etc/groundctl/groundctl.toml");
  std::string diagnostics;
  for (const auto& d : outcome.diagnostics) diagnostics += d.to_string() + "\n";
  EXPECT_TRUE(outcome.config) << diagnostics << "--- from ---\n" << toml;
  return outcome.config ? *outcome.config : Config{};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Pm2Import, WritesPm2DefaultsExplicitly) {
  Config c = round_trip(R"({ "apps": [ { "name": "api", "script": "server.js" } ] })");
  ASSERT_EQ(c.services.size(), 1u);
  const ServiceConfig& s = c.services[0];
  EXPECT_EQ(s.name, "api");
  EXPECT_EQ(s.command, (std::vector<std::string>{"node", "server.js"}));
  EXPECT_EQ(s.instances, 1);
  EXPECT_EQ(s.stop_signal, 2);  // PM2 sends SIGINT.
  EXPECT_EQ(s.stop_timeout, milliseconds(1600));
  EXPECT_EQ(s.ready.kind, ReadyKind::kDelay);
  EXPECT_EQ(s.ready.delay, seconds(1));
  EXPECT_EQ(s.ready_timeout, milliseconds(3000));
  EXPECT_EQ(s.min_uptime, milliseconds(1000));
  EXPECT_EQ(s.max_restarts, 16);
  EXPECT_EQ(s.restart, RestartMode::kAlways);
  EXPECT_EQ(s.backoff.initial, milliseconds(100));
  EXPECT_EQ(s.backoff.max, seconds(15));
  EXPECT_FALSE(s.max_memory_bytes);
}

TEST(Pm2Import, MapsATypicalNodeApp) {
  Config c = round_trip(R"({
    "apps": [{
      "name": "orbital-backend",
      "script": "src/server.js",
      "args": "--port 3000  --verbose",
      "node_args": ["--max-old-space-size=400"],
      "cwd": "/home/orbital/apps/orbital/current",
      "instances": 2,
      "exec_mode": "cluster",
      "wait_ready": true,
      "listen_timeout": 10000,
      "kill_timeout": 5000,
      "max_memory_restart": "400M",
      "min_uptime": "10s",
      "max_restarts": 10,
      "restart_delay": 4000,
      "env": { "NODE_ENV": "development", "PORT": 3000, "DEBUG": false },
      "env_production": { "NODE_ENV": "production" }
    }]
  })");
  ASSERT_EQ(c.services.size(), 1u);
  const ServiceConfig& s = c.services[0];
  EXPECT_EQ(s.command, (std::vector<std::string>{"node", "--max-old-space-size=400",
                                                 "src/server.js", "--port", "3000", "--verbose"}));
  EXPECT_EQ(s.cwd, "/home/orbital/apps/orbital/current");
  EXPECT_EQ(s.instances, 2);
  EXPECT_EQ(s.ready.kind, ReadyKind::kIpc);
  EXPECT_EQ(s.ready_timeout, seconds(10));
  EXPECT_EQ(s.stop_timeout, seconds(5));
  EXPECT_EQ(s.max_memory_bytes, 400ull * 1024 * 1024);
  EXPECT_EQ(s.min_uptime, seconds(10));
  EXPECT_EQ(s.max_restarts, 10);
  EXPECT_EQ(s.backoff.initial, seconds(4));
  EXPECT_EQ(s.backoff.max, seconds(4));
  EXPECT_EQ(s.env, (std::map<std::string, std::string>{
                       {"NODE_ENV", "production"}, {"PORT", "3000"}, {"DEBUG", "false"}}));
}

TEST(Pm2Import, ExplainsClusterModeAndEnvProduction) {
  std::string toml = convert(R"([{ "name": "a", "script": "a.js", "exec_mode": "cluster_mode",
      "env_production": { "X": "1" }, "env_staging": { "X": "2" } }])");
  EXPECT_TRUE(contains(toml, "# PM2 exec_mode = \"cluster\": groundctl has no accept() proxy"));
  EXPECT_TRUE(contains(toml, "Set listen = [\"127.0.0.1:PORT\"] yourself"));
  EXPECT_TRUE(contains(toml, "# env: PM2's env with env_production merged over it"));
  EXPECT_TRUE(contains(toml,
                       "# not imported: env_staging = {\"X\":\"2\"} (used only with pm2 "
                       "start --env staging)"));
}

TEST(Pm2Import, MapsInstancesMaxAndNegativeCounts) {
  auto instances = [](const std::string& value) {
    Config c = round_trip(R"({ "name": "a", "script": "a.js", "instances": )" + value + " }");
    return c.services.empty() ? -1 : c.services[0].instances;
  };
  EXPECT_EQ(instances("\"max\""), 4);
  EXPECT_EQ(instances("0"), 4);
  EXPECT_EQ(instances("-1"), 3);
  EXPECT_EQ(instances("\"3\""), 3);
  EXPECT_EQ(instances("500"), 64);
  std::string toml = convert(R"({ "name": "a", "script": "a.js", "instances": "max" })");
  EXPECT_TRUE(contains(toml,
                       "instances = 4  # PM2 instances = \"max\" meant one per CPU; this "
                       "machine has 4"))
      << toml;
}

TEST(Pm2Import, ConvertsMemorySizesAsBinaryUnits) {
  auto memory = [](const std::string& value) {
    Config c =
        round_trip(R"({ "name": "a", "script": "a.js", "max_memory_restart": )" + value + " }");
    return c.services.empty() ? 0 : c.services[0].max_memory_bytes.value_or(0);
  };
  EXPECT_EQ(memory("\"1G\""), 1024ull * 1024 * 1024);
  EXPECT_EQ(memory("\"200K\""), 200ull * 1024);
  EXPECT_EQ(memory("\"400M\""), 400ull * 1024 * 1024);
  EXPECT_EQ(memory("1048576"), 1048576ull);
  EXPECT_EQ(memory("\"5000\""), 5000ull);
  EXPECT_FALSE(pm2_ecosystem_to_toml(R"({"name":"a","script":"a.js","max_memory_restart":"1T"})"));
}

TEST(Pm2Import, MapsRestartPolicies) {
  Config never = round_trip(R"({ "name": "a", "script": "a.js", "autorestart": false })");
  EXPECT_EQ(never.services.at(0).restart, RestartMode::kNever);
  Config on_failure = round_trip(R"({ "name": "a", "script": "a.js", "stop_exit_codes": [0] })");
  EXPECT_EQ(on_failure.services.at(0).restart, RestartMode::kOnFailure);
  Config exp = round_trip(R"({ "name": "a", "script": "a.js", "exp_backoff_restart_delay": 100,
                               "min_uptime": 5000 })");
  EXPECT_EQ(exp.services.at(0).backoff.initial, milliseconds(100));
  EXPECT_EQ(exp.services.at(0).backoff.max, seconds(15));
  EXPECT_EQ(exp.services.at(0).min_uptime, seconds(5));
}

TEST(Pm2Import, RunsBinariesWithoutAnInterpreter) {
  Config npm = round_trip(R"({ "name": "web", "script": "npm", "args": ["run", "start"] })");
  EXPECT_EQ(npm.services.at(0).command, (std::vector<std::string>{"npm", "run", "start"}));
  Config none = round_trip(R"({ "name": "w", "script": "./bin/w.js", "interpreter": "none" })");
  EXPECT_EQ(none.services.at(0).command, (std::vector<std::string>{"./bin/w.js"}));
  Config py = round_trip(R"({ "name": "p", "script": "w.py", "interpreter": "/usr/bin/python3",
                              "interpreter_args": "-u" })");
  EXPECT_EQ(py.services.at(0).command,
            (std::vector<std::string>{"/usr/bin/python3", "-u", "w.py"}));
}

TEST(Pm2Import, KeepsUnsupportedAndUnknownKeysAsComments) {
  std::string toml = convert(R"({ "name": "a", "script": "a.js", "watch": true,
      "ignore_watch": ["node_modules"], "cron_restart": "0 0 * * *", "out_file": "/tmp/o.log",
      "error_file": "/tmp/e.log", "log_date_format": "YYYY", "merge_logs": true,
      "source_map_support": true, "frobnicate": 7 })");
  for (const char* line :
       {"# not imported: watch = true (groundctl does not restart on file changes",
        "# not imported: ignore_watch = [\"node_modules\"] (",
        "# not imported: cron_restart = \"0 0 * * *\" (groundctl has no scheduled restarts)",
        "# not imported: out_file = \"/tmp/o.log\" (groundctl captures",
        "# not imported: error_file = \"/tmp/e.log\" (",
        "# not imported: log_date_format = \"YYYY\" (", "# not imported: merge_logs = true (",
        "# not imported: source_map_support = true (",
        "# not imported: frobnicate = 7 (unknown PM2 key)"}) {
    EXPECT_TRUE(contains(toml, line)) << line << "\n" << toml;
  }
  LoadOutcome outcome = load_config_from_string(toml, "/g.toml");
  EXPECT_TRUE(outcome.config);
}

TEST(Pm2Import, EscapesStringsAndRenamesInvalidNames) {
  Config c = round_trip(R"({ "apps": [{ "name": "Business News Watcher", "script": "a.js",
      "env": { "QUOTE": "say \"hi\"\\n", "TAB": "a\tb", "UNICODE": "h\u00e9" } }] })");
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].name, "Business-News-Watcher");
  EXPECT_EQ(c.services[0].env.at("QUOTE"), "say \"hi\"\\n");
  EXPECT_EQ(c.services[0].env.at("TAB"), "a\tb");
  EXPECT_EQ(c.services[0].env.at("UNICODE"), "h\xc3\xa9");
}

TEST(Pm2Import, ConvertsSeveralAppsAndNotesOtherTopLevelKeys) {
  std::string json = R"({
    // PM2 files often carry comments.
    "apps": [ { "name": "a", "script": "a.js" }, { "name": "b", "script": "b.js" } ],
    "deploy": { "production": { "user": "x" } }
  })";
  std::string toml = convert(json);
  EXPECT_EQ(toml.rfind("# groundctl services imported from a PM2 ecosystem.", 0), 0u);
  EXPECT_TRUE(contains(toml, "# not imported: deploy = "));
  Config c = round_trip(json);
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[1].name, "b");
}

TEST(Pm2Import, RejectsBadInput) {
  auto error_of = [](std::string_view json) {
    Result<std::string> r = pm2_ecosystem_to_toml(json);
    EXPECT_FALSE(r) << json;
    if (r) return std::string();
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    return r.error().message;
  };
  EXPECT_TRUE(contains(error_of("{ nope"), "invalid PM2 ecosystem JSON: parse error"));
  EXPECT_TRUE(contains(error_of("{ \"apps\": [] }"), "no apps in the PM2 ecosystem"));
  EXPECT_TRUE(contains(error_of("42"), "no apps"));
  EXPECT_EQ(error_of(R"([{ "script": "a.js" }])"), "app #1: missing \"name\"");
  EXPECT_EQ(error_of(R"([{ "name": "a" }])"), "app \"a\": missing \"script\"");
  EXPECT_EQ(error_of(R"([{ "name": "a", "script": "a.js", "instances": "lots" }])"),
            "app \"a\": instances: expected a number or \"max\", got \"lots\"");
  EXPECT_TRUE(contains(error_of(R"([{ "name": "a", "script": "a.js", "kill_timeout": "x" }])"),
                       "kill_timeout: expected a non-negative number"));
  EXPECT_TRUE(contains(error_of("[1]"), "app #1: expected an object"));
}

}  // namespace
}  // namespace gc::config

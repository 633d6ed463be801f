// SPDX-License-Identifier: MIT
#include "config/loader.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "base/temp_dir.h"
#include "config/listen_address.h"
#include "config/signals.h"

namespace gc::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kPath = "/etc/groundctl/groundctl.toml";

// The smallest valid service; tests append their keys after line 3.
constexpr const char* kWeb = R"([[service]]
name = "web"
command = ["node", "server.js"]
)";

LoadOutcome load(const std::string& text) { return load_config_from_string(text, kPath); }

std::string dump(const LoadOutcome& outcome) {
  std::string out;
  for (const auto& d : outcome.diagnostics) out += d.to_string() + "\n";
  return out;
}

// Exactly one diagnostic, at line:column, whose message contains `fragment`.
::testing::AssertionResult HasOneError(const std::string& text, int line, int column,
                                       const std::string& fragment) {
  LoadOutcome outcome = load(text);
  if (outcome.diagnostics.size() != 1) {
    return ::testing::AssertionFailure()
           << "expected 1 diagnostic, got " << outcome.diagnostics.size() << ":\n"
           << dump(outcome);
  }
  const Diagnostic& d = outcome.diagnostics[0];
  if (d.line != line || d.column != column || d.message.find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure() << "expected " << line << ":" << column << " with \""
                                         << fragment << "\", got " << d.to_string();
  }
  if (outcome.config) return ::testing::AssertionFailure() << "config set despite an error";
  return ::testing::AssertionSuccess();
}

std::string current_user() {
  const passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : "root";
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(ConfigLoader, LoadsTheDesignExample) {
  // design.md's example verbatim, except that user names a user this machine has.
  std::string text = R"([server]
name = "orbital-prod-1"
state_dir = "/var/lib/groundctl"      # SQLite state, staging
log_dir = "/var/log/groundctl"        # captured service output
runtime_dir = "/run/groundctl"        # control.sock

[http]
listen = "127.0.0.1:9100"             # /metrics, /api/v1/*, dashboard
# token_file = "/etc/groundctl/api.token"   # required when listen is not a loopback address

[[service]]
name = "orbital-backend"
command = ["node", "src/server.js"]
cwd = "/home/orbital/apps/orbital/current/orbital-backend"
user = "USER"                      # omitted: the daemon's own user
env_file = "/home/orbital/apps/orbital/shared/.env"
env = { NODE_ENV = "production" }
instances = 2
listen = ["127.0.0.1:3000"]           # bound once by groundctl, passed as fd 3.. (LISTEN_FDS)
ready = "ipc"                         # "ipc" (process.send('ready')), "notify" (sd_notify),
                                      # { http = "http://127.0.0.1:3000/health" }, { delay = "2s" }
ready_timeout = "30s"                 # not ready by then: the start (or reload) has failed
restart = "always"                    # "always" | "on-failure" | "never"
backoff = { initial = "100ms", max = "30s" }
min_uptime = "10s"
max_restarts = 10                     # within 5 minutes, then state "failed" (and an alert)
stop_signal = "SIGTERM"
stop_timeout = "30s"                  # graceful drain, then SIGKILL to the process group
max_memory = "400MiB"                 # RSS above this: zero-downtime replacement
logs = { max_size = "50MiB", keep = 10 }
)";
  text.replace(text.find("USER"), 4, current_user());
  LoadOutcome outcome = load(text);
  ASSERT_TRUE(outcome.config) << dump(outcome);
  const Config& c = *outcome.config;
  EXPECT_EQ(c.path, kPath);
  EXPECT_EQ(c.server.name, "orbital-prod-1");
  EXPECT_EQ(c.server.state_dir, "/var/lib/groundctl");
  EXPECT_EQ(c.server.log_dir, "/var/log/groundctl");
  EXPECT_EQ(c.server.runtime_dir, "/run/groundctl");
  EXPECT_EQ(c.http.listen, "127.0.0.1:9100");
  EXPECT_EQ(c.http.token_file, "");
  ASSERT_EQ(c.services.size(), 1u);
  const ServiceConfig& s = c.services[0];
  EXPECT_EQ(s.name, "orbital-backend");
  EXPECT_EQ(s.command, (std::vector<std::string>{"node", "src/server.js"}));
  EXPECT_EQ(s.cwd, "/home/orbital/apps/orbital/current/orbital-backend");
  EXPECT_EQ(s.user, current_user());
  EXPECT_EQ(s.env_file, "/home/orbital/apps/orbital/shared/.env");
  EXPECT_EQ(s.env, (std::map<std::string, std::string>{{"NODE_ENV", "production"}}));
  EXPECT_EQ(s.instances, 2);
  ASSERT_EQ(s.listen.size(), 1u);
  EXPECT_EQ(s.listen[0].text, "127.0.0.1:3000");
  EXPECT_EQ(s.listen[0].host, "127.0.0.1");
  EXPECT_EQ(s.listen[0].port, 3000);
  EXPECT_FALSE(s.listen[0].is_ipv6);
  EXPECT_EQ(s.ready.kind, ReadyKind::kIpc);
  EXPECT_EQ(s.ready_timeout, seconds(30));
  EXPECT_EQ(s.restart, RestartMode::kAlways);
  EXPECT_EQ(s.backoff.initial, milliseconds(100));
  EXPECT_EQ(s.backoff.max, seconds(30));
  EXPECT_EQ(s.min_uptime, seconds(10));
  EXPECT_EQ(s.max_restarts, 10);
  EXPECT_EQ(s.stop_signal, 15);
  EXPECT_EQ(s.stop_timeout, seconds(30));
  EXPECT_EQ(s.max_memory_bytes, 400ull * 1024 * 1024);
  EXPECT_EQ(s.logs.max_size_bytes, 50ull * 1024 * 1024);
  EXPECT_EQ(s.logs.keep, 10);
}

TEST(ConfigLoader, AppliesDefaultsToAMinimalService) {
  LoadOutcome outcome = load(kWeb);
  ASSERT_TRUE(outcome.config) << dump(outcome);
  ServiceConfig expected;
  expected.name = "web";
  expected.command = {"node", "server.js"};
  EXPECT_EQ(outcome.config->services.at(0), expected);
  EXPECT_EQ(outcome.config->server, ServerConfig{});
  EXPECT_EQ(outcome.config->http, HttpConfig{});
}

TEST(ConfigLoader, AcceptsAnEmptyFile) {
  LoadOutcome outcome = load("");
  ASSERT_TRUE(outcome.config) << dump(outcome);
  EXPECT_TRUE(outcome.config->services.empty());
}

TEST(ConfigLoader, ReportsUnknownKeyWithLineAndColumn) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "instaces = 2\n", 4, 1,
                          "service \"web\": unknown key \"instaces\" in [[service]] (did you "
                          "mean \"instances\"?)"));
}

TEST(ConfigLoader, ReportsUnknownKeyWithoutSuggestionWhenNothingIsClose) {
  LoadOutcome outcome = load(std::string(kWeb) + "  colour = \"red\"\n");
  ASSERT_EQ(outcome.diagnostics.size(), 1u) << dump(outcome);
  EXPECT_EQ(outcome.diagnostics[0].column, 3);
  EXPECT_EQ(outcome.diagnostics[0].message,
            "service \"web\": unknown key \"colour\" in [[service]]");
}

TEST(ConfigLoader, ReportsUnknownKeysInServerAndHttp) {
  EXPECT_TRUE(HasOneError("[server]\nstate_dri = \"/x\"\n", 2, 1,
                          "unknown key \"state_dri\" in [server] (did you mean \"state_dir\"?)"));
  EXPECT_TRUE(HasOneError("[http]\nlisten = \"127.0.0.1:1\"\ntoken = \"x\"\n", 3, 1,
                          "unknown key \"token\" in [http]"));
}

TEST(ConfigLoader, ReportsUnknownKeysInInlineTables) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "backoff = { intial = \"1s\" }\n", 4, 13,
                          "service \"web\": unknown key \"intial\" in backoff (did you mean "
                          "\"initial\"?)"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "logs = { keep = 1, max = \"1MiB\" }\n", 4, 20,
                          "unknown key \"max\" in logs"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready = { dealy = \"1s\" }\n", 4, 11,
                          "unknown key \"dealy\" in ready (did you mean \"delay\"?)"));
}

TEST(ConfigLoader, ReportsUnknownTopLevelTable) {
  EXPECT_TRUE(HasOneError("[servr]\nname = \"x\"\n", 1, 2,
                          "unknown key \"servr\" at the top level (did you mean \"server\"?)"));
  EXPECT_TRUE(HasOneError("[[services]]\nname = \"x\"\n", 1, 3, "did you mean \"service\"?"));
}

TEST(ConfigLoader, KeepsEachDiagnosticOnOneLine) {
  EXPECT_TRUE(HasOneError("\"a\\nb\" = 1\n", 1, 1, "unknown key \"a\\x0ab\" at the top level"));
}

TEST(ConfigLoader, ReportsWrongTypes) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "instances = \"2\"\n", 4, 13,
                          "service \"web\": instances: expected an integer (1..64), got string"));
  EXPECT_TRUE(
      HasOneError(std::string(kWeb) + "cwd = 5\n", 4, 7, "cwd: expected a string, got integer"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "stop_timeout = 30\n", 4, 16,
                          "stop_timeout: expected a duration string such as \"30s\", got integer"));
  EXPECT_TRUE(HasOneError("[server]\nname = true\n", 2, 8, "server.name: expected a string"));
  EXPECT_TRUE(HasOneError("server = 1\n", 1, 10, "server: expected a table ([server])"));
  EXPECT_TRUE(HasOneError("[service]\nname = \"x\"\n", 1, 1,
                          "service: expected an array of tables ([[service]]), got table"));
}

TEST(ConfigLoader, ReportsBadDurationWithTheParserMessage) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready_timeout = \"3x\"\n", 4, 17,
                          "service \"web\": ready_timeout: invalid duration \"3x\": use a number "
                          "with a unit"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "min_uptime = \"ten seconds\"\n", 4, 14,
                          "min_uptime: invalid duration \"ten seconds\""));
}

TEST(ConfigLoader, ReportsBadSizeWithTheParserMessage) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "max_memory = \"lots\"\n", 4, 14,
                          "service \"web\": max_memory: invalid size \"lots\": use a number with "
                          "a unit"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "logs = { max_size = \"0\" }\n", 4, 21,
                          "logs.max_size: must be greater than 0"));
}

TEST(ConfigLoader, ReportsDuplicateServiceNameAtTheSecond) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "\n" + kWeb, 6, 8,
                          "service \"web\": name: duplicate service name (first defined on line "
                          "2)"));
}

TEST(ConfigLoader, ReportsUserThatDoesNotExist) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "user = \"no-such-user-gc\"\n", 4, 8,
                          "user: no such user \"no-such-user-gc\""));
  EXPECT_TRUE(load(std::string(kWeb) + "user = \"" + current_user() + "\"\n").config);
}

TEST(ConfigLoader, ProvisioningLoadAcceptsAServiceUserApplyWillCreate) {
  std::string text = std::string(kWeb) + "user = \"no-such-user-gc\"\n";
  // The default (daemon, check, start) still refuses it with the same message.
  EXPECT_TRUE(HasOneError(text, 4, 8, "user: no such user \"no-such-user-gc\""));
  LoadOutcome outcome = load_config_from_string(text, kPath, {.allow_missing_users = true});
  ASSERT_TRUE(outcome.config) << outcome.diagnostics.front().to_string();
  EXPECT_EQ(outcome.config->services.at(0).user, "no-such-user-gc");
  // Only a missing user is allowed: the other rules still apply.
  outcome = load_config_from_string(std::string(kWeb) + "user = \"\"\n", kPath,
                                    {.allow_missing_users = true});
  EXPECT_FALSE(outcome.config);
}

TEST(ConfigLoader, ReportsUnparsableListenAddress) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "listen = [\"127.0.0.1:3000\", \"localhost:80\"]\n",
                          4, 29,
                          "service \"web\": listen: invalid listen address \"localhost:80\""));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "listen = [\"127.0.0.1:70000\"]\n", 4, 11,
                          "port must be 0..65535"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "listen = \"127.0.0.1:3000\"\n", 4, 10,
                          "listen: expected an array of addresses"));
}

TEST(ConfigLoader, ReportsDuplicateListenAddressAcrossServices) {
  std::string text = std::string(kWeb) + "listen = [\"127.0.0.1:3000\"]\n\n" +
                     "[[service]]\nname = \"api\"\ncommand = [\"x\"]\n" +
                     "listen = [\"0.0.0.0:3000\"]\n";
  EXPECT_TRUE(HasOneError(text, 9, 11,
                          "service \"api\": listen: \"0.0.0.0:3000\" conflicts with service "
                          "\"web\" (\"127.0.0.1:3000\", line 4)"));
}

TEST(ConfigLoader, ReportsListenAddressTwiceInOneServiceAndClashWithHttp) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "listen = [\"[::1]:80\", \"[0:0::1]:80\"]\n", 4, 23,
                          "\"[0:0::1]:80\" is listed twice in this service"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "listen = [\"127.0.0.1:9100\"]\n", 4, 11,
                          "conflicts with http.listen (\"127.0.0.1:9100\", the default)"));
  // Port 0 means "any free port", so it never clashes.
  EXPECT_TRUE(load(std::string(kWeb) + "listen = [\"127.0.0.1:0\", \"127.0.0.1:0\"]\n").config);
}

TEST(ConfigLoader, ReportsInvalidServiceNames) {
  EXPECT_TRUE(HasOneError("[[service]]\nname = \"my app\"\ncommand = [\"x\"]\n", 2, 8,
                          "service \"my app\": name: must be 1 to 64 letters, digits"));
  EXPECT_TRUE(
      HasOneError("[[service]]\nname = \"-x\"\ncommand = [\"x\"]\n", 2, 8, "name: must be"));
  EXPECT_TRUE(
      HasOneError("[[service]]\nname = \"" + std::string(65, 'a') + "\"\ncommand = [\"x\"]\n", 2, 8,
                  "name: must be"));
  EXPECT_TRUE(HasOneError("[[service]]\nname = \"all\"\ncommand = [\"x\"]\n", 2, 8,
                          "name: \"all\" is reserved"));
  EXPECT_TRUE(
      load("[[service]]\nname = \"a1_b.c-" + std::string(57, 'z') + "\"\ncommand = [\"x\"]\n")
          .config);
}

TEST(ConfigLoader, ReportsMissingNameAndCommandAtTheTableHeader) {
  EXPECT_TRUE(HasOneError("[[service]]\ncommand = [\"x\"]\n", 1, 1,
                          "service #1: missing required key \"name\""));
  EXPECT_TRUE(HasOneError("[[service]]\nname = \"web\"\n", 1, 1,
                          "service \"web\": missing required key \"command\""));
}

TEST(ConfigLoader, ReportsBadCommands) {
  std::string head = "[[service]]\nname = \"web\"\n";
  EXPECT_TRUE(HasOneError(head + "command = []\n", 3, 11, "command: must not be empty"));
  EXPECT_TRUE(HasOneError(head + "command = \"node server.js\"\n", 3, 11,
                          "command: expected a non-empty array of strings, got string"));
  EXPECT_TRUE(HasOneError(head + "command = [\"node\", 3]\n", 3, 20,
                          "command[1]: expected a string, got integer"));
  EXPECT_TRUE(HasOneError(head + "command = [\"\"]\n", 3, 12, "command[0]: the program"));
}

TEST(ConfigLoader, ChecksIntegerRanges) {
  EXPECT_TRUE(
      HasOneError(std::string(kWeb) + "instances = 0\n", 4, 13, "instances: must be 1..64, got 0"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "instances = 65\n", 4, 13, "must be 1..64"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "max_restarts = -1\n", 4, 16,
                          "max_restarts: must be >= 0, got -1"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "logs = { keep = 1001 }\n", 4, 17,
                          "logs.keep: must be 0..1000, got 1001"));
  EXPECT_TRUE(
      load(std::string(kWeb) + "instances = 64\nmax_restarts = 0\nlogs = { keep = 0 }\n").config);
}

TEST(ConfigLoader, MapsStopSignalNamesToNumbers) {
  for (const auto& [name, signo] : std::vector<std::pair<std::string, int>>{{"SIGTERM", 15},
                                                                            {"SIGINT", 2},
                                                                            {"QUIT", 3},
                                                                            {"SIGHUP", 1},
                                                                            {"USR1", 10},
                                                                            {"SIGUSR2", 12},
                                                                            {"KILL", 9}}) {
    LoadOutcome outcome = load(std::string(kWeb) + "stop_signal = \"" + name + "\"\n");
    ASSERT_TRUE(outcome.config) << name << dump(outcome);
    EXPECT_EQ(outcome.config->services[0].stop_signal, signo) << name;
  }
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "stop_signal = \"SIGSTOP\"\n", 4, 15,
                          "stop_signal: unknown signal \"SIGSTOP\": use one of SIGTERM, SIGINT"));
  EXPECT_EQ(stop_signal_name(2), "SIGINT");
  EXPECT_EQ(stop_signal_name(64), "signal 64");
}

TEST(ConfigLoader, ReportsUnknownRestartMode) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "restart = \"sometimes\"\n", 4, 11,
                          "restart: expected \"always\", \"on-failure\" or \"never\", got "
                          "\"sometimes\""));
  LoadOutcome outcome = load(std::string(kWeb) + "restart = \"on-failure\"\n");
  ASSERT_TRUE(outcome.config) << dump(outcome);
  EXPECT_EQ(outcome.config->services[0].restart, RestartMode::kOnFailure);
}

TEST(ConfigLoader, ParsesEveryReadyForm) {
  auto ready_of = [](const std::string& value) {
    LoadOutcome outcome = load(std::string(kWeb) + "ready = " + value + "\n");
    EXPECT_TRUE(outcome.config) << dump(outcome);
    return outcome.config ? outcome.config->services[0].ready : ReadySpec{};
  };
  EXPECT_EQ(ready_of("\"ipc\"").kind, ReadyKind::kIpc);
  EXPECT_EQ(ready_of("\"notify\"").kind, ReadyKind::kNotify);
  ReadySpec http = ready_of("{ http = \"http://127.0.0.1:3000/health\" }");
  EXPECT_EQ(http.kind, ReadyKind::kHttp);
  EXPECT_EQ(http.http_url, "http://127.0.0.1:3000/health");
  ReadySpec delay = ready_of("{ delay = \"2s\" }");
  EXPECT_EQ(delay.kind, ReadyKind::kDelay);
  EXPECT_EQ(delay.delay, seconds(2));
}

TEST(ConfigLoader, ReportsBadReadyNamingTheChoices) {
  const std::string choices =
      "ready: expected \"ipc\", \"notify\", { http = \"http://...\" } or { delay = \"2s\" }";
  EXPECT_TRUE(
      HasOneError(std::string(kWeb) + "ready = \"tcp\"\n", 4, 9, choices + ", got \"tcp\""));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready = 5\n", 4, 9, choices));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready = {}\n", 4, 9, choices));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready = { http = \"http://a/\", delay = \"1s\" }\n",
                          4, 9, ", not both"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready = { http = \"https://a/\" }\n", 4, 18,
                          "ready.http: unsupported URL \"https://a/\": only http:// is supported"));
  // The probe uses no DNS and a bad port would probe nothing: both are config errors.
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready = { http = \"http://app.internal/health\" }\n",
                          4, 18, "the host must be an IP address or localhost"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready = { http = \"http://127.0.0.1:3000x/\" }\n", 4,
                          18, "port must be a number from 1 to 65535"));
  // A health URL on the service's own shared socket would be answered by the old instance.
  EXPECT_TRUE(
      HasOneError("[[service]]\nname = \"web\"\ncommand = [\"node\"]\nlisten = [\"0.0.0.0:3000\"]\n"
                  "ready = { http = \"http://localhost:3000/health\" }\n",
                  5, 9, "is the service's own listen address \"0.0.0.0:3000\""));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready = { delay = \"soon\" }\n", 4, 19,
                          "ready.delay: invalid duration"));
}

TEST(ConfigLoader, RequiresPositiveReadyTimeout) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "ready_timeout = \"0\"\n", 4, 17,
                          "ready_timeout: must be greater than 0"));
}

TEST(ConfigLoader, ChecksBackoff) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "backoff = { initial = \"0\" }\n", 4, 23,
                          "backoff.initial: must be greater than 0"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "backoff = { initial = \"1m\", max = \"30s\" }\n", 4,
                          23, "backoff.initial (1m) must not exceed backoff.max (30s)"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "backoff = { max = \"50ms\" }\n", 4, 19,
                          "backoff.initial (100ms) must not exceed backoff.max (50ms)"));
  EXPECT_TRUE(
      HasOneError(std::string(kWeb) + "backoff = \"1s\"\n", 4, 11, "backoff: expected a table"));
}

TEST(ConfigLoader, RequiresTokenFileForNonLoopbackHttp) {
  EXPECT_TRUE(HasOneError("[http]\nlisten = \"0.0.0.0:9100\"\n", 2, 10,
                          "http.listen: \"0.0.0.0:9100\" is not a loopback address: set "
                          "http.token_file"));
  EXPECT_TRUE(HasOneError("[http]\nlisten = \"nowhere\"\n", 2, 10,
                          "http.listen: invalid listen address \"nowhere\""));
  LoadOutcome outcome = load("[http]\nlisten = \"0.0.0.0:9100\"\ntoken_file = \"api.token\"\n");
  ASSERT_TRUE(outcome.config) << dump(outcome);
  EXPECT_EQ(outcome.config->http.token_file, "/etc/groundctl/api.token");
  EXPECT_TRUE(load("[http]\nlisten = \"[::1]:9100\"\n").config);
  EXPECT_TRUE(load("[http]\nlisten = \"127.0.0.2:9100\"\n").config);
}

TEST(ConfigLoader, ResolvesRelativePathsAgainstTheConfigDirectory) {
  std::string text = R"([server]
state_dir = "state"
log_dir = "./logs/"
runtime_dir = "../run/groundctl"

[[service]]
name = "web"
command = ["node", "server.js"]
cwd = "app"
env_file = "app/../shared/.env"
)";
  LoadOutcome outcome = load(text);
  ASSERT_TRUE(outcome.config) << dump(outcome);
  const Config& c = *outcome.config;
  EXPECT_EQ(c.server.state_dir, "/etc/groundctl/state");
  EXPECT_EQ(c.server.log_dir, "/etc/groundctl/logs");
  EXPECT_EQ(c.server.runtime_dir, "/etc/run/groundctl");
  EXPECT_EQ(c.services[0].cwd, "/etc/groundctl/app");
  EXPECT_EQ(c.services[0].env_file, "/etc/groundctl/shared/.env");
  // command arguments are not paths of ours: they stay as written.
  EXPECT_EQ(c.services[0].command[1], "server.js");
}

TEST(ConfigLoader, ResolvesAgainstTheWorkingDirectoryForARelativeConfigPath) {
  LoadOutcome outcome = load_config_from_string("[server]\nstate_dir = \"s\"\n", "conf/g.toml");
  ASSERT_TRUE(outcome.config) << dump(outcome);
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  std::string base = std::string(cwd) == "/" ? "" : cwd;
  EXPECT_EQ(outcome.config->server.state_dir, base + "/conf/s");
  EXPECT_EQ(outcome.config->path, base + "/conf/g.toml");
}

TEST(ConfigLoader, RejectsEmptyAndTildePaths) {
  EXPECT_TRUE(
      HasOneError("[server]\nstate_dir = \"\"\n", 2, 13, "server.state_dir: must not be empty"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "cwd = \"~/app\"\n", 4, 7,
                          "cwd: \"~\" is not expanded: write the absolute path"));
}

TEST(ConfigLoader, ChecksEnvNamesAndValues) {
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "env = { PORT = 3000 }\n", 4, 16,
                          "env.PORT: expected a string, got integer (quote it: PORT = \"...\")"));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "env = { \"A-B\" = \"x\" }\n", 4, 9,
                          "env: invalid variable name \"A-B\""));
  EXPECT_TRUE(HasOneError(std::string(kWeb) + "env = [\"A=1\"]\n", 4, 7, "env: expected a table"));
}

TEST(ConfigLoader, ReportsEveryErrorInOnePassInFileOrder) {
  std::string text = R"([server]
state_dri = "/x"

[http]
listen = "0.0.0.0:1"

[[service]]
name = "web"
command = []
instances = 0
ready_timeout = "3x"

[[service]]
name = "web"
command = ["x"]
stop_signal = "SIGFOO"
user = "no-such-user-gc"
)";
  LoadOutcome outcome = load(text);
  EXPECT_FALSE(outcome.config);
  std::vector<std::pair<int, int>> where;
  for (const auto& d : outcome.diagnostics) where.emplace_back(d.line, d.column);
  EXPECT_EQ(where, (std::vector<std::pair<int, int>>{
                       {2, 1}, {5, 10}, {9, 11}, {10, 13}, {11, 17}, {14, 8}, {16, 15}, {17, 8}}))
      << dump(outcome);
}

TEST(ConfigLoader, ReportsTomlSyntaxErrorsWithPosition) {
  LoadOutcome outcome = load("a = 1\nb = [1,\n  2\nc = 3\n");
  ASSERT_EQ(outcome.diagnostics.size(), 1u);
  EXPECT_EQ(outcome.diagnostics[0].line, 4);
  EXPECT_EQ(outcome.diagnostics[0].column, 1);
  EXPECT_EQ(outcome.diagnostics[0].message.rfind("invalid TOML: ", 0), 0u)
      << outcome.diagnostics[0].message;
  LoadOutcome dup = load(std::string(kWeb) + "name = \"again\"\n");
  ASSERT_EQ(dup.diagnostics.size(), 1u);
  EXPECT_EQ(dup.diagnostics[0].line, 4);
}

TEST(ConfigLoader, FormatsDiagnostics) {
  Diagnostic d{"g.toml", 3, 7, "bad"};
  EXPECT_EQ(d.to_string(), "g.toml:3:7: bad");
}

TEST(ConfigLoader, ReportsAnUnreadableFileAsOneDiagnostic) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string missing = dir->file("missing.toml");
  LoadOutcome outcome = load_config(missing);
  ASSERT_EQ(outcome.diagnostics.size(), 1u);
  EXPECT_EQ(outcome.diagnostics[0].to_string(),
            missing + ":0:0: cannot read: No such file or directory");
  LoadOutcome directory = load_config(dir->path());
  ASSERT_EQ(directory.diagnostics.size(), 1u);
  EXPECT_NE(directory.diagnostics[0].message.find("cannot read: "), std::string::npos);
}

TEST(ConfigLoader, LoadsFromAFileAndJoinsErrors) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->file("groundctl.toml");
  write_file(path, std::string(kWeb) + "cwd = \"app\"\n");
  Result<Config> config = load_config_or_error(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->services[0].cwd, dir->path() + "/app");
  EXPECT_EQ(config->path, path);

  write_file(path, std::string(kWeb) + "instaces = 1\nrestart = \"x\"\n");
  Result<Config> bad = load_config_or_error(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidConfig);
  EXPECT_EQ(bad.error().message.find(path + ":4:1: "), 0u) << bad.error().message;
  EXPECT_NE(bad.error().message.find("\n" + path + ":5:11: "), std::string::npos);
}

TEST(ConfigLoader, FindsTheControlSocketEvenInAnInvalidConfig) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->file("groundctl.toml");
  EXPECT_EQ(control_socket_path_lenient(path), "/run/groundctl/control.sock");
  write_file(path, "[server]\nruntime_dir = \"/tmp/gc-run\"\nbogus = 1\n[[service]]\n");
  EXPECT_EQ(control_socket_path_lenient(path), "/tmp/gc-run/control.sock");
  write_file(path, "[server]\nruntime_dir = \"run\"\n");
  EXPECT_EQ(control_socket_path_lenient(path), dir->path() + "/run/control.sock");
  write_file(path, "[server]\nruntime_dir = 5\n");
  EXPECT_EQ(control_socket_path_lenient(path), "/run/groundctl/control.sock");
  write_file(path, "[server\nruntime_dir = \"/x\"\n");
  EXPECT_EQ(control_socket_path_lenient(path), "/run/groundctl/control.sock");
  // A half-edited file that is not even TOML still leads to the daemon, so that `config reload`
  // can show its errors.
  write_file(path,
             "[server]\nruntime_dir = \"/tmp/gc-run2\"\n[[service]]\nname = \"a\"\nname = \"b\"\n");
  EXPECT_EQ(control_socket_path_lenient(path), "/tmp/gc-run2/control.sock");
  write_file(path, "[server]\n  runtime_dir='rel'\n[http]\nruntime_dir = \"/no\"\nbroken = [\n");
  EXPECT_EQ(control_socket_path_lenient(path), dir->path() + "/rel/control.sock");
}

TEST(ParseListenAddress, AcceptsNumericIpv4AndBracketedIpv6) {
  auto v4 = parse_listen_address("0.0.0.0:80");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 80);
  EXPECT_FALSE(v4->is_ipv6);
  EXPECT_TRUE(is_wildcard(*v4));
  auto v6 = parse_listen_address("[0:0::1]:65535");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->text, "[0:0::1]:65535");
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
  EXPECT_TRUE(v6->is_ipv6);
  EXPECT_TRUE(is_loopback(*v6));
  EXPECT_TRUE(parse_listen_address("127.0.0.1:0"));
}

TEST(ParseListenAddress, RejectsEverythingElse) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "localhost:80", "1.2.3:80",
                          "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o", "::1:80", "[::1]80",
                          "[::1:80", "[]:80", "[127.0.0.1]:80", "127.0.0.1:000080"}) {
    auto r = parse_listen_address(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_NE(r.error().message.find("127.0.0.1:3000"), std::string::npos) << r.error().message;
  }
}

TEST(ParseListenAddress, KnowsLoopbackAndConflicts) {
  auto a = *parse_listen_address("127.0.0.1:3000");
  auto b = *parse_listen_address("0.0.0.0:3000");
  auto c = *parse_listen_address("127.0.0.1:3001");
  auto d = *parse_listen_address("[::]:3000");
  EXPECT_TRUE(is_loopback(a));
  EXPECT_FALSE(is_loopback(b));
  EXPECT_TRUE(addresses_conflict(a, b));
  EXPECT_FALSE(addresses_conflict(a, c));
  EXPECT_FALSE(addresses_conflict(a, d));
}

}  // namespace
}  // namespace gc::config

namespace gc::config {
namespace {

TEST(ConfigLoader, NeverEchoesAnEnvValueInAnError) {
  LoadOutcome outcome = load_config_from_string(
      "[[service]]\nname = \"web\"\ncommand = [\"node\"]\nenv = { TOKEN = 987654321 }\n",
      "/etc/g.toml");
  ASSERT_EQ(outcome.diagnostics.size(), 1u);
  EXPECT_EQ(outcome.diagnostics[0].message.find("987654321"), std::string::npos)
      << outcome.diagnostics[0].message;
}

}  // namespace
}  // namespace gc::config

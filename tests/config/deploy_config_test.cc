// SPDX-License-Identifier: MIT
// The [deploy] and [[notify]] sections of the loader.
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

constexpr const char* kService = R"(
[[service]]
name = "orbital-backend"
command = ["node", "src/server.js"]
cwd = "/home/orbital/apps/orbital/current/orbital-backend"
listen = ["127.0.0.1:3000"]
)";

// Diagnostics joined; the test checks a fragment is in them and the config was refused.
std::string errors_of(const std::string& text) {
  LoadOutcome o = load(text);
  EXPECT_FALSE(o.config.has_value()) << "accepted:\n" << text;
  return dump(o);
}

TEST(DeployConfig, LoadsTheIssueExample) {
  LoadOutcome o = load(std::string(kService) + R"(
[backup]
repo = "/var/backups/groundctl"
recipients = ["age1qdlc6lmyz8cstd39kyh9dmynvl60zzwdmva4rw5amzhnf4vxw3yq3068rc"]
paths = ["/srv/media"]

[deploy]
service = "orbital-backend"
source = "https://github.com/alexg-g/Orbital-Desktop.git"
subdir = "orbital-backend"
root = "/home/orbital/apps/orbital"
shared = [".env", "uploads", "logs"]
build = [["npm", "ci", "--omit=dev"]]
migrate = [["npm", "run", "migrate", "up"]]
backup_before_migrate = true
health = { http = "http://127.0.0.1:3000/health", watch = "60s" }
keep = 5
)");
  ASSERT_TRUE(o.config) << dump(o);
  const DeployConfig& d = *o.config->deploy;
  EXPECT_EQ(d.service, "orbital-backend");
  EXPECT_EQ(d.source, "https://github.com/alexg-g/Orbital-Desktop.git");
  EXPECT_EQ(d.subdir, "orbital-backend");
  EXPECT_EQ(d.root, "/home/orbital/apps/orbital");
  EXPECT_EQ(d.shared, (std::vector<std::string>{".env", "uploads", "logs"}));
  ASSERT_EQ(d.build.size(), 1u);
  EXPECT_EQ(d.build[0], (std::vector<std::string>{"npm", "ci", "--omit=dev"}));
  ASSERT_EQ(d.migrate.size(), 1u);
  EXPECT_TRUE(d.backup_before_migrate);
  EXPECT_EQ(d.health.http, "http://127.0.0.1:3000/health");
  EXPECT_EQ(d.health.watch, std::chrono::seconds(60));
  EXPECT_EQ(d.keep, 5);
}

TEST(DeployConfig, AppliesDefaultsAndResolvesLocalSources) {
  LoadOutcome o = load(std::string(kService) + R"(
[deploy]
service = "orbital-backend"
source = "repos/app.git"
root = "/home/orbital/apps/orbital"
)");
  ASSERT_TRUE(o.config) << dump(o);
  const DeployConfig& d = *o.config->deploy;
  EXPECT_EQ(d.source, "/etc/groundctl/repos/app.git");
  EXPECT_TRUE(d.subdir.empty());
  EXPECT_TRUE(d.build.empty());
  EXPECT_EQ(d.keep, 5);
  EXPECT_EQ(d.health.watch, std::chrono::seconds(30));
  // scp-like sources stay as written.
  LoadOutcome scp = load(std::string(kService) + R"(
[deploy]
service = "orbital-backend"
source = "git@github.com:org/app.git"
root = "/home/orbital/apps/orbital"
)");
  ASSERT_TRUE(scp.config) << dump(scp);
  EXPECT_EQ(scp.config->deploy->source, "git@github.com:org/app.git");
}

TEST(DeployConfig, RefusesAServiceThatDoesNotRunFromCurrent) {
  std::string e = errors_of(R"(
[[service]]
name = "web"
command = ["node", "server.js"]
cwd = "/srv/web"
[deploy]
service = "web"
source = "/srv/app.git"
root = "/srv/releases"
)");
  EXPECT_NE(e.find("deploy.service"), std::string::npos) << e;
  EXPECT_NE(e.find("set its cwd to \"/srv/releases/current\""), std::string::npos) << e;
  // /srv/releases/currentX is not inside /srv/releases/current.
  e = errors_of(R"(
[[service]]
name = "web"
command = ["node", "server.js"]
cwd = "/srv/releases/currentX"
[deploy]
service = "web"
source = "/srv/app.git"
root = "/srv/releases"
)");
  EXPECT_NE(e.find("which a deploy would not change"), std::string::npos) << e;
}

TEST(DeployConfig, RefusesUnknownServicesAndMissingKeys) {
  std::string e = errors_of(std::string(kService) + "[deploy]\nservice = \"api\"\n");
  EXPECT_NE(e.find("no [[service]] named \"api\" (services: orbital-backend)"), std::string::npos)
      << e;
  EXPECT_NE(e.find("missing required key \"deploy.source\""), std::string::npos) << e;
  EXPECT_NE(e.find("missing required key \"deploy.root\""), std::string::npos) << e;
}

TEST(DeployConfig, RefusesUnsafePathsAndSteps) {
  std::string base = std::string(kService) +
                     "[deploy]\nservice = \"orbital-backend\"\nsource = \"/srv/a.git\"\n"
                     "root = \"/home/orbital/apps/orbital\"\n";
  std::string e = errors_of(base + "subdir = \"../etc\"\n");
  EXPECT_NE(e.find("deploy.subdir: must stay inside the release"), std::string::npos) << e;
  e = errors_of(base + "shared = [\"/etc/passwd\"]\n");
  EXPECT_NE(e.find("deploy.shared: must be relative"), std::string::npos) << e;
  e = errors_of(base + "shared = [\"logs/\", \"logs\"]\n");
  EXPECT_NE(e.find("is listed twice"), std::string::npos) << e;
  e = errors_of(base + "build = [\"npm ci\"]\n");
  EXPECT_NE(e.find("deploy.build[0]: expected a non-empty array of strings"), std::string::npos)
      << e;
  e = errors_of(base + "keep = 1\n");
  EXPECT_NE(e.find("deploy.keep: must be 2..1000"), std::string::npos) << e;
  e = errors_of(base + "health = { http = \"http://127.0.0.1:3000/h\", path = \"/h\" }\n");
  EXPECT_NE(e.find("not both"), std::string::npos) << e;
}

TEST(DeployConfig, MigrationsNeedABackupUnlessTurnedOff) {
  std::string base = std::string(kService) +
                     "[deploy]\nservice = \"orbital-backend\"\nsource = \"/srv/a.git\"\n"
                     "root = \"/home/orbital/apps/orbital\"\nmigrate = [[\"npm\", \"run\", "
                     "\"migrate\"]]\n";
  std::string e = errors_of(base);
  EXPECT_NE(e.find("there is no [backup] section"), std::string::npos) << e;
  LoadOutcome o = load(base + "backup_before_migrate = false\n");
  EXPECT_TRUE(o.config) << dump(o);
}

TEST(DeployConfig, NeverEchoesASourceWithAToken) {
  std::string e = errors_of(std::string(kService) +
                            "[deploy]\nservice = \"orbital-backend\"\nroot = \"/srv/r\"\n"
                            "source = \"https://bot:ghp_SECRET123@github.com/o/a.git\"\n");
  EXPECT_NE(e.find("must not hold a password or token"), std::string::npos) << e;
  EXPECT_EQ(e.find("ghp_SECRET123"), std::string::npos) << e;
}

TEST(NotifyConfig, LoadsWebhookAndExecTargets) {
  LoadOutcome o = load(R"(
[[notify]]
type = "webhook"
url = "https://hooks.slack.com/services/T0/B0/xyz"
[[notify]]
name = "pager"
type = "exec"
command = ["/usr/local/bin/page", "--team", "ops"]
send_resolved = false
timeout = "3s"
)");
  ASSERT_TRUE(o.config) << dump(o);
  ASSERT_EQ(o.config->notify.size(), 2u);
  EXPECT_EQ(o.config->notify[0].name, "webhook-1");
  EXPECT_EQ(o.config->notify[0].type, NotifyType::kWebhook);
  EXPECT_TRUE(o.config->notify[0].send_resolved);
  EXPECT_EQ(o.config->notify[1].name, "pager");
  EXPECT_EQ(o.config->notify[1].type, NotifyType::kExec);
  EXPECT_EQ(o.config->notify[1].command.size(), 3u);
  EXPECT_FALSE(o.config->notify[1].send_resolved);
  EXPECT_EQ(o.config->notify[1].timeout, std::chrono::seconds(3));
}

TEST(NotifyConfig, RefusesBadTargetsWithoutEchoingTheUrl) {
  std::string e = errors_of("[[notify]]\ntype = \"webhook\"\nurl = \"ftp://x/SECRETPATH\"\n");
  EXPECT_NE(e.find("expected an http:// or https:// URL"), std::string::npos) << e;
  EXPECT_EQ(e.find("SECRETPATH"), std::string::npos) << e;
  e = errors_of("[[notify]]\ntype = \"sms\"\n");
  EXPECT_NE(e.find("expected \"webhook\", \"slack\", \"email\", \"alertmanager\" or \"exec\""),
            std::string::npos)
      << e;
  e = errors_of("[[notify]]\ntype = \"exec\"\n");
  EXPECT_NE(e.find("missing required key \"command\""), std::string::npos) << e;
  e = errors_of(
      "[[notify]]\nname = \"a\"\ntype = \"exec\"\ncommand = [\"true\"]\n"
      "[[notify]]\nname = \"a\"\ntype = \"exec\"\ncommand = [\"true\"]\n");
  EXPECT_NE(e.find("is also the name of notify #1"), std::string::npos) << e;
}

}  // namespace
}  // namespace gc::config

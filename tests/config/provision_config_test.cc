// SPDX-License-Identifier: MIT
// The [nginx], [firewall], [ssh] and [fail2ban] sections of the loader.
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

// The service is 4 lines (with the leading newline), so section text starts on line 5.
constexpr const char* kService = R"(
[[service]]
name = "orbital-backend"
command = ["node", "src/server.js"]
listen = ["127.0.0.1:3000"]
)";

// Expects exactly one error, at line:col, containing `text`. Lines count from the start of
// `body`, which is appended after kService (5 lines).
::testing::AssertionResult one_error(const std::string& body, int line, int column,
                                     const std::string& text) {
  LoadOutcome o = load(std::string(kService) + body);
  if (o.config) return ::testing::AssertionFailure() << "accepted:\n" << body;
  if (o.diagnostics.size() != 1) return ::testing::AssertionFailure() << dump(o);
  const Diagnostic& d = o.diagnostics[0];
  std::string got = dump(o);
  if (d.line != line + 5 || d.column != column || d.message.find(text) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "want " << line + 5 << ":" << column << " \"" << text << "\", got " << got;
  }
  return ::testing::AssertionSuccess();
}

constexpr const char* kIssueExample = R"(
[nginx]
domain = "api.orbitl.org"
upstream = "orbital-backend"                 # proxied to that service's listen sockets
websocket = ["/v1/websocket"]
client_max_body_size = "500m"
rate_limit = { rate = "10r/s", burst = 20 }  # per client address, answered with 429
[[nginx.limit]]                              # stricter limits for auth endpoints
paths = ["/api/login", "/api/signup"]
rate = "10r/m"
burst = 5
[[nginx.static]]
location = "/static/"
root = "/var/www/orbital/static"

[firewall]
allow = ["22/tcp", "80/tcp", "443/tcp"]      # all other incoming traffic denied; SSH rate-limited

[ssh]
allow_users = ["orbital"]                    # key-only login, no root login

[fail2ban]
jails = ["sshd", "nginx-limit-req", "nginx-botsearch"]
)";

TEST(ProvisionConfig, LoadsTheIssueExample) {
  LoadOutcome o = load(std::string(kService) + kIssueExample);
  ASSERT_TRUE(o.config) << dump(o);
  ASSERT_TRUE(o.config->nginx);
  const NginxConfig& n = *o.config->nginx;
  EXPECT_EQ(n.domain, "api.orbitl.org");
  EXPECT_EQ(n.upstream, "orbital-backend");
  EXPECT_EQ(n.websocket, std::vector<std::string>{"/v1/websocket"});
  EXPECT_EQ(n.client_max_body_size, "500m");
  EXPECT_EQ(n.rate, "10r/s");
  EXPECT_EQ(n.burst, 20);
  ASSERT_EQ(n.limits.size(), 1u);
  EXPECT_EQ(n.limits[0].paths, (std::vector<std::string>{"/api/login", "/api/signup"}));
  EXPECT_EQ(n.limits[0].rate, "10r/m");
  EXPECT_EQ(n.limits[0].burst, 5);
  ASSERT_EQ(n.statics.size(), 1u);
  EXPECT_EQ(n.statics[0].location, "/static/");
  EXPECT_EQ(n.statics[0].root, "/var/www/orbital/static");
  EXPECT_EQ(n.site_file, "/etc/nginx/conf.d/groundctl.conf");
  EXPECT_TRUE(n.certificate.empty());
  ASSERT_TRUE(o.config->firewall);
  EXPECT_EQ(o.config->firewall->allow, (std::vector<std::string>{"22/tcp", "80/tcp", "443/tcp"}));
  EXPECT_TRUE(o.config->firewall->limit_ssh);
  ASSERT_TRUE(o.config->ssh);
  EXPECT_EQ(o.config->ssh->allow_users, std::vector<std::string>{"orbital"});
  EXPECT_EQ(o.config->ssh->port, 22);
  EXPECT_EQ(o.config->ssh->max_auth_tries, 3);
  ASSERT_TRUE(o.config->fail2ban);
  EXPECT_EQ(o.config->fail2ban->jails,
            (std::vector<std::string>{"sshd", "nginx-limit-req", "nginx-botsearch"}));
  EXPECT_EQ(o.config->fail2ban->sshd_backend, "systemd");
}

TEST(ProvisionConfig, SectionsAreOptional) {
  LoadOutcome o = load(kService);
  ASSERT_TRUE(o.config) << dump(o);
  EXPECT_FALSE(o.config->nginx);
  EXPECT_FALSE(o.config->firewall);
  EXPECT_FALSE(o.config->ssh);
  EXPECT_FALSE(o.config->fail2ban);
}

TEST(ProvisionConfig, ReadsEveryOptionalKey) {
  LoadOutcome o = load(std::string(kService) + R"(
[nginx]
domain = "example.org"
upstream = "orbital-backend"
rate_limit = { rate = "" }
client_max_body_size = "1G"
certificate = "/etc/ssl/site.pem"
certificate_key = "/etc/ssl/site.key"
acme_root = "/srv/acme"
[firewall]
allow = ["2222/tcp", "443/tcp", "51820/udp"]
limit_ssh = false
[ssh]
allow_users = ["orbital", "deploy_1"]
port = 2222
max_auth_tries = 2
[fail2ban]
jails = ["sshd"]
sshd_backend = "auto"
sshd_log = "/var/log/auth.log"
maxretry = 3
findtime = "5m"
bantime = "1d"
)");
  ASSERT_TRUE(o.config) << dump(o);
  EXPECT_EQ(o.config->nginx->rate, "");
  EXPECT_EQ(o.config->nginx->burst, 20);
  EXPECT_EQ(o.config->nginx->client_max_body_size, "1G");
  EXPECT_EQ(o.config->nginx->certificate, "/etc/ssl/site.pem");
  EXPECT_EQ(o.config->nginx->acme_root, "/srv/acme");
  EXPECT_FALSE(o.config->firewall->limit_ssh);
  EXPECT_EQ(o.config->ssh->port, 2222);
  EXPECT_EQ(o.config->ssh->max_auth_tries, 2);
  EXPECT_EQ(o.config->fail2ban->sshd_log, "/var/log/auth.log");
  EXPECT_EQ(o.config->fail2ban->bantime, std::chrono::hours(24));
  EXPECT_EQ(o.config->fail2ban->findtime, std::chrono::minutes(5));
}

TEST(ProvisionConfig, RefusesBadNginx) {
  const std::string head = "[nginx]\ndomain = \"api.orbitl.org\"\nupstream = \"orbital-backend\"\n";
  EXPECT_TRUE(one_error("[nginx]\ndomain = \"api_orbitl org\"\nupstream = \"orbital-backend\"\n", 2,
                        10, "nginx.domain: \"api_orbitl org\" is not a host name"));
  EXPECT_TRUE(one_error("[nginx]\nupstream = \"orbital-backend\"\n", 1, 1,
                        "missing required key \"nginx.domain\""));
  EXPECT_TRUE(one_error("[nginx]\ndomain = \"a.org\"\nupstream = \"web\"\n", 3, 12,
                        "nginx.upstream: no [[service]] is named \"web\""));
  EXPECT_TRUE(
      one_error("[[service]]\nname = \"worker\"\ncommand = [\"x\"]\n[nginx]\ndomain = \"a.org\"\n"
                "upstream = \"worker\"\n",
                6, 12, "has no listen address to proxy to"));
  EXPECT_TRUE(one_error(head + "websocket = [\"v1/websocket\"]\n", 4, 14,
                        "nginx.websocket: \"v1/websocket\" must start with '/'"));
  EXPECT_TRUE(one_error(head + "websocket = [\"/a;b\"]\n", 4, 14, "must not contain spaces"));
  EXPECT_TRUE(one_error(head + "client_max_body_size = \"500MB\"\n", 4, 24,
                        "nginx.client_max_body_size: expected an nginx size"));
  EXPECT_TRUE(one_error(head + "rate_limit = { rate = \"10/s\" }\n", 4, 23,
                        "nginx.rate_limit.rate: expected requests per second or minute"));
  EXPECT_TRUE(one_error(head + "rate_limit = { rate = \"10r/s\", brust = 3 }\n", 4, 32,
                        "unknown key \"brust\""));
  EXPECT_TRUE(
      one_error(head + "rate_limit = \"10r/s\"\n", 4, 14, "nginx.rate_limit: expected a table"));
  EXPECT_TRUE(one_error(head + "colour = 1\n", 4, 1, "unknown key \"colour\" in [nginx]"));
  EXPECT_TRUE(one_error(head + "[[nginx.limit]]\npaths = [\"/login\"]\nrate = \"5r/h\"\n", 6, 8,
                        "nginx.limit #1: rate: expected requests per second or minute"));
  EXPECT_TRUE(one_error(head + "[[nginx.limit]]\nrate = \"5r/m\"\n", 4, 1,
                        "missing required key \"paths\""));
  EXPECT_TRUE(one_error(head + "[[nginx.limit]]\npaths = [\"/login\"]\nburst = -1\n", 6, 9,
                        "nginx.limit #1: burst: must be 0..100000"));
  EXPECT_TRUE(one_error(head + "websocket = [\"/ws\"]\n[[nginx.limit]]\npaths = [\"/ws\"]\n", 6, 10,
                        "nginx.limit #1: paths: \"/ws\" is already used by websocket"));
  EXPECT_TRUE(one_error(head + "[[nginx.static]]\nlocation = \"/static\"\nroot = \"/srv/s\"\n", 5,
                        12, "nginx.static #1: location: \"/static\" must end with '/'"));
  EXPECT_TRUE(one_error(head + "[[nginx.static]]\nlocation = \"/s/\"\nroot = \"srv/s\"\n", 6, 8,
                        "nginx.static #1: root: must be an absolute path"));
  EXPECT_TRUE(one_error(head + "certificate = \"/etc/ssl/a.pem\"\n", 4, 15,
                        "set both certificate and certificate_key"));
}

TEST(ProvisionConfig, RefusesBadFirewall) {
  EXPECT_TRUE(one_error("[firewall]\nallow = [\"22/tcp\", \"80\"]\n", 2, 20,
                        "firewall.allow: \"80\" is not PORT/tcp or PORT/udp"));
  EXPECT_TRUE(one_error("[firewall]\nallow = [\"22/tcp\", \"70000/tcp\"]\n", 2, 20,
                        "\"70000/tcp\" is not PORT/tcp"));
  EXPECT_TRUE(one_error("[firewall]\nallow = [\"22/tcp\", \"0/udp\"]\n", 2, 20,
                        "\"0/udp\" is not PORT/tcp"));
  EXPECT_TRUE(one_error("[firewall]\nallow = [\"22/tcp\", \"22/tcp\"]\n", 2, 20,
                        "firewall.allow: \"22/tcp\" is listed twice"));
  EXPECT_TRUE(one_error("[firewall]\nlimit_ssh = \"yes\"\n", 2, 13,
                        "firewall.limit_ssh: expected a boolean"));
}

TEST(ProvisionConfig, RefusesAFirewallThatLocksOutSsh) {
  EXPECT_TRUE(
      one_error("[firewall]\nallow = [\"80/tcp\", \"443/tcp\"]\n[ssh]\nallow_users = "
                "[\"orbital\"]\n",
                2, 9, "firewall.allow: would lock you out: add \"22/tcp\""));
  EXPECT_TRUE(
      one_error("[firewall]\nallow = [\"22/tcp\", \"443/tcp\"]\n[ssh]\nallow_users = "
                "[\"orbital\"]\nport = 2222\n",
                2, 9, "would lock you out: add \"2222/tcp\""));
  // The default allow list holds 22/tcp; without [ssh] nothing is cross-checked.
  EXPECT_TRUE(
      load(std::string(kService) + "[firewall]\n[ssh]\nallow_users = [\"orbital\"]\n").config);
  EXPECT_TRUE(load(std::string(kService) + "[firewall]\nallow = [\"443/tcp\"]\n").config);
}

TEST(ProvisionConfig, RefusesBadSsh) {
  EXPECT_TRUE(one_error("[ssh]\nport = 22\n", 1, 1, "missing required key \"ssh.allow_users\""));
  EXPECT_TRUE(
      one_error("[ssh]\nallow_users = []\n", 2, 15, "ssh.allow_users: must name at least one"));
  EXPECT_TRUE(one_error("[ssh]\nallow_users = [\"Orbital User\"]\n", 2, 16,
                        "\"Orbital User\" is not a valid user name"));
  EXPECT_TRUE(one_error("[ssh]\nallow_users = [\"root\"]\n", 2, 16, "\"root\" cannot log in"));
  EXPECT_TRUE(
      one_error("[ssh]\nallow_users = [\"a\"]\nport = 0\n", 3, 8, "ssh.port: must be 1..65535"));
  EXPECT_TRUE(one_error("[ssh]\nallow_users = [\"a\"]\nmax_auth_tries = 11\n", 3, 18,
                        "ssh.max_auth_tries: must be 1..10"));
  EXPECT_TRUE(one_error("[ssh]\nallow_users = [\"a\"]\npassword = false\n", 3, 1,
                        "unknown key \"password\" in [ssh]"));
}

TEST(ProvisionConfig, RefusesBadFail2ban) {
  EXPECT_TRUE(one_error("[fail2ban]\njails = [\"sshd\", \"apache\"]\n", 2, 18,
                        "fail2ban.jails: unknown jail \"apache\""));
  EXPECT_TRUE(
      one_error("[fail2ban]\njails = [\"sshd\", \"sshd\"]\n", 2, 18, "\"sshd\" is listed twice"));
  EXPECT_TRUE(one_error("[fail2ban]\nsshd_backend = \"journal\"\n", 2, 16,
                        "fail2ban.sshd_backend: expected \"systemd\", \"auto\" or \"polling\""));
  EXPECT_TRUE(one_error("[fail2ban]\nsshd_backend = \"auto\"\n", 2, 16, "set fail2ban.sshd_log"));
  EXPECT_TRUE(one_error("[fail2ban]\nbantime = \"0s\"\n", 2, 11, "fail2ban.bantime"));
  // Without the sshd jail no log is needed.
  EXPECT_TRUE(load(std::string(kService) +
                   "[fail2ban]\njails = [\"nginx-botsearch\"]\nsshd_backend = \"auto\"\n")
                  .config);
}

}  // namespace
}  // namespace gc::config

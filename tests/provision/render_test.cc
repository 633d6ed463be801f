// SPDX-License-Identifier: MIT
// The renderers of the Nginx site, ufw, sshd, fail2ban and the system component: exact lines of
// each managed file and the commands around them. Pure; the real daemons check the same output
// in render_os_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.h"
#include "monitor/nginx_metrics.h"
#include "provision/fail2ban.h"
#include "provision/firewall.h"
#include "provision/nginx_site.h"
#include "provision/sshd.h"
#include "provision/system.h"

namespace gc::provision {
namespace {

constexpr const char* kIssueConfig = R"(
[server]
state_dir = "/var/lib/groundctl"

[[service]]
name = "orbital-backend"
command = ["node", "src/server.js"]
listen = ["127.0.0.1:3000", "0.0.0.0:3001", "[::1]:3002"]

[nginx]
domain = "api.orbitl.org"
upstream = "orbital-backend"
websocket = ["/v1/websocket"]
client_max_body_size = "500m"
rate_limit = { rate = "10r/s", burst = 20 }
[[nginx.limit]]
paths = ["/api/login", "/api/signup"]
rate = "10r/m"
burst = 5
[[nginx.static]]
location = "/static/"
root = "/var/www/orbital/static"

[firewall]
allow = ["22/tcp", "80/tcp", "443/tcp"]

[ssh]
allow_users = ["orbital"]

[fail2ban]
jails = ["sshd", "nginx-limit-req", "nginx-botsearch"]
)";

config::Config load(const std::string& text) {
  config::LoadOutcome o = config::load_config_from_string(text, "/etc/groundctl/groundctl.toml");
  std::string errors;
  for (const auto& d : o.diagnostics) errors += d.to_string() + "\n";
  EXPECT_TRUE(o.config) << errors;
  return o.config ? *o.config : config::Config{};
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    std::size_t start = l.find_first_not_of(' ');
    if (start != std::string::npos && l.substr(start) == line) return true;
  }
  return false;
}

// The text of the block that starts at the line `header` ("location /v1/websocket {"), up to
// its closing brace at the same indentation.
std::string block(const std::string& text, const std::string& header) {
  std::size_t at = text.find(header);
  if (at == std::string::npos) return "";
  std::size_t line_start = text.rfind('\n', at) + 1;
  std::string indent = text.substr(line_start, at - line_start);
  std::size_t end = text.find("\n" + indent + "}", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

TEST(RenderNginx, WritesOneSiteFileWithTheMonitorsLogFormat) {
  config::Config c = load(kIssueConfig);
  Component n = render_nginx(c, Target{});
  EXPECT_EQ(n.name, "nginx");
  ASSERT_EQ(n.files.size(), 1u);
  EXPECT_EQ(n.files[0].path, "/etc/nginx/conf.d/groundctl.conf");
  EXPECT_EQ(n.files[0].mode, 0644u);
  const std::string& t = n.files[0].content;
  EXPECT_EQ(kNginxLogFormat, monitor::kAccessLogFormat);
  EXPECT_TRUE(has_line(t, "log_format groundctl " + std::string(kNginxLogFormat) + ";")) << t;
  EXPECT_TRUE(has_line(t, "access_log /var/log/nginx/access.log groundctl;")) << t;
  // A line in that format, as Nginx writes it, is one the monitor reads with its request time.
  auto line = monitor::parse_access_line(
      R"(203.0.113.7 - - [28/Nov/2026:01:02:03 +0000] "GET /v1/items HTTP/1.1" 429 169 "-" )"
      R"("curl/7.88.1" rt=0.004 uct="-" urt="-")");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->status, 429);
  ASSERT_TRUE(line->request_time);
  EXPECT_DOUBLE_EQ(*line->request_time, 0.004);
}

TEST(RenderNginx, RateLimitsPerClientAnswering429) {
  const std::string t = render_nginx(load(kIssueConfig), Target{}).files[0].content;
  EXPECT_TRUE(
      has_line(t, "limit_req_zone $binary_remote_addr zone=groundctl_main:10m rate=10r/s;"));
  EXPECT_TRUE(
      has_line(t, "limit_req_zone $binary_remote_addr zone=groundctl_limit_1:10m rate=10r/m;"));
  EXPECT_TRUE(has_line(t, "limit_req_status 429;"));
  for (const char* path : {"/api/login", "/api/signup"}) {
    std::string b = block(t, std::string("location ") + path + " {");
    EXPECT_TRUE(has_line(b, "limit_req zone=groundctl_limit_1 burst=5 nodelay;")) << b;
    EXPECT_TRUE(has_line(b, "proxy_pass http://groundctl_upstream;")) << b;
  }
  std::string main = block(t, "    location / {\n        limit_req");
  EXPECT_TRUE(has_line(main, "limit_req zone=groundctl_main burst=20 nodelay;")) << t;
}

TEST(RenderNginx, RateLimitCanBeTurnedOff) {
  std::string text = kIssueConfig;
  text.replace(text.find("rate = \"10r/s\""), 14, "rate = \"\"");
  const std::string t = render_nginx(load(text), Target{}).files[0].content;
  EXPECT_EQ(t.find("groundctl_main"), std::string::npos) << t;
  EXPECT_TRUE(has_line(t, "limit_req zone=groundctl_limit_1 burst=5 nodelay;"));
}

TEST(RenderNginx, ProxiesToTheUpstreamListenAddresses) {
  const std::string t = render_nginx(load(kIssueConfig), Target{}).files[0].content;
  std::string up = block(t, "upstream groundctl_upstream {");
  EXPECT_TRUE(has_line(up, "server 127.0.0.1:3000;")) << up;
  EXPECT_TRUE(has_line(up, "server 127.0.0.1:3001;")) << up;  // 0.0.0.0 is reached over loopback.
  EXPECT_TRUE(has_line(up, "server [::1]:3002;")) << up;
  EXPECT_TRUE(has_line(up, "keepalive 16;")) << up;
  std::string main = block(t, "    location / {\n        limit_req");
  for (const char* h : {"proxy_set_header Host $host;", "proxy_set_header X-Real-IP $remote_addr;",
                        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                        "proxy_set_header X-Forwarded-Proto $scheme;",
                        "proxy_set_header Connection \"\";", "proxy_http_version 1.1;"}) {
    EXPECT_TRUE(has_line(main, h)) << h << "\n" << main;
  }
}

TEST(RenderNginx, UpgradesWebsocketLocations) {
  const std::string t = render_nginx(load(kIssueConfig), Target{}).files[0].content;
  std::string ws = block(t, "location /v1/websocket {");
  ASSERT_FALSE(ws.empty()) << t;
  EXPECT_TRUE(has_line(ws, "proxy_set_header Upgrade $http_upgrade;")) << ws;
  EXPECT_TRUE(has_line(ws, "proxy_set_header Connection $groundctl_connection_upgrade;")) << ws;
  EXPECT_TRUE(has_line(ws, "proxy_http_version 1.1;")) << ws;
  EXPECT_TRUE(has_line(ws, "proxy_read_timeout 3600s;")) << ws;
  EXPECT_TRUE(has_line(ws, "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"));
  std::string map = block(t, "map $http_upgrade $groundctl_connection_upgrade {");
  EXPECT_TRUE(has_line(map, "default upgrade;")) << t;
}

TEST(RenderNginx, RedirectsHttpExceptAcmeAndStatus) {
  const std::string t = render_nginx(load(kIssueConfig), Target{}).files[0].content;
  std::string http = block(t, "server {\n    listen 80;");
  ASSERT_FALSE(http.empty()) << t;
  EXPECT_TRUE(has_line(http, "listen [::]:80;"));
  EXPECT_TRUE(has_line(http, "return 308 https://$host$request_uri;")) << http;
  std::string acme = block(http, "location ^~ /.well-known/acme-challenge/ {");
  EXPECT_TRUE(has_line(acme, "root /var/www/groundctl-acme;")) << http;
  std::string status = block(http, "location = /nginx_status {");
  for (const char* l : {"stub_status;", "allow 127.0.0.1;", "allow ::1;", "deny all;"}) {
    EXPECT_TRUE(has_line(status, l)) << l << "\n" << status;
  }
}

TEST(RenderNginx, ServesModernTlsWithHstsAndSecurityHeaders) {
  const std::string t = render_nginx(load(kIssueConfig), Target{}).files[0].content;
  std::string https = block(t, "server {\n    listen 443 ssl http2;");
  ASSERT_FALSE(https.empty()) << t;
  EXPECT_TRUE(has_line(https, "listen [::]:443 ssl http2;"));
  EXPECT_TRUE(has_line(https, "server_name api.orbitl.org;"));
  EXPECT_TRUE(has_line(https, "ssl_protocols TLSv1.2 TLSv1.3;"));
  EXPECT_EQ(t.find("TLSv1.1"), std::string::npos);
  EXPECT_EQ(t.find("TLSv1 "), std::string::npos);
  EXPECT_EQ(t.find("TLSv1;"), std::string::npos);
  EXPECT_TRUE(has_line(https, "ssl_prefer_server_ciphers off;"));
  EXPECT_TRUE(has_line(https, "ssl_session_tickets off;"));
  EXPECT_TRUE(
      has_line(https, "ssl_certificate /var/lib/groundctl/tls/api.orbitl.org/fullchain.pem;"));
  EXPECT_TRUE(
      has_line(https, "ssl_certificate_key /var/lib/groundctl/tls/api.orbitl.org/privkey.pem;"));
  std::size_t hsts = https.find("Strict-Transport-Security \"max-age=");
  ASSERT_NE(hsts, std::string::npos);
  long max_age = std::stol(https.substr(hsts + 35));
  EXPECT_GE(max_age, 15552000);  // 180 days.
  EXPECT_NE(https.find("\" always;", hsts), std::string::npos);
  for (const char* h : {"add_header X-Content-Type-Options \"nosniff\" always;",
                        "add_header X-Frame-Options \"DENY\" always;",
                        "add_header Referrer-Policy \"strict-origin-when-cross-origin\" always;"}) {
    EXPECT_TRUE(has_line(https, h)) << h;
  }
  EXPECT_NE(https.find("add_header Permissions-Policy"), std::string::npos);
  EXPECT_TRUE(has_line(https, "client_max_body_size 500m;"));
  std::string st = block(https, "location /static/ {");
  EXPECT_TRUE(has_line(st, "root /var/www/orbital/static;")) << https;
}

TEST(RenderNginx, UsesAConfiguredCertificate) {
  std::string text = kIssueConfig;
  text.insert(text.find("websocket ="),
              "certificate = \"/etc/ssl/a.pem\"\ncertificate_key = \"/etc/ssl/a.key\"\n");
  const std::string t = render_nginx(load(text), Target{}).files[0].content;
  EXPECT_TRUE(has_line(t, "ssl_certificate /etc/ssl/a.pem;"));
  EXPECT_TRUE(has_line(t, "ssl_certificate_key /etc/ssl/a.key;"));
}

TEST(RenderNginx, ValidatesAndReloadsPerTarget) {
  config::Config c = load(kIssueConfig);
  Component live = render_nginx(c, Target{"", true});
  EXPECT_EQ(live.lifecycle.validate, (std::vector<std::string>{"nginx", "-t"}));
  EXPECT_EQ(live.lifecycle.reload,
            (std::vector<std::string>{"systemctl", "reload-or-restart", "nginx"}));
  ASSERT_EQ(live.steps_before.size(), 1u);
  EXPECT_EQ(live.steps_before[0].argv,
            (std::vector<std::string>{"mkdir", "-p", "/var/www/groundctl-acme"}));
  EXPECT_EQ(live.steps_before[0].check,
            (std::vector<std::string>{"test", "-d", "/var/www/groundctl-acme"}));
  Component rooted = render_nginx(c, Target{"/tmp/r", false});
  EXPECT_TRUE(rooted.lifecycle.validate.empty());
  EXPECT_EQ(rooted.lifecycle.reload, (std::vector<std::string>{"nginx", "-s", "reload"}));
  EXPECT_EQ(rooted.steps_before[0].check,
            (std::vector<std::string>{"test", "-d", "/tmp/r/var/www/groundctl-acme"}));
  EXPECT_EQ(rooted.files, live.files);  // Paths never carry the root.
}

// What ufw 0.36.2 wrote after `ufw limit 22/tcp; ufw allow 80/tcp; ufw allow 443/tcp` (captured
// from the real ufw in a private mount namespace; render_os_test.cc redoes it every run).
constexpr const char* kUfwRulesTail = R"(### RULES ###

### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set
-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit
-A ufw-user-input -p tcp --dport 22 -j ufw-user-limit-accept

### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 80 -j ACCEPT

### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 443 -j ACCEPT

### END RULES ###

### LOGGING ###
-A ufw-after-logging-input -j LOG --log-prefix "[UFW BLOCK] " -m limit --limit 3/min --limit-burst 10
-A ufw-after-logging-forward -j LOG --log-prefix "[UFW BLOCK] " -m limit --limit 3/min --limit-burst 10
-I ufw-logging-deny -m conntrack --ctstate INVALID -j RETURN -m limit --limit 3/min --limit-burst 10
-A ufw-logging-deny -j LOG --log-prefix "[UFW BLOCK] " -m limit --limit 3/min --limit-burst 10
-A ufw-logging-allow -j LOG --log-prefix "[UFW ALLOW] " -m limit --limit 3/min --limit-burst 10
### END LOGGING ###

### RATE LIMITING ###
-A ufw-user-limit -m limit --limit 3/minute -j LOG --log-prefix "[UFW LIMIT BLOCK] "
-A ufw-user-limit -j REJECT
-A ufw-user-limit-accept -j ACCEPT
### END RATE LIMITING ###
COMMIT
)";

TEST(RenderFirewall, WritesUfwRulesAsUfwDoes) {
  config::Config c = load(kIssueConfig);
  Component fw = render_firewall(c, Target{});
  EXPECT_EQ(fw.name, "firewall");
  ASSERT_EQ(fw.files.size(), 4u);
  EXPECT_EQ(fw.files[0].path, "/etc/ufw/user.rules");
  EXPECT_EQ(fw.files[0].mode, 0640u);
  const std::string& v4 = fw.files[0].content;
  ASSERT_TRUE(v4.starts_with("*filter\n:ufw-user-input - [0:0]\n")) << v4;
  EXPECT_TRUE(v4.ends_with(kUfwRulesTail)) << v4;
  EXPECT_EQ(fw.files[1].path, "/etc/ufw/user6.rules");
  EXPECT_TRUE(has_line(fw.files[1].content, "### tuple ### limit tcp 22 ::/0 any ::/0 in"));
  EXPECT_TRUE(has_line(fw.files[1].content, "-A ufw6-user-input -p tcp --dport 443 -j ACCEPT"));
  EXPECT_EQ(fw.files[1].content.find("ufw-user"), std::string::npos);
}

TEST(RenderFirewall, DeniesIncomingByDefaultAndEnables) {
  Component fw = render_firewall(load(kIssueConfig), Target{});
  EXPECT_EQ(fw.files[2].path, "/etc/default/ufw");
  EXPECT_TRUE(has_line(fw.files[2].content, "DEFAULT_INPUT_POLICY=\"DROP\""));
  EXPECT_TRUE(has_line(fw.files[2].content, "IPV6=yes"));
  EXPECT_EQ(fw.files[3].path, "/etc/ufw/ufw.conf");
  EXPECT_TRUE(has_line(fw.files[3].content, "ENABLED=yes"));
  EXPECT_TRUE(has_line(fw.files[3].content, "LOGLEVEL=low"));
  EXPECT_EQ(fw.lifecycle.reload, (std::vector<std::string>{"ufw", "reload"}));
  ASSERT_EQ(fw.steps_after.size(), 1u);
  EXPECT_EQ(fw.steps_after[0].argv, (std::vector<std::string>{"ufw", "--force", "enable"}));
  EXPECT_FALSE(fw.steps_after[0].check.empty());
}

TEST(RenderFirewall, LimitsTheConfiguredSshPortOnly) {
  std::string text = kIssueConfig;
  text.replace(text.find("\"22/tcp\""), 8, "\"2222/tcp\", \"22/tcp\"");
  text.insert(text.find("allow_users"), "port = 2222\n");
  config::Config c = load(text);
  std::string v4 = ufw_user_rules(c, false);
  EXPECT_TRUE(has_line(v4, "### tuple ### limit tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in")) << v4;
  EXPECT_TRUE(has_line(v4, "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in")) << v4;
  c.firewall->limit_ssh = false;
  v4 = ufw_user_rules(c, false);
  EXPECT_EQ(v4.find("limit tcp"), std::string::npos) << v4;
  EXPECT_TRUE(has_line(v4, "-A ufw-user-input -p tcp --dport 2222 -j ACCEPT"));
}

TEST(RenderSsh, WritesAKeyOnlyDropIn) {
  std::string text = kIssueConfig;
  text.replace(text.find("allow_users = [\"orbital\"]"), 25,
               "allow_users = [\"orbital\", \"deploy\"]\nmax_auth_tries = 2");
  Component s = render_ssh(load(text), Target{"", true});
  EXPECT_EQ(s.name, "ssh");
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_EQ(s.files[0].path, "/etc/ssh/sshd_config.d/10-groundctl.conf");
  const std::string& t = s.files[0].content;
  for (const char* l :
       {"Port 22", "PermitRootLogin no", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
        "AuthenticationMethods publickey", "MaxAuthTries 2", "AllowUsers orbital deploy",
        "X11Forwarding no", "LoginGraceTime 30", "PermitEmptyPasswords no"}) {
    EXPECT_TRUE(has_line(t, l)) << l << "\n" << t;
  }
  EXPECT_EQ(s.lifecycle.validate, (std::vector<std::string>{"sshd", "-t"}));
  EXPECT_EQ(s.lifecycle.reload,
            (std::vector<std::string>{"systemctl", "try-reload-or-restart", "ssh"}));
  Component plain = render_ssh(load(text), Target{});
  ASSERT_EQ(plain.lifecycle.reload.size(), 3u);
  EXPECT_NE(plain.lifecycle.reload[2].find("/run/sshd.pid"), std::string::npos);
}

TEST(RenderFail2ban, EnablesTheConfiguredJails) {
  Component f = render_fail2ban(load(kIssueConfig), Target{"", true});
  EXPECT_EQ(f.name, "fail2ban");
  ASSERT_EQ(f.files.size(), 1u);
  EXPECT_EQ(f.files[0].path, "/etc/fail2ban/jail.d/groundctl.local");
  const std::string& t = f.files[0].content;
  EXPECT_TRUE(has_line(t, "bantime = 3600"));
  EXPECT_TRUE(has_line(t, "findtime = 600"));
  EXPECT_TRUE(has_line(t, "maxretry = 5"));
  // Bans go to fail2ban's own nftables table, never into the ufw files apply manages.
  EXPECT_TRUE(has_line(t, "banaction = nftables-multiport")) << t;
  EXPECT_TRUE(has_line(t, "banaction_allports = nftables-allports")) << t;
  EXPECT_EQ(t.find("ufw"), std::string::npos) << t;
  std::string sshd = block(t, "[sshd]");
  EXPECT_TRUE(has_line(sshd, "enabled = true")) << t;
  EXPECT_TRUE(has_line(sshd, "backend = systemd"));
  EXPECT_TRUE(has_line(sshd, "port = 22"));
  EXPECT_NE(t.find("[nginx-limit-req]\nenabled = true\nport = http,https\nbackend = auto\n"
                   "logpath = /var/log/nginx/error.log\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("[nginx-botsearch]\nenabled = true\nport = http,https\nbackend = auto\n"
                   "logpath = /var/log/nginx/access.log\n"),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("[nginx-http-auth]"), std::string::npos);
  EXPECT_EQ(f.lifecycle.validate, (std::vector<std::string>{"fail2ban-client", "-t"}));
  // Jails restarted: a plain reload drops the actions of a jail whose banaction changed.
  EXPECT_EQ(f.lifecycle.reload, (std::vector<std::string>{"systemctl", "restart", "fail2ban"}));
  EXPECT_EQ(render_fail2ban(load(kIssueConfig), Target{}).lifecycle.reload,
            (std::vector<std::string>{"fail2ban-client", "reload", "--restart"}));
}

TEST(RenderFail2ban, UsesALogFileWithoutUfw) {
  config::Config c = load(kIssueConfig);
  c.firewall.reset();
  c.ssh->port = 2222;
  c.fail2ban->sshd_backend = "auto";
  c.fail2ban->sshd_log = "/var/log/auth.log";
  c.fail2ban->jails = {"sshd"};
  c.fail2ban->bantime = std::chrono::hours(24);
  const std::string t = render_fail2ban(c, Target{}).files[0].content;
  EXPECT_TRUE(has_line(t, "banaction = nftables-multiport")) << t;
  EXPECT_TRUE(has_line(t, "bantime = 86400"));
  EXPECT_TRUE(has_line(t, "backend = auto"));
  EXPECT_TRUE(has_line(t, "logpath = /var/log/auth.log"));
  EXPECT_TRUE(has_line(t, "port = 2222"));
  EXPECT_EQ(t.find("[nginx-"), std::string::npos);
  c.fail2ban->jails = {"nginx-botsearch"};
  EXPECT_TRUE(
      has_line(block(render_fail2ban(c, Target{}).files[0].content, "[sshd]"), "enabled = false"));
}

TEST(RenderSystem, InstallsPackagesCreatesUsersAndWritesTheUnit) {
  std::string text = kIssueConfig;
  text += R"(
[[service]]
name = "worker"
command = ["node", "worker.js"]
[[service]]
name = "cron"
command = ["node", "cron.js"]
)";
  config::Config c = load(text);
  // Set here: the loader wants a service's user to exist on this machine.
  ASSERT_EQ(c.services.size(), 3u);
  c.services[0].user = "orbital";
  c.services[1].user = "orbital";
  EXPECT_EQ(required_packages(c),
            (std::vector<std::string>{"openssh-server", "nginx", "ufw", "fail2ban", "nftables",
                                      "python3-systemd", "unattended-upgrades"}));
  Component s = render_system(c, Target{"", true}, "/usr/local/bin/groundctl");
  EXPECT_EQ(s.name, "system");
  ASSERT_EQ(s.files.size(), 2u);
  EXPECT_EQ(s.files[0].path, "/etc/apt/apt.conf.d/20auto-upgrades");
  EXPECT_TRUE(has_line(s.files[0].content, "APT::Periodic::Update-Package-Lists \"1\";"));
  EXPECT_TRUE(has_line(s.files[0].content, "APT::Periodic::Unattended-Upgrade \"1\";"));
  EXPECT_EQ(s.files[1].path, "/etc/systemd/system/groundctl.service");
  EXPECT_EQ(s.files[1].content,
            systemd_unit("/usr/local/bin/groundctl", "/etc/groundctl/groundctl.toml"));
  EXPECT_TRUE(has_line(s.files[1].content,
                       "ExecStart=/usr/local/bin/groundctl daemon --config "
                       "/etc/groundctl/groundctl.toml"));
  // apt-get update, seven packages, one user (orbital, once).
  ASSERT_EQ(s.steps_before.size(), 9u);
  EXPECT_EQ(s.steps_before[0].argv[1], "update");
  EXPECT_EQ(s.steps_before[2].summary, "install package nginx");
  EXPECT_EQ(s.steps_before[2].argv.back(), "nginx");
  EXPECT_EQ(s.steps_before[2].check.back(), "nginx");
  const Step& user = s.steps_before.back();
  EXPECT_EQ(user.argv, (std::vector<std::string>{"useradd", "--system", "--create-home", "--shell",
                                                 "/usr/sbin/nologin", "orbital"}));
  EXPECT_EQ(user.check, (std::vector<std::string>{"id", "-u", "orbital"}));
  EXPECT_EQ(s.lifecycle.reload, (std::vector<std::string>{"systemctl", "daemon-reload"}));

  Component rooted = render_system(c, Target{"/tmp/r", false}, "/usr/local/bin/groundctl");
  EXPECT_TRUE(rooted.lifecycle.reload.empty());
  EXPECT_TRUE(rooted.steps_after.empty());
  ASSERT_EQ(rooted.steps_before.size(), 1u);  // No packages into another root.
  EXPECT_EQ(rooted.steps_before[0].argv[1], "--root");
}

TEST(RenderSystem, AddsPostgresPackagesWhenManaged) {
  config::Config c = load(kIssueConfig);
  c.postgres.emplace();
  c.postgres->manage.emplace();
  c.postgres->manage->pool.emplace();
  std::vector<std::string> p = required_packages(c);
  EXPECT_NE(std::find(p.begin(), p.end(), "postgresql-15"), p.end());
  EXPECT_NE(std::find(p.begin(), p.end(), "pgbouncer"), p.end());
}

}  // namespace
}  // namespace gc::provision

// SPDX-License-Identifier: MIT
// tests/audit/checks_test.cc: every verdict with passing and failing evidence, the score, and
// the pure parsers (sshd_config first-value-wins with drop-ins, ufw, /proc/net/tcp, apt).
#include <gtest/gtest.h>

#include <set>

#include "audit/checks.h"
#include "audit/evidence.h"
#include "audit/report.h"

namespace gc::audit {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

// Evidence of a well-hardened server for the config of good_config().
Evidence good_evidence() {
  Evidence e;
  e.now = kNow;
  e.daemon_is_root = true;
  e.sshd.installed = true;
  e.sshd.source = "sshd -T";
  e.sshd.settings = {{"permitrootlogin", {"no"}},
                     {"passwordauthentication", {"no"}},
                     {"kbdinteractiveauthentication", {"no"}},
                     {"maxauthtries", {"3"}},
                     {"allowusers", {"orbital"}}};
  e.firewall.installed = true;
  e.firewall.source = "ufw status verbose";
  e.firewall.enabled = true;
  e.firewall.default_deny_incoming = true;
  e.firewall.allowed = {"22/tcp", "80/tcp", "443/tcp"};
  e.listeners.source = "/proc/net/tcp, tcp6";
  e.listeners.listeners = {{"0.0.0.0", 22, false}, {"127.0.0.1", 5432, false}, {"::", 443, true}};
  e.fail2ban.running = true;
  e.fail2ban.jails = {"sshd", "nginx-limit-req"};
  e.postgres.configured = true;
  e.postgres.listen_addresses = "localhost";
  e.postgres.hba = {
      {1, "local", "all", "postgres", "", "", "peer"},
      {2, "host", "all", "all", "127.0.0.1", "255.255.255.255", "scram-sha-256"},
      {3, "host", "all", "all", "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "scram-sha-256"}};
  e.postgres.app_role = "orbital_user";
  e.postgres.app_role_superuser = false;
  e.secret_files = {{"service api env_file", "/srv/.env", true, 0600, ""},
                    {"http.token_file", "/etc/groundctl/api.token", true, 0400, ""}};
  e.disk.used_ratio = 0.42;
  e.certificates = {{"/etc/tls/fullchain.pem", "", kNow + 60 * 86400}};
  e.backup.configured = true;
  e.backup.last_success = kNow - 3600;
  e.backup.last_set = "20231114T221320Z";
  e.backup.verify_result = "passed";
  e.updates.unattended_enabled = true;
  e.updates.unattended_evidence = "20auto-upgrades: on";
  return e;
}

config::Config good_config() {
  config::Config c;
  config::ServiceConfig s;
  s.name = "api";
  s.user = "orbital";
  c.services.push_back(s);
  c.ssh = config::SshConfig{};
  c.ssh->allow_users = {"orbital"};
  c.fail2ban = config::Fail2banConfig{};
  c.fail2ban->jails = {"sshd", "nginx-limit-req"};
  c.postgres = config::PostgresConfig{};
  return c;
}

Verdict verdict(std::string_view id, const Evidence& e, const config::Config& c) {
  const Check* check = find_check(id);
  EXPECT_NE(check, nullptr) << id;
  if (check == nullptr) return {};
  return check->verdict(e, c);
}

CheckStatus status(std::string_view id, const Evidence& e, const config::Config& c) {
  return verdict(id, e, c).status;
}

TEST(Checks, TableHasStableUniqueIdsAndRemediation) {
  std::set<std::string_view> ids;
  for (const auto& c : checks()) {
    EXPECT_TRUE(ids.insert(c.id).second) << c.id;
    EXPECT_FALSE(c.remediation.empty()) << c.id;
    EXPECT_GT(c.weight, 0) << c.id;
  }
  for (const char* id : {"ssh.root_login",
                         "ssh.password_auth",
                         "ssh.kbd_interactive",
                         "ssh.max_auth_tries",
                         "ssh.allow_users",
                         "firewall.enabled",
                         "firewall.ports",
                         "net.exposed_listeners",
                         "fail2ban.running",
                         "fail2ban.jails",
                         "postgres.listen_local",
                         "postgres.hba_trust",
                         "postgres.hba_wide",
                         "postgres.app_superuser",
                         "services.not_root",
                         "files.secret_modes",
                         "disk.usage",
                         "tls.certificate",
                         "backup.recent",
                         "backup.verified",
                         "updates.security_pending",
                         "updates.unattended"}) {
    EXPECT_TRUE(ids.count(id)) << id;
  }
}

TEST(Checks, HardenedServerPassesEveryCheck) {
  Evidence e = good_evidence();
  e.updates.skipped = false;
  for (const auto& r : evaluate(e, good_config())) {
    EXPECT_EQ(r.status, CheckStatus::kPass) << r.id << ": " << r.evidence;
  }
}

TEST(Checks, SshRootLoginFailsWithEvidence) {
  Evidence e = good_evidence();
  e.sshd.settings["permitrootlogin"] = {"yes"};
  Verdict v = verdict("ssh.root_login", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_EQ(v.evidence, "sshd -T: permitrootlogin yes");
  // prohibit-password still lets root in with a key: the checklist wants no root login at all.
  e.sshd.settings["permitrootlogin"] = {"prohibit-password"};
  EXPECT_EQ(status("ssh.root_login", e, good_config()), CheckStatus::kFail);
}

TEST(Checks, SshDefaultsApplyWhenAParsedConfigIsSilent) {
  Evidence e = good_evidence();
  e.sshd.source = "parsed /etc/ssh/sshd_config";
  e.sshd.settings.clear();
  Verdict v = verdict("ssh.password_auth", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_EQ(v.evidence, "parsed /etc/ssh/sshd_config: passwordauthentication yes (default)");
  EXPECT_EQ(status("ssh.kbd_interactive", e, good_config()), CheckStatus::kFail);
  EXPECT_EQ(status("ssh.max_auth_tries", e, good_config()), CheckStatus::kFail);  // 6 > 3.
  EXPECT_EQ(status("ssh.allow_users", e, good_config()), CheckStatus::kFail);
  e.sshd.settings["challengeresponseauthentication"] = {"no"};
  EXPECT_EQ(status("ssh.kbd_interactive", e, good_config()), CheckStatus::kPass);
}

TEST(Checks, SshChecksSkipWithoutSshdAndErrorWhenUnreadable) {
  Evidence e = good_evidence();
  e.sshd = {};
  EXPECT_EQ(status("ssh.root_login", e, good_config()), CheckStatus::kSkip);
  e.sshd.error = "permission denied";
  EXPECT_EQ(status("ssh.password_auth", e, good_config()), CheckStatus::kError);
}

TEST(Checks, SshAllowUsersMustMatchTheConfig) {
  Evidence e = good_evidence();
  e.sshd.settings["allowusers"] = {"orbital", "deploy"};
  EXPECT_EQ(status("ssh.allow_users", e, good_config()), CheckStatus::kFail);
  config::Config c = good_config();
  c.ssh.reset();
  EXPECT_EQ(status("ssh.allow_users", e, c), CheckStatus::kSkip);
}

TEST(Checks, FirewallOffOrMissingFails) {
  Evidence e = good_evidence();
  e.firewall.enabled = false;
  EXPECT_EQ(status("firewall.enabled", e, good_config()), CheckStatus::kFail);
  e.firewall = {};
  Verdict v = verdict("firewall.enabled", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("not installed"), std::string::npos);
}

TEST(Checks, FirewallPortsMustBeExactlyTheConfiguredOnes) {
  Evidence e = good_evidence();
  e.firewall.allowed.push_back("5432/tcp");
  Verdict v = verdict("firewall.ports", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("not in [firewall].allow: 5432/tcp"), std::string::npos) << v.evidence;
  e = good_evidence();
  e.firewall.allowed = {"22/tcp", "80/tcp"};
  v = verdict("firewall.ports", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("missing: 443/tcp"), std::string::npos) << v.evidence;
  e = good_evidence();
  e.firewall.default_deny_incoming = false;
  EXPECT_EQ(status("firewall.ports", e, good_config()), CheckStatus::kFail);
}

TEST(Checks, ListenerBeyondLoopbackOnAPortNotAllowedFails) {
  Evidence e = good_evidence();
  e.listeners.listeners.push_back({"0.0.0.0", 5432, false});
  e.listeners.listeners.push_back({"::ffff:127.0.0.1", 6432, true});
  Verdict v = verdict("net.exposed_listeners", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("0.0.0.0:5432"), std::string::npos) << v.evidence;
  EXPECT_EQ(v.evidence.find("6432"), std::string::npos) << v.evidence;
  e.listeners.listeners = {{"::", 3000, true}};
  v = verdict("net.exposed_listeners", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("[::]:3000"), std::string::npos) << v.evidence;
}

TEST(Checks, Fail2banNotRunningOrMissingJailFails) {
  Evidence e = good_evidence();
  e.fail2ban.jails = {"sshd"};
  Verdict v = verdict("fail2ban.jails", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("missing: nginx-limit-req"), std::string::npos);
  e.fail2ban = {};
  e.fail2ban.error = "fail2ban-client status: exit code 255: Failed to access socket";
  EXPECT_EQ(status("fail2ban.running", e, good_config()), CheckStatus::kFail);
  EXPECT_EQ(status("fail2ban.jails", e, good_config()), CheckStatus::kFail);
  e.fail2ban.skipped = true;
  EXPECT_EQ(status("fail2ban.running", e, good_config()), CheckStatus::kSkip);
}

TEST(Checks, PostgresChecksFailOnWideListenTrustWideHbaAndSuperuser) {
  Evidence e = good_evidence();
  e.postgres.listen_addresses = "localhost, *";
  EXPECT_EQ(status("postgres.listen_local", e, good_config()), CheckStatus::kFail);
  e.postgres.listen_addresses = "127.0.0.1,::1";
  EXPECT_EQ(status("postgres.listen_local", e, good_config()), CheckStatus::kPass);
  e.postgres.hba.push_back({7, "host", "all", "all", "0.0.0.0", "0.0.0.0", "md5"});
  Verdict v = verdict("postgres.hba_wide", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("pg_hba line 7"), std::string::npos) << v.evidence;
  EXPECT_EQ(status("postgres.hba_trust", e, good_config()), CheckStatus::kPass);
  e.postgres.hba.push_back({8, "local", "all", "all", "", "", "trust"});
  EXPECT_EQ(status("postgres.hba_trust", e, good_config()), CheckStatus::kFail);
  e.postgres.app_role_superuser = true;
  EXPECT_EQ(status("postgres.app_superuser", e, good_config()), CheckStatus::kFail);
  e.postgres.app_role_superuser.reset();
  EXPECT_EQ(status("postgres.app_superuser", e, good_config()), CheckStatus::kSkip);
  e.postgres.error = "connection refused";
  EXPECT_EQ(status("postgres.listen_local", e, good_config()), CheckStatus::kError);
  e.postgres = {};
  EXPECT_EQ(status("postgres.hba_wide", e, good_config()), CheckStatus::kSkip);
}

TEST(Checks, ServiceAsRootFails) {
  Evidence e = good_evidence();
  config::Config c = good_config();
  c.services[0].user = "";
  EXPECT_EQ(status("services.not_root", e, c), CheckStatus::kFail);
  e.daemon_is_root = false;
  EXPECT_EQ(status("services.not_root", e, c), CheckStatus::kPass);
  c.services[0].user = "root";
  EXPECT_EQ(status("services.not_root", e, c), CheckStatus::kFail);
  c.services.clear();
  EXPECT_EQ(status("services.not_root", e, c), CheckStatus::kSkip);
}

TEST(Checks, GroupOrWorldReadableSecretFails) {
  Evidence e = good_evidence();
  e.secret_files[0].mode = 0644;
  Verdict v = verdict("files.secret_modes", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("/srv/.env mode 0644"), std::string::npos) << v.evidence;
  e.secret_files[0].mode = 0640;
  EXPECT_EQ(status("files.secret_modes", e, good_config()), CheckStatus::kFail);
  e.secret_files[0].exists = false;  // Missing is not a hardening finding.
  EXPECT_EQ(status("files.secret_modes", e, good_config()), CheckStatus::kPass);
  e.secret_files.clear();
  EXPECT_EQ(status("files.secret_modes", e, good_config()), CheckStatus::kSkip);
}

TEST(Checks, DiskAt80PercentFails) {
  Evidence e = good_evidence();
  e.disk.used_ratio = 0.7999;
  EXPECT_EQ(status("disk.usage", e, good_config()), CheckStatus::kPass);
  e.disk.used_ratio = 0.80;
  EXPECT_EQ(status("disk.usage", e, good_config()), CheckStatus::kFail);
  e.disk.error = "statvfs /: permission denied";
  EXPECT_EQ(status("disk.usage", e, good_config()), CheckStatus::kError);
}

TEST(Checks, CertificateExpiringWithin14DaysOrUnreadableFails) {
  Evidence e = good_evidence();
  e.certificates[0].not_after = kNow + 14 * 86400 - 1;
  EXPECT_EQ(status("tls.certificate", e, good_config()), CheckStatus::kFail);
  e.certificates[0].not_after = kNow + 14 * 86400;
  EXPECT_EQ(status("tls.certificate", e, good_config()), CheckStatus::kPass);
  e.certificates[0].not_after = kNow - 86400;
  Verdict v = verdict("tls.certificate", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("expired"), std::string::npos);
  e.certificates[0].error = "no such file";
  EXPECT_EQ(status("tls.certificate", e, good_config()), CheckStatus::kFail);
  e.certificates.clear();
  EXPECT_EQ(status("tls.certificate", e, good_config()), CheckStatus::kSkip);
}

TEST(Checks, BackupOlderThan26HoursOrUnverifiedFails) {
  Evidence e = good_evidence();
  e.backup.last_success = kNow - 26 * 3600;
  EXPECT_EQ(status("backup.recent", e, good_config()), CheckStatus::kFail);
  e.backup.last_success.reset();
  EXPECT_EQ(status("backup.recent", e, good_config()), CheckStatus::kFail);
  e.backup.verify_result = "failed";
  EXPECT_EQ(status("backup.verified", e, good_config()), CheckStatus::kFail);
  e.backup = {};
  config::Config c = good_config();
  EXPECT_EQ(status("backup.recent", e, c), CheckStatus::kFail);  // [postgres] without [backup].
  c.postgres.reset();
  EXPECT_EQ(status("backup.recent", e, c), CheckStatus::kSkip);
  EXPECT_EQ(status("backup.verified", e, c), CheckStatus::kSkip);
}

TEST(Checks, PendingSecurityUpdatesAndNoUnattendedUpgradesFail) {
  Evidence e = good_evidence();
  e.updates.security_pending = {"openssl", "libssl3"};
  Verdict v = verdict("updates.security_pending", e, good_config());
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("2 security update(s) pending: openssl, libssl3"), std::string::npos);
  e.updates.skipped = true;
  e.updates.error = "apt-get is not installed";
  EXPECT_EQ(status("updates.security_pending", e, good_config()), CheckStatus::kSkip);
  e.updates.unattended_enabled = false;
  EXPECT_EQ(status("updates.unattended", e, good_config()), CheckStatus::kFail);
}

TEST(Score, WeightedPassesOverApplicable) {
  std::vector<CheckResult> r = {{"a", "", Severity::kCritical, 10, CheckStatus::kPass, "", ""},
                                {"b", "", Severity::kHigh, 6, CheckStatus::kFail, "", ""},
                                {"c", "", Severity::kMedium, 3, CheckStatus::kSkip, "", ""},
                                {"d", "", Severity::kMedium, 4, CheckStatus::kError, "", ""}};
  EXPECT_EQ(score(r), 50);  // 10 / (10 + 6 + 4).
  r[1].status = CheckStatus::kPass;
  r[3].status = CheckStatus::kPass;
  EXPECT_EQ(score(r), 100);
  r[0].status = CheckStatus::kFail;
  EXPECT_EQ(score(r), 50);  // 10 of 20.
  EXPECT_EQ(score(std::vector<CheckResult>{}), 100);
}

TEST(Report, JsonRoundTripsAndTextListsFailuresFirst) {
  Evidence e = good_evidence();
  e.sshd.settings["permitrootlogin"] = {"yes"};
  Report r = make_report(e, good_config());
  EXPECT_EQ(r.failed_ids(), std::vector<std::string>{"ssh.root_login"});
  EXPECT_LT(r.score, 100);
  auto j = to_json(r);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["results"][0]["id"], "ssh.root_login");
  EXPECT_EQ(j["results"][0]["status"], "fail");
  EXPECT_EQ(j["results"][0]["severity"], "critical");
  auto back = from_json(j);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->score, r.score);
  EXPECT_EQ(back->time, kNow);
  EXPECT_EQ(back->failed_ids(), r.failed_ids());
  EXPECT_EQ(back->results.size(), r.results.size());
  std::string text = to_text(r);
  size_t fail_at = text.find("FAIL ssh.root_login [critical]");
  ASSERT_NE(fail_at, std::string::npos) << text;
  EXPECT_LT(fail_at, text.find("pass ssh.password_auth"));
  EXPECT_NE(text.find("fix: Set `PermitRootLogin no`"), std::string::npos);
  EXPECT_FALSE(from_json(nlohmann::json::array()));
}

// ---- parsers ---------------------------------------------------------------------------------

TEST(SshdConfigParser, FirstValueWinsAcrossDropInsAndMatchBlocksAreIgnored) {
  std::map<std::string, std::string> files = {
      {"/etc/ssh/sshd_config.d/10-groundctl.conf",
       "PermitRootLogin no\nPasswordAuthentication no\nAllowUsers orbital\n"},
      {"/etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication yes\n"}};
  SshdFacts f;
  parse_sshd_config(
      "# comment\n"
      "Include /etc/ssh/sshd_config.d/*.conf\n"
      "PermitRootLogin yes\n"
      "MaxAuthTries=4\n"
      "AllowUsers deploy\n"
      "Match User backup\n"
      "  PasswordAuthentication yes\n"
      "  KbdInteractiveAuthentication yes\n"
      "Match all\n"
      "KbdInteractiveAuthentication no\n",
      f, [&](const std::string& pattern) {
        EXPECT_EQ(pattern, "/etc/ssh/sshd_config.d/*.conf");
        return std::vector<std::pair<std::string, std::string>>(files.begin(), files.end());
      });
  EXPECT_EQ(f.get("permitrootlogin"), "no");  // The drop-in came first.
  EXPECT_EQ(f.get("passwordauthentication"), "no");
  EXPECT_EQ(f.get("maxauthtries"), "4");
  EXPECT_EQ(f.get("kbdinteractiveauthentication"), "no");  // Only the global one counts.
  EXPECT_EQ(f.settings["allowusers"], (std::vector<std::string>{"orbital", "deploy"}));
  EXPECT_EQ(f.files.size(), 2u);
}

TEST(SshdTParser, ReadsEveryKeywordAndRepeatedAllowUsers) {
  SshdFacts f;
  parse_sshd_t("port 22\npermitrootlogin no\nallowusers a\nallowusers b\n", f);
  EXPECT_EQ(f.get("permitrootlogin"), "no");
  EXPECT_EQ(f.settings["allowusers"], (std::vector<std::string>{"a", "b"}));
}

TEST(ProcNetTcp, ParsesListeningSocketsOnly) {
  std::string v4 =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout\n"
      "   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106 0 1 1\n"
      "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 0 2 1\n"
      "   2: 0100007F:1538 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000   106 0 3 1\n";
  auto l = parse_proc_net_tcp(v4, false);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], (Listener{"127.0.0.1", 5432, false}));
  EXPECT_EQ(l[1], (Listener{"0.0.0.0", 22, false}));
  std::string v6 =
      "  sl  local_address                         remote_address                        st\n"
      "   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 0\n"
      "   1: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 0\n";
  l = parse_proc_net_tcp(v6, true);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], (Listener{"::", 443, true}));
  EXPECT_EQ(l[1], (Listener{"::1", 3000, true}));
}

TEST(UfwParsers, StatusVerboseAndUserRules) {
  FirewallFacts f;
  parse_ufw_status(
      "Status: active\nLogging: on (low)\n"
      "Default: deny (incoming), allow (outgoing), disabled (routed)\nNew profiles: skip\n\n"
      "To                         Action      From\n"
      "--                         ------      ----\n"
      "22/tcp                     LIMIT IN    Anywhere\n"
      "80,443/tcp                 ALLOW IN    Anywhere\n"
      "5432                       DENY IN     Anywhere\n"
      "53                         ALLOW OUT   Anywhere\n"
      "22/tcp (v6)                LIMIT IN    Anywhere (v6)\n",
      f);
  EXPECT_TRUE(f.enabled);
  EXPECT_TRUE(f.default_deny_incoming);
  EXPECT_EQ(f.allowed, (std::vector<std::string>{"22/tcp", "80/tcp", "443/tcp"}));
  FirewallFacts g;
  parse_ufw_user_rules(
      "### RULES ###\n\n### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
      "-A ufw-user-input -p tcp --dport 22 -j ufw-user-limit-accept\n"
      "### tuple ### allow any 8080 0.0.0.0/0 any 0.0.0.0/0 in\n"
      "### tuple ### deny tcp 25 0.0.0.0/0 any 0.0.0.0/0 in\n",
      g);
  EXPECT_EQ(g.allowed, (std::vector<std::string>{"22/tcp", "8080/tcp", "8080/udp"}));
}

TEST(OtherParsers, Fail2banAptAndAutoUpgrades) {
  EXPECT_EQ(parse_fail2ban_jails("Status\n|- Number of jail:\t2\n`- Jail list:\tsshd, "
                                 "nginx-limit-req\n"),
            (std::vector<std::string>{"sshd", "nginx-limit-req"}));
  EXPECT_EQ(parse_apt_security(
                "Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/"
                "stable-security [amd64])\n"
                "Inst tzdata [2023c-5] (2024a-0+deb12u1 Debian:12.5/stable [all])\n"
                "Conf libssl3 (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])\n"),
            std::vector<std::string>{"libssl3"});
  EXPECT_TRUE(parse_auto_upgrades(
      "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n"));
  EXPECT_FALSE(parse_auto_upgrades(
      "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"0\";\n"));
}

}  // namespace
}  // namespace gc::audit

// SPDX-License-Identifier: MIT
// audit/checks.cc: the checklist table and its verdict functions.
#include "audit/checks.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

namespace gc::audit {
namespace {

Verdict pass(std::string e) { return {CheckStatus::kPass, std::move(e)}; }
Verdict fail(std::string e) { return {CheckStatus::kFail, std::move(e)}; }
Verdict skip(std::string e) { return {CheckStatus::kSkip, std::move(e)}; }
Verdict error(std::string e) { return {CheckStatus::kError, std::move(e)}; }

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- sshd ----------------------------------------------------------------------------------

// A gate shared by the ssh checks: nullopt when the facts can be judged.
std::optional<Verdict> sshd_gate(const Evidence& e) {
  if (!e.sshd.error.empty()) return error(e.sshd.error);
  if (!e.sshd.installed) return skip("sshd is not installed (no sshd_config)");
  return std::nullopt;
}

// The effective value of `key`, with OpenSSH's compiled-in default when a parsed config does
// not set it (sshd -T always prints every keyword). `text` gets "source: key value".
std::string sshd_value(const Evidence& e, const std::string& key, const std::string& fallback,
                       std::string& text) {
  std::string v = lower(e.sshd.get(key));
  bool defaulted = v.empty();
  if (defaulted) v = fallback;
  text = e.sshd.source + ": " + key + " " + v + (defaulted ? " (default)" : "");
  return v;
}

Verdict ssh_root_login(const Evidence& e, const config::Config&) {
  if (auto g = sshd_gate(e)) return *g;
  std::string text;
  std::string v = sshd_value(e, "permitrootlogin", "prohibit-password", text);
  return v == "no" ? pass(text) : fail(text);
}

Verdict ssh_password_auth(const Evidence& e, const config::Config&) {
  if (auto g = sshd_gate(e)) return *g;
  std::string text;
  std::string v = sshd_value(e, "passwordauthentication", "yes", text);
  return v == "no" ? pass(text) : fail(text);
}

Verdict ssh_kbd_interactive(const Evidence& e, const config::Config&) {
  if (auto g = sshd_gate(e)) return *g;
  std::string text;
  // ChallengeResponseAuthentication is the deprecated alias a parsed config may still use.
  std::string key = e.sshd.get("kbdinteractiveauthentication").empty() &&
                            !e.sshd.get("challengeresponseauthentication").empty()
                        ? "challengeresponseauthentication"
                        : "kbdinteractiveauthentication";
  std::string v = sshd_value(e, key, "yes", text);
  return v == "no" ? pass(text) : fail(text);
}

Verdict ssh_max_auth_tries(const Evidence& e, const config::Config& cfg) {
  if (auto g = sshd_gate(e)) return *g;
  std::string text;
  std::string v = sshd_value(e, "maxauthtries", "6", text);
  int limit = cfg.ssh ? cfg.ssh->max_auth_tries : config::SshConfig{}.max_auth_tries;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return fail(text + " (not a number)");
    n = n * 10 + (c - '0');
    if (n > 1000) break;
  }
  text += " (at most " + std::to_string(limit) + " wanted)";
  return n <= limit ? pass(text) : fail(text);
}

Verdict ssh_allow_users(const Evidence& e, const config::Config& cfg) {
  if (auto g = sshd_gate(e)) return *g;
  if (!cfg.ssh) return skip("no [ssh] section: the allowed users are not configured");
  std::vector<std::string> got;
  if (auto it = e.sshd.settings.find("allowusers"); it != e.sshd.settings.end()) got = it->second;
  std::set<std::string> have(got.begin(), got.end());
  std::set<std::string> want(cfg.ssh->allow_users.begin(), cfg.ssh->allow_users.end());
  std::string text = e.sshd.source + ": allowusers " +
                     (got.empty() ? "(none: every user may log in)" : join(got, " "));
  if (have == want) return pass(text);
  return fail(text + "; [ssh].allow_users is " + join(cfg.ssh->allow_users, " "));
}

// ---- firewall and listeners ----------------------------------------------------------------

std::vector<std::string> wanted_ports(const config::Config& cfg) {
  return cfg.firewall ? cfg.firewall->allow : config::FirewallConfig{}.allow;
}

std::optional<Verdict> firewall_gate(const Evidence& e) {
  if (!e.firewall.error.empty()) return error(e.firewall.error);
  if (!e.firewall.installed) return fail("ufw is not installed: nothing filters incoming traffic");
  return std::nullopt;
}

Verdict firewall_enabled(const Evidence& e, const config::Config&) {
  if (auto g = firewall_gate(e)) return *g;
  std::string text = e.firewall.source + ": " + (e.firewall.enabled ? "active" : "inactive");
  return e.firewall.enabled ? pass(text) : fail(text);
}

Verdict firewall_ports(const Evidence& e, const config::Config& cfg) {
  if (auto g = firewall_gate(e)) return *g;
  std::vector<std::string> want = wanted_ports(cfg);
  std::set<std::string> have(e.firewall.allowed.begin(), e.firewall.allowed.end());
  std::set<std::string> wanted(want.begin(), want.end());
  std::vector<std::string> extra, missing;
  for (const auto& p : have) {
    if (!wanted.count(p)) extra.push_back(p);
  }
  for (const auto& p : wanted) {
    if (!have.count(p)) missing.push_back(p);
  }
  std::string text = e.firewall.source + ": allows " +
                     (have.empty() ? "nothing" : join({have.begin(), have.end()})) +
                     "; default incoming " + (e.firewall.default_deny_incoming ? "deny" : "allow");
  if (!extra.empty()) text += "; not in [firewall].allow: " + join(extra);
  if (!missing.empty()) text += "; missing: " + join(missing);
  bool ok = extra.empty() && missing.empty() && e.firewall.default_deny_incoming;
  return ok ? pass(text) : fail(text);
}

bool is_loopback(const Listener& l) {
  if (!l.ipv6) return l.address.rfind("127.", 0) == 0;
  return l.address == "::1" || l.address.rfind("::ffff:127.", 0) == 0;
}

std::string listener_text(const Listener& l) {
  return (l.ipv6 ? "[" + l.address + "]" : l.address) + ":" + std::to_string(l.port);
}

Verdict net_exposed_listeners(const Evidence& e, const config::Config& cfg) {
  if (e.listeners.skipped) return skip(e.listeners.error);
  if (!e.listeners.error.empty()) return error(e.listeners.error);
  std::set<int> allowed;
  for (const auto& p : wanted_ports(cfg)) {
    if (p.size() > 4 && p.compare(p.size() - 4, 4, "/tcp") == 0) {
      allowed.insert(std::atoi(p.substr(0, p.size() - 4).c_str()));
    }
  }
  std::vector<std::string> exposed, ok;
  std::set<std::string> seen;
  for (const auto& l : e.listeners.listeners) {
    if (is_loopback(l)) continue;
    std::string t = listener_text(l);
    if (!seen.insert(t).second) continue;
    (allowed.count(l.port) ? ok : exposed).push_back(t);
  }
  std::string text = e.listeners.source + ": ";
  if (exposed.empty()) {
    text += ok.empty() ? "no socket listens beyond loopback"
                       : "listening beyond loopback on allowed ports only: " + join(ok);
    return pass(text);
  }
  text += "listening beyond loopback on ports the firewall should not allow: " + join(exposed);
  if (e.firewall.enabled) text += " (ufw is active, so only a firewall mistake exposes them)";
  return fail(text);
}

// ---- fail2ban --------------------------------------------------------------------------------

Verdict fail2ban_running(const Evidence& e, const config::Config&) {
  if (e.fail2ban.skipped) return skip(e.fail2ban.error);
  if (e.fail2ban.running) return pass("fail2ban-client status: running");
  return fail("fail2ban is not running: " + e.fail2ban.error);
}

Verdict fail2ban_jails(const Evidence& e, const config::Config& cfg) {
  if (e.fail2ban.skipped) return skip(e.fail2ban.error);
  std::vector<std::string> want =
      cfg.fail2ban ? cfg.fail2ban->jails : std::vector<std::string>{"sshd"};
  if (!e.fail2ban.running) return fail("fail2ban is not running: no jail is active");
  std::vector<std::string> missing;
  for (const auto& j : want) {
    if (std::find(e.fail2ban.jails.begin(), e.fail2ban.jails.end(), j) == e.fail2ban.jails.end())
      missing.push_back(j);
  }
  std::string text = "fail2ban-client status: jails " +
                     (e.fail2ban.jails.empty() ? "(none)" : join(e.fail2ban.jails));
  if (missing.empty()) return pass(text);
  return fail(text + "; missing: " + join(missing));
}

// ---- PostgreSQL ------------------------------------------------------------------------------

std::optional<Verdict> postgres_gate(const Evidence& e) {
  if (!e.postgres.configured) return skip("no [postgres] section (or not read under --root)");
  if (!e.postgres.error.empty()) return error(e.postgres.error);
  return std::nullopt;
}

Verdict postgres_listen_local(const Evidence& e, const config::Config&) {
  if (auto g = postgres_gate(e)) return *g;
  std::vector<std::string> wide;
  std::string list = e.postgres.listen_addresses;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string a = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    a.erase(0, a.find_first_not_of(" \t"));
    a.erase(a.find_last_not_of(" \t") + 1);
    if (!a.empty() && a != "localhost" && a.rfind("127.", 0) != 0 && a != "::1") wide.push_back(a);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::string text = "SHOW listen_addresses: '" + list + "'";
  return wide.empty() ? pass(text) : fail(text + "; not loopback: " + join(wide));
}

std::string hba_text(const HbaRule& r) {
  std::string t =
      "pg_hba line " + std::to_string(r.line) + ": " + r.type + " " + r.database + " " + r.user;
  if (!r.address.empty()) t += " " + r.address;
  if (!r.netmask.empty()) t += " " + r.netmask;
  return t + " " + r.method;
}

Verdict postgres_hba_trust(const Evidence& e, const config::Config&) {
  if (auto g = postgres_gate(e)) return *g;
  std::vector<std::string> bad;
  for (const auto& r : e.postgres.hba) {
    if (r.method == "trust") bad.push_back(hba_text(r));
  }
  if (bad.empty()) {
    return pass("pg_hba_file_rules: " + std::to_string(e.postgres.hba.size()) +
                " rule(s), none with trust");
  }
  return fail(join(bad, "; "));
}

bool hba_address_local(const HbaRule& r) {
  const std::string& a = r.address;
  return a == "localhost" || a == "samehost" || a.rfind("127.", 0) == 0 || a == "::1" ||
         a.rfind("::1/", 0) == 0;
}

Verdict postgres_hba_wide(const Evidence& e, const config::Config&) {
  if (auto g = postgres_gate(e)) return *g;
  std::vector<std::string> bad;
  for (const auto& r : e.postgres.hba) {
    if (r.type == "local") continue;
    if (!hba_address_local(r)) bad.push_back(hba_text(r));
  }
  if (bad.empty()) return pass("pg_hba_file_rules: every host rule is loopback-only");
  return fail(join(bad, "; "));
}

Verdict postgres_app_superuser(const Evidence& e, const config::Config&) {
  if (auto g = postgres_gate(e)) return *g;
  if (e.postgres.app_role.empty()) return skip("no [postgres].app_role configured");
  if (!e.postgres.app_role_superuser) {
    return skip("role " + e.postgres.app_role + " does not exist (yet)");
  }
  std::string text = "pg_roles: " + e.postgres.app_role + " rolsuper " +
                     (*e.postgres.app_role_superuser ? "true" : "false");
  return *e.postgres.app_role_superuser ? fail(text) : pass(text);
}

// ---- services and files ----------------------------------------------------------------------

Verdict services_not_root(const Evidence& e, const config::Config& cfg) {
  if (cfg.services.empty()) return skip("no [[service]] configured");
  std::vector<std::string> root, fine;
  for (const auto& s : cfg.services) {
    bool is_root = s.user == "root" || s.user == "0" || (s.user.empty() && e.daemon_is_root);
    std::string who = s.user.empty() ? "(daemon's user)" : s.user;
    (is_root ? root : fine).push_back(s.name + " as " + who);
  }
  if (root.empty()) return pass("services run as: " + join(fine));
  return fail("running as root: " + join(root));
}

std::string mode_text(std::uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

Verdict files_secret_modes(const Evidence& e, const config::Config&) {
  if (e.secret_files.empty()) return skip("no secret file configured");
  std::vector<std::string> bad, errors, good;
  for (const auto& f : e.secret_files) {
    std::string name = f.what + " " + f.path;
    if (!f.error.empty()) {
      errors.push_back(name + ": " + f.error);
    } else if (!f.exists) {
      good.push_back(name + " missing");
    } else if ((f.mode & 077) != 0) {
      bad.push_back(name + " mode " + mode_text(f.mode));
    } else {
      good.push_back(name + " " + mode_text(f.mode));
    }
  }
  if (!bad.empty()) return fail("readable by group or others: " + join(bad, "; "));
  if (!errors.empty()) return error(join(errors, "; "));
  return pass(join(good, "; "));
}

// ---- disk, certificates, backups, updates ------------------------------------------------------

Verdict disk_usage(const Evidence& e, const config::Config&) {
  if (!e.disk.error.empty()) return error(e.disk.error);
  char buf[96];
  std::snprintf(buf, sizeof buf, "statvfs %s: %.1f%% used", e.disk.path.c_str(),
                e.disk.used_ratio * 100);
  return e.disk.used_ratio < 0.80 ? pass(buf) : fail(std::string(buf) + " (80% or more)");
}

Verdict tls_certificate(const Evidence& e, const config::Config&) {
  if (e.certificates.empty()) return skip("no certificate configured ([nginx] or [monitor.tls])");
  std::vector<std::string> bad, good;
  for (const auto& c : e.certificates) {
    if (!c.error.empty()) {
      bad.push_back(c.path + ": " + c.error);
      continue;
    }
    std::int64_t left = c.not_after - e.now;
    std::string days = std::to_string(left / 86400) + " day(s)";
    if (left <= 0) {
      bad.push_back(c.path + ": expired " + std::to_string(-left / 86400) + " day(s) ago");
    } else if (left < 14 * 86400) {
      bad.push_back(c.path + ": expires in " + days);
    } else {
      good.push_back(c.path + ": " + days + " left");
    }
  }
  if (bad.empty()) return pass(join(good, "; "));
  return fail(join(bad, "; "));
}

Verdict backup_recent(const Evidence& e, const config::Config& cfg) {
  if (!e.backup.configured) {
    if (cfg.postgres) return fail("[postgres] is configured but there is no [backup]");
    return skip("no [backup] or [postgres] configured");
  }
  if (!e.backup.error.empty()) return error(e.backup.error);
  if (!e.backup.last_success) return fail("backup catalog: no backup has succeeded yet");
  std::int64_t age = e.now - *e.backup.last_success;
  std::string text = "backup catalog: last success " + std::to_string(age / 3600) + " h ago";
  return age < 26 * 3600 ? pass(text) : fail(text + " (26 h or more)");
}

Verdict backup_verified(const Evidence& e, const config::Config&) {
  if (!e.backup.configured) return skip("no [backup] configured");
  if (!e.backup.error.empty()) return error(e.backup.error);
  if (e.backup.last_set.empty()) return fail("backup catalog: no backup set yet");
  std::string text = "backup catalog: set " + e.backup.last_set + " verification " +
                     (e.backup.verify_result.empty() ? "(none)" : e.backup.verify_result);
  return e.backup.verify_result == "passed" ? pass(text) : fail(text);
}

Verdict updates_security_pending(const Evidence& e, const config::Config&) {
  if (e.updates.skipped) return skip(e.updates.error);
  if (!e.updates.error.empty()) return error(e.updates.error);
  if (e.updates.security_pending.empty()) return pass("apt-get -s upgrade: no security update");
  std::vector<std::string> shown(
      e.updates.security_pending.begin(),
      e.updates.security_pending.begin() +
          static_cast<long>(std::min<size_t>(10, e.updates.security_pending.size())));
  std::string text = "apt-get -s upgrade: " + std::to_string(e.updates.security_pending.size()) +
                     " security update(s) pending: " + join(shown);
  if (shown.size() < e.updates.security_pending.size()) text += ", ...";
  return fail(text);
}

Verdict updates_unattended(const Evidence& e, const config::Config&) {
  return e.updates.unattended_enabled ? pass(e.updates.unattended_evidence)
                                      : fail(e.updates.unattended_evidence);
}

// Weights follow severity: critical 10, high 6, medium 3, low 1.
constexpr std::array<Check, 22> kChecks = {{
    {"ssh.root_login", "SSH refuses root logins", Severity::kCritical, 10,
     "Set `PermitRootLogin no` in an sshd drop-in that sorts first (groundctl apply writes "
     "/etc/ssh/sshd_config.d/10-groundctl.conf), then `sshd -t && systemctl reload ssh`.",
     ssh_root_login},
    {"ssh.password_auth", "SSH refuses passwords", Severity::kHigh, 6,
     "Set `PasswordAuthentication no` (after making sure an allowed user has a key in "
     "~/.ssh/authorized_keys), then `sshd -t && systemctl reload ssh`.",
     ssh_password_auth},
    {"ssh.kbd_interactive", "SSH refuses keyboard-interactive logins", Severity::kHigh, 6,
     "Set `KbdInteractiveAuthentication no`, then `sshd -t && systemctl reload ssh`.",
     ssh_kbd_interactive},
    {"ssh.max_auth_tries", "SSH limits authentication attempts", Severity::kMedium, 3,
     "Set `MaxAuthTries` to [ssh].max_auth_tries (3 by default) in the sshd drop-in.",
     ssh_max_auth_tries},
    {"ssh.allow_users", "SSH allows only the configured users", Severity::kMedium, 3,
     "Set `AllowUsers` to exactly [ssh].allow_users (`groundctl apply` writes it).",
     ssh_allow_users},
    {"firewall.enabled", "The firewall is on", Severity::kCritical, 10,
     "Allow SSH first (`ufw limit 22/tcp`), then `ufw default deny incoming && ufw enable`; "
     "or `groundctl apply` with a [firewall] section.",
     firewall_enabled},
    {"firewall.ports", "The firewall allows exactly the configured ports", Severity::kHigh, 6,
     "Make the ufw rules match [firewall].allow: `ufw delete allow PORT/PROTO` for extra ones, "
     "`ufw allow PORT/PROTO` for missing ones, `ufw default deny incoming` (or `groundctl apply`).",
     firewall_ports},
    {"net.exposed_listeners", "Nothing else listens beyond loopback", Severity::kHigh, 6,
     "Bind the service to 127.0.0.1 (PostgreSQL: listen_addresses = 'localhost'; apps: "
     "listen = [\"127.0.0.1:PORT\"]) or add its port to [firewall].allow if it must be public.",
     net_exposed_listeners},
    {"fail2ban.running", "fail2ban is running", Severity::kHigh, 6,
     "`apt-get install fail2ban && systemctl enable --now fail2ban` (groundctl apply writes the "
     "jails).",
     fail2ban_running},
    {"fail2ban.jails", "fail2ban runs the configured jails", Severity::kMedium, 3,
     "Enable the jails of [fail2ban].jails (`groundctl apply`), then `fail2ban-client reload`.",
     fail2ban_jails},
    {"postgres.listen_local", "PostgreSQL listens on loopback only", Severity::kCritical, 10,
     "Set `listen_addresses = 'localhost'` in postgresql.conf (conf.d) and restart PostgreSQL.",
     postgres_listen_local},
    {"postgres.hba_trust", "No pg_hba rule trusts without a password", Severity::kCritical, 10,
     "Replace `trust` in pg_hba.conf with `peer` (local) or `scram-sha-256` (host), then "
     "`SELECT pg_reload_conf()`.",
     postgres_hba_trust},
    {"postgres.hba_wide", "pg_hba allows loopback clients only", Severity::kHigh, 6,
     "Remove host rules for addresses other than 127.0.0.1/32 and ::1/128 from pg_hba.conf, "
     "then `SELECT pg_reload_conf()`.",
     postgres_hba_wide},
    {"postgres.app_superuser", "The app's role is not a superuser", Severity::kHigh, 6,
     "`ALTER ROLE <app_role> NOSUPERUSER;` and grant it ownership of its database instead.",
     postgres_app_superuser},
    {"services.not_root", "Services do not run as root", Severity::kHigh, 6,
     "Set `user = \"<app user>\"` on every [[service]] (create the user with `useradd "
     "--system`), then `groundctl config reload`.",
     services_not_root},
    {"files.secret_modes", "Secret files are private", Severity::kHigh, 6,
     "`chmod 600 FILE` (and chown it to the user that reads it) for every file named.",
     files_secret_modes},
    {"disk.usage", "The root filesystem is below 80 % full", Severity::kMedium, 3,
     "Free space: `groundctl backup prune`, `journalctl --vacuum-size=200M`, `apt-get clean`, "
     "or grow the disk.",
     disk_usage},
    {"tls.certificate", "The TLS certificate is valid for 14 days or more", Severity::kHigh, 6,
     "Renew it: `groundctl cert renew` (or `certbot renew`), then reload Nginx.", tls_certificate},
    {"backup.recent", "The last backup is less than 26 hours old", Severity::kHigh, 6,
     "Configure [backup] and check `groundctl backup list` and log_dir/backup.log; run "
     "`groundctl backup run` now.",
     backup_recent},
    {"backup.verified", "The newest backup passed verification", Severity::kMedium, 3,
     "Keep [backup].verify = \"stream\" and run `groundctl backup verify --identity KEY` to "
     "prove a restore.",
     backup_verified},
    {"updates.security_pending", "No security update is pending", Severity::kMedium, 3,
     "`apt-get update && apt-get upgrade` (and reboot if the kernel or libc changed).",
     updates_security_pending},
    {"updates.unattended", "Unattended security upgrades are on", Severity::kMedium, 3,
     "`apt-get install unattended-upgrades` and set APT::Periodic::Update-Package-Lists \"1\"; "
     "APT::Periodic::Unattended-Upgrade \"1\"; in /etc/apt/apt.conf.d/20auto-upgrades.",
     updates_unattended},
}};

}  // namespace

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return "critical";
    case Severity::kHigh:
      return "high";
    case Severity::kMedium:
      return "medium";
    case Severity::kLow:
      return "low";
  }
  return "low";
}

std::string_view status_name(CheckStatus s) {
  switch (s) {
    case CheckStatus::kPass:
      return "pass";
    case CheckStatus::kFail:
      return "fail";
    case CheckStatus::kSkip:
      return "skip";
    case CheckStatus::kError:
      return "error";
  }
  return "error";
}

std::span<const Check> checks() { return kChecks; }

const Check* find_check(std::string_view id) {
  for (const auto& c : kChecks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

std::vector<CheckResult> evaluate(const Evidence& e, const config::Config& cfg) {
  std::vector<CheckResult> out;
  for (const auto& c : kChecks) {
    Verdict v = c.verdict(e, cfg);
    out.push_back({std::string(c.id), std::string(c.title), c.severity, c.weight, v.status,
                   std::move(v.evidence), std::string(c.remediation)});
  }
  return out;
}

int score(std::span<const CheckResult> results) {
  long passed = 0, applicable = 0;
  for (const auto& r : results) {
    if (r.status == CheckStatus::kSkip) continue;
    applicable += r.weight;
    if (r.status == CheckStatus::kPass) passed += r.weight;
  }
  if (applicable == 0) return 100;
  return static_cast<int>(passed * 100 / applicable);
}

}  // namespace gc::audit

// SPDX-License-Identifier: MIT
// provision/fail2ban.cc: the jail.d file. It is a .local file, read after jail.conf and
// Debian's jail.d/defaults-debian.conf, so its values win.
#include "provision/fail2ban.h"

#include <algorithm>
#include <chrono>
#include <string>

namespace gc::provision {
namespace {

std::string seconds(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

bool has_jail(const config::Fail2banConfig& f, std::string_view jail) {
  return std::find(f.jails.begin(), f.jails.end(), jail) != f.jails.end();
}

}  // namespace

Component render_fail2ban(const config::Config& config, const Target& target) {
  const config::Fail2banConfig& f = *config.fail2ban;
  std::string text = "# Managed by groundctl from [fail2ban] in " + config.path +
                     ": edit the config and run `groundctl apply`; changes made here are "
                     "overwritten.\n\n[DEFAULT]\n";
  text += "bantime = " + seconds(f.bantime) + "\n";
  text += "findtime = " + seconds(f.findtime) + "\n";
  text += "maxretry = " + std::to_string(f.maxretry) + "\n";
  // Bans live in fail2ban's own nftables table (inet f2b-table, an input chain at priority -1,
  // ahead of ufw's iptables-nft chains), never in a file groundctl manages: banaction = ufw
  // would insert them into /etc/ufw/user.rules, where `plan` shows them as drift and `apply`
  // drops them. `ufw reload` leaves that table alone. Needs the nft command (nftables).
  text += "banaction = nftables-multiport\n";
  text += "banaction_allports = nftables-allports\n";
  // Every jail this file does not enable stays as Debian left it, except Debian's own [sshd]
  // which is replaced below (or turned off when the sshd jail is not configured).
  text += "\n[sshd]\n";
  if (has_jail(f, "sshd")) {
    text += "enabled = true\n";
    text += "port = " + std::to_string(config.ssh ? config.ssh->port : 22) + "\n";
    if (f.sshd_backend == "systemd") {
      // Debian 12 has no /var/log/auth.log without rsyslog: sshd logs to the journal only.
      text += "backend = systemd\n";
    } else {
      text += "backend = " + f.sshd_backend + "\n";
      text += "logpath = " + f.sshd_log + "\n";
    }
  } else {
    text += "enabled = false\n";
  }
  const std::string nginx_error_log = "/var/log/nginx/error.log";
  const std::string access_log =
      config.nginx ? config.nginx->access_log : std::string("/var/log/nginx/access.log");
  struct NginxJail {
    std::string_view name;
    std::string logpath;
  };
  const NginxJail nginx_jails[] = {{"nginx-limit-req", nginx_error_log},
                                   {"nginx-botsearch", access_log},
                                   {"nginx-http-auth", nginx_error_log}};
  for (const NginxJail& j : nginx_jails) {
    if (!has_jail(f, j.name)) continue;
    text += "\n[" + std::string(j.name) + "]\n";
    text += "enabled = true\n";
    text += "port = http,https\n";
    // Nginx writes files, so these jails poll the file whatever the default backend is.
    text += "backend = auto\n";
    text += "logpath = " + j.logpath + "\n";
  }
  Component c;
  c.name = "fail2ban";
  c.files.push_back({.path = f.jail_file, .content = std::move(text), .mode = 0644});
  if (target.root.empty()) c.lifecycle.validate = {"fail2ban-client", "-t"};
  // A restart of the jails, not a plain reload: fail2ban 1.0.2's reload leaves a jail whose
  // banaction changed with no action at all (`fail2ban-client get sshd actions`: "No actions"),
  // so it bans on paper only. Restarted jails restore their bans from fail2ban's database.
  // systemctl restart also starts a fail2ban that is not running (just installed, or stopped).
  if (target.systemd) {
    c.lifecycle.reload = {"systemctl", "restart", "fail2ban"};
  } else {
    c.lifecycle.reload = {"fail2ban-client", "reload", "--restart"};
  }
  return c;
}

}  // namespace gc::provision

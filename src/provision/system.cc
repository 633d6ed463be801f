// SPDX-License-Identifier: MIT
// provision/system.cc: packages, service users, unattended upgrades and groundctl's unit.
#include "provision/system.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace gc::provision {
namespace {

// A root step with a check (and no stdin).
Step make_step(std::string summary, std::vector<std::string> argv, std::vector<std::string> check) {
  Step s;
  s.summary = std::move(summary);
  s.argv = std::move(argv);
  s.check = std::move(check);
  return s;
}

// Exit 0 only when every package argument is fully installed. dpkg-query exits 0 for a package
// it merely knows about ("deinstall ok config-files" after a remove), so the status is compared.
constexpr std::string_view kAllInstalled =
    "for p; do [ \"$(dpkg-query -W -f='${Status}' \"$p\" 2>/dev/null)\" = "
    "'install ok installed' ] || exit 1; done";

// Debian's own file as `dpkg-reconfigure unattended-upgrades` writes it: refresh the package
// lists and run unattended-upgrade daily (its default origins are the security archive).
constexpr std::string_view kAutoUpgrades =
    "APT::Periodic::Update-Package-Lists \"1\";\n"
    "APT::Periodic::Unattended-Upgrade \"1\";\n";

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

// The unit: Type=notify (the daemon sends READY=1 once services started), SIGTERM for a graceful
// stop, KillMode=mixed so systemd's SIGTERM reaches only the daemon (which drains its children)
// and only the final SIGKILL hits the whole cgroup.
std::string systemd_unit(const std::string& exe, const std::string& config_path) {
  return "[Unit]\n"
         "Description=Ground Control: supervises, backs up and watches this server\n"
         "After=network-online.target postgresql.service\n"
         "Wants=network-online.target\n\n"
         "[Service]\n"
         "Type=notify\n"
         "ExecStart=" +
         exe + " daemon --config " + config_path +
         "\n"
         "ExecReload=/bin/kill -HUP $MAINPID\n"
         "KillMode=mixed\n"
         "KillSignal=SIGTERM\n"
         "TimeoutStopSec=90\n"
         "Restart=always\n"
         "RestartSec=2\n"
         "LimitNOFILE=65536\n\n"
         "[Install]\n"
         "WantedBy=multi-user.target\n";
}

std::vector<std::string> required_packages(const config::Config& config) {
  std::vector<std::string> p;
  if (config.ssh) p.push_back("openssh-server");
  if (config.nginx) p.push_back("nginx");
  if (config.firewall) p.push_back("ufw");
  if (config.fail2ban) {
    p.push_back("fail2ban");
    p.push_back("nftables");  // banaction = nftables-multiport runs nft.
    // backend = systemd reads the journal through these bindings.
    if (has(config.fail2ban->jails, "sshd") && config.fail2ban->sshd_backend == "systemd") {
      p.push_back("python3-systemd");
    }
  }
  p.push_back("unattended-upgrades");
  if (config.postgres && config.postgres->manage) {
    p.push_back("postgresql-15");
    if (config.postgres->manage->pool) p.push_back("pgbouncer");
  }
  return p;
}

Component render_system(const config::Config& config, const Target& target,
                        const std::string& groundctl_exe) {
  Component c;
  c.name = "system";
  c.files.push_back({.path = "/etc/apt/apt.conf.d/20auto-upgrades",
                     .content = std::string(kAutoUpgrades),
                     .mode = 0644});
  c.files.push_back({.path = "/etc/systemd/system/groundctl.service",
                     .content = systemd_unit(groundctl_exe, config.path),
                     .mode = 0644});

  // Packages go into the live system only: apt cannot install into another root.
  if (target.root.empty()) {
    std::vector<std::string> packages = required_packages(config);
    std::vector<std::string> all_check = {"sh", "-c", std::string(kAllInstalled), "sh"};
    all_check.insert(all_check.end(), packages.begin(), packages.end());
    // A fresh droplet's package lists may be empty or stale; refresh them only when something
    // is missing.
    c.steps_before.push_back(
        make_step("update package lists", {"apt-get", "update", "-q"}, all_check));
    for (const std::string& p : packages) {
      c.steps_before.push_back(
          make_step("install package " + p,
                    {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", p},
                    {"sh", "-c", std::string(kAllInstalled), "sh", p}));
    }
  }

  std::set<std::string> users;
  for (const config::ServiceConfig& s : config.services) {
    if (s.user.empty() || s.user == "root" || !users.insert(s.user).second) continue;
    Step step;
    step.summary = "create user " + s.user;
    if (target.root.empty()) {
      step.argv = {"useradd", "--system", "--create-home", "--shell", "/usr/sbin/nologin", s.user};
      step.check = {"id", "-u", s.user};
    } else {
      // useradd --root chroots into the target; the check reads its passwd file.
      step.argv = {"useradd",       "--root",  target.root,         "--system",
                   "--create-home", "--shell", "/usr/sbin/nologin", s.user};
      step.check = {"sh", "-c", "grep -q \"^$1:\" \"$2/etc/passwd\"", "sh", s.user, target.root};
    }
    c.steps_before.push_back(std::move(step));
  }

  if (target.systemd) {
    c.lifecycle.reload = {"systemctl", "daemon-reload"};
    c.steps_after.push_back(make_step("enable groundctl.service",
                                      {"systemctl", "enable", "groundctl.service"},
                                      {"systemctl", "is-enabled", "--quiet", "groundctl.service"}));
  }
  return c;
}

}  // namespace gc::provision

// SPDX-License-Identifier: MIT
// provision/system.h: the base of the server: the packages the configured sections need, the
// services' users, unattended security upgrades and groundctl's own systemd unit. Pure.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "provision/resource.h"

namespace gc::provision {

// The systemd unit that runs `exe daemon --config config_path`: Type=notify, SIGTERM to the
// daemon only (KillMode=mixed), restarted always.
std::string systemd_unit(const std::string& exe, const std::string& config_path);

// The Debian packages the config needs, in install order: openssh-server ([ssh]), nginx, ufw,
// fail2ban, unattended-upgrades (always), postgresql-15 (postgres.manage), pgbouncer (its pool).
std::vector<std::string> required_packages(const config::Config& config);

// The "system" component: /etc/apt/apt.conf.d/20auto-upgrades (daily list updates and
// unattended upgrades) and /etc/systemd/system/groundctl.service (for `groundctl_exe` and
// config.path). Its steps before install each required package that is not installed
// (`apt-get install -y`, checked with dpkg-query's status "install ok installed") and create each
// [[service]] user that does not exist (a system user with a home and no login shell). Reloads
// with `systemctl daemon-reload` when target.systemd, else nothing. Pure.
Component render_system(const config::Config& config, const Target& target,
                        const std::string& groundctl_exe);

}  // namespace gc::provision

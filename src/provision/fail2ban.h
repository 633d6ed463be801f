// SPDX-License-Identifier: MIT
// provision/fail2ban.h: the fail2ban jails groundctl manages, rendered from [fail2ban] into one
// jail.d file. Pure.
#pragma once

#include "config/config.h"
#include "provision/resource.h"

namespace gc::provision {

// The "fail2ban" component: one file at fail2ban.jail_file with [DEFAULT] bantime, findtime,
// maxretry and banaction nftables-multiport (bans in fail2ban's own nftables table, not in the
// ufw files apply manages), then the
// configured jails: sshd (backend systemd as Debian 12 needs, or backend + logpath sshd_log; port
// ssh.port), nginx-limit-req (Nginx's error log), nginx-botsearch (nginx.access_log),
// nginx-http-auth. Validates with `fail2ban-client -t`; restarts the jails (`systemctl restart
// fail2ban`, else `fail2ban-client reload --restart`), since a plain reload loses the actions of
// a jail whose banaction changed.
// Requires config.fail2ban. Pure.
Component render_fail2ban(const config::Config& config, const Target& target);

}  // namespace gc::provision

// SPDX-License-Identifier: MIT
// provision/sshd.h: the sshd drop-in groundctl manages, rendered from [ssh]: key-only login for
// the allowed users, no root login, few auth tries. Pure.
#pragma once

#include "config/config.h"
#include "provision/resource.h"

namespace gc::provision {

// The "ssh" component: one file at ssh.drop_in (read by Debian 12's sshd_config through
// `Include /etc/ssh/sshd_config.d/*.conf`, before the rest of sshd_config, so its values win:
// sshd keeps the first value of each keyword). Validates with `sshd -t`; reloads with
// `systemctl try-reload-or-restart ssh` when target.systemd, else SIGHUP to the pid in
// /run/sshd.pid. Requires config.ssh. Pure.
Component render_ssh(const config::Config& config, const Target& target);

}  // namespace gc::provision

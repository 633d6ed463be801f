// SPDX-License-Identifier: MIT
#include "provision/render_all.h"

#include "provision/fail2ban.h"
#include "provision/firewall.h"
#include "provision/nginx_site.h"
#include "provision/pgbouncer.h"
#include "provision/postgres.h"
#include "provision/sshd.h"
#include "provision/system.h"

namespace gc::provision {

std::vector<Component> render_all(const config::Config& config, const Target& target,
                                  const std::string& groundctl_exe) {
  std::vector<Component> out;
  out.push_back(render_system(config, target, groundctl_exe));
  if (config.postgres && config.postgres->manage) {
    out.push_back(render_postgres(config, target));
    if (config.postgres->manage->pool) out.push_back(render_pgbouncer(config, target));
  }
  if (config.nginx) out.push_back(render_nginx(config, target));
  if (config.fail2ban) out.push_back(render_fail2ban(config, target));
  if (config.ssh) out.push_back(render_ssh(config, target));
  if (config.firewall) out.push_back(render_firewall(config, target));
  return out;
}

}  // namespace gc::provision

// SPDX-License-Identifier: MIT
// provision/render_all.h: every component the config asks for, in the order apply runs them.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "provision/resource.h"

namespace gc::provision {

// "system" first (packages and users the others need), then "postgres" and "pgbouncer"
// ([postgres] manage = true, its pool), "nginx", "fail2ban", "ssh" and last "firewall" (ufw
// comes up once everything behind it is in place), each only when its section is present.
// `groundctl_exe` is the binary the groundctl unit runs. Pure.
std::vector<Component> render_all(const config::Config& config, const Target& target,
                                  const std::string& groundctl_exe);

}  // namespace gc::provision

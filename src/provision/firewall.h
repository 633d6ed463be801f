// SPDX-License-Identifier: MIT
// provision/firewall.h: ufw, rendered from [firewall] in the files ufw itself keeps: the rule
// files user.rules and user6.rules (byte for byte what ufw 0.36 writes for the same `ufw allow`
// and `ufw limit` commands), /etc/default/ufw (incoming policy DROP) and /etc/ufw/ufw.conf
// (ENABLED=yes). Pure.
#pragma once

#include <string>

#include "config/config.h"
#include "provision/resource.h"

namespace gc::provision {

// The "firewall" component. Every port in firewall.allow is allowed in (IPv4 and IPv6); the SSH
// port (ssh.port, or 22 without [ssh]) gets `limit` instead when limit_ssh. Reloads with
// `ufw reload`; its step after is `ufw --force enable` unless `ufw status` already says active.
// Requires config.firewall. Pure.
Component render_firewall(const config::Config& config, const Target& target);

// The parts, for tests and the audit: the text of /etc/ufw/user.rules (`ipv6` false) or
// /etc/ufw/user6.rules (`ipv6` true).
std::string ufw_user_rules(const config::Config& config, bool ipv6);

}  // namespace gc::provision

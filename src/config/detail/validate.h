// SPDX-License-Identifier: MIT
// config/detail/validate.h: the rules of groundctl.toml, applied to a parsed detail::Node tree.
// Every rule reports through a Checker and carries on, so one pass lists every problem.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/detail/reader.h"
#include "config/detail/tree.h"

namespace gc::config::detail {

// Where a service's cross-checked values were written, for duplicate checks across services.
struct ServiceSite {
  Position table_pos;  // The [[service]] header.
  Position name_pos;   // The name's value; 0:0 if missing.
  bool has_valid_name = false;
  std::vector<std::pair<ListenAddress, Position>> listens;
};

// Validates the whole document and builds the Config from it. The Config is meaningful only if
// `checker` has no errors afterwards. Looks users and groups up through NSS.
Config build_config(Checker& checker, const Node& root);

// Reads one [[service]] table (`index` is 1-based, used in messages when it has no usable name).
ServiceConfig read_service(Checker& checker, const Node& table, int index, ServiceSite& site);

// Reads [postgres] and [backup] into `config` and checks them against each other
// (config/backup_rules.cc). Reads no file: password and credential files may be root-only.
void read_backup_sections(Checker& checker, const Node& root, Config& config);

// Reads [deploy] into `config` and checks it against the services and [backup] already read
// (config/deploy_rules.cc).
void read_deploy_section(Checker& checker, const Node& root, Config& config);

// Reads the [[notify]] tables into `config` (config/notify_rules.cc).
void read_notify_sections(Checker& checker, const Node& root, Config& config);

// Reads [monitor] and the [[alert]] tables into `config`, after the services
// (config/monitor_rules.cc). Alert expressions are stored, not parsed.
void read_monitor_sections(Checker& checker, const Node& root, Config& config);

// Reads [nginx], [firewall], [ssh] and [fail2ban] into `config`, after the services ([nginx]
// upstream names one), and checks them against each other: the firewall must allow the SSH
// port (config/provision_rules.cc). Users are not looked up: they may not exist yet.
void read_provision_sections(Checker& checker, const Node& root, Config& config);

// Reads [tls] into `config`, after [server] and [nginx], whose state_dir and acme_root give its
// defaults; the [nginx] domain must be one of its domains (config/tls_rules.cc).
void read_tls_section(Checker& checker, const Node& root, Config& config);

// Whether `name` is an existing user (getpwnam_r). Sets `error` when the lookup itself failed.
bool user_exists(const std::string& name, std::string& error);
// Whether `name` is an existing group (getgrnam_r). Sets `error` when the lookup itself failed.
bool group_exists(const std::string& name, std::string& error);

}  // namespace gc::config::detail

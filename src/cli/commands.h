// SPDX-License-Identifier: MIT
// cli/commands.h: the command implementations behind cli.cc's argument parsing.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/result.h"
#include "config/config.h"

namespace gc::cli {

struct Globals {
  std::string config_path;
  std::string socket_path;  // Empty: derived from the config.
  bool json = false;
};

// Prints `e` on stderr (and as {"ok": false, "error": ...} on stdout with --json); returns
// `code`.
int report_failure(const Globals& g, const Error& e, int code);
// Prints `j` indented on stdout.
void print_json(const nlohmann::json& j);
// One request/response round trip with the daemon: the reply, or nullopt after printing why
// (`code` is then the exit code: 3 when the daemon is not reachable).
std::optional<nlohmann::json> call_daemon(const Globals& g, const nlohmann::json& request,
                                          int& code);
// One request/response round trip with the daemon; prints the reply as JSON with --json, else
// through `render`. Returns the exit code (3 with a hint when the daemon is not reachable).
int round_trip(const Globals& g, const nlohmann::json& request,
               const std::function<void(const nlohmann::json&)>& render);
// The config of -c/--config, loaded and validated, alert rules included (errors list every
// diagnostic).
Result<config::Config> load_config(const Globals& g);
// As load_config, for plan, apply, cloud-init and audit: a [[service]] user that does not exist
// yet is accepted, since apply is what creates it on a fresh server.
Result<config::Config> load_config_for_provisioning(const Globals& g);
// The control socket: --socket, else runtime_dir/control.sock of the config (read leniently).
std::string control_socket(const Globals& g);

int cmd_check(const Globals& g);
int cmd_status(const Globals& g);
int cmd_ps(const Globals& g);
int cmd_action(const Globals& g, const std::string& action, const std::string& name);
int cmd_describe(const Globals& g, const std::string& name);
int cmd_logs(const Globals& g, const std::string& name, int lines, bool follow);
int cmd_config_reload(const Globals& g);
// The metrics GET /metrics serves, one sample a line (families starting with `prefix`).
int cmd_metrics(const Globals& g, const std::string& prefix);
int cmd_startup(const Globals& g, bool install);
int cmd_import_pm2(const Globals& g, const std::string& file);

}  // namespace gc::cli

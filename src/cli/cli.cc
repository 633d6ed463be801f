// SPDX-License-Identifier: MIT
#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "daemon/daemon.h"

namespace gc::cli {

int run(int argc, char** argv) {
  Globals g;
  const char* env_config = std::getenv("GROUNDCTL_CONFIG");
  g.config_path =
      env_config != nullptr && *env_config != '\0' ? env_config : "/etc/groundctl/groundctl.toml";
  CLI::App app{"groundctl: keeps one production server alive", "groundctl"};
  app.require_subcommand(1);
  // Global options may come after the command too: `groundctl ps --json`.
  app.fallthrough();
  app.add_option("-c,--config", g.config_path,
                 "config file (default $GROUNDCTL_CONFIG, else /etc/groundctl/groundctl.toml)");
  app.add_flag("--json", g.json, "machine-readable output on stdout");
  app.add_option("--socket", g.socket_path, "control socket (default: runtime_dir/control.sock)");

  std::string name;
  int lines = 20;
  bool follow = false, install = false;
  std::string file;
  auto* daemon =
      app.add_subcommand("daemon", "run the daemon in the foreground (SIGHUP re-reads the config)");
  auto* check = app.add_subcommand("check", "validate the config");
  auto* status = app.add_subcommand("status", "services at a glance");
  auto* ps = app.add_subcommand("ps", "instances: pid, state, uptime, restarts, cpu, memory");
  std::vector<CLI::App*> actions;
  for (const char* a : {"start", "stop", "restart", "reload"}) {
    auto* sub = app.add_subcommand(a, std::string(a) + " a service, or all");
    sub->add_option("name", name, "service name or \"all\"")->required();
    actions.push_back(sub);
  }
  auto* logs = app.add_subcommand("logs", "tail or follow a service's captured output");
  logs->add_option("name", name, "service name")->required();
  logs->add_option("-n,--lines", lines, "lines of each stream")->check(CLI::Range(0, 100000));
  logs->add_flag("-f,--follow", follow, "keep streaming new output");
  auto* describe = app.add_subcommand("describe", "one service in full");
  describe->add_option("name", name, "service name")->required();
  auto* config = app.add_subcommand("config", "config operations");
  auto* config_reload =
      config->add_subcommand("reload", "apply the changed config to the running daemon");
  config->require_subcommand(1);
  auto* startup = app.add_subcommand("startup", "print (or --install) the systemd unit");
  startup->add_flag("--install", install,
                    "write /etc/systemd/system/groundctl.service and enable it");
  auto* import =
      app.add_subcommand("import-pm2", "convert a PM2 ecosystem file into [[service]] TOML");
  import->add_option("file", file, "ecosystem.config.js or .json")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (daemon->parsed()) return gc::daemon::run(g.config_path);
  if (check->parsed()) return cmd_check(g);
  if (status->parsed()) return cmd_status(g);
  if (ps->parsed()) return cmd_ps(g);
  for (auto* a : actions) {
    if (a->parsed()) return cmd_action(g, a->get_name(), name);
  }
  if (logs->parsed()) return cmd_logs(g, name, lines, follow);
  if (describe->parsed()) return cmd_describe(g, name);
  if (config_reload->parsed()) return cmd_config_reload(g);
  if (startup->parsed()) return cmd_startup(g, install);
  if (import->parsed()) return cmd_import_pm2(g, file);
  return kExitUsage;
}

}  // namespace gc::cli

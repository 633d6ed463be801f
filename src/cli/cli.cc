// SPDX-License-Identifier: MIT
#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/alert_commands.h"
#include "cli/audit_commands.h"
#include "cli/backup_commands.h"
#include "cli/cert_commands.h"
#include "cli/cloud_init_command.h"
#include "cli/commands.h"
#include "cli/deploy_commands.h"
#include "cli/exit_codes.h"
#include "cli/provision_commands.h"
#include "cli/tls_commands.h"
#include "daemon/daemon.h"
#include "monitor/tls_child.h"

namespace gc::cli {

int run(int argc, char** argv) {
  // Monitoring: the daemon's TLS collector runs this binary as a child, so that OpenSSL is never
  // mapped in the daemon (monitor/tls_child.h). Not a user command, hence not in CLI11's list.
  if (argc == 2 && argv[1] == monitor::kTlsFactsCommand) return monitor::tls_facts_main();
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
  auto* backup = app.add_subcommand("backup", "encrypted PostgreSQL and media backups");
  backup->require_subcommand(1);
  auto* backup_run = backup->add_subcommand("run", "take a backup now");
  auto* backup_list = backup->add_subcommand("list", "backup sets, verified or not");
  auto* backup_keygen =
      backup->add_subcommand("keygen", "create an age identity; prints its recipient");
  backup_keygen->add_option("-o,--output", file, "identity file to write (0600)")->required();
  bool verify_all = false;
  auto* backup_verify = backup->add_subcommand(
      "verify",
      "check a set's checksums; with --identity, also restore it into a scratch database");
  backup_verify->add_option("id", name, "set id (default: the newest)");
  backup_verify->add_flag("--all", verify_all, "every set");
  backup_verify->add_option("--identity", file, "age identity file: run a full restore drill");
  bool dry_run = false;
  auto* backup_prune =
      backup->add_subcommand("prune", "delete sets the retention policy no longer keeps");
  backup_prune->add_flag("--dry-run", dry_run, "only show what would be deleted");
  RestoreArgs restore_args;
  auto* backup_restore = backup->add_subcommand("restore", "restore a set's databases and media");
  backup_restore->add_option("id", restore_args.id, "set id")->required();
  backup_restore->add_option("--identity", restore_args.identity_file, "age identity file")
      ->required();
  backup_restore->add_option("--db", restore_args.db, "only this database");
  backup_restore->add_option("--to", restore_args.to, "restore --db into this new database");
  backup_restore->add_option("--media-to", restore_args.media_to, "extract the media archive here");
  backup_restore->add_flag("--force", restore_args.force,
                           "replace an existing database / extract into a non-empty directory");

  std::string prefix;
  auto* metrics = app.add_subcommand("metrics", "current metric values (what GET /metrics serves)");
  metrics->add_option("prefix", prefix, "only families whose name starts with this");
  std::string ref;
  auto* deploy = app.add_subcommand(
      "deploy", "build a release of [deploy].source beside the live one, switch when healthy");
  deploy->add_option("ref", ref, "branch, tag or commit (default: the source's default branch)");
  auto* rollback =
      app.add_subcommand("rollback", "switch back to an earlier release and reload the service");
  rollback->add_option("id", name, "release id (default: the one active before the current one)");
  int release_rows = 20;
  auto* releases = app.add_subcommand("releases", "deploy history and the active release");
  releases->add_option("-n,--lines", release_rows, "history rows")->check(CLI::Range(1, 100000));

  std::string audit_root;
  auto* audit = app.add_subcommand("audit", "hardening checks with evidence (exit 1 on findings)");
  audit->add_option("--root", audit_root, "audit the files under this directory instead of /");
  bool alert_history = false, export_rules = false;
  int alert_rows = 50;
  auto* alerts = app.add_subcommand("alerts", "pending and firing alerts (exit 1 when any fires)");
  alerts->add_flag("--history", alert_history, "past firing and resolved events");
  alerts->add_option("-n,--lines", alert_rows, "history rows")->check(CLI::Range(1, 100000));
  alerts->add_flag("--export-rules", export_rules,
                   "print the rules as a Prometheus rule file (promtool check rules)");
  SilenceArgs silence_args;
  auto* silence = app.add_subcommand("silence", "hold back an alert's notices for a while");
  silence->add_option("name", silence_args.name, "the alert's name (alertname)");
  silence->add_option("--for", silence_args.duration, "how long (default 1h)");
  silence->add_option("-l,--label", silence_args.labels, "only alerts with this NAME=VALUE");
  silence->add_option("--comment", silence_args.comment, "why");
  silence->add_flag("--list", silence_args.list, "list active and future silences");
  silence->add_option("--end", silence_args.end, "end a silence now, by id or alert name");
  ProvisionArgs provision_args;
  auto* plan = app.add_subcommand("plan", "what apply would change (exit 1 when something would)");
  plan->add_option("--root", provision_args.root, "render into this directory; run no commands");
  auto* apply = app.add_subcommand("apply", "make the managed files and steps match the config");
  apply->add_option("--root", provision_args.root, "write under this directory; run no commands");
  CloudInitArgs cloud_init_args;
  auto* cloud_init = add_cloud_init_command(app, cloud_init_args);
  TlsGradeArgs tls_grade_args;
  auto* tls_grade = add_tls_command(app, tls_grade_args);
  CertArgs cert_args;
  auto* cert = add_cert_commands(app, cert_args);

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
  if (backup_run->parsed()) return cmd_backup_run(g);
  if (backup_list->parsed()) return cmd_backup_list(g);
  if (backup_keygen->parsed()) return cmd_backup_keygen(g, file);
  if (backup_verify->parsed()) return cmd_backup_verify(g, name, verify_all, file);
  if (backup_restore->parsed()) return cmd_backup_restore(g, restore_args);
  if (backup_prune->parsed()) return cmd_backup_prune(g, dry_run);
  if (metrics->parsed()) return cmd_metrics(g, prefix);
  if (deploy->parsed()) return cmd_deploy(g, ref);
  if (rollback->parsed()) return cmd_rollback(g, name);
  if (releases->parsed()) return cmd_releases(g, release_rows);
  if (alerts->parsed()) {
    if (export_rules) return cmd_export_rules(g);
    if (alert_history) return cmd_alert_history(g, alert_rows);
    return cmd_alerts(g);
  }
  if (silence->parsed()) return cmd_silence(g, silence_args);
  if (audit->parsed()) return cmd_audit(g, audit_root);
  if (cloud_init->parsed()) return cmd_cloud_init(g, cloud_init_args);
  if (tls_grade->parsed()) return cmd_tls_grade(g, tls_grade_args);
  if (cert->parsed()) return cmd_cert(g, cert_args);
  if (plan->parsed()) return cmd_plan(g, provision_args);
  if (apply->parsed()) return cmd_apply(g, provision_args);
  return kExitUsage;
}

}  // namespace gc::cli

// SPDX-License-Identifier: MIT
#include "cli/deploy_commands.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/units.h"
#include "cli/client.h"
#include "cli/exit_codes.h"
#include "cli/table.h"
#include "config/loader.h"
#include "deploy/deployer.h"

namespace gc::cli {
namespace {

using json = nlohmann::ordered_json;

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) { g_interrupted.store(true); }

// Ctrl-C or SIGTERM stop a deploy cleanly (before the switch: nothing changes; after it: roll
// back). A closed terminal (SIGHUP) must not kill a deploy half-way, nor a closed pipe.
void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
}

// The daemon over its control socket: one connection per request.
class DaemonControl : public deploy::ServiceControl {
 public:
  explicit DaemonControl(std::string socket) : socket_(std::move(socket)) {}

  Result<deploy::ServiceView> describe(const std::string& service) override {
    GC_ASSIGN_OR_RETURN(auto r, call({{"cmd", "describe"}, {"name", service}}));
    deploy::ServiceView v;
    v.state = r.value("state", "");
    for (const auto& l : r["listen_bound"]) v.listen.push_back(l.get<std::string>());
    for (const auto& i : r["instances"]) {
      v.instances.push_back({i.value("instance", 0), i.value("pid", 0), i.value("state", ""),
                             i.value("restarts", 0)});
    }
    return v;
  }

  Status reload(const std::string& service) override {
    GC_TRY(call({{"cmd", "reload"}, {"name", service}}));
    return ok();
  }

 private:
  Result<nlohmann::json> call(const nlohmann::json& request) {
    auto client = ControlClient::connect(socket_);
    if (!client) {
      return make_error(Errc::kUnavailable,
                        "daemon not reachable at " + socket_ +
                            ": start it with `groundctl daemon` or `systemctl start groundctl`");
    }
    return client->call(request);
  }
  std::string socket_;
};

int exit_for(const Error& e) {
  if (e.code == Errc::kUnavailable) return kExitUnreachable;
  if (e.code == Errc::kConflict) return kExitProblem;
  return exit_code_for(e);
}

json outcome_json(const deploy::DeployOutcome& o) {
  json j = {{"ok", o.result == "ok"},
            {"result", o.result},
            {"release", o.release},
            {"commit", o.commit},
            {"ref", o.ref},
            {"previous", o.previous.empty() ? json() : json(o.previous)},
            {"duration_ms", o.duration_ms},
            {"log", o.log}};
  if (!o.error.empty()) j["error"] = o.error;
  if (!o.backup_set.empty()) j["backup_set"] = o.backup_set;
  j["pruned"] = o.pruned;
  j["alerts"] = o.alerts;
  if (!o.notify_errors.empty()) j["notify_errors"] = o.notify_errors;
  return j;
}

int report(const Globals& g, const deploy::DeployOutcome& o, const char* verb) {
  if (g.json) {
    std::printf("%s\n", outcome_json(o).dump(2).c_str());
  } else if (o.result == "ok") {
    std::printf("%s %s: ok (%s, %s)\n", verb, o.release.c_str(), o.commit.substr(0, 12).c_str(),
                format_duration(std::chrono::milliseconds(o.duration_ms)).c_str());
  }
  if (o.result != "ok") {
    std::fprintf(stderr, "groundctl: %s %s: %s: %s\n  log: %s\n", verb,
                 o.release.empty() ? "(no release)" : o.release.c_str(),
                 o.result == "rolled_back" ? "ROLLED BACK" : "FAILED", o.error.c_str(),
                 o.log.c_str());
  }
  return o.result == "ok" ? kExitOk : kExitProblem;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "groundctl";
}

}  // namespace

int cmd_deploy(const Globals& g, const std::string& ref) {
  auto config = load_config(g);
  if (!config) return report_failure(g, config.error(), kExitUsage);
  install_signal_handlers();
  DaemonControl control(control_socket(g));
  deploy::DeployRequest req;
  req.config = &*config;
  req.ref = ref;
  req.self_exe = self_exe();
  // With --json, stdout holds only the result; the steps' output goes to stderr.
  req.echo = g.json ? stderr : stdout;
  req.cancel = &g_interrupted;
  auto outcome = deploy::run_deploy(req, control);
  if (!outcome) return report_failure(g, outcome.error(), exit_for(outcome.error()));
  return report(g, *outcome, "deploy");
}

int cmd_rollback(const Globals& g, const std::string& id) {
  auto config = load_config(g);
  if (!config) return report_failure(g, config.error(), kExitUsage);
  install_signal_handlers();
  DaemonControl control(control_socket(g));
  auto outcome = deploy::run_rollback(*config, id, control, g.json ? stderr : stdout);
  if (!outcome) return report_failure(g, outcome.error(), exit_for(outcome.error()));
  return report(g, *outcome, "rollback to");
}

int cmd_releases(const Globals& g, int limit) {
  auto config = load_config(g);
  if (!config) return report_failure(g, config.error(), kExitUsage);
  auto view = deploy::list_releases(*config, limit);
  if (!view) return report_failure(g, view.error(), exit_for(view.error()));
  auto on_disk = [&](const std::string& id) {
    return std::find(view->on_disk.begin(), view->on_disk.end(), id) != view->on_disk.end();
  };
  std::string active = view->active.value_or("");
  if (g.json) {
    json rows = json::array();
    for (const auto& r : view->history) {
      json j = {{"id", r.release},
                {"kind", r.kind},
                {"commit", r.commit},
                {"ref", r.ref},
                {"started_at", r.started_at},
                {"duration_ms", r.duration_ms},
                {"result", r.result},
                {"active", !r.release.empty() && r.release == active},
                {"on_disk", !r.release.empty() && on_disk(r.release)},
                {"previous", r.previous},
                {"user", r.user},
                {"log", r.log}};
      if (!r.error.empty()) j["error"] = r.error;
      if (!r.backup_set.empty()) j["backup_set"] = r.backup_set;
      rows.push_back(j);
    }
    json out = {{"active", view->active ? json(active) : json()},
                {"on_disk", view->on_disk},
                {"releases", rows}};
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"", "RELEASE", "KIND", "COMMIT", "REF", "STARTED", "DURATION", "RESULT"}};
  bool marked = false;  // The newest row of the active release gets the "*".
  for (const auto& r : view->history) {
    bool is_active = !marked && !r.release.empty() && r.release == active && r.result == "ok";
    marked = marked || is_active;
    rows.push_back({is_active ? "*" : "", r.release.empty() ? "-" : r.release, r.kind,
                    r.commit.empty() ? "-" : r.commit.substr(0, 7), r.ref.empty() ? "-" : r.ref,
                    r.started_at,
                    format_duration(std::chrono::milliseconds(r.duration_ms - r.duration_ms % 100)),
                    r.result + (r.release.empty() || on_disk(r.release) ? "" : " (removed)")});
  }
  std::fputs(render_table(rows).c_str(), stdout);
  std::printf("\ncurrent: %s\n", active.empty() ? "(nothing deployed)" : active.c_str());
  for (const auto& r : view->history) {
    if (r.result == "ok" || r.result == "running") continue;
    std::printf("last problem (%s %s): %s\n", r.kind.c_str(), r.release.c_str(), r.error.c_str());
    break;
  }
  return kExitOk;
}

}  // namespace gc::cli

// SPDX-License-Identifier: MIT
// daemon/handlers.h: control-socket requests → supervisor actions and JSON replies.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "daemon/control_server.h"
#include "supervisor/supervisor.h"

namespace gc::daemon {

struct DaemonState {
  supervisor::Supervisor* supervisor = nullptr;
  config::Config config;
  std::chrono::system_clock::time_point started;
  bool stopping = false;  // SIGTERM received: no more starts, reloads or config changes.
  // Scheduled backups: next run, a run in progress, the last outcome (status_json()).
  std::function<nlohmann::json()> backup_status;
  std::function<nlohmann::json()> deploy_status;  // Null when there is no [deploy].
  std::function<nlohmann::json()> http_status;    // {"listen": bound address, "error": why not}.
  std::function<nlohmann::json()> audit_status;   // {score, failed, time} of the newest audit.
  // The last certificate renewal check (CertScheduler::status_json()), null before the first.
  std::function<nlohmann::json()> cert_status;
  // The monitored certificates (monitor::certificates_json()), [] before the first TLS check.
  std::function<nlohmann::json()> certificates;
  // What GET /metrics serves, as JSON, families whose name starts with the prefix.
  std::function<nlohmann::json(const std::string&)> metrics;
  // Active alerts, silences, rule errors and notifiers (AlertEngine::alerts_json()).
  std::function<nlohmann::json()> alerts;
  // Re-reads the config file and applies it; replies with the diff or the diagnostics.
  std::function<void(std::function<void(nlohmann::json)>)> reload_config;
};

// Handles one request from a session. Replies are sent on the session (possibly later).
void handle_request(DaemonState& state, const nlohmann::json& request,
                    const std::shared_ptr<Session>& session);

// JSON views shared by the control socket (the CLI's --json) and the HTTP API (daemon/api.h).
nlohmann::json instances_json(const supervisor::Supervisor& sup);
nlohmann::json describe_json(const supervisor::Service& service);
// One object per service: {name, state, instances (desired), running, restarts (sum over the
// instances), listen (bound addresses)}.
nlohmann::json services_json(const supervisor::Supervisor& sup);
// What `groundctl status --json` prints: server, pid, config, started_ms, services, and backup,
// deploy, http, audit, certificate (renewal), certificates (monitored) and alerts (firing,
// pending count) when the daemon has them.
nlohmann::json status_json(const DaemonState& state);

}  // namespace gc::daemon

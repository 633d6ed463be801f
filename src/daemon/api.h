// SPDX-License-Identifier: MIT
// daemon/api.h: the HTTP API under /api/v1/, what the dashboard reads: JSON views of the same
// data the CLI's --json prints (status, services, alerts, backups) and the metric history.
// GET (and HEAD) only; responses never hold a secret (no token, key, credential or env value).
#pragma once

#include <optional>

#include "http/server.h"

namespace gc::daemon {

struct DaemonState;
class AlertEngine;

// What the API reads. Both are owned by the daemon's run() and outlive the HTTP server.
struct ApiContext {
  const DaemonState* state = nullptr;
  AlertEngine* alerting = nullptr;  // Null: /alerts and /series answer 503.
};

// Answers `r` when its path is /api/v1 or under it, else nullopt (another route's path).
// Every answer is JSON ("Content-Type: application/json"); errors are {"error": "..."}:
// 400 for a malformed query string (bad percent-encoding, a duplicate or unknown parameter, a
// bad value), 404 for an unknown endpoint or series, 405 for a method other than GET or HEAD,
// 503 when the state store behind the endpoint is unavailable.
//
//   GET /api/v1/status    what `groundctl status --json` prints (status_json()).
//   GET /api/v1/services  {"services": services_json(), "instances": instances_json()}: per
//                         service {name, state, instances, running, restarts, listen}, and per
//                         instance what `groundctl ps --json` prints.
//   GET /api/v1/alerts    AlertEngine::alerts_json() plus "history": the newest 50 entries as
//                         `groundctl alerts --history --json` prints them.
//   GET /api/v1/backups   the "backup" object of status plus "sets": the newest 20 local sets
//                         as `groundctl backup list --json` shows them, with the catalog's
//                         "upload" state (the offsite listing is left to the CLI: it is a
//                         network call).
//   GET /api/v1/series    {"names": [...]}: every name with history.
//   GET /api/v1/series?name=NAME&range=24h
//                         {"name", "range_s", "step_s", "series": [{"labels": {...},
//                         "points": [[t_seconds, avg], ...]}]}; range 1m..400d, default 1h;
//                         at most ~2000 points per series. A built-in recording's name with no
//                         data yet gives "series": [].
//
// Runs on the daemon's loop and blocks on small SQLite and manifest reads. Not thread-safe.
std::optional<http::Response> handle_api(const ApiContext& ctx, const http::Request& r);

}  // namespace gc::daemon

// SPDX-License-Identifier: MIT
// deploy/deployer.h: `groundctl deploy`, `rollback` and `releases`. A deploy builds a new
// release beside the running one, switches `current` only when the build (and the backup and
// migrations) succeeded, reloads the service without downtime, and watches it: any failure in
// the watch switches back and reloads the previous release. One deploy at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "deploy/health_watch.h"
#include "deploy/history.h"

namespace gc::deploy {

// The running daemon, as a deploy needs it. The CLI implements it over the control socket.
class ServiceControl {
 public:
  virtual ~ServiceControl() = default;
  // Errors: kUnavailable when the daemon is not reachable, kNotFound for an unknown service.
  virtual Result<ServiceView> describe(const std::string& service) = 0;
  // A zero-downtime reload; returns when it finished. Errors: the daemon's reason.
  virtual Status reload(const std::string& service) = 0;
};

struct DeployRequest {
  const config::Config* config = nullptr;     // Must have [deploy].
  std::string ref;                            // Branch, tag or commit; empty: the default branch.
  std::string self_exe;                       // This binary, for `backup run` before migrations.
  std::FILE* echo = nullptr;                  // Live output of every step, or null.
  const std::atomic<bool>* cancel = nullptr;  // Ctrl-C: stop before the switch, roll back after.
};

struct DeployOutcome {
  std::string result;  // "ok", "failed" (nothing switched), "rolled_back".
  std::string release;
  std::string commit;
  std::string ref;
  std::string previous;  // The release active before; empty for the first deploy.
  std::string error;     // Empty when ok.
  std::string log;       // The kept output of every step.
  std::string backup_set;
  std::int64_t duration_ms = 0;
  std::vector<std::string> pruned;
  // Alerts raised (or resolved) by this deploy, by name, and the notifiers that failed.
  std::vector<std::string> alerts;
  std::vector<std::string> notify_errors;
};

// Runs one deploy. An Error means it did not start (another deploy holds the lock, the daemon is
// unreachable, a shared file is missing, ...) and nothing changed; otherwise the outcome says
// how it ended, and the history has it.
Result<DeployOutcome> run_deploy(const DeployRequest& request, ServiceControl& control);

// Switches `current` to `target` (empty: the release active before the current one) and
// reloads. If the reload fails, `current` goes back to where it was. Errors as run_deploy's.
Result<DeployOutcome> run_rollback(const config::Config& config, const std::string& target,
                                   ServiceControl& control, std::FILE* echo);

struct ReleasesView {
  std::optional<std::string> active;
  std::vector<DeployRecord> history;  // Newest first.
  std::vector<std::string> on_disk;   // Release ids under releases/, newest first.
};

// What `groundctl releases` shows: at most `limit` history rows.
Result<ReleasesView> list_releases(const config::Config& config, int limit);

}  // namespace gc::deploy

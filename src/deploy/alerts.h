// SPDX-License-Identifier: MIT
// deploy/alerts.h: the alerts a deploy raises: DeployFailed (nothing was switched) and
// DeployRolledBack (a release went live and was switched back), resolved by the next deploy
// that succeeds. Pure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "deploy/deployer.h"
#include "deploy/history.h"
#include "monitor/notify.h"

namespace gc::deploy {

// `outcome` is the deploy that just ended; `last` the deploy that ended before it (if any).
// The labels (alertname, service, severity, server) are the same when an alert fires and when
// it resolves, so a receiver such as Alertmanager pairs the two.
std::vector<monitor::Alert> deploy_alerts(const DeployOutcome& outcome,
                                          const std::optional<DeployRecord>& last,
                                          const std::string& service, const std::string& server,
                                          std::chrono::system_clock::time_point now);

}  // namespace gc::deploy

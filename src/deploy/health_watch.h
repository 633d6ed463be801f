// SPDX-License-Identifier: MIT
// deploy/health_watch.h: is a freshly switched release still healthy? The pure verdict over
// what the daemon reports and what the health probe saw, and the probe URL it uses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace gc::deploy {

struct InstanceView {
  int slot = 0;
  int pid = 0;  // 0 when not running.
  std::string state;
  int restarts = 0;
};

// One service as the daemon describes it.
struct ServiceView {
  std::string state;                // "running", "degraded", "backoff", "failed", ...
  std::vector<std::string> listen;  // Bound addresses: "127.0.0.1:3000", "[::1]:3000".
  std::vector<InstanceView> instances;
};

// Why the release is unhealthy, or nullopt. `baseline` is the service right after the reload:
// any instance that died, restarted or left "running" since, a service state other than
// "running", or a failed probe (`probe_error` non-empty) is a failure.
std::optional<std::string> health_verdict(const ServiceView& baseline, const ServiceView& now,
                                          const std::string& probe_error);

// The URL the watch probes: health.http, or health.path on the service's first bound address
// (a wildcard address is probed on loopback); empty when neither is configured. Errors when
// `path` is set and the service has no bound address.
Result<std::string> health_url(const config::DeployHealth& health, const ServiceView& service);

}  // namespace gc::deploy

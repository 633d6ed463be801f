// SPDX-License-Identifier: MIT
// daemon/metrics.h: what GET /metrics serves: the host (node_exporter's names), the supervised
// instances, the backups and the daemon itself (groundctl_* and the client libraries' process_*
// names), collected on the loop thread at each scrape.
#pragma once

#include <string>

#include "daemon/handlers.h"
#include "monitor/metrics.h"

namespace gc::daemon {

// Adds the supervised services and instances to `out`.
void collect_instances(const supervisor::Supervisor& sup, const config::Config& config,
                       monitor::MetricSet& out);
// Adds the backup outcome from the catalog in `state_dir` (nothing when there is no [backup]).
void collect_backups(const config::Config& config, monitor::MetricSet& out);
// Adds process_* metrics of this process, read from /proc/self.
void collect_self(std::chrono::system_clock::time_point started, monitor::MetricSet& out);

// One scrape: everything above plus the host, rendered.
std::string scrape(const DaemonState& state);

}  // namespace gc::daemon

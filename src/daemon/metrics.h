// SPDX-License-Identifier: MIT
// daemon/metrics.h: what GET /metrics serves: the host (node_exporter's names), the supervised
// instances, the backups and the daemon itself (groundctl_* and the client libraries' process_*
// names), collected on the loop thread at each scrape.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backup/catalog.h"
#include "daemon/handlers.h"
#include "monitor/background_collector.h"
#include "monitor/metrics.h"

namespace gc::daemon {

// Adds the supervised services and instances to `out`.
void collect_instances(const supervisor::Supervisor& sup, const config::Config& config,
                       monitor::MetricSet& out);
// The backup outcome from the catalog in [server].state_dir, as groundctl_backup_* gauges
// (nothing without [backup]). The catalog stays open and is read again only when state.db
// changed since the last read (SQLite's data_version): a scrape then costs one PRAGMA instead
// of opening the database (~0.5 ms). Not thread-safe: the loop thread's.
class BackupGauges {
 public:
  void collect(const config::Config& config, monitor::MetricSet& out);

 private:
  std::string state_dir_;  // Of catalog_.
  std::optional<backup::Catalog> catalog_;
  std::int64_t data_version_ = -1;
  monitor::MetricSet latest_;
};
// Adds process_* metrics of this process, read from /proc/self.
void collect_self(std::chrono::system_clock::time_point started, monitor::MetricSet& out);

// The PostgreSQL collector of [postgres] (nullptr without one): queried on its own thread every
// `interval` (a hung server never stalls the loop), over one connection kept between runs.
std::unique_ptr<monitor::BackgroundCollector> start_postgres_collector(
    const config::Config& config, std::chrono::milliseconds interval);

// The collectors that may block, each on its own thread: PostgreSQL, the HTTP probes, Nginx and
// the app logs, TLS certificates; only those `config` asks for.
std::vector<std::unique_ptr<monitor::BackgroundCollector>> start_collectors(
    const config::Config& config);

// One scrape: everything above plus the host and the latest samples of `background`.
monitor::MetricSet collect_all(
    const DaemonState& state, BackupGauges& backups,
    const std::vector<std::unique_ptr<monitor::BackgroundCollector>>& background);

// `set` as JSON for `groundctl metrics --json`: [{name, type, help, samples: [{labels, value}]}],
// families whose name starts with `prefix` only.
nlohmann::json metrics_json(const monitor::MetricSet& set, const std::string& prefix);

}  // namespace gc::daemon

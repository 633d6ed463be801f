// SPDX-License-Identifier: MIT
// monitor/pg_metrics.h: PostgreSQL's health under postgres_exporter's metric names (pg_up,
// pg_stat_database_*, pg_stat_activity_*, pg_settings_max_connections, pg_database_size_bytes,
// pg_locks_count), so that its dashboards and rules work unchanged. The queries run in
// collect_postgres(); turning their rows into samples is pure.
#pragma once

#include <string>
#include <vector>

#include "backup/pg_client.h"
#include "monitor/metrics.h"

namespace gc::monitor {

// The rows of each query, as PgConnection::query returns them (text values).
struct PgSnapshot {
  bool up = false;
  std::string error;           // Why not up; never holds a password.
  double max_connections = 0;  // SHOW max_connections.
  backup::PgRows databases;    // datid, datname, numbackends, xact_commit, xact_rollback,
                               // blks_read, blks_hit, tup_returned, tup_fetched, tup_inserted,
                               // tup_updated, tup_deleted, conflicts, temp_files, temp_bytes,
                               // deadlocks, size_bytes
  backup::PgRows activity;     // datname, state, count, max_tx_duration_seconds
  backup::PgRows locks;        // datname, mode, count
  double lock_waits = 0;       // Backends waiting on a lock now.
};

// Samples of `snap` (pg_up alone when it is down).
void pg_samples(const PgSnapshot& snap, MetricSet& out);

// Runs the queries on `conn`. Errors: the query's (the caller reports pg_up 0).
Result<PgSnapshot> query_postgres(backup::PgConnection& conn);

}  // namespace gc::monitor

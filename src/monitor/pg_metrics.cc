// SPDX-License-Identifier: MIT
#include "monitor/pg_metrics.h"

#include <cstdlib>

namespace gc::monitor {
namespace {

double num(const std::string& s) { return s.empty() ? 0 : std::strtod(s.c_str(), nullptr); }

// The per-database counters of pg_stat_database, in the column order of the query below.
constexpr const char* kDatabaseCounters[] = {
    "xact_commit", "xact_rollback", "blks_read",   "blks_hit",    "tup_returned",
    "tup_fetched", "tup_inserted",  "tup_updated", "tup_deleted", "conflicts",
    "temp_files",  "temp_bytes",    "deadlocks"};

}  // namespace

void pg_samples(const PgSnapshot& snap, MetricSet& out) {
  out.gauge("pg_up", "Whether the last scrape of PostgreSQL was able to connect.", {},
            snap.up ? 1 : 0);
  if (!snap.up) return;
  out.gauge("pg_settings_max_connections", "Sets the maximum number of concurrent connections.", {},
            snap.max_connections);
  for (const auto& row : snap.databases) {
    if (row.size() < 17) continue;
    Labels l = {{"datid", row[0]}, {"datname", row[1]}};
    out.gauge("pg_stat_database_numbackends",
              "Number of backends currently connected to this database.", l, num(row[2]));
    for (std::size_t i = 0; i < std::size(kDatabaseCounters); ++i) {
      std::string name = std::string("pg_stat_database_") + kDatabaseCounters[i];
      // postgres_exporter's names have no "_total": untyped keeps them and promtool's lint.
      out.untyped(name, "pg_stat_database." + std::string(kDatabaseCounters[i]) + " (a counter).",
                  l, num(row[3 + i]));
    }
    out.gauge("pg_database_size_bytes", "Disk space used by the database.", {{"datname", row[1]}},
              num(row[16]));
  }
  static const char* kStates[] = {"active",
                                  "idle",
                                  "idle in transaction",
                                  "idle in transaction (aborted)",
                                  "fastpath function call",
                                  "disabled"};
  // Every state of every database appears, 0 when empty, as postgres_exporter does.
  std::vector<std::string> datnames;
  for (const auto& row : snap.databases) {
    if (row.size() > 1) datnames.push_back(row[1]);
  }
  for (const auto& db : datnames) {
    for (const char* state : kStates) {
      double count = 0, max_tx = 0;
      for (const auto& a : snap.activity) {
        if (a.size() >= 4 && a[0] == db && a[1] == state) {
          count = num(a[2]);
          max_tx = num(a[3]);
        }
      }
      Labels l = {{"datname", db}, {"state", state}};
      out.gauge("pg_stat_activity_count", "Number of connections in this state.", l, count);
      out.gauge("pg_stat_activity_max_tx_duration",
                "Max duration in seconds any active transaction has been running.", l, max_tx);
    }
  }
  for (const auto& row : snap.locks) {
    if (row.size() < 3) continue;
    out.gauge("pg_locks_count", "Number of locks.", {{"datname", row[0]}, {"mode", row[1]}},
              num(row[2]));
  }
  out.gauge("groundctl_pg_lock_waits", "Backends waiting for a lock right now.", {},
            snap.lock_waits);
}

Result<PgSnapshot> query_postgres(backup::PgConnection& conn) {
  PgSnapshot s;
  GC_ASSIGN_OR_RETURN(auto max, conn.query("SHOW max_connections"));
  if (!max.empty() && !max[0].empty()) s.max_connections = num(max[0][0]);
  GC_ASSIGN_OR_RETURN(
      s.databases,
      conn.query("SELECT d.datid, d.datname, d.numbackends, d.xact_commit, d.xact_rollback,"
                 " d.blks_read, d.blks_hit, d.tup_returned, d.tup_fetched, d.tup_inserted,"
                 " d.tup_updated, d.tup_deleted, d.conflicts, d.temp_files, d.temp_bytes,"
                 " d.deadlocks, pg_database_size(d.datid)"
                 " FROM pg_stat_database d JOIN pg_database db ON db.oid = d.datid"
                 " WHERE d.datname IS NOT NULL AND db.datallowconn AND NOT db.datistemplate"
                 " ORDER BY d.datname"));
  GC_ASSIGN_OR_RETURN(
      s.activity,
      conn.query("SELECT datname, state, count(*),"
                 " coalesce(max(extract(epoch FROM now() - xact_start)), 0)"
                 " FROM pg_stat_activity WHERE datname IS NOT NULL AND state IS NOT NULL"
                 " GROUP BY datname, state"));
  GC_ASSIGN_OR_RETURN(s.locks,
                      conn.query("SELECT db.datname, l.mode, count(*) FROM pg_locks l"
                                 " JOIN pg_database db ON db.oid = l.database GROUP BY 1, 2"));
  GC_ASSIGN_OR_RETURN(auto waits, conn.query("SELECT count(*) FROM pg_stat_activity"
                                             " WHERE wait_event_type = 'Lock'"));
  if (!waits.empty() && !waits[0].empty()) s.lock_waits = num(waits[0][0]);
  s.up = true;
  return s;
}

}  // namespace gc::monitor

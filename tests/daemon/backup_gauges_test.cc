// SPDX-License-Identifier: MIT
// BackupGauges on a real state.db: the gauges follow the catalog, written by another connection
// (as `groundctl backup run` does from its own process), and vanish without [backup].
#include <gtest/gtest.h>

#include "backup/catalog.h"
#include "base/temp_dir.h"
#include "daemon/metrics.h"

namespace gc::daemon {
namespace {

double gauge(const monitor::MetricSet& set, const std::string& name) {
  auto it = set.families().find(name);
  if (it == set.families().end() || it->second.samples.size() != 1) return -1;
  return it->second.samples[0].value;
}

TEST(BackupGauges, FollowTheCatalogWrittenByAnotherConnection) {
  auto dir = TempDir::create("gc-backup-gauges-");
  ASSERT_TRUE(dir);
  config::Config config;
  config.server.state_dir = dir->file("state");
  config.backup = config::BackupConfig{};
  BackupGauges gauges;

  monitor::MetricSet empty;
  gauges.collect(config, empty);
  EXPECT_EQ(gauge(empty, "groundctl_backup_configured"), 1);
  EXPECT_EQ(empty.families().count("groundctl_backup_last_run_success"), 0u);

  auto writer = backup::Catalog::open(config.server.state_dir);
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE(writer->record_run(
      {"2026-11-29T03:00:00Z", "2026-11-29T03:01:00Z", false, "", "pg_dump: connection refused"}));
  monitor::MetricSet failed;
  gauges.collect(config, failed);
  EXPECT_EQ(gauge(failed, "groundctl_backup_last_run_success"), 0);
  EXPECT_EQ(gauge(failed, "groundctl_backup_last_run_timestamp_seconds"), 1795921260);

  // Unchanged: the same gauges again (from the cache).
  monitor::MetricSet again;
  gauges.collect(config, again);
  EXPECT_EQ(gauge(again, "groundctl_backup_last_run_success"), 0);

  ASSERT_TRUE(writer->record_run({"2026-11-29T04:00:00Z", "2026-11-29T04:01:00Z", true, "", ""}));
  monitor::MetricSet ok;
  gauges.collect(config, ok);
  EXPECT_EQ(gauge(ok, "groundctl_backup_last_run_success"), 1);
  EXPECT_EQ(gauge(ok, "groundctl_backup_last_success_timestamp_seconds"), 1795924860);

  config.backup.reset();
  monitor::MetricSet none;
  gauges.collect(config, none);
  EXPECT_TRUE(none.families().empty());
}

}  // namespace
}  // namespace gc::daemon

// SPDX-License-Identifier: MIT
// backup/catalog.h: backup history in the state store: every run (failed ones too), every set
// with its verification and offsite state, every restore drill. `backup list`, the monitor's
// backup metrics and the retry of pending uploads read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backup/manifest.h"
#include "base/result.h"
#include "store/database.h"

namespace gc::backup {

enum class UploadState { kNone, kPending, kUploaded };  // kNone: no offsite store configured.
std::string_view upload_state_name(UploadState s);      // "none", "pending", "uploaded".

struct CatalogSet {
  std::string id;
  std::string finished_at;  // RFC 3339 UTC.
  std::uint64_t bytes = 0;
  std::string verify_result;  // verify_result_name().
  UploadState upload = UploadState::kNone;
  std::string upload_error;  // Why the last upload attempt failed.
  std::string uploaded_at;
};

struct CatalogRun {
  std::string started_at;
  std::string finished_at;
  bool ok = false;
  std::string set_id;  // Empty when the run failed before a set existed.
  std::string error;   // One line; never a secret (errors never hold one).
};

struct DrillRecord {
  std::string set_id;
  std::string at;
  bool ok = false;
  double restore_seconds = 0;   // RTO.
  double data_age_seconds = 0;  // RPO at drill time.
  std::string detail;
};

// What monitoring needs at a glance.
struct BackupStatus {
  std::optional<CatalogRun> last_run;
  std::optional<CatalogRun> last_success;
  std::optional<CatalogSet> last_set;
  std::optional<DrillRecord> last_drill;
  std::optional<std::string> oldest_pending_upload;  // finished_at of the oldest pending set.
};

class Catalog {
 public:
  // Opens state_dir/state.db (creating the directory 0700) and its backup tables.
  static Result<Catalog> open(const std::string& state_dir);

  Status record_run(const CatalogRun& run);
  Status record_set(const Manifest& m, std::uint64_t bytes, UploadState upload);
  Status set_upload(const std::string& id, UploadState state, const std::string& error,
                    const std::string& at);
  Status record_drill(const DrillRecord& drill);
  Status forget_set(const std::string& id);  // After prune removed it everywhere.

  Result<std::optional<CatalogSet>> find_set(const std::string& id);
  Result<std::vector<CatalogSet>> pending_uploads();  // Oldest first.
  Result<BackupStatus> status();
  // SQLite's data_version of this connection: it changes when another connection (another
  // process's included) commits to state.db, so a reader can keep status() until it does.
  Result<std::int64_t> data_version();

 private:
  explicit Catalog(store::Database db) : db_(std::move(db)) {}
  store::Database db_;
};

}  // namespace gc::backup

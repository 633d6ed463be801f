// SPDX-License-Identifier: MIT
// backup/restore.h: putting a set back: a database into a new database (never over an existing
// one without force), media into a directory, and the restore drill that proves a set restores.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "backup/pg_client.h"
#include "backup/repository.h"
#include "base/result.h"
#include "crypto/age_keys.h"

namespace gc::backup {

struct RestoreContext {
  std::vector<crypto::X25519Identity> identities;
  PgTarget postgres;      // dbname ignored.
  std::string pg_bindir;  // Empty: by server version, as backups choose it.
};

struct RestoredDatabase {
  std::string database;                 // As backed up.
  std::string into;                     // The database it now lives in.
  double seconds = 0;                   // Wall time of the restore (the RTO of this database).
  std::optional<std::string> mismatch;  // Row counts differing from the snapshot's.
};

// Restores the database artifact `a` of `set` into `into`: refuses (kConflict) when `into` exists
// unless `replace` (then it is dropped first). On any failure the database this call created is
// dropped again. Row counts are compared with the manifest's afterwards.
Result<RestoredDatabase> restore_database(const RestoreContext& ctx, const LocalSet& set,
                                          const Artifact& a, const std::string& into, bool replace);

// Extracts the media artifact below `dest` with tar (created if missing; refused when it is not
// empty unless `replace`). Returns the number of entries.
Result<std::uint64_t> restore_media(const RestoreContext& ctx, const LocalSet& set,
                                    const Artifact& a, const std::string& dest, bool replace);

struct DrillResult {
  bool ok = false;
  double restore_seconds = 0;   // RTO: every database restored, one after the other.
  double data_age_seconds = 0;  // RPO at drill time: how old the restored data is.
  std::string detail;           // What passed, or the first failure.
  std::vector<RestoredDatabase> databases;
};

// A full restore drill: every database into a scratch database (always dropped), row counts
// compared with the snapshot's; globals and media decrypted and decompressed to the end (media
// also listed by tar). Errors only for what stops the drill itself (no server); a set that does
// not restore is a DrillResult with ok == false.
Result<DrillResult> restore_drill(const RestoreContext& ctx, const LocalSet& set,
                                  std::chrono::system_clock::time_point now);

}  // namespace gc::backup

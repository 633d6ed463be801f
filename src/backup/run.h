// SPDX-License-Identifier: MIT
// backup/run.h: one backup run. Every database is dumped inside an exported snapshot whose exact
// row counts are recorded; each artifact streams pg_dump → zstd → age → file in one pass with
// bounded memory (optionally teeing the plaintext into pg_restore to prove it restores); the set
// is built in a staging directory and appears under its id only once manifest.json is written.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backup/manifest.h"
#include "backup/pg_client.h"
#include "base/result.h"
#include "base/utc_time.h"
#include "crypto/age_keys.h"

namespace gc::backup {

struct Progress {
  std::string artifact;         // "orbital.dump.zst.age"
  std::uint64_t plaintext = 0;  // Bytes read from the source so far.
  std::uint64_t written = 0;    // Bytes written to the file so far.
  std::uint64_t expected = 0;   // Rough size of the source (database size), 0 if unknown.
  double seconds = 0;           // Since this artifact started.
  bool done = false;
};

struct RunOptions {
  std::string repo;  // Created (0700) if missing.
  std::vector<crypto::X25519Recipient> recipients;
  PgTarget postgres;  // dbname is ignored: each database in `databases` is used in turn.
  std::vector<std::string> databases;
  std::vector<std::string> media_paths;
  bool verify_stream = true;
  // 5, not zstd's default 3: on a realistic dump (bench/backup) level 3 came out 3.5 % larger
  // than pg_dump -Fc's zlib, level 5 smaller; the workers pay for the extra effort.
  int zstd_level = 5;
  int zstd_workers = 0;   // 0: one per CPU, at most 4.
  std::string pg_bindir;  // Where pg_dump/pg_dumpall/pg_restore are; empty: by server version.
  std::string groundctl_version;
  std::function<void(const Progress&)> on_progress;  // Called at most a few times per second.
};

struct RunResult {
  Manifest manifest;
  std::string set_dir;  // repo/ID
};

// Runs one backup. Only one run per repository at a time (a lock file; a second run gets
// kConflict naming the holder's pid). On any failure nothing is left behind in the repository
// except earlier sets, which are never touched. A stream verification that fails still completes
// the set (the dump is intact; it did not restore) with manifest.verification.result == kFailed:
// the caller reports a failed backup.
Result<RunResult> run_backup(const RunOptions& options);

// "20261127T031500Z" for a UTC time.
std::string format_set_id(std::chrono::system_clock::time_point t);
// Directory of the PostgreSQL client tools matching a server's major version: Debian's
// /usr/lib/postgresql/MAJOR/bin when present (pg_dump must not be older than the server), else
// "" meaning the PATH.
std::string client_bindir_for(int server_version);

// The environment pg_dump/pg_restore/psql get: a fixed PATH and locale, the password if any.
std::vector<std::string> client_env(const PgTarget& target);
// "-h H -p P -U U --no-password" for the client tools.
std::vector<std::string> client_args(const PgTarget& target);

}  // namespace gc::backup

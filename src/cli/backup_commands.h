// SPDX-License-Identifier: MIT
// cli/backup_commands.h: `groundctl backup run|list|verify|restore|prune|keygen`.
#pragma once

#include <string>

#include "cli/commands.h"

namespace gc::cli {

// Writes a new age identity to `output` (0600, never overwriting) and prints its recipient.
int cmd_backup_keygen(const Globals& g, const std::string& output);
// One backup now, in this process; exit 1 when it fails or does not pass verification.
int cmd_backup_run(const Globals& g);
// The sets in the local repository, oldest first.
int cmd_backup_list(const Globals& g);
// Checksums of one set (`id`), every set (`all`) or the newest; with an identity file, also a
// restore drill into scratch databases. Exit 1 when any set fails.
int cmd_backup_verify(const Globals& g, const std::string& id, bool all,
                      const std::string& identity_file);

struct RestoreArgs {
  std::string id;
  std::string identity_file;
  std::string db;        // Empty: every database (unless only media_to is given).
  std::string to;        // New database name; needs db.
  std::string media_to;  // Extract media here.
  bool force = false;    // Replace an existing database / extract into a non-empty directory.
};
int cmd_backup_restore(const Globals& g, const RestoreArgs& args);
// Applies [backup] retention locally and offsite (or only shows it with `dry_run`).
int cmd_backup_prune(const Globals& g, bool dry_run);

}  // namespace gc::cli

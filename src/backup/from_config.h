// SPDX-License-Identifier: MIT
// backup/from_config.h: the validated [postgres] and [backup] sections turned into what a run
// needs, reading the files they point to (password file, with its permissions checked).
#pragma once

#include "backup/run.h"
#include "config/config.h"

namespace gc::backup {

// Errors: kInvalidConfig without a [backup] section; a password file that is missing or
// readable by group/others (named, with the chmod fix); a recipient that does not parse.
Result<RunOptions> run_options_from_config(const config::Config& cfg);

// The connection target of [postgres] (defaults when the section is absent), password loaded.
Result<PgTarget> pg_target_from_config(const config::Config& cfg);

// Reads a secret file: refuses one that group or others may read. Trailing newlines dropped.
Result<std::string> read_secret_file(const std::string& path, std::string_view what);

}  // namespace gc::backup

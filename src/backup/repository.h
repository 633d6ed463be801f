// SPDX-License-Identifier: MIT
// backup/repository.h: the local repository: one directory per set (REPO/ID/), complete once its
// manifest.json exists; staging directories (.partial-*) and stray files are not sets.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backup/manifest.h"
#include "base/result.h"

namespace gc::backup {

struct LocalSet {
  std::string id;
  std::string dir;
  std::optional<Manifest> manifest;  // nullopt: incomplete or unreadable (see `problem`).
  std::string problem;               // Why the manifest is missing or does not parse.
  std::uint64_t bytes = 0;           // Sum of the artifacts' ciphertext sizes.
};

// True for "20261127T031500Z"-shaped names.
bool is_set_id(std::string_view name);

// The sets in `repo`, oldest first. A missing repo is an empty list. Errors: unreadable repo.
Result<std::vector<LocalSet>> list_local_sets(const std::string& repo);

// The set with this id. Errors: kNotFound naming the repo, kCorrupt for a broken manifest.
Result<LocalSet> find_local_set(const std::string& repo, const std::string& id);

// One set as `groundctl backup list --json` and GET /api/v1/backups show it (keys in this order):
// id, completeness, times, size, verification and each artifact (never the recipients: nothing
// needs them).
nlohmann::ordered_json local_set_json(const LocalSet& s);

}  // namespace gc::backup

// SPDX-License-Identifier: MIT
// deploy/history.h: every deploy and rollback in the state store (state_dir/state.db), failed
// ones too. `groundctl releases`, rollback's default target and the daemon's status read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "deploy/releases.h"
#include "store/database.h"

namespace gc::deploy {

// "running" while it runs; then "ok", "failed" (nothing switched), "rolled_back" (switched,
// then back to `previous`), or "interrupted" (its process died; found by the next deploy).
struct DeployRecord {
  std::int64_t seq = 0;
  std::string kind;  // "deploy" or "rollback".
  std::string release;
  std::string commit;
  std::string ref;
  std::string previous;  // What `current` pointed to when it began; empty for the first.
  std::string started_at;
  std::string finished_at;
  std::int64_t duration_ms = 0;
  std::string result;
  std::string error;       // One line; never a secret.
  std::string backup_set;  // The set taken before migrations, if any.
  std::string log;         // The kept output of its steps.
  int pid = 0;
  std::string user;
};

class History {
 public:
  // Opens state_dir/state.db (creating the directory 0700) and the deploy tables.
  static Result<History> open(const std::string& state_dir);

  // Inserts `r` (result "running") and returns its seq.
  Result<std::int64_t> begin(const DeployRecord& r);
  // Records how it ended.
  Status finish(std::int64_t seq, const std::string& result, const std::string& error,
                const std::string& finished_at, std::int64_t duration_ms);
  // Once the ref is resolved (a deploy of the default branch records the branch's name).
  Status set_release(std::int64_t seq, const std::string& release, const std::string& commit,
                     const std::string& ref);
  Status set_backup(std::int64_t seq, const std::string& set_id);
  // Rows still "running" become "interrupted" (call under the deploy lock). Returns how many.
  Result<int> mark_interrupted();

  // Newest first, at most `limit`.
  Result<std::vector<DeployRecord>> recent(int limit);
  // The switches that took effect (result "ok"), oldest first.
  Result<std::vector<Switch>> switches();
  // The newest finished record of `kind` ("deploy" or "rollback"), if any.
  Result<std::optional<DeployRecord>> last_finished(const std::string& kind);

 private:
  explicit History(store::Database db) : db_(std::move(db)) {}
  store::Database db_;
};

}  // namespace gc::deploy

// SPDX-License-Identifier: MIT
#include "deploy/history.h"

#include <array>

#include "base/unique_fd.h"

namespace gc::deploy {
namespace {

constexpr std::array<std::string_view, 1> kSchema = {
    "CREATE TABLE deploys (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
    " release TEXT NOT NULL, commit_sha TEXT NOT NULL, ref TEXT NOT NULL, previous TEXT NOT NULL,"
    " started_at TEXT NOT NULL, finished_at TEXT NOT NULL DEFAULT '',"
    " duration_ms INTEGER NOT NULL DEFAULT 0, result TEXT NOT NULL,"
    " error TEXT NOT NULL DEFAULT '', backup_set TEXT NOT NULL DEFAULT '',"
    " log TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL, user TEXT NOT NULL);"};

constexpr const char* kColumns =
    "seq, kind, release, commit_sha, ref, previous, started_at, finished_at, duration_ms, result,"
    " error, backup_set, log, pid, user";

DeployRecord read_record(const store::Statement& q) {
  DeployRecord r;
  r.seq = q.column_int(0);
  r.kind = q.column_text(1);
  r.release = q.column_text(2);
  r.commit = q.column_text(3);
  r.ref = q.column_text(4);
  r.previous = q.column_text(5);
  r.started_at = q.column_text(6);
  r.finished_at = q.column_text(7);
  r.duration_ms = q.column_int(8);
  r.result = q.column_text(9);
  r.error = q.column_text(10);
  r.backup_set = q.column_text(11);
  r.log = q.column_text(12);
  r.pid = static_cast<int>(q.column_int(13));
  r.user = q.column_text(14);
  return r;
}

Result<std::vector<DeployRecord>> read_all(store::Statement& q) {
  std::vector<DeployRecord> out;
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return out;
    out.push_back(read_record(q));
  }
}

}  // namespace

Result<History> History::open(const std::string& state_dir) {
  GC_TRY(make_directories(state_dir, 0700));
  GC_ASSIGN_OR_RETURN(store::Database db, store::Database::open(state_dir + "/state.db"));
  GC_TRY(db.migrate("deploy", kSchema));
  return History(std::move(db));
}

Result<std::int64_t> History::begin(const DeployRecord& r) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("INSERT INTO deploys (kind, release, commit_sha, ref, previous,"
                                  " started_at, result, log, pid, user) VALUES"
                                  " (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)"));
  q.bind(1, r.kind).bind(2, r.release).bind(3, r.commit).bind(4, r.ref).bind(5, r.previous);
  q.bind(6, r.started_at).bind(7, r.log).bind(8, std::int64_t{r.pid}).bind(9, r.user);
  GC_TRY(q.run());
  return db_.last_insert_rowid();
}

Status History::finish(std::int64_t seq, const std::string& result, const std::string& error,
                       const std::string& finished_at, std::int64_t duration_ms) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("UPDATE deploys SET result = ?, error = ?, finished_at = ?,"
                                  " duration_ms = ? WHERE seq = ?"));
  q.bind(1, result).bind(2, error).bind(3, finished_at).bind(4, duration_ms).bind(5, seq);
  return q.run();
}

Status History::set_release(std::int64_t seq, const std::string& release, const std::string& commit,
                            const std::string& ref) {
  GC_ASSIGN_OR_RETURN(
      store::Statement q,
      db_.prepare("UPDATE deploys SET release = ?, commit_sha = ?, ref = ? WHERE seq = ?"));
  q.bind(1, release).bind(2, commit).bind(3, ref).bind(4, seq);
  return q.run();
}

Status History::set_backup(std::int64_t seq, const std::string& set_id) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("UPDATE deploys SET backup_set = ? WHERE seq = ?"));
  q.bind(1, set_id).bind(2, seq);
  return q.run();
}

Result<int> History::mark_interrupted() {
  // Called under the deploy lock, so no row still "running" belongs to a live deploy.
  GC_ASSIGN_OR_RETURN(store::Statement count,
                      db_.prepare("SELECT count(*) FROM deploys WHERE result = 'running'"));
  GC_ASSIGN_OR_RETURN(bool row, count.step());
  int n = row ? static_cast<int>(count.column_int(0)) : 0;
  if (n == 0) return 0;
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("UPDATE deploys SET result = 'interrupted', error = 'the deploy"
                                  " process ended before finishing' WHERE result = 'running'"));
  GC_TRY(q.run());
  return n;
}

Result<std::vector<DeployRecord>> History::recent(int limit) {
  GC_ASSIGN_OR_RETURN(store::Statement q, db_.prepare(std::string("SELECT ") + kColumns +
                                                      " FROM deploys ORDER BY seq DESC LIMIT ?"));
  q.bind(1, std::int64_t{limit});
  return read_all(q);
}

Result<std::vector<Switch>> History::switches() {
  GC_ASSIGN_OR_RETURN(
      store::Statement q,
      db_.prepare("SELECT release, previous FROM deploys WHERE result = 'ok' ORDER BY seq"));
  std::vector<Switch> out;
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return out;
    out.push_back({q.column_text(0), q.column_text(1)});
  }
}

Result<std::optional<DeployRecord>> History::last_finished(const std::string& kind) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare(std::string("SELECT ") + kColumns +
                                  " FROM deploys WHERE result != 'running' AND kind = ?"
                                  " ORDER BY seq DESC LIMIT 1"));
  q.bind(1, kind);
  GC_ASSIGN_OR_RETURN(auto rows, read_all(q));
  if (rows.empty()) return std::optional<DeployRecord>();
  return std::optional<DeployRecord>(rows.front());
}

}  // namespace gc::deploy

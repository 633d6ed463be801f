// SPDX-License-Identifier: MIT
#include "backup/catalog.h"

#include <array>

#include "base/unique_fd.h"

namespace gc::backup {
namespace {

constexpr std::array<std::string_view, 1> kSchema = {
    "CREATE TABLE backup_runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL,"
    " finished_at TEXT NOT NULL, ok INTEGER NOT NULL, set_id TEXT, error TEXT);"
    "CREATE TABLE backup_sets (id TEXT PRIMARY KEY, finished_at TEXT NOT NULL,"
    " bytes INTEGER NOT NULL, verify_result TEXT NOT NULL, upload_state TEXT NOT NULL,"
    " upload_error TEXT NOT NULL DEFAULT '', uploaded_at TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE restore_drills (id INTEGER PRIMARY KEY, set_id TEXT NOT NULL, at TEXT NOT NULL,"
    " ok INTEGER NOT NULL, restore_seconds REAL NOT NULL, data_age_seconds REAL NOT NULL,"
    " detail TEXT NOT NULL);"};

UploadState upload_from_name(const std::string& s) {
  if (s == "pending") return UploadState::kPending;
  if (s == "uploaded") return UploadState::kUploaded;
  return UploadState::kNone;
}

constexpr const char* kSetColumns =
    "id, finished_at, bytes, verify_result, upload_state, upload_error, uploaded_at";

CatalogSet read_set(const store::Statement& q) {
  CatalogSet s;
  s.id = q.column_text(0);
  s.finished_at = q.column_text(1);
  s.bytes = static_cast<std::uint64_t>(q.column_int(2));
  s.verify_result = q.column_text(3);
  s.upload = upload_from_name(q.column_text(4));
  s.upload_error = q.column_text(5);
  s.uploaded_at = q.column_text(6);
  return s;
}

CatalogRun read_run(const store::Statement& q) {
  return CatalogRun{q.column_text(0), q.column_text(1), q.column_int(2) != 0, q.column_text(3),
                    q.column_text(4)};
}

}  // namespace

std::string_view upload_state_name(UploadState s) {
  switch (s) {
    case UploadState::kNone:
      return "none";
    case UploadState::kPending:
      return "pending";
    case UploadState::kUploaded:
      return "uploaded";
  }
  return "none";
}

Result<Catalog> Catalog::open(const std::string& state_dir) {
  GC_TRY(make_directories(state_dir, 0700));
  GC_ASSIGN_OR_RETURN(store::Database db, store::Database::open(state_dir + "/state.db"));
  GC_TRY(db.migrate("backup", kSchema));
  return Catalog(std::move(db));
}

Status Catalog::record_run(const CatalogRun& r) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("INSERT INTO backup_runs (started_at, finished_at, ok, set_id, "
                                  "error) VALUES (?, ?, ?, ?, ?)"));
  q.bind(1, r.started_at).bind(2, r.finished_at).bind(3, std::int64_t{r.ok});
  q.bind(4, r.set_id).bind(5, r.error);
  return q.run();
}

Status Catalog::record_set(const Manifest& m, std::uint64_t bytes, UploadState upload) {
  GC_ASSIGN_OR_RETURN(
      store::Statement q,
      db_.prepare("INSERT INTO backup_sets (id, finished_at, bytes, verify_result, upload_state)"
                  " VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                  " finished_at = excluded.finished_at, bytes = excluded.bytes,"
                  " verify_result = excluded.verify_result, upload_state = excluded.upload_state"));
  q.bind(1, m.id).bind(2, m.finished_at).bind(3, static_cast<std::int64_t>(bytes));
  q.bind(4, verify_result_name(m.verification.result)).bind(5, upload_state_name(upload));
  return q.run();
}

Status Catalog::set_upload(const std::string& id, UploadState state, const std::string& error,
                           const std::string& at) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("UPDATE backup_sets SET upload_state = ?, upload_error = ?,"
                                  " uploaded_at = CASE WHEN ? = 'uploaded' THEN ? ELSE"
                                  " uploaded_at END WHERE id = ?"));
  q.bind(1, upload_state_name(state)).bind(2, error).bind(3, upload_state_name(state));
  q.bind(4, at).bind(5, id);
  return q.run();
}

Status Catalog::record_drill(const DrillRecord& d) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("INSERT INTO restore_drills (set_id, at, ok, restore_seconds,"
                                  " data_age_seconds, detail) VALUES (?, ?, ?, ?, ?, ?)"));
  q.bind(1, d.set_id).bind(2, d.at).bind(3, std::int64_t{d.ok}).bind(4, d.restore_seconds);
  q.bind(5, d.data_age_seconds).bind(6, d.detail);
  return q.run();
}

Status Catalog::forget_set(const std::string& id) {
  GC_ASSIGN_OR_RETURN(store::Statement q, db_.prepare("DELETE FROM backup_sets WHERE id = ?"));
  q.bind(1, id);
  return q.run();
}

Result<std::optional<CatalogSet>> Catalog::find_set(const std::string& id) {
  GC_ASSIGN_OR_RETURN(store::Statement q, db_.prepare(std::string("SELECT ") + kSetColumns +
                                                      " FROM backup_sets WHERE id = ?"));
  q.bind(1, id);
  GC_ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return std::optional<CatalogSet>();
  return std::optional<CatalogSet>(read_set(q));
}

Result<std::vector<CatalogSet>> Catalog::pending_uploads() {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare(std::string("SELECT ") + kSetColumns +
                                  " FROM backup_sets WHERE upload_state = 'pending' ORDER BY id"));
  std::vector<CatalogSet> out;
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return out;
    out.push_back(read_set(q));
  }
}

Result<std::int64_t> Catalog::data_version() {
  GC_ASSIGN_OR_RETURN(store::Statement q, db_.prepare("PRAGMA data_version"));
  GC_ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return make_error(Errc::kInternal, "PRAGMA data_version returned no row");
  return q.column_int(0);
}

Result<BackupStatus> Catalog::status() {
  BackupStatus st;
  const std::string run_cols = "SELECT started_at, finished_at, ok, set_id, error FROM backup_runs";
  GC_ASSIGN_OR_RETURN(store::Statement last, db_.prepare(run_cols + " ORDER BY id DESC LIMIT 1"));
  GC_ASSIGN_OR_RETURN(bool has_run, last.step());
  if (has_run) st.last_run = read_run(last);
  GC_ASSIGN_OR_RETURN(store::Statement ok,
                      db_.prepare(run_cols + " WHERE ok = 1 ORDER BY id DESC LIMIT 1"));
  GC_ASSIGN_OR_RETURN(bool has_success, ok.step());
  if (has_success) st.last_success = read_run(ok);
  GC_ASSIGN_OR_RETURN(store::Statement set,
                      db_.prepare(std::string("SELECT ") + kSetColumns +
                                  " FROM backup_sets ORDER BY id DESC LIMIT 1"));
  GC_ASSIGN_OR_RETURN(bool has_set, set.step());
  if (has_set) st.last_set = read_set(set);
  GC_ASSIGN_OR_RETURN(store::Statement drill,
                      db_.prepare("SELECT set_id, at, ok, restore_seconds, data_age_seconds,"
                                  " detail FROM restore_drills ORDER BY id DESC LIMIT 1"));
  GC_ASSIGN_OR_RETURN(bool has_drill, drill.step());
  if (has_drill) {
    st.last_drill =
        DrillRecord{drill.column_text(0),   drill.column_text(1),   drill.column_int(2) != 0,
                    drill.column_double(3), drill.column_double(4), drill.column_text(5)};
  }
  GC_ASSIGN_OR_RETURN(store::Statement pending,
                      db_.prepare("SELECT min(finished_at) FROM backup_sets"
                                  " WHERE upload_state = 'pending'"));
  GC_ASSIGN_OR_RETURN(bool has_pending, pending.step());
  if (has_pending && !pending.column_is_null(0)) {
    st.oldest_pending_upload = pending.column_text(0);
  }
  return st;
}

}  // namespace gc::backup

// SPDX-License-Identifier: MIT
// audit/audit_store.cc: the audit_reports table.
#include "audit/audit_store.h"

#include <array>

#include "base/unique_fd.h"

namespace gc::audit {
namespace {

constexpr std::array<std::string_view, 1> kSchema = {
    "CREATE TABLE audit_reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
    " score INTEGER NOT NULL, failed INTEGER NOT NULL, report TEXT NOT NULL);"
    "CREATE INDEX audit_reports_at ON audit_reports (at);"};

}  // namespace

Result<AuditStore> AuditStore::open(const std::string& state_dir) {
  GC_TRY(make_directories(state_dir, 0700));
  GC_ASSIGN_OR_RETURN(store::Database db, store::Database::open(state_dir + "/state.db"));
  GC_TRY(db.migrate("audit", kSchema));
  return AuditStore(std::move(db));
}

Status AuditStore::save(const Report& r, int keep) {
  return db_.transaction([&]() -> Status {
    GC_ASSIGN_OR_RETURN(
        store::Statement q,
        db_.prepare("INSERT INTO audit_reports (at, score, failed, report) VALUES (?,?,?,?)"));
    q.bind(1, r.time).bind(2, std::int64_t{r.score});
    q.bind(3, std::int64_t{r.count(CheckStatus::kFail)}).bind(4, to_json(r).dump());
    GC_TRY(q.run());
    GC_ASSIGN_OR_RETURN(store::Statement trim,
                        db_.prepare("DELETE FROM audit_reports WHERE seq <= "
                                    "(SELECT max(seq) FROM audit_reports) - ?"));
    trim.bind(1, std::int64_t{keep});
    return trim.run();
  });
}

Result<std::optional<Report>> AuditStore::latest() {
  GC_ASSIGN_OR_RETURN(
      store::Statement q,
      db_.prepare("SELECT report FROM audit_reports ORDER BY at DESC, seq DESC LIMIT 1"));
  GC_ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return std::optional<Report>();
  nlohmann::json j = nlohmann::json::parse(q.column_text(0), nullptr, false);
  GC_ASSIGN_OR_RETURN(Report r, from_json(j));
  return std::optional<Report>(std::move(r));
}

}  // namespace gc::audit

// SPDX-License-Identifier: MIT
// audit/audit_store.h: audit reports in the state store (state_dir/state.db), newest kept for
// `groundctl status`, the daemon's metrics and drift alerts. Whoever runs an audit (the daemon's
// daily run, `groundctl audit`, `groundctl apply`) saves it here; readers take the newest.
#pragma once

#include <optional>
#include <string>

#include "audit/report.h"
#include "base/result.h"
#include "store/database.h"

namespace gc::audit {

class AuditStore {
 public:
  // Opens state_dir/state.db (creating the directory 0700) and the audit table.
  static Result<AuditStore> open(const std::string& state_dir);

  // Appends `r` and keeps the newest `keep` reports.
  Status save(const Report& r, int keep = 60);
  // The newest report (by time), or nullopt when none was saved. Errors: kCorrupt for a stored
  // report that does not parse, SQLite errors.
  Result<std::optional<Report>> latest();

 private:
  explicit AuditStore(store::Database db) : db_(std::move(db)) {}
  store::Database db_;
};

}  // namespace gc::audit

// SPDX-License-Identifier: MIT
// audit/run.cc: gather, judge, save.
#include "audit/run.h"

#include "audit/audit_store.h"

namespace gc::audit {

Status save_report(const config::Config& cfg, const Report& r) {
  GC_ASSIGN_OR_RETURN(AuditStore store, AuditStore::open(cfg.server.state_dir));
  return store.save(r);
}

Result<Report> run(const config::Config& cfg, const Options& options) {
  Report r = make_report(gather(cfg, options), cfg);
  if (options.root.empty()) {
    if (auto st = save_report(cfg, r); !st) {
      return make_error(st.error().code,
                        "audit ran (score " + std::to_string(r.score) +
                            ") but its report was not saved: " + st.error().message);
    }
  }
  return r;
}

}  // namespace gc::audit

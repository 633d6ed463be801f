// SPDX-License-Identifier: MIT
// audit/run.h: one whole audit: gather the evidence, judge it, save the report. What the daemon's
// daily run, `groundctl audit` and `groundctl apply` (after applying) call.
#pragma once

#include "audit/evidence.h"
#include "audit/report.h"
#include "base/result.h"
#include "config/config.h"

namespace gc::audit {

// Gathers (audit/evidence.h), evaluates every check and, when options.root is empty, saves the
// report in the state store so that the daemon's metrics and `groundctl status` show it.
// Errors: only the save (kIo, kPermission, kConflict...): a check that cannot gather its facts
// is an "error" result inside the report, never a failed run. Blocks (external commands with
// timeouts, a PostgreSQL connection); call it off the event loop. Thread-safe.
Result<Report> run(const config::Config& cfg, const Options& options);

// Saves `r` in the state store of `cfg`.
Status save_report(const config::Config& cfg, const Report& r);

}  // namespace gc::audit

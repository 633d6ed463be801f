// SPDX-License-Identifier: MIT
// audit/report.h: one audit run's outcome (time, score, every check's result), its JSON form
// (stable keys, stored in the state store and printed by `groundctl audit --json`) and its
// human table (failed checks first, each with its remediation).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/checks.h"
#include "base/result.h"

namespace gc::audit {

struct Report {
  std::int64_t time = 0;  // Unix seconds of the run.
  int score = 100;
  std::vector<CheckResult> results;

  int count(CheckStatus s) const;
  // The ids of the failed checks, in table order.
  std::vector<std::string> failed_ids() const;
};

// Evaluates every check on `e` and scores the results.
Report make_report(const Evidence& e, const config::Config& cfg);

// {"time": RFC 3339, "time_unix", "score", "passed", "failed", "skipped", "errors",
//  "results": [{"id", "title", "severity", "weight", "status", "evidence", "remediation"}]}.
nlohmann::json to_json(const Report& r);
// The inverse of to_json (unknown checks are kept as they were stored). Errors: kCorrupt.
Result<Report> from_json(const nlohmann::json& j);

// The human view: a summary line, then failed and errored checks with evidence and
// remediation, then one line per passed or skipped check.
std::string to_text(const Report& r);

}  // namespace gc::audit

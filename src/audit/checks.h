// SPDX-License-Identifier: MIT
// audit/checks.h: the hardening checklist as data: one table entry per check (stable id,
// title, severity, weight, remediation) plus one verdict function from the gathered evidence
// and the config. Pure: no I/O, no clock (evidence.now is the time).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/evidence.h"
#include "config/config.h"

namespace gc::audit {

enum class Severity { kCritical, kHigh, kMedium, kLow };
std::string_view severity_name(Severity s);  // "critical", "high", "medium", "low".

enum class CheckStatus {
  kPass,
  kFail,
  kSkip,   // Not applicable here; the evidence says why.
  kError,  // The facts could not be gathered; the evidence says why.
};
std::string_view status_name(CheckStatus s);  // "pass", "fail", "skip", "error".

struct Verdict {
  CheckStatus status = CheckStatus::kSkip;
  std::string evidence;  // What was seen: "sshd -T: permitrootlogin yes". Never a secret.
};

using VerdictFn = Verdict (*)(const Evidence&, const config::Config&);

struct Check {
  std::string_view id;  // Stable: alerts, metrics and scripts name checks by it.
  std::string_view title;
  Severity severity;
  int weight;  // Share of the score.
  std::string_view remediation;
  VerdictFn verdict;
};

// The checklist, in report order.
std::span<const Check> checks();
// The check with `id`, or nullptr.
const Check* find_check(std::string_view id);

struct CheckResult {
  std::string id;
  std::string title;
  Severity severity = Severity::kLow;
  int weight = 0;
  CheckStatus status = CheckStatus::kSkip;
  std::string evidence;
  std::string remediation;
};

// Every check's verdict on `e`, in table order.
std::vector<CheckResult> evaluate(const Evidence& e, const config::Config& cfg);

// Out of 100: the weight of passed checks over the weight of applicable ones (passed, failed
// and errored; an unknown is not proof of hardening), rounded down. 100 when none applies.
int score(std::span<const CheckResult> results);

}  // namespace gc::audit

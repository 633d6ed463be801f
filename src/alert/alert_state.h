// SPDX-License-Identifier: MIT
// alert/alert_state.h: the alert state machine. For each rule and each series its expression
// returns: pending (for `for`) → firing → resolved, with hysteresis (`clear`), reminders, and
// silences. Pure: the caller evaluates the expressions, passes `now`, persists the states and
// delivers the notices this returns.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "alert/promql.h"
#include "alert/rules.h"

namespace gc::alert {

enum class Phase { kPending, kFiring };

// One alert: a rule and the labels of one series it returned (plus alertname, severity and the
// rule's static labels).
struct ActiveAlert {
  std::string rule;
  monitor::Labels labels;  // Includes "alertname" and "severity".
  Phase phase = Phase::kPending;
  int64_t active_since_ms = 0;   // When the expression first returned the series.
  int64_t fired_at_ms = 0;       // When it became firing; 0 while pending.
  bool notified = false;         // A firing notice went out (a silence may have held it back).
  int64_t last_notified_ms = 0;  // When the last firing notice (or reminder) went out.
  double value = 0;
  std::string summary, description;  // Templates expanded with the latest value.
};

// A silence: notices of alerts whose labels match every matcher are held back until ends_ms.
struct Silence {
  int64_t id = 0;
  monitor::Labels matchers;  // Exact label values; "alertname" is the usual one.
  int64_t starts_ms = 0, ends_ms = 0;
  std::string comment, created_by;
  bool matches(const monitor::Labels& labels) const;
};

// Whether a silence in force at `now_ms` matches `labels`.
bool silenced(const monitor::Labels& labels, const std::vector<Silence>& silences, int64_t now_ms);

enum class NoticeKind { kFiring, kReminder, kResolved };

struct Notice {
  NoticeKind kind;
  ActiveAlert alert;     // As it was at the transition.
  int64_t ended_ms = 0;  // kResolved: when.
};

// What changed in one evaluation.
struct StepResult {
  std::vector<Notice> notices;  // To deliver (silenced ones are already left out).
  // History entries: became firing / resolved (silenced ones included: they happened).
  std::vector<Notice> history;
  bool changed = false;  // The persisted states must be written.
};

// The series an alert key is made of: rule name + labels, in one string (map key).
std::string alert_key(const std::string& rule, const monitor::Labels& labels);

class AlertStates {
 public:
  // Starts from persisted alerts (a restart neither re-notifies nor forgets a pending `for`).
  explicit AlertStates(std::vector<ActiveAlert> restored = {});

  // Applies one rule's evaluation at `now_ms`: `fired` is what its expression returned and
  // `kept` what its clear expression returned (empty without one). `repeat_ms` is the reminder
  // interval (0: none). A firing alert whose notice a silence held back is notified at the
  // first step after the silence ends, if it is still firing; a resolved notice goes out only
  // for an alert whose firing notice did. Call it for every rule at every evaluation.
  StepResult step(const Rule& rule, const Vector& fired, const Vector& kept, int64_t now_ms,
                  int64_t repeat_ms, const std::vector<Silence>& silences);
  // Drops (without notices) the alerts of rules not in `names`: the rule was removed or disabled.
  bool retain_rules(const std::vector<std::string>& names);

  const std::map<std::string, ActiveAlert>& alerts() const { return alerts_; }

 private:
  std::map<std::string, ActiveAlert> alerts_;
};

// The labels an alert of `rule` gets from a series: the series' labels without __name__, then
// the rule's labels, alertname and severity.
monitor::Labels alert_labels(const Rule& rule, const monitor::Labels& series);

}  // namespace gc::alert

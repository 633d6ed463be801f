// SPDX-License-Identifier: MIT
// alert/rules.h: the alert rules the daemon evaluates: the built-in rules for the brief's
// targets merged with the config's [[alert]] tables (same name: tuned or replaced; enabled =
// false: dropped), their expressions parsed, their text templates, and their export as a
// Prometheus rule file. Pure, except load_config, which reads the config file.
#pragma once

#include <string>
#include <vector>

#include "alert/promql.h"
#include "base/result.h"
#include "config/config.h"
#include "config/loader.h"

namespace gc::alert {

struct Rule {
  std::string name;
  std::string expr_text;
  ExprPtr expr;
  std::string clear_text;  // Empty: no hysteresis.
  ExprPtr clear;           // Once firing, the alert stays firing while this returns the series.
  int64_t for_ms = 0;
  std::string severity;  // "critical" | "warning" | "info".
  std::string summary;   // Templates: {{ $labels.NAME }}, {{ $value }}, {{ $value | humanize }}...
  std::string description;
  monitor::Labels labels;  // Static labels added to every alert of the rule.
  bool builtin = false;
};

// The built-in rules as config entries (before any [[alert]] is applied), in a stable order.
std::vector<config::AlertRuleConfig> builtin_rules();

// The rules of `config`: the built-ins (unless monitor.default_rules = false) with each
// [[alert]] of the same name applied over them, then the config's own rules. Every
// expression is parsed. Errors: kInvalidConfig naming the rule, with the expression's column.
Result<std::vector<Rule>> build_rules(const config::Config& config);

// Checks [[alert]] tables as build_rules does, as FILE:LINE:COL diagnostics (the expression
// column is mapped into the file: exact for literal 'strings', approximate after escapes).
std::vector<config::Diagnostic> check_rules(const config::Config& config);

// config::load_config plus check_rules: what every command and the daemon load. `options` as
// in config::load_config (provisioning commands accept a service user apply will create).
config::LoadOutcome load_config(const std::string& path, const config::LoadOptions& options = {});
// As load_config, as a Result (kInvalidConfig with every diagnostic, one per line).
Result<config::Config> load_config_or_error(const std::string& path,
                                            const config::LoadOptions& options = {});

// `text` with {{ $labels.NAME }}, {{ $value }} and the pipes `humanize`, `humanizePercentage`,
// `humanizeDuration` expanded (Prometheus's template syntax, so exported rules read the same).
// Unknown actions are left as written.
std::string expand_template(std::string_view text, const monitor::Labels& labels, double value);

// A Prometheus rule file (YAML) with one group holding every rule, which `promtool check rules`
// accepts. A rule with `clear` is exported with Prometheus's hysteresis idiom:
// (expr) or ((clear) and on(labels...) ALERTS{alertname="X", alertstate="firing"}).
std::string export_rules_yaml(const std::vector<Rule>& rules, const std::string& group);

}  // namespace gc::alert

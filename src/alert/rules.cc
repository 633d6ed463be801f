// SPDX-License-Identifier: MIT
#include "alert/rules.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "base/units.h"

namespace gc::alert {
namespace {

using namespace std::chrono_literals;

config::AlertRuleConfig rule(std::string name, std::string expr, Duration for_,
                             std::string severity, std::string summary, std::string clear = "") {
  config::AlertRuleConfig r;
  r.name = std::move(name);
  r.expr = std::move(expr);
  r.for_ = for_;
  r.has_for = true;
  r.severity = std::move(severity);
  r.summary = std::move(summary);
  r.clear = std::move(clear);
  return r;
}

// The share of a filesystem in use, as node_exporter's users write it.
constexpr const char* kDiskUsed = "1 - node_filesystem_avail_bytes / node_filesystem_size_bytes";

// One Prometheus template action: "$value", "$labels.x", optionally piped through a function.
std::string expand_action(std::string_view action, const monitor::Labels& labels, double value,
                          bool& known);

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  std::size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string number_text(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Prometheus's humanize: SI prefixes for large and small numbers, 4 significant digits.
std::string humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return number_text(v, "%.4g");
  static const char* kBig[] = {"", "k", "M", "G", "T", "P", "E", "Z", "Y"};
  static const char* kSmall[] = {"", "m", "u", "n", "p", "f", "a", "z", "y"};
  double a = std::fabs(v);
  int i = 0;
  if (a >= 1) {
    while (a >= 1000 && i < 8) {
      a /= 1000;
      v /= 1000;
      ++i;
    }
    return number_text(v, "%.4g") + kBig[i];
  }
  while (a < 1 && i < 8) {
    a *= 1000;
    v *= 1000;
    ++i;
  }
  return number_text(v, "%.4g") + kSmall[i];
}

std::string humanize_duration(double v) {
  if (std::isnan(v) || std::isinf(v)) return number_text(v, "%.4g");
  if (std::fabs(v) < 1) return humanize(v) + "s";
  std::string sign = v < 0 ? "-" : "";
  auto s = static_cast<long long>(std::fabs(v));
  long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  std::string out = sign;
  if (d > 0) out += std::to_string(d) + "d ";
  if (d > 0 || h > 0) out += std::to_string(h) + "h ";
  if (d > 0 || h > 0 || m > 0) out += std::to_string(m) + "m ";
  return out + std::to_string(sec) + "s";
}

std::string expand_action(std::string_view action, const monitor::Labels& labels, double value,
                          bool& known) {
  std::string head = trim(action);
  std::string pipe;
  if (std::size_t bar = head.find('|'); bar != std::string::npos) {
    pipe = trim(head.substr(bar + 1));
    head = trim(head.substr(0, bar));
  }
  known = true;
  if (head == "$value") {
    if (pipe.empty()) return monitor::format_value(value);
    if (pipe == "humanize") return humanize(value);
    if (pipe == "humanizePercentage") return number_text(value * 100, "%.4g") + "%";
    if (pipe == "humanizeDuration") return humanize_duration(value);
  } else if (head.rfind("$labels.", 0) == 0 && pipe.empty()) {
    auto it = labels.find(head.substr(8));
    return it == labels.end() ? "" : it->second;
  }
  known = false;
  return "";
}

// Maps a column of an expression to the file: the string's opening quote plus the column.
config::Diagnostic expr_diagnostic(const config::Config& c, const config::AlertRuleConfig& a,
                                   bool clear, const Error& e) {
  config::Diagnostic d;
  d.file = c.path;
  d.line = clear ? a.clear_line : a.expr_line;
  d.column = clear ? a.clear_column : a.expr_column;
  std::string msg = e.message;
  if (msg.rfind("column ", 0) == 0) {
    int col = std::atoi(msg.c_str() + 7);
    if (col > 0 && d.column > 0) d.column += col;
  }
  d.message = "alert \"" + a.name + "\": " + (clear ? "clear" : "expr") + ": " + msg;
  return d;
}

struct Merged {
  config::AlertRuleConfig rule;
  bool builtin = false;
};

// The merged rule list, and a diagnostic for every rule that cannot be built.
std::vector<Merged> merge(const config::Config& config, std::vector<config::Diagnostic>& diags) {
  std::vector<Merged> out;
  std::map<std::string, std::size_t> index;
  if (config.monitor.default_rules) {
    for (auto& r : builtin_rules()) {
      index[r.name] = out.size();
      out.push_back({std::move(r), true});
    }
  }
  for (const auto& a : config.alerts) {
    auto it = index.find(a.name);
    if (it == index.end()) {
      if (a.expr.empty() && a.enabled) {
        diags.push_back({config.path, a.line, a.column,
                         "alert \"" + a.name +
                             "\": expr is required (it is not the name of a built-in rule; "
                             "`groundctl alerts --export-rules` lists them)"});
        continue;
      }
      index[a.name] = out.size();
      out.push_back({a, false});
      continue;
    }
    config::AlertRuleConfig& base = out[it->second].rule;
    if (!a.expr.empty()) {
      base.expr = a.expr;
      base.expr_line = a.expr_line;
      base.expr_column = a.expr_column;
      base.clear = a.clear;  // A new expression's hysteresis is its own.
      base.clear_line = a.clear_line;
      base.clear_column = a.clear_column;
    } else if (!a.clear.empty()) {
      base.clear = a.clear;
      base.clear_line = a.clear_line;
      base.clear_column = a.clear_column;
    }
    if (a.has_for) base.for_ = a.for_;
    if (!a.severity.empty()) base.severity = a.severity;
    if (!a.summary.empty()) base.summary = a.summary;
    if (!a.description.empty()) base.description = a.description;
    for (const auto& [k, v] : a.labels) base.labels[k] = v;
    base.enabled = a.enabled;
    base.line = a.line;
    base.column = a.column;
  }
  std::vector<Merged> enabled;
  for (auto& m : out) {
    if (m.rule.enabled) enabled.push_back(std::move(m));
  }
  return enabled;
}

std::vector<Rule> parse_all(const config::Config& config, std::vector<config::Diagnostic>& diags) {
  std::vector<Rule> rules;
  for (auto& m : merge(config, diags)) {
    Rule r;
    r.name = m.rule.name;
    r.builtin = m.builtin;
    r.expr_text = m.rule.expr;
    r.clear_text = m.rule.clear;
    r.for_ms = std::chrono::duration_cast<std::chrono::milliseconds>(m.rule.for_).count();
    r.severity = m.rule.severity.empty() ? "warning" : m.rule.severity;
    r.summary = m.rule.summary.empty() ? m.rule.name : m.rule.summary;
    r.description = m.rule.description;
    r.labels = m.rule.labels;
    auto expr = parse_expr(r.expr_text);
    if (!expr) {
      diags.push_back(expr_diagnostic(config, m.rule, false, expr.error()));
      continue;
    }
    r.expr = *expr;
    if (!r.clear_text.empty()) {
      auto clear = parse_expr(r.clear_text);
      if (!clear) {
        diags.push_back(expr_diagnostic(config, m.rule, true, clear.error()));
        continue;
      }
      r.clear = *clear;
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

// A YAML double-quoted scalar.
std::string yaml_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += number_text(static_cast<unsigned char>(c), "\\x%02x");
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string prometheus_duration(int64_t ms) {
  if (ms == 0) return "0s";
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  return format_duration(std::chrono::milliseconds(ms));
}

}  // namespace

std::vector<config::AlertRuleConfig> builtin_rules() {
  std::string disk = kDiskUsed;
  return {
      rule("DiskAlmostFull", disk + " >= 0.80", 5min, "warning",
           "filesystem {{ $labels.mountpoint }} is {{ $value | humanizePercentage }} full",
           disk + " >= 0.75"),
      rule("DiskFull", disk + " >= 0.95", 1min, "critical",
           "filesystem {{ $labels.mountpoint }} is {{ $value | humanizePercentage }} full"),
      rule("MemoryHigh", "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > 0.90",
           10min, "warning", "memory is {{ $value | humanizePercentage }} used",
           "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > 0.85"),
      rule("LoadHigh", "node_load5 / count(count by (cpu) (node_cpu_seconds_total)) > 2", 15min,
           "warning", "load is {{ $value | humanize }} per CPU over 5 minutes"),
      rule("InstanceDown", "groundctl_instance_up == 0", 1min, "critical",
           "{{ $labels.service }} instance {{ $labels.instance }} is not running"),
      rule("InstanceCrashLooping", "increase(groundctl_instance_restarts_total[10m]) >= 3", 0min,
           "warning",
           "{{ $labels.service }} instance {{ $labels.instance }} restarted {{ $value | humanize "
           "}} times in 10 minutes"),
      rule("ServiceFailed", "groundctl_instance_state{state=\"failed\"} == 1", 0min, "critical",
           "{{ $labels.service }} instance {{ $labels.instance }} gave up restarting (failed)"),
      rule("ApiProbeFailing", "groundctl_http_probe_success == 0", 1min, "critical",
           "probe {{ $labels.probe }} is failing"),
      rule("ApiLatencyHigh",
           "histogram_quantile(0.95, sum by (probe, le) "
           "(rate(groundctl_http_probe_duration_seconds_bucket[5m]))) > 1",
           10min, "warning", "probe {{ $labels.probe }} p95 latency is {{ $value | humanize }}s"),
      rule("ApiErrorBudgetBurn",
           "(1 - avg_over_time(groundctl_http_probe_success[1h])) > 14.4 * 0.01 and "
           "(1 - avg_over_time(groundctl_http_probe_success[5m])) > 14.4 * 0.01",
           2min, "critical",
           "probe {{ $labels.probe }} burns the 99% availability budget 14x too fast"),
      rule("ApiErrorBudgetSlowBurn",
           "(1 - avg_over_time(groundctl_http_probe_success[6h])) > 6 * 0.01 and "
           "(1 - avg_over_time(groundctl_http_probe_success[30m])) > 6 * 0.01",
           15min, "warning",
           "probe {{ $labels.probe }} burns the 99% availability budget 6x too fast"),
      rule("Http5xxRatioHigh",
           "sum(rate(groundctl_nginx_http_requests_total{status=\"5xx\"}[5m])) / "
           "sum(rate(groundctl_nginx_http_requests_total[5m])) > 0.05",
           5min, "warning", "{{ $value | humanizePercentage }} of requests answer 5xx"),
      rule("AppErrorRateHigh",
           "sum by (service) (rate(groundctl_app_log_messages_total{level=\"error\"}[5m])) * 60 "
           "> 5",
           5min, "warning", "{{ $labels.service }} logs {{ $value | humanize }} errors a minute"),
      rule("CertificateExpiringSoon",
           "groundctl_tls_cert_expiry_timestamp_seconds - time() < 14 * 86400", 1h, "warning",
           "certificate {{ $labels.source }} expires in {{ $value | humanizeDuration }}"),
      rule("CertificateExpiring",
           "groundctl_tls_cert_expiry_timestamp_seconds - time() < 3 * 86400", 0min, "critical",
           "certificate {{ $labels.source }} expires in {{ $value | humanizeDuration }}"),
      rule("CertificateInvalid", "groundctl_tls_cert_valid == 0", 5min, "critical",
           "certificate {{ $labels.source }} is not valid (expired, untrusted, wrong name or "
           "unreachable)"),
      // The daemon's `cert renew` run failed: the old certificate stays served, and the next
      // run (check_interval later) retries, unless the CA rate-limited us (the rule below).
      rule("CertificateRenewalFailed", "groundctl_cert_renewal_success == 0", 0min, "warning",
           "certificate {{ $labels.name }} could not be renewed (see `groundctl cert status`)"),
      rule("CertificateRenewalRateLimited", "groundctl_cert_renewal_rate_limited == 1", 0min,
           "critical",
           "the ACME server rate-limits certificate {{ $labels.name }}: renewals stop until the "
           "limit resets (see docs/runbooks/certificates.md)"),
      // `apply` or a hand edit weakened the site's TLS (or the certificate is a placeholder).
      rule("TlsGradeBelowA", "groundctl_tls_grade_good == 0", 0min, "warning",
           "TLS on {{ $labels.endpoint }} rates below A (see `groundctl tls grade`)"),
      rule("BackupTooOld", "time() - groundctl_backup_last_success_timestamp_seconds > 26 * 3600",
           0min, "critical", "the last successful backup is {{ $value | humanizeDuration }} old"),
      rule("BackupMissing",
           "groundctl_backup_configured == 1 unless on() "
           "groundctl_backup_last_success_timestamp_seconds",
           26h, "critical", "no backup has succeeded yet"),
      rule("BackupFailed", "groundctl_backup_last_run_success == 0", 0min, "critical",
           "the last backup run failed"),
      rule("BackupUnverified", "groundctl_backup_last_set_verified == 0", 0min, "warning",
           "the last backup set did not pass verification"),
      rule("BackupUploadPending",
           "time() - groundctl_backup_oldest_pending_upload_timestamp_seconds > 3 * 3600", 0min,
           "warning", "a backup set has waited {{ $value | humanizeDuration }} for its upload"),
      rule("PostgresDown", "pg_up == 0", 1min, "critical", "PostgreSQL is not answering"),
      rule("PostgresConnectionsNearMax",
           "sum(pg_stat_activity_count) / max(pg_settings_max_connections) > 0.80", 5min, "warning",
           "PostgreSQL uses {{ $value | humanizePercentage }} of max_connections"),
      rule("PostgresLongTransaction", "max(pg_stat_activity_max_tx_duration) > 300", 1min,
           "warning", "a PostgreSQL transaction has run for {{ $value | humanizeDuration }}"),
      rule("PostgresDeadlocks", "increase(pg_stat_database_deadlocks[10m]) > 0", 0min, "warning",
           "deadlocks in database {{ $labels.datname }}"),
      rule("NotifierFailing", "groundctl_notifier_up == 0", 0min, "critical",
           "alerts to notifier {{ $labels.notifier }} are not being delivered"),
      // Drift: a hardening check that fails in the newest audit (daily, and after every apply).
      // The check's own severity picks the alert's: critical and high page, the rest warn.
      rule("AuditCheckFailed", "groundctl_audit_check_failed{severity=~\"critical|high\"} == 1",
           0min, "critical", "audit check {{ $labels.check }} fails (see `groundctl audit`)"),
      rule("AuditCheckWarning", "groundctl_audit_check_failed{severity=~\"medium|low\"} == 1", 0min,
           "warning", "audit check {{ $labels.check }} fails (see `groundctl audit`)"),
  };
}

Result<std::vector<Rule>> build_rules(const config::Config& config) {
  std::vector<config::Diagnostic> diags;
  std::vector<Rule> rules = parse_all(config, diags);
  if (diags.empty()) return rules;
  std::string text;
  for (const auto& d : diags) text += (text.empty() ? "" : "\n") + d.message;
  return make_error(Errc::kInvalidConfig, text);
}

std::vector<config::Diagnostic> check_rules(const config::Config& config) {
  std::vector<config::Diagnostic> diags;
  parse_all(config, diags);
  return diags;
}

config::LoadOutcome load_config(const std::string& path, const config::LoadOptions& options) {
  config::LoadOutcome out = config::load_config(path, options);
  if (!out.config) return out;
  out.diagnostics = check_rules(*out.config);
  if (!out.diagnostics.empty()) out.config.reset();
  return out;
}

Result<config::Config> load_config_or_error(const std::string& path,
                                            const config::LoadOptions& options) {
  config::LoadOutcome out = alert::load_config(path, options);  // Not ADL's config::.
  if (out.config) return std::move(*out.config);
  std::string text;
  for (const auto& d : out.diagnostics) text += (text.empty() ? "" : "\n") + d.to_string();
  return make_error(Errc::kInvalidConfig, text);
}

std::string expand_template(std::string_view text, const monitor::Labels& labels, double value) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t open = text.find("{{", i);
    if (open == std::string_view::npos) break;
    std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    bool known = false;
    std::string v = expand_action(text.substr(open + 2, close - open - 2), labels, value, known);
    out += known ? v : std::string(text.substr(open, close + 2 - open));
    i = close + 2;
  }
  out.append(text.substr(i));
  return out;
}

std::string export_rules_yaml(const std::vector<Rule>& rules, const std::string& group) {
  std::string y =
      "# Generated by groundctl alerts --export-rules.\ngroups:\n  - name: " + yaml_quote(group) +
      "\n    rules:\n";
  for (const Rule& r : rules) {
    std::string expr = r.expr_text;
    if (!r.clear_text.empty()) {
      std::string ignoring = "alertname, alertstate, severity";
      for (const auto& [k, v] : r.labels) ignoring += ", " + k;
      expr = "(" + r.expr_text + ") or ((" + r.clear_text + ") and ignoring(" + ignoring +
             ") ALERTS{alertname=\"" + r.name + "\", alertstate=\"firing\"})";
    }
    y += "      - alert: " + r.name + "\n";
    y += "        expr: " + yaml_quote(expr) + "\n";
    if (r.for_ms > 0) y += "        for: " + prometheus_duration(r.for_ms) + "\n";
    y += "        labels:\n          severity: " + yaml_quote(r.severity) + "\n";
    for (const auto& [k, v] : r.labels) y += "          " + k + ": " + yaml_quote(v) + "\n";
    y += "        annotations:\n          summary: " + yaml_quote(r.summary) + "\n";
    if (!r.description.empty()) y += "          description: " + yaml_quote(r.description) + "\n";
  }
  return y;
}

}  // namespace gc::alert

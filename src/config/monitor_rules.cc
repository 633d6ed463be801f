// SPDX-License-Identifier: MIT
// config/monitor_rules.cc: the rules of [monitor] and [[alert]]. Alert expressions are only
// stored here, with their positions: alert::load_config parses them (the language lives in
// src/alert/, which depends on this module).
#include <map>
#include <string>

#include "config/detail/validate.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kMonitorKeys[] = {
    "interval", "history", "repeat_interval", "default_rules", "http", "logs", "nginx", "tls"};
constexpr std::string_view kProbeKeys[] = {"name", "url", "timeout", "expect_status"};
constexpr std::string_view kLogsKeys[] = {"services", "files"};
constexpr std::string_view kNginxKeys[] = {"status_url", "access_log"};
constexpr std::string_view kTlsKeys[] = {"endpoints", "files", "ca_file"};
constexpr std::string_view kAlertKeys[] = {"name",    "expr",   "clear",   "for",        "severity",
                                           "summary", "labels", "enabled", "description"};

bool valid_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool http_url_ok(std::string_view url) {
  bool scheme = url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
  if (!scheme) return false;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  std::size_t host = url.find("://") + 3;
  return host < url.size() && url[host] != '/';
}

// A sub-table of [monitor] ("logs", "nginx", "tls"), or nullptr.
const Node* sub_table(TableReader& r, std::string_view key) {
  const Node* n = r.get(key);
  if (n && n->kind != Node::Kind::kTable) {
    r.type_error(*n, key, "table ([monitor." + std::string(key) + "])");
    return nullptr;
  }
  return n;
}

void read_paths(TableReader& r, std::string_view key, std::string_view example,
                std::vector<std::string>& out) {
  std::vector<const Node*> items;
  if (!string_items(r, key, example, items)) return;
  for (const Node* i : items) {
    std::string path;
    if (r.path_value(*i, key, path)) out.push_back(path);
  }
}

void read_probes(Checker& checker, TableReader& r, MonitorConfig& m) {
  std::map<std::string, int> names;
  for_each_table(r, "http", "monitor.http", [&](const Node& item, int index) {
    TableReader p(checker, item, "monitor.http #" + std::to_string(index) + ": ", "",
                  "in [[monitor.http]]");
    p.reject_unknown(kProbeKeys);
    HttpProbeConfig probe;
    probe.name = "probe-" + std::to_string(index);
    if (p.read_string("name", probe.name) && !valid_name(probe.name)) {
      p.error(p.get("name")->pos, "name",
              in_quotes(probe.name) + " is not a valid name (letters, digits and _)");
    }
    if (auto [it, inserted] = names.emplace(probe.name, index); !inserted) {
      p.error(p.get("name") ? p.get("name")->pos : item.pos, "name",
              in_quotes(probe.name) + " is also the name of monitor.http #" +
                  std::to_string(it->second));
    }
    if (!p.has("url")) {
      missing(p, "url", "url = \"http://127.0.0.1:3000/health\"");
    } else if (p.read_string("url", probe.url) && !http_url_ok(probe.url)) {
      p.error(p.get("url")->pos, "url",
              "expected an http:// or https:// URL with a host and no spaces");
    }
    p.read_duration("timeout", probe.timeout, true);
    p.read_int("expect_status", probe.expect_status, 100, 599);
    m.http.push_back(std::move(probe));
  });
}

void read_monitor(Checker& checker, const Node& root, Config& config) {
  const Node* table = section(checker, root, "monitor");
  if (!table) return;
  TableReader r(checker, *table, "", "monitor.", "in [monitor]");
  r.reject_unknown(kMonitorKeys);
  MonitorConfig& m = config.monitor;
  if (r.read_duration("interval", m.interval, true) && m.interval < std::chrono::seconds(1)) {
    r.error(r.get("interval")->pos, "interval", "must be at least 1s");
  }
  if (r.read_duration("history", m.history, false) && m.history > std::chrono::hours(24 * 400)) {
    r.error(r.get("history")->pos, "history", "must be at most 400d");
  }
  r.read_duration("repeat_interval", m.repeat_interval, false);
  r.read_bool("default_rules", m.default_rules);
  read_probes(checker, r, m);
  if (const Node* logs = sub_table(r, "logs")) {
    TableReader l(checker, *logs, "", "monitor.logs.", "in [monitor.logs]");
    l.reject_unknown(kLogsKeys);
    std::vector<const Node*> items;
    if (string_items(l, "services", "services = [\"orbital-backend\"]", items)) {
      for (const Node* i : items) {
        if (!config.find_service(i->string)) {
          l.error(i->pos, "services", "no [[service]] is named " + in_quotes(i->string));
        } else {
          m.log_services.push_back(i->string);
        }
      }
    }
    read_paths(l, "files", "files = [\"/home/orbital/apps/orbital/shared/logs/error.log\"]",
               m.log_files);
  }
  if (const Node* nginx = sub_table(r, "nginx")) {
    TableReader n(checker, *nginx, "", "monitor.nginx.", "in [monitor.nginx]");
    n.reject_unknown(kNginxKeys);
    if (n.read_string("status_url", m.nginx_status_url) && !http_url_ok(m.nginx_status_url)) {
      n.error(n.get("status_url")->pos, "status_url",
              "expected an http:// or https:// URL with a host, like "
              "\"http://127.0.0.1/nginx_status\"");
    }
    n.read_path("access_log", m.nginx_access_log);
  }
  if (const Node* tls = sub_table(r, "tls")) {
    TableReader t(checker, *tls, "", "monitor.tls.", "in [monitor.tls]");
    t.reject_unknown(kTlsKeys);
    std::vector<const Node*> items;
    if (string_items(t, "endpoints", "endpoints = [\"api.example.org:443\"]", items)) {
      for (const Node* i : items) {
        std::size_t colon = i->string.rfind(':');
        bool port_ok = colon != std::string::npos && colon + 1 < i->string.size() &&
                       i->string.find_first_not_of("0123456789", colon + 1) == std::string::npos;
        if (!port_ok || colon == 0) {
          t.error(i->pos, "endpoints",
                  in_quotes(i->string) + " is not HOST:PORT, like \"api.example.org:443\"");
        } else {
          m.tls_endpoints.push_back(i->string);
        }
      }
    }
    read_paths(t, "files", "files = [\"/etc/letsencrypt/live/example.org/fullchain.pem\"]",
               m.tls_files);
    t.read_path("ca_file", m.tls_ca_file);
  }
}

void read_alert(Checker& checker, const Node& item, int index, AlertRuleConfig& a) {
  TableReader r(checker, item, "alert #" + std::to_string(index) + ": ", "", "in [[alert]]");
  r.reject_unknown(kAlertKeys);
  a.line = item.pos.line;
  a.column = item.pos.column;
  if (!r.has("name")) {
    missing(r, "name", "name = \"DiskAlmostFull\"");
  } else if (r.read_string("name", a.name) && !valid_name(a.name)) {
    r.error(r.get("name")->pos, "name",
            in_quotes(a.name) + " is not a valid alert name (letters, digits and _)");
  }
  if (r.read_string("expr", a.expr)) {
    a.expr_line = r.get("expr")->pos.line;
    a.expr_column = r.get("expr")->pos.column;
  }
  if (r.read_string("clear", a.clear)) {
    a.clear_line = r.get("clear")->pos.line;
    a.clear_column = r.get("clear")->pos.column;
  }
  a.has_for = r.read_duration("for", a.for_, false);
  if (r.read_string("severity", a.severity) && a.severity != "critical" &&
      a.severity != "warning" && a.severity != "info") {
    r.error(r.get("severity")->pos, "severity",
            "expected \"critical\", \"warning\" or \"info\", got " + in_quotes(a.severity));
  }
  r.read_string("summary", a.summary);
  r.read_string("description", a.description);
  r.read_bool("enabled", a.enabled);
  if (const Node* labels = r.get("labels")) {
    if (labels->kind != Node::Kind::kTable) {
      r.type_error(*labels, "labels", "table of strings, like { team = \"ops\" }");
    } else {
      for (const Member& l : labels->members) {
        if (l.value.kind != Node::Kind::kString) {
          r.type_error(l.value, "labels." + l.key, "string");
        } else if (!valid_name(l.key) || l.key == "alertname" || l.key == "severity") {
          r.error(l.key_pos, "labels",
                  in_quotes(l.key) +
                      " cannot be a label name here (letters, digits and _; alertname and "
                      "severity are set by the rule)");
        } else {
          a.labels[l.key] = l.value.string;
        }
      }
    }
  }
}

void read_alerts(Checker& checker, const Node& root, Config& config) {
  TableReader top(checker, root, "", "", "");
  std::map<std::string, int> names;
  for_each_table(top, "alert", "alert", [&](const Node& item, int index) {
    AlertRuleConfig a;
    read_alert(checker, item, index, a);
    if (a.name.empty()) return;
    if (auto [it, inserted] = names.emplace(a.name, item.pos.line); !inserted) {
      checker.error(item.pos, "alert " + in_quotes(a.name) + ": name: also defined on line " +
                                  std::to_string(it->second));
      return;
    }
    config.alerts.push_back(std::move(a));
  });
}

}  // namespace

void read_monitor_sections(Checker& checker, const Node& root, Config& config) {
  read_monitor(checker, root, config);
  read_alerts(checker, root, config);
}

}  // namespace gc::config::detail

// SPDX-License-Identifier: MIT
#include "cli/alert_commands.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "alert/alert_store.h"
#include "alert/rules.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "cli/exit_codes.h"
#include "cli/table.h"
#include "monitor/metrics.h"

namespace gc::cli {
namespace {

using json = nlohmann::json;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ms_text(int64_t ms) {
  return ms == 0 ? ""
                 : format_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

// The labels that tell alerts of one rule apart: all but alertname and severity.
std::string label_text(const json& labels) {
  std::string out;
  for (const auto& [k, v] : labels.items()) {
    if (k == "alertname" || k == "severity" || !v.is_string()) continue;
    out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  }
  return out.empty() ? "-" : out;
}

std::string matcher_text(const json& matchers) {
  std::string out;
  for (const auto& [k, v] : matchers.items()) {
    if (v.is_string()) out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  }
  return out;
}

std::string user_name() {
  const passwd* pw = ::getpwuid(::geteuid());
  return pw ? pw->pw_name : std::to_string(::geteuid());
}

Result<alert::AlertStore> open_store(const Globals& g) {
  GC_ASSIGN_OR_RETURN(config::Config cfg, load_config(g));
  return alert::AlertStore::open(cfg.server.state_dir);
}

}  // namespace

int cmd_alerts(const Globals& g) {
  int code = kExitOk;
  auto reply = call_daemon(g, {{"cmd", "alerts"}}, code);
  if (!reply) return code;
  const json& r = *reply;
  bool firing = false;
  for (const auto& a : r["alerts"]) firing = firing || a.value("state", "") == "firing";
  if (g.json) {
    print_json(r);
    return firing ? kExitProblem : kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ALERT", "STATE", "SEVERITY", "SINCE", "LABELS", "SUMMARY"}};
  for (const auto& a : r["alerts"]) {
    std::string state = a.value("state", "");
    if (a.value("silenced", false)) state += " (silenced)";
    rows.push_back(
        {a.value("name", ""), state, a["labels"].value("severity", ""),
         a.value("state", "") == "firing" ? a.value("fired_at", "") : a.value("active_since", ""),
         label_text(a["labels"]), a.value("summary", "")});
  }
  if (rows.size() == 1) {
    std::printf("no pending or firing alerts (%d rules, last evaluated %s)\n", r.value("rules", 0),
                r.value("last_evaluation", "").c_str());
  } else {
    std::fputs(render_table(rows).c_str(), stdout);
  }
  for (const auto& [rule, e] : r["rule_errors"].items()) {
    std::printf("rule %s cannot be evaluated: %s\n", rule.c_str(), e.get<std::string>().c_str());
  }
  for (const auto& n : r["notifiers"]) {
    if (!n.value("up", true))
      std::printf("notifier %s: the last delivery failed\n", n.value("name", "").c_str());
  }
  for (const auto& s : r["silences"]) {
    std::printf("silence %lld: %s until %s%s%s\n", static_cast<long long>(s.value("id", 0)),
                matcher_text(s["matchers"]).c_str(), s.value("ends_at", "").c_str(),
                s.value("comment", "").empty() ? "" : ": ", s.value("comment", "").c_str());
  }
  if (!r.value("store_error", "").empty()) {
    std::printf("alert state is not persisted: %s\n", r.value("store_error", "").c_str());
  }
  return firing ? kExitProblem : kExitOk;
}

int cmd_alert_history(const Globals& g, int limit) {
  auto store = open_store(g);
  if (!store) return report_failure(g, store.error(), exit_code_for(store.error()));
  auto history = store->history(limit);
  if (!history) return report_failure(g, history.error(), exit_code_for(history.error()));
  json out = alert::history_json(*history);
  std::vector<std::vector<std::string>> rows = {
      {"TIME", "EVENT", "ALERT", "SEVERITY", "LABELS", "NOTIFIED", "SUMMARY"}};
  for (const auto& h : *history) {
    json labels = h.labels;
    auto sev = h.labels.find("severity");
    std::string severity = sev == h.labels.end() ? "" : sev->second;
    rows.push_back({ms_text(h.at_ms), h.event, h.rule, severity, label_text(labels),
                    h.notified ? "yes" : "no (silenced)", h.summary});
  }
  if (g.json) {
    print_json(out);
  } else if (history->empty()) {
    std::printf("no alert has fired yet\n");
  } else {
    std::fputs(render_table(rows).c_str(), stdout);
  }
  return kExitOk;
}

int cmd_export_rules(const Globals& g) {
  auto cfg = load_config(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  auto rules = alert::build_rules(*cfg);
  if (!rules) return report_failure(g, rules.error(), kExitUsage);
  std::string group = cfg->server.name.empty() ? "groundctl" : "groundctl-" + cfg->server.name;
  std::string yaml = alert::export_rules_yaml(*rules, group);
  if (g.json) {
    print_json({{"ok", true}, {"rules", rules->size()}, {"yaml", yaml}});
  } else {
    std::fputs(yaml.c_str(), stdout);
  }
  return kExitOk;
}

int cmd_silence(const Globals& g, const SilenceArgs& args) {
  auto store = open_store(g);
  if (!store) return report_failure(g, store.error(), exit_code_for(store.error()));
  int64_t now = now_ms();
  if (args.list) {
    auto list = store->silences(now);
    if (!list) return report_failure(g, list.error(), exit_code_for(list.error()));
    json out = json::array();
    std::vector<std::vector<std::string>> rows = {
        {"ID", "MATCHERS", "FROM", "UNTIL", "BY", "COMMENT"}};
    for (const auto& s : *list) {
      out.push_back({{"id", s.id},
                     {"matchers", s.matchers},
                     {"starts_at", ms_text(s.starts_ms)},
                     {"ends_at", ms_text(s.ends_ms)},
                     {"created_by", s.created_by},
                     {"comment", s.comment}});
      std::string m;
      for (const auto& [k, v] : s.matchers) m += (m.empty() ? "" : ",") + k + "=" + v;
      rows.push_back({std::to_string(s.id), m, ms_text(s.starts_ms), ms_text(s.ends_ms),
                      s.created_by, s.comment});
    }
    if (g.json) {
      print_json(out);
    } else if (list->empty()) {
      std::printf("no active silences\n");
    } else {
      std::fputs(render_table(rows).c_str(), stdout);
    }
    return kExitOk;
  }
  if (!args.end.empty()) {
    int64_t id = 0;
    monitor::Labels matchers;
    if (args.end.find_first_not_of("0123456789") == std::string::npos) {
      id = std::stoll(args.end);
    } else {
      matchers["alertname"] = args.end;
    }
    auto n = store->end_silences(id, matchers, now);
    if (!n) return report_failure(g, n.error(), exit_code_for(n.error()));
    if (*n == 0) {
      return report_failure(g,
                            make_error(Errc::kNotFound, "no active silence " + args.end +
                                                            " (see `groundctl silence --list`)"),
                            kExitProblem);
    }
    if (g.json) {
      print_json({{"ok", true}, {"ended", *n}});
    } else {
      std::printf("ended %d silence%s\n", *n, *n == 1 ? "" : "s");
    }
    return kExitOk;
  }
  if (args.name.empty()) {
    return report_failure(g,
                          make_error(Errc::kInvalidArgument,
                                     "name the alert to silence: groundctl silence NAME --for 2h"),
                          kExitUsage);
  }
  auto d = parse_duration(args.duration);
  if (!d || d->count() <= 0) {
    return report_failure(
        g,
        make_error(Errc::kInvalidArgument,
                   "--for " + args.duration + ": expected a duration like 30m or 2h"),
        kExitUsage);
  }
  alert::Silence s;
  s.matchers["alertname"] = args.name;
  for (const auto& l : args.labels) {
    std::size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report_failure(
          g, make_error(Errc::kInvalidArgument, "--label " + l + ": expected NAME=VALUE"),
          kExitUsage);
    }
    s.matchers[l.substr(0, eq)] = l.substr(eq + 1);
  }
  s.starts_ms = now;
  s.ends_ms = now + std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
  s.comment = args.comment;
  s.created_by = user_name();
  auto id = store->add_silence(s);
  if (!id) return report_failure(g, id.error(), exit_code_for(id.error()));
  if (g.json) {
    print_json({{"ok", true}, {"id", *id}, {"ends_at", ms_text(s.ends_ms)}});
  } else {
    std::printf("silence %lld: %s silenced until %s\n", static_cast<long long>(*id),
                args.name.c_str(), ms_text(s.ends_ms).c_str());
  }
  return kExitOk;
}

}  // namespace gc::cli

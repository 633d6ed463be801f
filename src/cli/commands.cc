// SPDX-License-Identifier: MIT
#include "cli/commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "alert/rules.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "cli/client.h"
#include "cli/exit_codes.h"
#include "cli/table.h"
#include "config/loader.h"
#include "monitor/metrics.h"

namespace gc::cli {
namespace {

using json = nlohmann::json;

std::string uptime(std::int64_t ms) {
  if (ms <= 0) return "-";
  return format_duration(std::chrono::milliseconds(ms < 1000 ? ms : ms - ms % 1000));
}

}  // namespace

void print_json(const json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// Connects, or prints the one-line hint and returns nullopt (exit 3).
static std::optional<ControlClient> connect_or_hint(const Globals& g) {
  std::string path = control_socket(g);
  auto client = ControlClient::connect(path);
  if (!client) {
    Error e = client.error();
    e.message = "daemon not reachable at " + path + " (" +
                e.message.substr(e.message.rfind(": ") + 2) +
                "); start it with `groundctl daemon` or `systemctl start groundctl`";
    report_failure(g, e, kExitUnreachable);
    return std::nullopt;
  }
  return std::move(*client);
}

std::optional<json> call_daemon(const Globals& g, const json& request, int& code) {
  auto client = connect_or_hint(g);
  code = kExitUnreachable;
  if (!client) return std::nullopt;
  auto result = client->call(request);
  if (!result) {
    code = report_failure(g, result.error(), exit_code_for(result.error()));
    return std::nullopt;
  }
  code = kExitOk;
  return std::move(*result);
}

int round_trip(const Globals& g, const json& request,
               const std::function<void(const json&)>& render) {
  int code = kExitOk;
  auto result = call_daemon(g, request, code);
  if (!result) return code;
  if (g.json) {
    print_json(*result);
  } else {
    render(*result);
  }
  return kExitOk;
}

Result<config::Config> load_config(const Globals& g) {
  return alert::load_config_or_error(g.config_path);
}

Result<config::Config> load_config_for_provisioning(const Globals& g) {
  return alert::load_config_or_error(g.config_path, {.allow_missing_users = true});
}

std::string control_socket(const Globals& g) {
  return g.socket_path.empty() ? config::control_socket_path_lenient(g.config_path) : g.socket_path;
}

int report_failure(const Globals& g, const Error& e, int code) {
  if (g.json)
    print_json({{"ok", false},
                {"error", {{"code", std::string(errc_name(e.code))}, {"message", e.message}}}});
  std::fprintf(stderr, "groundctl: %s\n", e.message.c_str());
  return code;
}

int cmd_check(const Globals& g) {
  auto outcome = alert::load_config(g.config_path);
  if (g.json) {
    json errors = json::array();
    for (const auto& d : outcome.diagnostics) {
      errors.push_back(
          {{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}});
    }
    json out = {{"ok", outcome.config.has_value()}, {"errors", errors}};
    if (outcome.config) out["services"] = outcome.config->services.size();
    print_json(out);
  } else if (outcome.config) {
    std::printf("%s: ok (%zu service%s)\n", g.config_path.c_str(), outcome.config->services.size(),
                outcome.config->services.size() == 1 ? "" : "s");
  }
  for (const auto& d : outcome.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  return outcome.config ? kExitOk : kExitUsage;
}

int cmd_status(const Globals& g) {
  return round_trip(g, {{"cmd", "status"}}, [](const json& r) {
    std::printf("server %s  daemon pid %d  config %s\n\n", r.value("server", "").c_str(),
                r.value("pid", 0), r.value("config", "").c_str());
    std::vector<std::vector<std::string>> rows = {
        {"SERVICE", "STATE", "INSTANCES", "RESTARTS", "LISTEN"}};
    for (const auto& s : r["services"]) {
      std::string listen;
      for (const auto& l : s["listen"])
        listen += (listen.empty() ? "" : ",") + l.get<std::string>();
      rows.push_back(
          {s.value("name", ""), s.value("state", ""),
           std::to_string(s.value("running", 0)) + "/" + std::to_string(s.value("instances", 0)),
           std::to_string(s.value("restarts", 0)), listen.empty() ? "-" : listen});
    }
    std::fputs(render_table(rows).c_str(), stdout);
    if (r.contains("backup") && r["backup"].value("enabled", false)) {
      const json& b = r["backup"];
      std::string last = b.value("last_exit", "");
      std::printf("\nbackups: next %s%s%s%s\n", b.value("next_run", "").c_str(),
                  b.value("running_pid", 0) ? "; running now" : "",
                  last.empty() ? "" : "; last scheduled run: ", last.c_str());
      if (b.contains("last_success")) {
        std::printf("  last good backup %s (finished %s)",
                    b["last_success"].value("set_id", "").c_str(),
                    b["last_success"].value("finished_at", "").c_str());
        if (b.contains("last_set")) {
          std::printf(", verification %s, offsite %s",
                      b["last_set"].value("verify_result", "").c_str(),
                      b["last_set"].value("upload", "").c_str());
        }
        std::printf("\n");
      }
      if (b.contains("last_run") && !b["last_run"].value("ok", true)) {
        std::printf("  LAST RUN FAILED: %s\n", b["last_run"].value("error", "").c_str());
      }
    }
    if (r.contains("deploy") && r["deploy"].is_object()) {
      const json& d = r["deploy"];
      std::printf("\ndeploy: current %s",
                  d["active"].is_string() ? d["active"].get<std::string>().c_str() : "(none)");
      if (d.contains("last")) {
        const json& l = d["last"];
        std::printf("; last %s %s: %s", l.value("kind", "").c_str(), l.value("release", "").c_str(),
                    l.value("result", "").c_str());
        if (!l.value("error", "").empty()) std::printf(" (%s)", l.value("error", "").c_str());
      }
      std::printf("\n");
    }
    if (r.contains("audit") && r["audit"].is_object()) {
      const json& a = r["audit"];
      std::printf("\naudit: score %d/100, %d failed (%s); `groundctl audit` for details\n",
                  a.value("score", 0), a.value("failed", 0), a.value("time", "").c_str());
    }
    if (r.contains("certificate") && r["certificate"].is_object()) {
      const json& c = r["certificate"];
      auto day = [](std::int64_t t) {
        return t > 0 ? format_utc(std::chrono::system_clock::time_point(std::chrono::seconds(t)))
                     : std::string("-");
      };
      std::printf("\ncertificate %s: last check %s; valid until %s, renewal due %s\n",
                  c.value("name", "").c_str(), c.value("outcome", "").c_str(),
                  day(c.value("not_after", std::int64_t{0})).c_str(),
                  day(c.value("renew_at", std::int64_t{0})).c_str());
      if (c.value("outcome", "") == "failed") {
        std::printf("  RENEWAL FAILED%s: %s\n",
                    c.value("rate_limited", false) ? " (rate limited)" : "",
                    c.value("error", "").c_str());
      }
    }
    if (r.contains("certificates") && r["certificates"].is_array()) {
      std::printf("\ncertificates:\n");
      for (const json& c : r["certificates"]) {
        if (!c.value("ok", false)) {
          std::printf("  %s: UNREADABLE (the daemon log says why)\n",
                      c.value("source", "").c_str());
          continue;
        }
        std::int64_t left = c.value("expires_in_s", std::int64_t{0});
        std::printf("  %s: %s, expires %s (%s %lld d), issuer %s\n", c.value("source", "").c_str(),
                    c.value("valid", false) ? "valid" : "NOT VALID",
                    c.value("expires_at", "").c_str(), left < 0 ? "expired" : "in",
                    static_cast<long long>((left < 0 ? -left : left) / 86400),
                    c.value("issuer", "").c_str());
      }
    }
    if (r.contains("alerts")) {
      const json& a = r["alerts"];
      if (a["firing"].empty()) {
        std::printf("\nalerts: none firing, %d pending\n", a.value("pending", 0));
      } else {
        std::printf("\nalerts: %zu FIRING, %d pending\n", a["firing"].size(),
                    a.value("pending", 0));
        for (const auto& f : a["firing"]) {
          std::printf(
              "  %s [%s]%s: %s\n", f.value("name", "").c_str(), f.value("severity", "").c_str(),
              f.value("silenced", false) ? " (silenced)" : "", f.value("summary", "").c_str());
        }
      }
    }
  });
}

int cmd_ps(const Globals& g) {
  return round_trip(g, {{"cmd", "ps"}}, [](const json& r) {
    std::vector<std::vector<std::string>> rows = {
        {"SERVICE", "INSTANCE", "PID", "STATE", "UPTIME", "RESTARTS", "CPU", "MEM"}};
    for (const auto& i : r) {
      int pid = i.value("pid", 0);
      char cpu[16];
      std::snprintf(cpu, sizeof cpu, "%.1f%%", i.value("cpu_percent", 0.0));
      rows.push_back({i.value("service", ""), std::to_string(i.value("instance", 0)),
                      pid ? std::to_string(pid) : "-", i.value("state", ""),
                      uptime(i.value("uptime_ms", std::int64_t{0})),
                      std::to_string(i.value("restarts", 0)), pid ? cpu : "-",
                      pid ? format_size(i.value("rss_bytes", std::uint64_t{0})) : "-"});
    }
    std::fputs(render_table(rows).c_str(), stdout);
  });
}

int cmd_action(const Globals& g, const std::string& action, const std::string& name) {
  return round_trip(g, {{"cmd", action}, {"name", name}}, [&](const json&) {
    std::printf("%s %s: done\n", action.c_str(), name.c_str());
  });
}

int cmd_describe(const Globals& g, const std::string& name) {
  return round_trip(g, {{"cmd", "describe"}, {"name", name}}, [](const json& r) {
    std::printf("service %s: %s\n", r.value("name", "").c_str(), r.value("state", "").c_str());
    const json& c = r["config"];
    std::string command;
    for (const auto& a : c["command"])
      command += (command.empty() ? "" : " ") + a.get<std::string>();
    std::printf("  command       %s\n  cwd           %s\n  user          %s\n", command.c_str(),
                c.value("cwd", "").c_str(),
                c.value("user", "").empty() ? "(daemon's)" : c.value("user", "").c_str());
    std::printf(
        "  ready         %s (timeout %s)\n  restart       %s, backoff %s..%s, max_restarts %d\n",
        c["ready"].dump().c_str(), c.value("ready_timeout", "").c_str(),
        c.value("restart", "").c_str(), c["backoff"].value("initial", "").c_str(),
        c["backoff"].value("max", "").c_str(), c.value("max_restarts", 0));
    std::printf("  stop          %s, then SIGKILL after %s\n", c.value("stop_signal", "").c_str(),
                c.value("stop_timeout", "").c_str());
    for (const auto& l : r["listen_bound"])
      std::printf("  listen        %s\n", l.get<std::string>().c_str());
    std::printf("  logs          %s, %s (dropped %s)\n\n", r["logs"].value("stdout", "").c_str(),
                r["logs"].value("stderr", "").c_str(),
                format_size(r["logs"].value("dropped_bytes", std::uint64_t{0})).c_str());
    std::vector<std::vector<std::string>> rows = {
        {"INSTANCE", "PID", "STATE", "UPTIME", "RESTARTS", "MEM"}};
    for (const auto& i : r["instances"]) {
      int pid = i.value("pid", 0);
      rows.push_back({std::to_string(i.value("instance", 0)), pid ? std::to_string(pid) : "-",
                      i.value("state", ""), uptime(i.value("uptime_ms", std::int64_t{0})),
                      std::to_string(i.value("restarts", 0)),
                      pid ? format_size(i.value("rss_bytes", std::uint64_t{0})) : "-"});
    }
    std::fputs(render_table(rows).c_str(), stdout);
    if (!r["recent_exits"].empty()) std::printf("\nrecent exits (oldest first):\n");
    for (const auto& e : r["recent_exits"]) {
      std::time_t t = e.value("time_ms", std::int64_t{0}) / 1000;
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
      std::printf("  %s  instance %d pid %d: %s: %s\n", when, e.value("instance", 0),
                  e.value("pid", 0), e.value("status", "").c_str(), e.value("reason", "").c_str());
      std::string tail = e.value("stderr_tail", "");
      if (!tail.empty()) {
        size_t start = 0;
        int count = 0;
        for (size_t p = tail.size(); p > 0 && count < 5; --p) {
          if (tail[p - 1] == '\n' && p != tail.size()) {
            ++count;
            start = p;
          }
        }
        if (count < 5) start = 0;
        std::printf("    stderr: %s", tail.substr(start).c_str());
        if (tail.back() != '\n') std::printf("\n");
      }
    }
  });
}

int cmd_logs(const Globals& g, const std::string& name, int lines, bool follow) {
  auto client = connect_or_hint(g);
  if (!client) return kExitUnreachable;
  auto result =
      client->call({{"cmd", "logs"}, {"name", name}, {"lines", lines}, {"follow", follow}});
  if (!result) return report_failure(g, result.error(), exit_code_for(result.error()));
  if (g.json) {
    std::printf("%s\n", result->dump().c_str());
  } else {
    for (const char* stream : {"stdout", "stderr"}) {
      if ((*result)[stream].empty()) continue;
      std::printf("==> %s %s <==\n", name.c_str(), stream);
      for (const auto& l : (*result)[stream]) std::printf("%s\n", l.get<std::string>().c_str());
    }
  }
  std::fflush(stdout);
  if (!follow) return kExitOk;
  (void)client->stream([&](const json& msg) {
    if (g.json) {
      std::printf("%s\n", msg.dump().c_str());
    } else {
      std::string data = msg.value("data", "");
      FILE* out = msg.value("stream", "") == "stderr" ? stderr : stdout;
      std::fwrite(data.data(), 1, data.size(), out);
    }
    std::fflush(stdout);
    return true;
  });
  return kExitOk;
}

int cmd_metrics(const Globals& g, const std::string& prefix) {
  return round_trip(g, {{"cmd", "metrics"}, {"prefix", prefix}}, [](const json& r) {
    for (const auto& f : r) {
      std::string name = f.value("name", "");
      for (const auto& s : f["samples"]) {
        std::string labels;
        for (const auto& [k, v] : s["labels"].items()) {
          labels += (labels.empty() ? "" : ",") + k + "=\"" +
                    monitor::escape_label_value(v.get<std::string>()) + "\"";
        }
        std::string series = s.value("name", name);
        std::printf("%s%s %s\n", series.c_str(), labels.empty() ? "" : ("{" + labels + "}").c_str(),
                    monitor::format_value(s.value("value", 0.0)).c_str());
      }
    }
  });
}

int cmd_config_reload(const Globals& g) {
  return round_trip(g, {{"cmd", "config-reload"}}, [](const json& r) {
    auto list = [&](const char* key) {
      std::string s;
      for (const auto& n : r[key]) s += (s.empty() ? "" : ", ") + n.get<std::string>();
      return s.empty() ? std::string("-") : s;
    };
    std::printf(
        "config reloaded\n  added:     %s\n  removed:   %s\n  changed:   %s\n  unchanged: %s\n",
        list("added").c_str(), list("removed").c_str(), list("changed").c_str(),
        list("unchanged").c_str());
    if (r.value("server_changed", false))
      std::printf("  [server] changed: restart the daemon to apply it\n");
  });
}

}  // namespace gc::cli

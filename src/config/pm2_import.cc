// SPDX-License-Identifier: MIT
// config/pm2_import.cc: PM2 ecosystem JSON → [[service]] TOML. PM2's defaults come from its
// lib/API/schema.json and constants.js (kill_timeout 1600 ms, GRACEFUL_LISTEN_TIMEOUT 3000 ms,
// min_uptime 1000 ms, max_restarts 16, SIGINT as the stop signal).
#include "config/pm2_import.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/units.h"
#include "config/detail/pm2_support.h"

namespace gc::config {
namespace {

using detail::ms_text;
using detail::toml_array;
using detail::toml_string;
using Json = nlohmann::ordered_json;

constexpr std::int64_t kPm2KillTimeoutMs = 1600;
constexpr std::int64_t kPm2ListenTimeoutMs = 3000;
constexpr std::int64_t kPm2MinUptimeMs = 1000;
constexpr int kPm2MaxRestarts = 16;
constexpr std::int64_t kPm2ExpBackoffCapMs = 15000;

// A value for a comment: compact JSON on one line, shortened.
std::string shown(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

std::string as_text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> words;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// The lines of one [[service]] table and its error context.
class AppWriter {
 public:
  AppWriter(const Json& app, int index, unsigned cpus) : app_(app), index_(index), cpus_(cpus) {}

  Result<std::string> write() {
    GC_TRY(write_name());
    GC_TRY(write_command());
    if (const Json* cwd = take("cwd")) {
      if (!cwd->is_string()) return bad("cwd", "expected a string");
      set("cwd", toml_string(cwd->get<std::string>()));
    }
    write_user();
    GC_TRY(write_instances());
    write_env();
    GC_TRY(write_ready());
    write_restart();
    GC_TRY(write_backoff());
    GC_TRY(write_min_uptime());
    GC_ASSIGN_OR_RETURN(std::int64_t max_restarts, number("max_restarts", kPm2MaxRestarts));
    set("max_restarts", std::to_string(std::max<std::int64_t>(0, max_restarts)),
        take_seen("max_restarts") ? "" : "PM2's default");
    set("stop_signal", "\"SIGINT\"", "PM2 always stops with SIGINT");
    GC_ASSIGN_OR_RETURN(std::int64_t kill_ms, number("kill_timeout", kPm2KillTimeoutMs));
    set("stop_timeout", toml_string(ms_text(kill_ms)),
        take_seen("kill_timeout") ? "PM2 kill_timeout" : "PM2's default kill_timeout");
    GC_TRY(write_max_memory());
    write_not_imported();
    std::string out = "[[service]]\n";
    for (const std::string& line : lines_) out += line + "\n";
    return out;
  }

 private:
  const Json* take(std::string_view key) {
    used_.insert(std::string(key));
    auto it = app_.find(key);
    return it == app_.end() ? nullptr : &*it;
  }
  bool take_seen(std::string_view key) { return take(key) != nullptr; }

  void set(std::string_view key, const std::string& value, std::string_view note = "") {
    std::string line = std::string(key) + " = " + value;
    if (!note.empty()) line += "  # " + std::string(note);
    lines_.push_back(std::move(line));
  }
  void comment(const std::string& text) { lines_.push_back("# " + text); }
  void not_imported(std::string_view key, const Json& value, std::string_view reason) {
    comment("not imported: " + std::string(key) + " = " + shown(value) + " (" +
            std::string(reason) + ")");
  }

  Error bad(std::string_view key, std::string_view problem) const {
    return make_error(Errc::kInvalidArgument,
                      label_ + ": " + std::string(key) + ": " + std::string(problem));
  }

  // A millisecond count: a number or a string of digits; `fallback` when absent.
  Result<std::int64_t> number(std::string_view key, std::int64_t fallback) {
    const Json* v = take(key);
    if (!v) return fallback;
    if (v->is_number() && v->get<double>() >= 0 && v->get<double>() < 1e15) {
      return static_cast<std::int64_t>(v->get<double>());
    }
    if (v->is_string() && all_digits(v->get<std::string>()) && v->get<std::string>().size() < 15) {
      return std::stoll(v->get<std::string>());
    }
    return bad(key, "expected a non-negative number, got " + shown(*v));
  }

  Status write_name() {
    const Json* v = take("name");
    if (!v || !v->is_string() || v->get<std::string>().empty()) {
      return make_error(Errc::kInvalidArgument,
                        "app #" + std::to_string(index_) + ": missing \"name\"");
    }
    std::string original = v->get<std::string>();
    label_ = "app " + toml_string(original);
    std::string name;
    for (char c : original) {
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
      if (name.empty() && !std::isalnum(static_cast<unsigned char>(c))) continue;
      name += ok ? c : '-';
    }
    if (name.size() > 64) name.resize(64);
    if (name.empty()) name = "app-" + std::to_string(index_);
    if (name == "all") name = "all-app";
    if (name != original) {
      comment("PM2 name " + toml_string(original) +
              " renamed: groundctl names use letters, digits, \"_\", \".\" and \"-\"");
    }
    set("name", toml_string(name));
    return ok();
  }

  Result<std::vector<std::string>> words(std::string_view key) {
    const Json* v = take(key);
    if (!v || v->is_null()) return std::vector<std::string>{};
    if (v->is_string()) {
      std::string s = v->get<std::string>();
      if (s.find_first_of("\"'") != std::string::npos) {
        comment(std::string(key) + " was split on whitespace; check its quoting");
      }
      return split_words(s);
    }
    if (!v->is_array()) return bad(key, "expected a string or an array");
    std::vector<std::string> out;
    for (const Json& item : *v) out.push_back(as_text(item));
    return out;
  }

  Status write_command() {
    const Json* script = take("script");
    if (!script) script = take("exec");
    if (!script || !script->is_string() || script->get<std::string>().empty()) {
      return make_error(Errc::kInvalidArgument, label_ + ": missing \"script\"");
    }
    std::string path = script->get<std::string>();
    GC_ASSIGN_OR_RETURN(std::vector<std::string> args, words("args"));
    GC_ASSIGN_OR_RETURN(std::vector<std::string> interpreter_args, words("node_args"));
    for (std::string_view alias : {"interpreter_args", "interpreterArgs"}) {
      GC_ASSIGN_OR_RETURN(std::vector<std::string> more, words(alias));
      interpreter_args.insert(interpreter_args.end(), more.begin(), more.end());
    }
    const Json* interp = take("interpreter");
    if (!interp) interp = take("exec_interpreter");
    if (interp && !interp->is_string()) return bad("interpreter", "expected a string");
    std::string interpreter;
    std::string ext;
    if (std::size_t dot = path.rfind('.');
        dot != std::string::npos && path.find('/', dot) == std::string::npos) {
      ext = path.substr(dot);
    }
    if (interp) {
      interpreter = interp->get<std::string>() == "none" ? "" : interp->get<std::string>();
    } else if (ext == ".js" || ext == ".cjs" || ext == ".mjs") {
      interpreter = "node";
    } else if (!ext.empty()) {
      comment("script " + toml_string(path) + " runs directly; PM2 may have picked an " +
              "interpreter by extension: put it first in command if needed");
    }
    std::vector<std::string> command;
    if (!interpreter.empty()) {
      command.push_back(interpreter);
      command.insert(command.end(), interpreter_args.begin(), interpreter_args.end());
    } else if (!interpreter_args.empty()) {
      comment("not imported: node_args = " + shown(Json(interpreter_args)) +
              " (the script runs without an interpreter)");
    }
    command.push_back(path);
    command.insert(command.end(), args.begin(), args.end());
    set("command", toml_array(command));
    return ok();
  }

  void write_user() {
    const Json* user = take("user");
    if (!user) user = take("uid");
    if (!user) return;
    if (user->is_string() && !user->get<std::string>().empty()) {
      set("user", toml_string(user->get<std::string>()));
    } else {
      not_imported("uid", *user, "groundctl needs a user name");
    }
  }

  Status write_instances() {
    const Json* v = take("instances");
    const Json* mode = take("exec_mode");
    std::int64_t n = 1;
    if (v && v->is_string() && v->get<std::string>() == "max") {
      n = 0;
    } else if (v && v->is_number_integer()) {
      n = v->get<std::int64_t>();
    } else if (v && v->is_string() && all_digits(v->get<std::string>()) &&
               v->get<std::string>().size() < 6) {
      n = std::stoll(v->get<std::string>());
    } else if (v) {
      return bad("instances", "expected a number or \"max\", got " + shown(*v));
    }
    std::string note;
    if (n <= 0) {
      std::int64_t wanted = static_cast<std::int64_t>(cpus_) + n;
      note = "PM2 instances = " + shown(*v) + " meant " +
             (n == 0 ? std::string("one per CPU") : "CPUs minus " + std::to_string(-n)) +
             "; this machine has " + std::to_string(cpus_);
      n = std::max<std::int64_t>(1, wanted);
    }
    if (n > 64) {
      note = "PM2 asked for " + std::to_string(n) + "; groundctl allows at most 64";
      n = 64;
    }
    set("instances", std::to_string(n), note);
    if (mode && mode->is_string() && mode->get<std::string>().rfind("cluster", 0) == 0) {
      comment("PM2 exec_mode = \"cluster\": groundctl has no accept() proxy. It binds each");
      comment("listen address once and shares the socket with every instance (fd 3, LISTEN_FDS).");
      comment("Set listen = [\"127.0.0.1:PORT\"] yourself, and have the app call");
      comment("server.listen({ fd: 3 }) when LISTEN_FDS is set.");
    } else if (mode && !(mode->is_string() && mode->get<std::string>().rfind("fork", 0) == 0)) {
      not_imported("exec_mode", *mode, "expected \"fork\" or \"cluster\"");
    }
    return ok();
  }

  void write_env() {
    std::vector<std::pair<std::string, std::string>> env;
    auto put = [&](const std::string& k, const std::string& value) {
      for (auto& [key, v] : env) {
        if (key == k) {
          v = value;
          return;
        }
      }
      env.emplace_back(k, value);
    };
    auto merge = [&](std::string_view key) {
      const Json* v = take(key);
      if (!v) return false;
      if (!v->is_object()) {
        not_imported(key, *v, "expected an object of variables");
        return false;
      }
      for (const auto& [k, value] : v->items()) {
        bool valid = !k.empty() && !std::isdigit(static_cast<unsigned char>(k[0])) &&
                     std::all_of(k.begin(), k.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                     });
        if (!valid || value.is_null()) {
          not_imported(std::string(key) + "." + k, value,
                       valid ? "null value" : "not a valid variable name");
          continue;
        }
        put(k, as_text(value));
      }
      return true;
    };
    merge("env");
    if (merge("env_production")) {
      comment("env: PM2's env with env_production merged over it (pm2 start --env production)");
    }
    if (const Json* port = take("port"); port && (port->is_number() || port->is_string())) {
      put("PORT", as_text(*port));
    } else if (port) {
      not_imported("port", *port, "expected a number");
    }
    if (env.empty()) return;
    std::string table = "{ ";
    for (std::size_t i = 0; i < env.size(); ++i) {
      table += (i ? ", " : "") + env[i].first + " = " + toml_string(env[i].second);
    }
    set("env", table + " }");
  }

  Status write_ready() {
    const Json* wait = take("wait_ready");
    GC_ASSIGN_OR_RETURN(std::int64_t listen_ms, number("listen_timeout", kPm2ListenTimeoutMs));
    bool listen_given = app_.contains("listen_timeout");
    if (wait && wait->is_boolean() && wait->get<bool>()) {
      set("ready", "\"ipc\"", "PM2 wait_ready: process.send('ready')");
    } else {
      comment("PM2 without wait_ready marks an app online at once; a short delay is the closest");
      set("ready", "{ delay = \"1s\" }");
    }
    set("ready_timeout", toml_string(ms_text(std::max<std::int64_t>(1, listen_ms))),
        listen_given ? "PM2 listen_timeout" : "PM2's default listen_timeout");
    return ok();
  }

  void write_restart() {
    const Json* autorestart = take("autorestart");
    const Json* stop_codes = take("stop_exit_codes");
    if (autorestart && autorestart->is_boolean() && !autorestart->get<bool>()) {
      set("restart", "\"never\"", "PM2 autorestart = false");
      if (stop_codes) not_imported("stop_exit_codes", *stop_codes, "autorestart is off");
      return;
    }
    bool zero_only = stop_codes &&
                     ((stop_codes->is_number_integer() && *stop_codes == 0) ||
                      (stop_codes->is_array() && stop_codes->size() == 1 && (*stop_codes)[0] == 0));
    if (zero_only) {
      set("restart", "\"on-failure\"", "PM2 stop_exit_codes = [0]");
      return;
    }
    set("restart", "\"always\"", "PM2 restarts on every exit");
    if (stop_codes) not_imported("stop_exit_codes", *stop_codes, "only [0] maps to on-failure");
  }

  Status write_backoff() {
    bool has_exp = app_.contains("exp_backoff_restart_delay");
    bool has_fixed = app_.contains("restart_delay");
    GC_ASSIGN_OR_RETURN(std::int64_t exp_ms, number("exp_backoff_restart_delay", 0));
    GC_ASSIGN_OR_RETURN(std::int64_t fixed_ms, number("restart_delay", 0));
    std::string cap = toml_string(ms_text(kPm2ExpBackoffCapMs));
    if (has_exp && exp_ms > 0) {
      comment("PM2 exp_backoff_restart_delay: the delay doubles up to PM2's 15s cap");
      set("backoff", "{ initial = " + toml_string(ms_text(std::min(exp_ms, kPm2ExpBackoffCapMs))) +
                         ", max = " + cap + " }");
      if (has_fixed) not_imported("restart_delay", app_.at("restart_delay"), "exp backoff wins");
    } else if (has_fixed && fixed_ms > 0) {
      std::string fixed = toml_string(ms_text(fixed_ms));
      set("backoff", "{ initial = " + fixed + ", max = " + fixed + " }",
          "PM2 restart_delay: a fixed delay");
    } else {
      comment("PM2 restarts at once; groundctl needs a delay and backs off up to PM2's 15s cap");
      set("backoff", "{ initial = \"100ms\", max = " + cap + " }");
    }
    return ok();
  }

  Status write_min_uptime() {
    const Json* v = take("min_uptime");
    if (!v) {
      set("min_uptime", toml_string(ms_text(kPm2MinUptimeMs)), "PM2's default");
      return ok();
    }
    if (v->is_string() && !all_digits(v->get<std::string>())) {
      if (!parse_duration(v->get<std::string>())) {
        return bad("min_uptime",
                   "expected milliseconds or a duration such as \"10s\", got " + shown(*v));
      }
      set("min_uptime", toml_string(v->get<std::string>()));
      return ok();
    }
    GC_ASSIGN_OR_RETURN(std::int64_t ms, number("min_uptime", kPm2MinUptimeMs));
    set("min_uptime", toml_string(ms_text(ms)));
    return ok();
  }

  Status write_max_memory() {
    const Json* v = take("max_memory_restart");
    if (!v) return ok();
    std::string text = v->is_string() ? v->get<std::string>() : "";
    if (v->is_number_unsigned() || (v->is_number_integer() && v->get<std::int64_t>() > 0)) {
      text = std::to_string(v->get<std::uint64_t>());
    }
    std::string digits = text;
    std::string unit = "B";
    if (!text.empty() && std::isalpha(static_cast<unsigned char>(text.back()))) {
      char u = static_cast<char>(std::toupper(static_cast<unsigned char>(text.back())));
      digits.pop_back();
      unit = u == 'K' ? "KiB" : u == 'M' ? "MiB" : u == 'G' ? "GiB" : "";
    }
    bool valid = all_digits(digits) && digits.size() < 16 && !unit.empty();
    if (!valid || std::stoull(digits) == 0) {
      return bad("max_memory_restart",
                 "expected bytes or a size such as \"400M\", got " + shown(*v));
    }
    set("max_memory", toml_string(digits + unit),
        "PM2 max_memory_restart " + shown(*v) + (unit == "B" ? "" : " (PM2's K/M/G are binary)"));
    return ok();
  }

  void write_not_imported() {
    for (const auto& [key, value] : app_.items()) {
      if (used_.count(key)) continue;
      if (key.rfind("env_", 0) == 0) {
        not_imported(key, value, "used only with pm2 start --env " + key.substr(4));
        continue;
      }
      not_imported(key, value, detail::pm2_unsupported_reason(key));
    }
  }

  const Json& app_;
  int index_;
  unsigned cpus_;
  std::string label_;
  std::set<std::string, std::less<>> used_;
  std::vector<std::string> lines_;
};

}  // namespace

Result<std::string> pm2_ecosystem_to_toml(std::string_view json_text,
                                          const Pm2ImportOptions& options) {
  Json doc;
  // nlohmann-json reports syntax errors by throwing; convert them here.
  try {
    doc = Json::parse(json_text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const Json::exception& e) {
    std::string what = e.what();
    if (std::size_t close = what.find("] "); what.rfind("[json.", 0) == 0 && close != what.npos) {
      what.erase(0, close + 2);
    }
    return make_error(Errc::kInvalidArgument, "invalid PM2 ecosystem JSON: " + what);
  }
  std::vector<std::string> header_notes;
  Json apps;
  if (doc.is_object() && doc.contains("apps")) {
    apps = doc["apps"].is_object() ? Json::array({doc["apps"]}) : doc["apps"];
    for (const auto& [key, value] : doc.items()) {
      if (key != "apps") {
        header_notes.push_back("# not imported: " + key + " = " + shown(value) +
                               (key == "deploy" ? " (see [deploy] in groundctl)" : ""));
      }
    }
  } else if (doc.is_array()) {
    apps = doc;
  } else if (doc.is_object() && (doc.contains("script") || doc.contains("name"))) {
    apps = Json::array({doc});
  }
  if (!apps.is_array() || apps.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "no apps in the PM2 ecosystem: expected { \"apps\": [...] }, an array of "
                      "apps or one app object");
  }
  unsigned cpus = options.cpu_count ? options.cpu_count : std::thread::hardware_concurrency();
  if (cpus == 0) cpus = 1;
  std::string out =
      "# groundctl services imported from a PM2 ecosystem.\n"
      "# PM2's defaults are written out where groundctl's differ. Review every comment, set\n"
      "# listen for apps that serve traffic, and add [server] and [http] as needed.\n";
  for (const std::string& note : header_notes) out += note + "\n";
  int index = 0;
  for (const Json& app : apps) {
    ++index;
    if (!app.is_object()) {
      return make_error(Errc::kInvalidArgument,
                        "app #" + std::to_string(index) + ": expected an object");
    }
    GC_ASSIGN_OR_RETURN(std::string table, AppWriter(app, index, cpus).write());
    out += "\n" + table;
  }
  return out;
}

}  // namespace gc::config

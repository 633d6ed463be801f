// SPDX-License-Identifier: MIT
// config/service_rules.cc: the rules of one [[service]] table.
#include <cctype>
#include <limits>
#include <string>

#include "config/detail/validate.h"
#include "config/http_url.h"
#include "config/listen_address.h"
#include "config/signals.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kServiceKeys[] = {
    "name",       "command",      "cwd",         "user",          "env_file",   "env",
    "instances",  "listen",       "ready",       "ready_timeout", "restart",    "backoff",
    "min_uptime", "max_restarts", "stop_signal", "stop_timeout",  "max_memory", "logs",
};
constexpr std::string_view kBackoffKeys[] = {"initial", "max"};
constexpr std::string_view kLogsKeys[] = {"max_size", "keep"};
constexpr std::string_view kReadyKeys[] = {"http", "delay"};

constexpr std::string_view kReadyChoices =
    "expected \"ipc\", \"notify\", { http = \"http://...\" } or { delay = \"2s\" }";

bool is_valid_service_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool is_valid_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Reads `name` and returns the message context for the rest of the table.
std::string read_name(TableReader& r, int index, ServiceConfig& service, ServiceSite& site) {
  std::string fallback = "service #" + std::to_string(index) + ": ";
  const Node* v = r.get("name");
  if (!v) {
    r.checker().error(site.table_pos,
                      fallback + "missing required key \"name\" (e.g. name = \"web\")");
    return fallback;
  }
  site.name_pos = v->pos;
  TableReader named(r.checker(), r.table(), fallback, "", "");
  if (v->kind != Node::Kind::kString) {
    named.type_error(*v, "name", "string");
    return fallback;
  }
  service.name = v->string;
  std::string context = "service " + in_quotes(v->string) + ": ";
  TableReader in_context(r.checker(), r.table(), context, "", "");
  if (v->string == "all") {
    in_context.error(v->pos, "name", "\"all\" is reserved (it means every service in the CLI)");
  } else if (!is_valid_service_name(v->string)) {
    in_context.error(v->pos, "name",
                     "must be 1 to 64 letters, digits, \"_\", \".\" or \"-\", starting with a "
                     "letter or digit");
  } else {
    site.has_valid_name = true;
  }
  return context;
}

void read_command(TableReader& r, const ServiceSite& site, ServiceConfig& service) {
  const Node* v = r.get("command");
  if (!v) {
    r.checker().error(site.table_pos, r.context() +
                                          "missing required key \"command\" (e.g. command = "
                                          "[\"node\", \"server.js\"])");
    return;
  }
  if (v->kind != Node::Kind::kArray) {
    r.type_error(*v, "command", "non-empty array of strings");
    return;
  }
  if (v->items.empty()) {
    r.error(v->pos, "command", "must not be empty (e.g. command = [\"node\", \"server.js\"])");
    return;
  }
  bool ok = true;
  for (std::size_t i = 0; i < v->items.size(); ++i) {
    const Node& item = v->items[i];
    std::string key = "command[" + std::to_string(i) + "]";
    if (item.kind != Node::Kind::kString) {
      r.type_error(item, key, "string");
      ok = false;
    } else if (i == 0 && item.string.empty()) {
      r.error(item.pos, key, "the program must not be empty");
      ok = false;
    }
  }
  if (!ok) return;
  for (const Node& item : v->items) service.command.push_back(item.string);
}

void read_user(TableReader& r, ServiceConfig& service) {
  std::string user;
  if (!r.read_string("user", user)) return;
  const Node& v = *r.get("user");
  if (user.empty()) {
    r.error(v.pos, "user", "must not be empty (omit it to run as the daemon's user)");
    return;
  }
  std::string lookup_error;
  if (!user_exists(user, lookup_error)) {
    if (!lookup_error.empty()) {
      r.error(v.pos, "user", "cannot look up " + in_quotes(user) + ": " + lookup_error);
      return;
    }
    // Provisioning loads: `groundctl apply` is what creates the user (LoadOptions).
    if (!r.checker().options().allow_missing_users) {
      r.error(v.pos, "user",
              "no such user " + in_quotes(user) +
                  " (create it, or omit user to run as the "
                  "daemon's user)");
      return;
    }
  }
  service.user = user;
}

void read_env(TableReader& r, ServiceConfig& service) {
  const Node* v = r.get("env");
  if (!v) return;
  if (v->kind != Node::Kind::kTable) {
    r.type_error(*v, "env", "table such as env = { NODE_ENV = \"production\" }");
    return;
  }
  for (const Member& m : v->members) {
    if (!is_valid_env_name(m.key)) {
      r.error(m.key_pos, "env",
              "invalid variable name " + in_quotes(m.key) +
                  ": use letters, digits and \"_\", not starting with a digit");
      continue;
    }
    if (m.value.kind != Node::Kind::kString) {
      // The value itself is never echoed: env values are often secrets.
      std::string hint = " (quote it: " + m.key + " = \"...\")";
      r.error(m.value.pos, "env." + m.key,
              "expected a string, got " + std::string(kind_name(m.value.kind)) + hint);
      continue;
    }
    service.env[m.key] = m.value.string;
  }
}

void read_listen(TableReader& r, ServiceConfig& service, ServiceSite& site) {
  const Node* v = r.get("listen");
  if (!v) return;
  if (v->kind != Node::Kind::kArray) {
    r.type_error(*v, "listen", "array of addresses such as listen = [\"127.0.0.1:3000\"]");
    return;
  }
  for (const Node& item : v->items) {
    if (item.kind != Node::Kind::kString) {
      r.type_error(item, "listen", "string such as \"127.0.0.1:3000\"");
      continue;
    }
    Result<ListenAddress> address = parse_listen_address(item.string);
    if (!address) {
      r.error(item.pos, "listen", address.error().message);
      continue;
    }
    service.listen.push_back(*address);
    site.listens.emplace_back(*address, item.pos);
  }
}

void read_ready(TableReader& r, ServiceConfig& service) {
  const Node* v = r.get("ready");
  if (!v) return;
  if (v->kind == Node::Kind::kString) {
    if (v->string == "ipc") {
      service.ready = ReadySpec{ReadyKind::kIpc, "", {}};
    } else if (v->string == "notify") {
      service.ready = ReadySpec{ReadyKind::kNotify, "", {}};
    } else {
      r.error(v->pos, "ready", std::string(kReadyChoices) + ", got " + in_quotes(v->string));
    }
    return;
  }
  if (v->kind != Node::Kind::kTable) {
    r.error(v->pos, "ready",
            std::string(kReadyChoices) + ", got " + std::string(kind_name(v->kind)));
    return;
  }
  TableReader t(r.checker(), *v, r.context(), "ready.", "in ready");
  t.reject_unknown(kReadyKeys);
  bool has_http = t.has("http");
  bool has_delay = t.has("delay");
  if (has_http && has_delay) {
    r.error(v->pos, "ready", std::string(kReadyChoices) + ", not both");
    return;
  }
  if (!has_http && !has_delay) {
    // Unknown keys were reported above; an empty table still needs saying.
    if (v->members.empty()) r.error(v->pos, "ready", std::string(kReadyChoices) + ", got {}");
    return;
  }
  if (has_http) {
    std::string url;
    if (!t.read_string("http", url)) return;
    if (auto parsed = parse_http_url(url); !parsed) {
      t.error(t.get("http")->pos, "http",
              parsed.error().message + " (e.g. \"http://127.0.0.1:3000/health\")");
      return;
    }
    service.ready = ReadySpec{ReadyKind::kHttp, url, {}};
    return;
  }
  Duration delay{};
  if (t.read_duration("delay", delay, /*positive=*/false)) {
    service.ready = ReadySpec{ReadyKind::kDelay, "", delay};
  }
}

void read_restart(TableReader& r, ServiceConfig& service) {
  std::string mode;
  if (!r.read_string("restart", mode)) return;
  if (mode == "always") {
    service.restart = RestartMode::kAlways;
  } else if (mode == "on-failure") {
    service.restart = RestartMode::kOnFailure;
  } else if (mode == "never") {
    service.restart = RestartMode::kNever;
  } else {
    r.error(r.get("restart")->pos, "restart",
            "expected \"always\", \"on-failure\" or \"never\", got " + in_quotes(mode));
  }
}

void read_backoff(TableReader& r, ServiceConfig& service) {
  const Node* v = r.get("backoff");
  if (!v) return;
  if (v->kind != Node::Kind::kTable) {
    r.type_error(*v, "backoff", "table such as backoff = { initial = \"100ms\", max = \"30s\" }");
    return;
  }
  TableReader t(r.checker(), *v, r.context(), "backoff.", "in backoff");
  t.reject_unknown(kBackoffKeys);
  BackoffConfig b = service.backoff;
  bool initial_ok = !t.has("initial") || t.read_duration("initial", b.initial, true);
  bool max_ok = !t.has("max") || t.read_duration("max", b.max, true);
  if (initial_ok && max_ok && b.initial > b.max) {
    bool at_initial = t.has("initial");
    t.error(at_initial ? t.get("initial")->pos : t.get("max")->pos, at_initial ? "initial" : "max",
            "backoff.initial (" + format_duration(b.initial) + ") must not exceed backoff.max (" +
                format_duration(b.max) + ")");
    return;
  }
  if (initial_ok && max_ok) service.backoff = b;
}

void read_stop_signal(TableReader& r, ServiceConfig& service) {
  std::string name;
  if (!r.read_string("stop_signal", name)) return;
  std::optional<int> signo = parse_stop_signal(name);
  if (!signo) {
    r.error(
        r.get("stop_signal")->pos, "stop_signal",
        "unknown signal " + in_quotes(name) + ": use one of " + std::string(stop_signal_choices()));
    return;
  }
  service.stop_signal = *signo;
}

void read_logs(TableReader& r, ServiceConfig& service) {
  const Node* v = r.get("logs");
  if (!v) return;
  if (v->kind != Node::Kind::kTable) {
    r.type_error(*v, "logs", "table such as logs = { max_size = \"50MiB\", keep = 10 }");
    return;
  }
  TableReader t(r.checker(), *v, r.context(), "logs.", "in logs");
  t.reject_unknown(kLogsKeys);
  t.read_size("max_size", service.logs.max_size_bytes);
  t.read_int("keep", service.logs.keep, 0, 1000);
}

}  // namespace

// A health URL on the service's own shared socket is answered by whichever instance accepts
// first, during a reload usually the old one: the new instance would pass its readiness check
// without ever being asked, and the old one would be stopped for a broken replacement.
void check_ready_url_is_not_shared(TableReader& r, const ServiceConfig& service) {
  if (service.ready.kind != ReadyKind::kHttp) return;
  auto url = parse_http_url(service.ready.http_url);
  if (!url) return;
  std::string host = url->host == "localhost" ? "127.0.0.1" : url->host;
  std::string text =
      host.find(':') != std::string::npos ? "[" + host + "]:" + url->port : host + ":" + url->port;
  auto target = parse_listen_address(text);
  if (!target) return;
  for (const auto& l : service.listen) {
    if (addresses_conflict(l, *target)) {
      r.error(r.get("ready")->pos, "ready",
              "the health URL " + in_quotes(service.ready.http_url) +
                  " is the service's own listen address " + in_quotes(l.text) +
                  ", which every instance shares, so it cannot tell whether the new "
                  "instance is ready: use ready = \"ipc\" or \"notify\", or a per-instance health "
                  "port");
      return;
    }
  }
}

ServiceConfig read_service(Checker& checker, const Node& table, int index, ServiceSite& site) {
  ServiceConfig service;
  site.table_pos = table.pos;
  TableReader unnamed(checker, table, "", "", "");
  std::string context = read_name(unnamed, index, service, site);
  TableReader r(checker, table, context, "", "in [[service]]");
  r.reject_unknown(kServiceKeys);
  read_command(r, site, service);
  r.read_path("cwd", service.cwd);
  read_user(r, service);
  r.read_path("env_file", service.env_file);
  read_env(r, service);
  r.read_int("instances", service.instances, 1, 64);
  read_listen(r, service, site);
  read_ready(r, service);
  check_ready_url_is_not_shared(r, service);
  r.read_duration("ready_timeout", service.ready_timeout, /*positive=*/true);
  read_restart(r, service);
  read_backoff(r, service);
  r.read_duration("min_uptime", service.min_uptime, /*positive=*/false);
  r.read_int("max_restarts", service.max_restarts, 0, std::numeric_limits<int>::max());
  read_stop_signal(r, service);
  r.read_duration("stop_timeout", service.stop_timeout, /*positive=*/false);
  std::uint64_t max_memory = 0;
  if (r.read_size("max_memory", max_memory)) service.max_memory_bytes = max_memory;
  read_logs(r, service);
  return service;
}

}  // namespace gc::config::detail

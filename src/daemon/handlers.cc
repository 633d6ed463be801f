// SPDX-License-Identifier: MIT
#include "daemon/handlers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "base/unique_fd.h"
#include "config/signals.h"

namespace gc::daemon {
namespace {

using json = nlohmann::json;
using supervisor::Service;

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The last `n` lines of `path`, reading at most the final 4 MiB.
std::vector<std::string> tail_lines(const std::string& path, int n) {
  std::vector<std::string> out;
  auto fd = open_fd(path, O_RDONLY);
  if (!fd || n <= 0) return out;
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return out;
  off_t want = std::min<off_t>(st.st_size, 4 << 20);
  std::string buf(static_cast<size_t>(want), '\0');
  ssize_t got = ::pread(fd->get(), buf.data(), buf.size(), st.st_size - want);
  if (got <= 0) return out;
  buf.resize(static_cast<size_t>(got));
  if (!buf.empty() && buf.back() == '\n') buf.pop_back();
  size_t end = buf.size();
  while (static_cast<int>(out.size()) < n && end > 0) {
    size_t nl = buf.rfind('\n', end - 1);
    size_t begin = nl == std::string::npos ? 0 : nl + 1;
    out.push_back(buf.substr(begin, end - begin));
    if (nl == std::string::npos) break;
    end = nl;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

json service_config_json(const config::ServiceConfig& c) {
  json ready;
  switch (c.ready.kind) {
    case config::ReadyKind::kIpc:
      ready = "ipc";
      break;
    case config::ReadyKind::kNotify:
      ready = "notify";
      break;
    case config::ReadyKind::kHttp:
      ready = {{"http", c.ready.http_url}};
      break;
    case config::ReadyKind::kDelay:
      ready = {{"delay", format_duration(c.ready.delay)}};
      break;
  }
  json listen = json::array();
  for (const auto& l : c.listen) listen.push_back(l.text);
  // env values may hold secrets: only the names are shown.
  json env_names = json::array();
  for (const auto& [k, v] : c.env) env_names.push_back(k);
  static const char* restart_names[] = {"always", "on-failure", "never"};
  return {
      {"command", c.command},
      {"cwd", c.cwd},
      {"user", c.user},
      {"env_file", c.env_file},
      {"env_names", env_names},
      {"instances", c.instances},
      {"listen", listen},
      {"ready", ready},
      {"ready_timeout", format_duration(c.ready_timeout)},
      {"restart", restart_names[static_cast<int>(c.restart)]},
      {"backoff",
       {{"initial", format_duration(c.backoff.initial)}, {"max", format_duration(c.backoff.max)}}},
      {"min_uptime", format_duration(c.min_uptime)},
      {"max_restarts", c.max_restarts},
      {"stop_signal", config::stop_signal_name(c.stop_signal)},
      {"stop_timeout", format_duration(c.stop_timeout)},
      {"max_memory", c.max_memory_bytes ? json(format_size(*c.max_memory_bytes)) : json(nullptr)},
      {"logs", {{"max_size", format_size(c.logs.max_size_bytes)}, {"keep", c.logs.keep}}},
  };
}

json instance_json(const supervisor::InstanceInfo& i) {
  return {{"service", i.service},
          {"instance", i.instance},
          {"pid", i.pid},
          {"state", i.state},
          {"uptime_ms", i.uptime_ms},
          {"restarts", i.restarts},
          {"cpu_percent", i.cpu_percent},
          {"rss_bytes", i.rss_bytes}};
}

// Resolves "all" or a name to services. Unknown name: kNotFound naming it.
Result<std::vector<std::shared_ptr<Service>>> targets(DaemonState& state, const json& request) {
  std::string name = request.value("name", "");
  if (name == "all") return state.supervisor->services();
  if (auto s = state.supervisor->find(name)) return std::vector<std::shared_ptr<Service>>{s};
  return make_error(Errc::kNotFound, "no service named \"" + name + "\" (see groundctl status)");
}

supervisor::Done reply_when_done(const std::shared_ptr<Session>& session, std::string what) {
  return [session, what](Status st) {
    if (st) {
      session->send(ok_response({{"done", what}}));
    } else {
      session->send_error(st.error());
    }
  };
}

void handle_logs(DaemonState& state, const json& request, const std::shared_ptr<Session>& session) {
  auto service = state.supervisor->find(request.value("name", ""));
  if (!service) {
    session->send_error(
        make_error(Errc::kNotFound, "no service named \"" + request.value("name", "") + "\""));
    return;
  }
  int lines = request.value("lines", 20);
  json result = {
      {"stdout", tail_lines(service->log_path(supervisor::OutputStream::kStdout), lines)},
      {"stderr", tail_lines(service->log_path(supervisor::OutputStream::kStderr), lines)},
      {"dropped_bytes", service->dropped_log_bytes()}};
  session->send(ok_response(result));
  if (!request.value("follow", false)) return;
  session->set_streaming();
  std::weak_ptr<Session> weak = session;
  service->subscribe([weak](supervisor::OutputStream stream, int instance, std::string_view chunk) {
    auto s = weak.lock();
    if (!s || !s->is_open()) return false;
    s->send({{"stream", stream == supervisor::OutputStream::kStdout ? "stdout" : "stderr"},
             {"instance", instance},
             {"data", std::string(chunk)}});
    return true;
  });
}

}  // namespace

json instances_json(const supervisor::Supervisor& sup) {
  json out = json::array();
  for (const auto& s : sup.services()) {
    for (const auto& i : s->instances()) out.push_back(instance_json(i));
  }
  return out;
}

json services_json(const supervisor::Supervisor& sup) {
  json services = json::array();
  for (const auto& s : sup.services()) {
    int running = 0, restarts = 0;
    for (const auto& i : s->instances()) {
      running += i.state == "running";
      restarts += i.restarts;
    }
    services.push_back({{"name", s->name()},
                        {"state", s->state()},
                        {"running", running},
                        {"instances", s->config().instances},
                        {"restarts", restarts},
                        {"listen", s->bound_addresses()}});
  }
  return services;
}

json status_json(const DaemonState& state) {
  json reply = {{"server", state.config.server.name},
                {"pid", ::getpid()},
                {"config", state.config.path},
                {"started_ms", unix_ms(state.started)},
                {"services", services_json(*state.supervisor)}};
  if (state.backup_status) reply["backup"] = state.backup_status();
  if (state.deploy_status) reply["deploy"] = state.deploy_status();
  if (state.http_status) reply["http"] = state.http_status();
  if (state.audit_status) reply["audit"] = state.audit_status();
  if (state.cert_status) reply["certificate"] = state.cert_status();
  if (state.certificates) {
    if (json certs = state.certificates(); !certs.empty()) reply["certificates"] = certs;
  }
  if (state.alerts) {
    json firing = json::array();
    int pending = 0;
    const json all = state.alerts();  // Iterated below: must outlive the loop.
    for (const auto& a : all["alerts"]) {
      if (a["state"] == "firing") {
        firing.push_back({{"name", a["name"]},
                          {"summary", a["summary"]},
                          {"severity", a["labels"].value("severity", "")},
                          {"silenced", a["silenced"]}});
      } else {
        ++pending;
      }
    }
    reply["alerts"] = {{"firing", firing}, {"pending", pending}};
  }
  return reply;
}

json describe_json(const Service& service) {
  json instances = json::array();
  for (const auto& i : service.instances()) instances.push_back(instance_json(i));
  json exits = json::array();
  for (const auto& e : service.recent_exits()) {
    exits.push_back({{"time_ms", unix_ms(e.when)},
                     {"instance", e.instance},
                     {"pid", e.pid},
                     {"status", e.status},
                     {"reason", e.reason},
                     {"stderr_tail", e.stderr_tail}});
  }
  return {{"name", service.name()},
          {"state", service.state()},
          {"config", service_config_json(service.config())},
          {"listen_bound", service.bound_addresses()},
          {"instances", instances},
          {"recent_exits", exits},
          {"logs",
           {{"stdout", service.log_path(supervisor::OutputStream::kStdout)},
            {"stderr", service.log_path(supervisor::OutputStream::kStderr)},
            {"dropped_bytes", service.dropped_log_bytes()}}}};
}

void handle_request(DaemonState& state, const json& request,
                    const std::shared_ptr<Session>& session) {
  std::string cmd = request.value("cmd", "");
  if (cmd == "ping") {
    session->send(ok_response({{"pid", ::getpid()}}));
  } else if (cmd == "status") {
    session->send(ok_response(status_json(state)));
  } else if (cmd == "ps") {
    session->send(ok_response(instances_json(*state.supervisor)));
  } else if (cmd == "describe") {
    auto s = state.supervisor->find(request.value("name", ""));
    if (!s) {
      session->send_error(
          make_error(Errc::kNotFound, "no service named \"" + request.value("name", "") + "\""));
      return;
    }
    session->send(ok_response(describe_json(*s)));
  } else if (cmd == "start" || cmd == "stop" || cmd == "restart" || cmd == "reload") {
    if (state.stopping && cmd != "stop") {
      session->send_error(make_error(Errc::kUnavailable, "the daemon is shutting down"));
      return;
    }
    auto list = targets(state, request);
    if (!list) {
      session->send_error(list.error());
      return;
    }
    auto done = reply_when_done(session, cmd);
    supervisor::for_all(
        *list,
        [cmd](Service& s, supervisor::Done d) {
          if (cmd == "start") {
            s.start(std::move(d));
          } else if (cmd == "stop") {
            s.stop(std::move(d));
          } else if (cmd == "reload") {
            s.reload(std::move(d));
          } else {
            auto self = s.shared_from_this();
            s.stop([self, d = std::move(d)](Status st) {
              if (!st) return d(st);
              self->start(d);
            });
          }
        },
        done);
  } else if (cmd == "metrics") {
    if (!state.metrics) {
      session->send_error(make_error(Errc::kUnavailable, "metrics are not available"));
      return;
    }
    session->send(ok_response(state.metrics(request.value("prefix", ""))));
  } else if (cmd == "alerts") {
    if (!state.alerts) {
      session->send_error(make_error(Errc::kUnavailable, "alerts are not available"));
      return;
    }
    session->send(ok_response(state.alerts()));
  } else if (cmd == "logs") {
    handle_logs(state, request, session);
  } else if (cmd == "config-reload") {
    if (state.stopping) {
      session->send_error(make_error(Errc::kUnavailable, "the daemon is shutting down"));
      return;
    }
    state.reload_config([session](json reply) { session->send(reply); });
  } else {
    session->send_error(make_error(Errc::kInvalidArgument, "unknown command \"" + cmd + "\""));
  }
}

}  // namespace gc::daemon

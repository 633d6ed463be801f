// SPDX-License-Identifier: MIT
#include "daemon/daemon.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "alert/rules.h"
#include "base/unique_fd.h"
#include "config/diff.h"
#include "config/listen_address.h"
#include "config/loader.h"
#include "daemon/alerting.h"
#include "daemon/api.h"
#include "daemon/audit_scheduler.h"
#include "daemon/backup_scheduler.h"
#include "daemon/cert_scheduler.h"
#include "daemon/handlers.h"
#include "daemon/metrics.h"
#include "deploy/deployer.h"
#include "http/dashboard.h"
#include "http/server.h"
#include "monitor/tls_metrics.h"

namespace gc::daemon {
namespace {

// Binds [http].listen and serves /metrics, /healthz and /api/v1/ (daemon/api.h). Errors: an
// unreadable token file, the bind.
Status start_http(boost::asio::io_context& io, DaemonState& state,
                  std::function<monitor::MetricSet()> scrape, const ApiContext& ctx,
                  std::shared_ptr<http::Server>& out) {
  GC_ASSIGN_OR_RETURN(config::ListenAddress listen,
                      config::parse_listen_address(state.config.http.listen));
  std::string token;
  if (!state.config.http.token_file.empty()) {
    GC_ASSIGN_OR_RETURN(token, read_file(state.config.http.token_file));
    while (!token.empty() &&
           (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
      token.pop_back();
    }
    if (token.empty()) {
      return make_error(Errc::kInvalidConfig,
                        "http.token_file " + state.config.http.token_file + " is empty");
    }
  }
  GC_ASSIGN_OR_RETURN(
      out, http::Server::start(io, listen, std::move(token), [scrape, ctx](const http::Request& r) {
        std::string path = r.target.substr(0, r.target.find('?'));
        if (path == "/metrics") {
          return http::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                                monitor::render(scrape())};
        }
        if (path == "/healthz") return http::Response{200, "text/plain; charset=utf-8", "ok\n"};
        // "/" and "/assets/NAME": the embedded dashboard, under its Content-Security-Policy.
        if (auto d = http::dashboard_response(path)) return *d;
        if (auto a = handle_api(ctx, r)) return *a;
        return http::Response{404, "text/plain; charset=utf-8", "not found\n"};
      }));
  return ok();
}

using json = nlohmann::json;

// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET (a path, or '@' for abstract).
void notify_systemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof sa.sun_path) return;
  std::memcpy(sa.sun_path, path, len);
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
  ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
}

json diff_json(const config::ConfigDiff& d) {
  return {{"added", d.added},
          {"removed", d.removed},
          {"changed", d.changed},
          {"unchanged", d.unchanged},
          {"server_changed", d.server_changed},
          {"http_changed", d.http_changed},
          {"backup_changed", d.backup_changed}};
}

}  // namespace

int run(const std::string& config_path) {
  auto loaded = alert::load_config(config_path);
  if (!loaded.config) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    std::fprintf(stderr, "groundctl: config has %zu error(s); nothing started\n",
                 loaded.diagnostics.size());
    return 2;
  }
  // Logs go to stderr (journald reads it); stdout stays for command output.
  spdlog::set_default_logger(spdlog::stderr_color_mt("groundctl"));
  // Children get default dispositions back in ChildProcess; the daemon itself must survive a
  // client that disconnects mid-reply.
  ::signal(SIGPIPE, SIG_IGN);
  DaemonState state;
  state.config = *loaded.config;
  state.started = std::chrono::system_clock::now();
  for (const auto& dir : {state.config.server.runtime_dir, state.config.server.log_dir}) {
    if (auto st = make_directories(dir, 0755); !st) {
      spdlog::error("{}", st.error().message);
      return 1;
    }
  }
  boost::asio::io_context io;
  supervisor::Supervisor sup(io, state.config, std::chrono::seconds(2));
  state.supervisor = &sup;
  char exe[4096] = {};
  ssize_t exe_len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  BackupScheduler backups(
      io, exe_len > 0 ? std::string(exe, static_cast<size_t>(exe_len)) : "groundctl",
      state.config.path, state.config.server.log_dir);
  state.backup_status = [&backups] { return backups.status_json(); };
  state.deploy_status = [&state]() -> json {
    if (!state.config.deploy) return nullptr;
    // Small indexed reads of the state store: cheap enough for the loop thread.
    auto view = deploy::list_releases(state.config, 1);
    if (!view) return {{"error", view.error().message}};
    json j = {{"active", view->active ? json(*view->active) : json()},
              {"releases_on_disk", view->on_disk.size()}};
    if (!view->history.empty()) {
      const auto& r = view->history.front();
      j["last"] = {{"kind", r.kind},
                   {"release", r.release},
                   {"ref", r.ref},
                   {"result", r.result},
                   {"error", r.error},
                   {"started_at", r.started_at},
                   {"finished_at", r.finished_at}};
    }
    return j;
  };
  // The collectors that may block run on their own threads; every reader (GET /metrics,
  // `groundctl metrics`, the alert rules) sees the same samples. They start once the services
  // have (below): a probe made before the daemon has bound a service's socket would fail, and
  // with `for = "0s"` every daemon start would page about its own start-up. Only the event
  // loop's thread touches this vector.
  std::vector<std::unique_ptr<monitor::BackgroundCollector>> collectors;
  bool collectors_started = false;
  // The daily hardening audit, on its own thread.
  AuditScheduler audits(exe_len > 0 ? std::string(exe, static_cast<size_t>(exe_len)) : "groundctl",
                        state.config.path, state.config);
  state.audit_status = [&audits] { return audits.status_json(); };
  // Certificate renewal ([tls]), on its own thread.
  CertScheduler certs(exe_len > 0 ? std::string(exe, static_cast<size_t>(exe_len)) : "groundctl",
                      state.config.path, state.config);
  state.cert_status = [&certs, &state]() -> json {
    if (!state.config.tls) return nullptr;
    return certs.status_json();
  };
  // The monitored certificates, from the TLS collector's latest run (status, the dashboard).
  state.certificates = [&collectors] {
    monitor::MetricSet set;
    for (const auto& b : collectors) b->add_latest(set);
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return monitor::certificates_json(
        set, std::chrono::duration_cast<std::chrono::seconds>(now).count());
  };
  BackupGauges backup_gauges;
  AlertEngine alerting(io, [&state, &backup_gauges, &collectors, &audits, &certs] {
    monitor::MetricSet set = collect_all(state, backup_gauges, collectors);
    audits.add_metrics(set);
    certs.add_metrics(set);
    return set;
  });
  std::function<monitor::MetricSet()> scrape = [&state, &backup_gauges, &collectors, &alerting,
                                                &audits, &certs] {
    monitor::MetricSet set = collect_all(state, backup_gauges, collectors);
    audits.add_metrics(set);
    certs.add_metrics(set);
    alerting.add_metrics(set);
    return set;
  };
  std::string socket_path = state.config.server.runtime_dir + "/control.sock";
  bool reloading = false;
  state.reload_config = [&](std::function<void(json)> reply) {
    if (reloading) {
      reply(error_response(make_error(Errc::kConflict, "a config reload is already running")));
      return;
    }
    auto next = alert::load_config(state.config.path);
    if (!next.config) {
      json errors = json::array();
      std::string text;
      for (const auto& d : next.diagnostics) {
        errors.push_back(d.to_string());
        text += (text.empty() ? "" : "\n") + d.to_string();
      }
      spdlog::error("config reload refused; the running config stays:\n{}", text);
      json r = error_response(make_error(
          Errc::kInvalidConfig, "config reload refused, the running config stays:\n" + text));
      r["error"]["diagnostics"] = errors;
      reply(r);
      return;
    }
    auto diff = config::diff_configs(state.config, *next.config);
    if (diff.server_changed)
      spdlog::warn("config reload: [server] changed; restart the daemon to apply it");
    bool monitor_changed = state.config.monitor != next.config->monitor ||
                           state.config.postgres != next.config->postgres ||
                           state.config.tls != next.config->tls;
    state.config = *next.config;
    reloading = true;
    if (diff.backup_changed) backups.configure(state.config);
    if (monitor_changed && collectors_started) {
      collectors.clear();  // Joins their threads first: two never run side by side.
      collectors = start_collectors(state.config);
    }
    alerting.configure(state.config);
    audits.configure(state.config);
    certs.configure(state.config);
    sup.apply(state.config, diff, [&reloading, reply, diff](Status st) {
      reloading = false;
      json r = st ? ok_response(diff_json(diff)) : error_response(st.error());
      if (!st) r["diff"] = diff_json(diff);
      reply(r);
    });
  };
  auto server = ControlServer::start(io, socket_path, state.config.server.admin_group,
                                     [&state](const json& req, const std::shared_ptr<Session>& s) {
                                       handle_request(state, req, s);
                                     });
  if (!server) {
    spdlog::error("{}", server.error().message);
    return 1;
  }
  spdlog::info("groundctl daemon {} started: config {}, control socket {}", ::getpid(),
               state.config.path, socket_path);
  // The HTTP endpoint is for watching: a failure to serve it is reported, and supervision goes
  // on without it.
  state.metrics = [&scrape](const std::string& prefix) { return metrics_json(scrape(), prefix); };
  state.alerts = [&alerting] { return alerting.alerts_json(); };
  std::shared_ptr<http::Server> http_server;
  std::string http_error;
  ApiContext api_ctx{&state, &alerting};
  if (auto st = start_http(io, state, scrape, api_ctx, http_server); !st) {
    http_error = st.error().message;
    spdlog::error("HTTP endpoint not started: {}", http_error);
  } else {
    spdlog::info("HTTP endpoint on http://{}/ (dashboard, /metrics, /api/v1/, /healthz)",
                 http_server->bound_address());
  }
  state.http_status = [&http_server, &http_error]() -> json {
    return {{"listen", http_server ? http_server->bound_address() : ""}, {"error", http_error}};
  };
  bool& stopping = state.stopping;
  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP && stopping) {
        spdlog::info("SIGHUP ignored: shutting down");
      } else if (signo == SIGHUP) {
        spdlog::info("SIGHUP: reloading config {}", state.config.path);
        state.reload_config([](const json& r) {
          if (r.value("ok", false)) spdlog::info("config reload applied");
        });
      } else if (!stopping) {
        stopping = true;
        spdlog::info("{}: stopping every service", signo == SIGTERM ? "SIGTERM" : "SIGINT");
        notify_systemd("STOPPING=1");
        backups.stop();
        alerting.stop();
        if (http_server) http_server->stop();
        sup.stop_all([&](Status) {
          spdlog::info("all services stopped; exiting");
          io.stop();
        });
      }
      wait_signal();
    });
  };
  wait_signal();
  backups.configure(state.config);
  alerting.configure(state.config);
  sup.start_all([&](Status st) {
    if (!st) spdlog::warn("not every service started: {}", st.error().message);
    collectors = start_collectors(state.config);
    collectors_started = true;
    notify_systemd("READY=1");
  });
  io.run();
  return 0;
}

}  // namespace gc::daemon

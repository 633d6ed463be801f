// SPDX-License-Identifier: MIT
#include "daemon/metrics.h"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <optional>

#include "backup/catalog.h"
#include "backup/from_config.h"
#include "backup/pg_client.h"
#include "base/utc_time.h"
#include "monitor/app_log_metrics.h"
#include "monitor/host_metrics.h"
#include "monitor/http_probe_metrics.h"
#include "monitor/nginx_metrics.h"
#include "monitor/pg_metrics.h"
#include "monitor/tls_child.h"
#include "monitor/tls_metrics.h"
#include "supervisor/proc_stats.h"

namespace gc::daemon {
namespace {

using monitor::Labels;
using monitor::MetricSet;

double unix_seconds(const std::string& rfc3339) {
  auto t = parse_utc(rfc3339);
  return t ? static_cast<double>(t->time_since_epoch().count()) : 0;
}

// The gauges of `st`, the catalog's summary.
void add_backup_gauges(const backup::BackupStatus& st, MetricSet& out) {
  out.gauge("groundctl_backup_configured", "1 when [backup] is configured.", {}, 1);
  if (st.last_run) {
    out.gauge("groundctl_backup_last_run_success", "1 if the last backup run succeeded.", {},
              st.last_run->ok ? 1 : 0);
    out.gauge("groundctl_backup_last_run_timestamp_seconds",
              "When the last backup run finished, in unixtime.", {},
              unix_seconds(st.last_run->finished_at));
  }
  if (st.last_success) {
    out.gauge("groundctl_backup_last_success_timestamp_seconds",
              "When the last successful backup finished, in unixtime.", {},
              unix_seconds(st.last_success->finished_at));
  }
  if (st.last_set) {
    out.gauge("groundctl_backup_last_set_verified",
              "1 if the newest set passed verification (restored while written).", {},
              st.last_set->verify_result == "passed" ? 1 : 0);
    out.gauge("groundctl_backup_last_set_bytes", "Size of the newest set.", {},
              static_cast<double>(st.last_set->bytes));
  }
  out.gauge("groundctl_backup_upload_pending", "1 if a set waits for its offsite upload.", {},
            st.oldest_pending_upload ? 1 : 0);
  if (st.oldest_pending_upload) {
    out.gauge("groundctl_backup_oldest_pending_upload_timestamp_seconds",
              "When the oldest set still waiting for upload finished, in unixtime.", {},
              unix_seconds(*st.oldest_pending_upload));
  }
  if (st.last_drill) {
    out.gauge("groundctl_backup_last_drill_success", "1 if the last restore drill succeeded.", {},
              st.last_drill->ok ? 1 : 0);
    out.gauge("groundctl_backup_last_drill_restore_seconds",
              "How long the last restore drill took (RTO).", {}, st.last_drill->restore_seconds);
  }
}

}  // namespace

void collect_instances(const supervisor::Supervisor& sup, const config::Config& config,
                       MetricSet& out) {
  static const char* kStates[] = {"starting", "running", "stopping",
                                  "backoff",  "failed",  "stopped"};
  for (const auto& svc : config.services) {
    out.gauge("groundctl_service_instances_desired", "Instances the config asks for.",
              {{"service", svc.name}}, svc.instances);
  }
  for (const auto& service : sup.services()) {
    for (const auto& i : service->instances()) {
      Labels l = {{"service", i.service}, {"instance", std::to_string(i.instance)}};
      out.gauge("groundctl_instance_up", "1 if the instance is running (and ready).", l,
                i.state == "running" ? 1 : 0);
      for (const char* s : kStates) {
        Labels ls = l;
        ls["state"] = s;
        out.gauge("groundctl_instance_state", "The instance's state: 1 for the current one.", ls,
                  i.state == s ? 1 : 0);
      }
      out.counter("groundctl_instance_restarts_total",
                  "Restarts of the instance since the daemon started.", l, i.restarts);
      out.gauge("groundctl_instance_resident_memory_bytes",
                "Resident memory of the instance's process.", l, static_cast<double>(i.rss_bytes));
      out.gauge("groundctl_instance_cpu_usage_ratio",
                "CPU used by the instance's process over the last sample, in cores.", l,
                i.cpu_percent / 100.0);
      out.gauge("groundctl_instance_uptime_seconds", "Seconds since the instance started.", l,
                static_cast<double>(i.uptime_ms) / 1000.0);
    }
  }
}

void BackupGauges::collect(const config::Config& config, MetricSet& out) {
  if (!config.backup) return;
  if (!catalog_ || state_dir_ != config.server.state_dir) {
    catalog_.reset();
    data_version_ = -1;
    auto opened = backup::Catalog::open(config.server.state_dir);
    if (!opened) return;  // No gauges: BackupTooOld and friends see no backup.
    catalog_ = std::move(*opened);
    state_dir_ = config.server.state_dir;
  }
  auto version = catalog_->data_version();
  if (!version) {
    catalog_.reset();  // Opened again on the next scrape.
    return;
  }
  if (*version != data_version_) {
    auto st = catalog_->status();
    if (!st) return;
    latest_ = MetricSet();
    add_backup_gauges(*st, latest_);
    data_version_ = *version;
  }
  out.merge(latest_);
}

void collect_self(std::chrono::system_clock::time_point started, MetricSet& out) {
  out.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
            {}, std::chrono::duration<double>(started.time_since_epoch()).count());
  if (auto st = supervisor::read_proc_stats(::getpid())) {
    out.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {},
                static_cast<double>(st->cpu_ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK)));
    out.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
              static_cast<double>(st->vm_bytes));
    out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
              static_cast<double>(st->rss_bytes));
  }
  int fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++fds;
    }
    ::closedir(d);
    out.gauge("process_open_fds", "Number of open file descriptors.", {}, fds - 1);  // opendir's.
  }
}

std::unique_ptr<monitor::BackgroundCollector> start_postgres_collector(
    const config::Config& config, std::chrono::milliseconds interval) {
  if (!config.postgres) return nullptr;
  auto target = backup::pg_target_from_config(config);
  if (!target) {
    spdlog::error("PostgreSQL metrics: {}", target.error().message);
    return nullptr;
  }
  auto conn = std::make_shared<std::optional<backup::PgConnection>>();
  return std::make_unique<monitor::BackgroundCollector>(
      [t = *target, conn](MetricSet& out) {
        monitor::PgSnapshot snap;
        if (!*conn) {
          auto c = backup::PgConnection::connect(t);
          if (c) {
            conn->emplace(std::move(*c));
            // A scrape must never wait on a stuck query for long.
            (void)(*conn)->exec("SET statement_timeout = '5s'");
          } else {
            snap.error = c.error().message;
          }
        }
        if (*conn) {
          auto s = monitor::query_postgres(**conn);
          if (s) {
            snap = std::move(*s);
          } else {
            snap.error = s.error().message;
            conn->reset();  // Reconnect next time: the server may have restarted.
          }
        }
        monitor::pg_samples(snap, out);
      },
      interval);
}

std::vector<std::unique_ptr<monitor::BackgroundCollector>> start_collectors(
    const config::Config& config) {
  std::vector<std::unique_ptr<monitor::BackgroundCollector>> out;
  auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(config.monitor.interval);
  if (auto pg = start_postgres_collector(config, interval)) out.push_back(std::move(pg));
  const config::MonitorConfig& m = config.monitor;
  if (!m.http.empty()) {
    auto probes = std::make_shared<monitor::HttpProbes>(m.http);
    out.push_back(std::make_unique<monitor::BackgroundCollector>(
        [probes](MetricSet& set) { probes->collect(set); }, interval));
  }
  if (!m.nginx_status_url.empty() || !m.nginx_access_log.empty()) {
    auto nginx = std::make_shared<monitor::NginxCollector>(m.nginx_status_url, m.nginx_access_log);
    out.push_back(std::make_unique<monitor::BackgroundCollector>(
        [nginx](MetricSet& set) { nginx->collect(set); }, interval));
  }
  if (!m.log_services.empty() || !m.log_files.empty()) {
    auto logs = std::make_shared<monitor::AppLogCollector>();
    for (const auto& s : m.log_services) {
      // Winston's Console transport writes to stdout, some levels to stderr: both are read.
      for (const char* stream : {"out.log", "err.log"})
        logs->add_source(s, config.server.log_dir + "/" + s + "/" + stream);
    }
    for (const auto& f : m.log_files) logs->add_source(monitor::service_from_path(f), f);
    out.push_back(std::make_unique<monitor::BackgroundCollector>(
        [logs](MetricSet& set) { logs->collect(set); }, interval));
  }
  // The certificate [tls] manages is watched too, against its name, so that expiry and a
  // renewal that never lands alert without listing the file twice.
  std::string managed_cert = config.tls ? config.tls->cert_dir + "/fullchain.pem" : "";
  if (!m.tls_endpoints.empty() || !m.tls_files.empty() || !managed_cert.empty()) {
    std::vector<monitor::TlsTarget> targets;
    for (const auto& e : m.tls_endpoints) targets.push_back({"", e, "", ""});
    for (const auto& f : m.tls_files) {
      if (f != managed_cert) targets.push_back({f, "", "", ""});
    }
    if (!managed_cert.empty()) {
      targets.push_back({managed_cert, "", "", config.tls->domains.front()});
    }
    monitor::TlsOptions options;
    options.ca_file = m.tls_ca_file;
    // Monitoring: OpenSSL is loaded in a child (`groundctl __tls-facts`), never in the daemon,
    // whose RSS it would otherwise grow by ~4-5 MiB for good (monitor/tls_child.h).
    char exe[4096] = {};
    ssize_t exe_len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    std::string self = exe_len > 0 ? std::string(exe, static_cast<std::size_t>(exe_len)) : "";
    // Certificates change rarely and expiry is a date: every 5 minutes is plenty.
    // Why each source last failed, logged once per failure streak (the collector's own thread
    // is its only user).
    auto failing = std::make_shared<std::map<std::string, std::string>>();
    out.push_back(std::make_unique<monitor::BackgroundCollector>(
        [targets, options, self, failing](MetricSet& set) {
          std::vector<monitor::CertFacts> facts;
          if (!self.empty()) {
            facts = monitor::inspect_targets_in_child(self, targets, options);
          } else {  // No /proc: in-process, as before.
            for (const auto& t : targets) facts.push_back(monitor::inspect_target(t, options));
          }
          for (const auto& f : facts) {
            if (f.ok) {
              if (failing->erase(f.source) > 0)
                spdlog::info("certificate {}: read again", f.source);
            } else if (auto& why = (*failing)[f.source]; why != f.error) {
              why = f.error;
              spdlog::warn("certificate {}: {}", f.source, f.error);
            }
          }
          auto now = std::chrono::system_clock::now().time_since_epoch();
          monitor::add_tls_metrics(
              facts, std::chrono::duration_cast<std::chrono::seconds>(now).count(), set);
        },
        std::max(interval, std::chrono::milliseconds(std::chrono::minutes(5)))));
  }
  return out;
}

MetricSet collect_all(
    const DaemonState& state, BackupGauges& backups,
    const std::vector<std::unique_ptr<monitor::BackgroundCollector>>& background) {
  MetricSet set;
  monitor::collect_host(set);
  collect_instances(*state.supervisor, state.config, set);
  backups.collect(state.config, set);
  collect_self(state.started, set);
  for (const auto& b : background) b->add_latest(set);
  return set;
}

nlohmann::json metrics_json(const MetricSet& set, const std::string& prefix) {
  static const char* kTypes[] = {"gauge", "counter", "untyped", "histogram"};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, f] : set.families()) {
    if (name.rfind(prefix, 0) != 0 || f.samples.empty()) continue;
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : f.samples) {
      samples.push_back({{"name", name + s.suffix}, {"labels", s.labels}, {"value", s.value}});
    }
    out.push_back({{"name", name},
                   {"type", kTypes[static_cast<int>(f.type)]},
                   {"help", f.help},
                   {"samples", samples}});
  }
  return out;
}

}  // namespace gc::daemon

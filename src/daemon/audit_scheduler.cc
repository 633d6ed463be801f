// SPDX-License-Identifier: MIT
// daemon/audit_scheduler.cc: the audit thread.
#include "daemon/audit_scheduler.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "audit/audit_store.h"
#include "base/child_process.h"
#include "base/utc_time.h"

namespace gc::daemon {
namespace {

constexpr std::int64_t kEvery = 24 * 3600;
// How often the thread looks for reports saved by other runs (a cheap indexed read).
constexpr auto kPoll = std::chrono::minutes(1);
// The first audit waits this long after the daemon starts: starting services come first, and a
// daemon restarted in a loop (or by a test) does not run apt-get and sshd -T each time.
constexpr auto kStartDelay = std::chrono::minutes(5);

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AuditScheduler::AuditScheduler(std::string exe, std::string config_path, const config::Config& cfg)
    : exe_(std::move(exe)), config_path_(std::move(config_path)), config_(cfg) {
  thread_ = std::thread([this] { run(); });
}

AuditScheduler::~AuditScheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AuditScheduler::configure(const config::Config& cfg) {
  std::lock_guard<std::mutex> lock(mu_);
  config_ = cfg;
}

void AuditScheduler::run() {
  std::optional<audit::AuditStore> store;
  std::string store_dir;
  std::string last_error;
  const auto started = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    config::Config cfg = config_;
    lock.unlock();
    if (!store || store_dir != cfg.server.state_dir) {
      store.reset();
      auto s = audit::AuditStore::open(cfg.server.state_dir);
      if (s) {
        store.emplace(std::move(*s));
        store_dir = cfg.server.state_dir;
      } else if (s.error().message != last_error) {
        last_error = s.error().message;
        spdlog::warn("audit: {}", last_error);
      }
    }
    std::optional<audit::Report> newest;
    if (store) {
      auto l = store->latest();
      if (l && *l) newest = std::move(**l);
    }
    bool due = (!newest || unix_now() - newest->time >= kEvery) &&
               std::chrono::steady_clock::now() - started >= kStartDelay;
    if (due) {
      run_child();
      if (store) {
        auto l = store->latest();
        if (l && *l) newest = std::move(**l);
      }
      if (newest) {
        spdlog::info("audit: score {}/100, failed: {}", newest->score, [&newest] {
          std::string ids;
          for (const auto& id : newest->failed_ids()) ids += (ids.empty() ? "" : ", ") + id;
          return ids.empty() ? std::string("none") : ids;
        }());
      }
    }
    lock.lock();
    if (newest && (!latest_ || newest->time >= latest_->time)) latest_ = std::move(newest);
    std::int64_t wait_s = latest_ ? latest_->time + kEvery - unix_now() : 0;
    auto wait = std::min<std::chrono::seconds>(
        kPoll, std::chrono::seconds(std::max<std::int64_t>(wait_s, 1)));
    wake_.wait_for(lock, wait, [this] { return stop_; });
  }
}

void AuditScheduler::run_child() {
  SpawnOptions o;
  o.argv = {exe_, "-c", config_path_, "audit", "--json"};
  o.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  o.parent_death_signal = SIGKILL;
  auto child = ChildProcess::spawn(o);
  if (!child) {
    spdlog::warn("audit: {}", child.error().message);
    return;
  }
  // Every command inside has its own timeout; this bound only guards against a hung child.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(15);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    pollfd p{child->pidfd(), POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      auto st = child->wait();
      // Exit 1 means findings, which the report holds; anything else is the audit failing.
      if (st && !st->success() && !(st->code == 1 && !st->signaled))
        spdlog::warn("audit: groundctl audit: {}", st->to_string());
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      spdlog::warn("audit: groundctl audit still running after 15 minutes; killed");
      break;
    }
  }
  (void)child->terminate(SIGKILL, std::chrono::seconds(2));
}

void AuditScheduler::add_metrics(monitor::MetricSet& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!latest_) return;
  out.gauge("groundctl_audit_score", "Hardening audit score out of 100 (newest report).", {},
            latest_->score);
  out.gauge("groundctl_audit_last_run_timestamp_seconds",
            "When the newest hardening audit ran, in unixtime.", {},
            static_cast<double>(latest_->time));
  for (const auto& r : latest_->results) {
    if (r.status == audit::CheckStatus::kSkip) continue;
    out.gauge("groundctl_audit_check_failed",
              "1 if the hardening check failed in the newest audit, else 0.",
              {{"check", r.id}, {"severity", std::string(audit::severity_name(r.severity))}},
              r.status == audit::CheckStatus::kFail ? 1 : 0);
  }
}

nlohmann::json AuditScheduler::status_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!latest_) return nullptr;
  return {{"score", latest_->score},
          {"failed", latest_->count(audit::CheckStatus::kFail)},
          {"time",
           format_utc(std::chrono::system_clock::time_point(std::chrono::seconds(latest_->time)))}};
}

}  // namespace gc::daemon

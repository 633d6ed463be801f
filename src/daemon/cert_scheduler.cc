// SPDX-License-Identifier: MIT
// daemon/cert_scheduler.cc: the renewal thread.
#include "daemon/cert_scheduler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "base/child_process.h"
#include "base/unique_fd.h"
#include "base/utc_time.h"

namespace gc::daemon {
namespace {

using nlohmann::json;

// The first run waits this long after the daemon starts (or the interval, when shorter), so
// services come up first and a daemon restarted in a loop does not hammer the ACME server.
constexpr auto kStartDelay = std::chrono::minutes(1);
// An ACME order polls with its own bounds; this only guards against a hung child.
constexpr auto kChildLimit = std::chrono::minutes(10);
constexpr std::size_t kMaxOutput = 64 * 1024;
constexpr auto kRateLimitedBackoff = std::chrono::hours(6);
// Grading makes a few dozen handshakes: twice a day is plenty for a config that changes only
// with `apply`; the first waits like the audit, so a restarting daemon does not probe each time.
constexpr auto kGradeStartDelay = std::chrono::minutes(5);
constexpr auto kGradeEvery = std::chrono::hours(12);

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RenewalOutcome failed(const std::string& name, std::string why) {
  RenewalOutcome o;
  o.name = name;
  o.outcome = "failed";
  o.error = std::move(why);
  o.time = unix_now();
  return o;
}

}  // namespace

Result<RenewalOutcome> parse_renewal_outcome(const std::string& text, std::int64_t now) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error{Errc::kCorrupt, "groundctl cert renew --json printed no JSON object"};
  }
  if (!j.contains("outcome") || !j["outcome"].is_string()) {
    return Error{Errc::kCorrupt, "groundctl cert renew --json printed no \"outcome\""};
  }
  RenewalOutcome o;
  o.outcome = j["outcome"].get<std::string>();
  if (o.outcome != "renewed" && o.outcome != "issued" && o.outcome != "not_due" &&
      o.outcome != "failed") {
    return Error{Errc::kCorrupt,
                 "groundctl cert renew --json: unknown outcome \"" + o.outcome + "\""};
  }
  if (j.contains("name") && j["name"].is_string()) o.name = j["name"].get<std::string>();
  if (j.contains("error") && j["error"].is_string()) o.error = j["error"].get<std::string>();
  if (j.contains("rate_limited") && j["rate_limited"].is_boolean()) {
    o.rate_limited = j["rate_limited"].get<bool>();
  }
  if (j.contains("not_after") && j["not_after"].is_number_integer()) {
    o.not_after = j["not_after"].get<std::int64_t>();
  }
  if (j.contains("renew_at") && j["renew_at"].is_number_integer()) {
    o.renew_at = j["renew_at"].get<std::int64_t>();
  }
  o.time = now;
  return o;
}

GradeOutcome parse_grade_outcome(const std::string& text, const std::string& stderr_tail,
                                 const std::string& endpoint, std::int64_t now) {
  GradeOutcome g;
  g.endpoint = endpoint;
  g.time = now;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object() && j.contains("grade") && j["grade"].is_string()) {
    g.grade = j["grade"].get<std::string>();
    if (j.contains("score") && j["score"].is_number_integer()) g.score = j["score"].get<int>();
    return g;
  }
  g.error = stderr_tail.empty() ? "groundctl tls grade printed no grade" : stderr_tail;
  return g;
}

CertScheduler::CertScheduler(std::string exe, std::string config_path, const config::Config& cfg)
    : exe_(std::move(exe)), config_path_(std::move(config_path)), config_(cfg) {
  thread_ = std::thread([this] { run(); });
}

CertScheduler::~CertScheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void CertScheduler::configure(const config::Config& cfg) {
  std::lock_guard<std::mutex> lock(mu_);
  config_changed_ = config_.tls != cfg.tls;
  config_ = cfg;
  if (config_changed_) wake_.notify_all();
}

void CertScheduler::run() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mu_);
  // The first renewal check: after kStartDelay, or after one interval when that is shorter.
  auto next_renew = Clock::now() + (config_.tls ? std::min<Clock::duration>(
                                                      kStartDelay, config_.tls->check_interval)
                                                : Clock::duration(kStartDelay));
  auto next_grade = Clock::now() + kGradeStartDelay;
  while (!stop_) {
    wake_.wait_until(lock, std::min(next_renew, next_grade),
                     [this] { return stop_ || config_changed_; });
    if (stop_) break;
    if (config_changed_) {
      config_changed_ = false;
      // A new [tls] (other domains, another CA) is acted on within seconds, not at the next
      // interval: wait a little so that an edit made in several saves settles.
      next_renew = Clock::now() + std::chrono::seconds(5);
      continue;
    }
    config::Config cfg = config_;
    auto now = Clock::now();
    if (now >= next_renew) {
      auto interval = cfg.tls ? cfg.tls->check_interval : Clock::duration(kStartDelay);
      next_renew = now + interval;
      if (!cfg.tls) continue;
      lock.unlock();
      RenewalOutcome o = renew(cfg.tls->domains.empty() ? "" : cfg.tls->domains.front());
      if (o.rate_limited) {
        // Retrying into a rate limit only extends it (Let's Encrypt counts failed attempts too):
        // hold back for hours, not one check interval.
        next_renew = std::max(next_renew, Clock::now() + kRateLimitedBackoff);
      }
      if (o.outcome == "failed") {
        spdlog::warn("cert {}: renewal failed{}: {}", o.name,
                     o.rate_limited ? " (rate limited by the ACME server)" : "", o.error);
      } else if (o.outcome != "not_due") {
        spdlog::info(
            "cert {}: {}; valid until {}", o.name, o.outcome,
            format_utc(std::chrono::system_clock::time_point(std::chrono::seconds(o.not_after))));
        // A new certificate: grade what Nginx now serves.
        next_grade = std::min(next_grade, Clock::now() + std::chrono::seconds(10));
      }
      lock.lock();
      latest_ = std::move(o);
      continue;
    }
    next_grade = now + kGradeEvery;
    if (!cfg.nginx) continue;
    lock.unlock();
    GradeOutcome g = grade(cfg);
    if (!g.good()) {
      spdlog::warn("tls grade {}: {}{}", g.endpoint, g.grade.empty() ? "no grade" : g.grade,
                   g.error.empty() ? "" : ": " + g.error);
    }
    lock.lock();
    grade_ = std::move(g);
  }
}

RenewalOutcome CertScheduler::renew(const std::string& name) {
  ChildOutput c = run_child({"cert", "renew", "--json"});
  auto parsed = parse_renewal_outcome(c.out, unix_now());
  if (parsed) {
    if (parsed->name.empty()) parsed->name = name;
    return *parsed;
  }
  std::string why = c.status + "; " + parsed.error().message;
  if (!c.err.empty()) why += ": " + c.err;
  return failed(name, "groundctl cert renew: " + why);
}

GradeOutcome CertScheduler::grade(const config::Config& cfg) {
  std::string endpoint = "127.0.0.1:443";
  ChildOutput c = run_child({"tls", "grade", endpoint, "--sni", cfg.nginx->domain, "--json"});
  return parse_grade_outcome(c.out, c.err.empty() ? c.status : c.err, endpoint, unix_now());
}

CertScheduler::ChildOutput CertScheduler::run_child(const std::vector<std::string>& args) {
  ChildOutput result;
  auto out = Pipe::create();
  auto err = Pipe::create();
  if (!out || !err) {
    result.status = (!out ? out.error() : err.error()).message;
    return result;
  }
  SpawnOptions o;
  o.argv = {exe_, "-c", config_path_};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  o.stdout_fd = out->write.get();
  o.stderr_fd = err->write.get();
  o.parent_death_signal = SIGKILL;
  auto child = ChildProcess::spawn(o);
  if (!child) {
    result.status = child.error().message;
    return result;
  }
  // The child holds the only write ends now. Non-blocking reads: a grandchild that inherited
  // them (a reload command starting a server) must not keep us from seeing the exit.
  out->write = UniqueFd();
  err->write = UniqueFd();
  for (int fd : {out->read.get(), err->read.get()}) {
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  auto drain = [](int fd, std::string& into) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
      if (into.size() < kMaxOutput) into.append(buf, static_cast<std::size_t>(n));
    }
  };
  auto deadline = std::chrono::steady_clock::now() + kChildLimit;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      (void)child->terminate(SIGKILL, std::chrono::seconds(2));
      result.status = "still running after 10 minutes; killed";
      return result;
    }
    pollfd p[3] = {
        {child->pidfd(), POLLIN, 0}, {out->read.get(), POLLIN, 0}, {err->read.get(), POLLIN, 0}};
    if (::poll(p, 3, 200) <= 0) continue;
    drain(out->read.get(), result.out);
    drain(err->read.get(), result.err);
    if (p[0].revents != 0) {
      auto st = child->wait();
      drain(out->read.get(), result.out);
      drain(err->read.get(), result.err);
      result.status = st ? st->to_string() : st.error().message;
      // Keep the last line of stderr: the error message, without a long trace.
      while (!result.err.empty() && result.err.back() == '\n') result.err.pop_back();
      std::size_t nl = result.err.rfind('\n');
      if (nl != std::string::npos) result.err = result.err.substr(nl + 1);
      return result;
    }
    // Both pipes at EOF (POLLHUP) while the child runs: wait on the pidfd alone.
    if ((p[1].revents & POLLHUP) && (p[2].revents & POLLHUP)) {
      pollfd pid{child->pidfd(), POLLIN, 0};
      (void)::poll(&pid, 1, 200);
    }
  }
  (void)child->terminate(SIGKILL, std::chrono::seconds(2));
  result.status = "stopped";
  return result;
}

void CertScheduler::add_metrics(monitor::MetricSet& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (grade_) {
    monitor::Labels e = {{"endpoint", grade_->endpoint}};
    out.gauge("groundctl_tls_grade_good", "1 if the TLS server rates A+ or A (SSL Labs' scale).", e,
              grade_->good() ? 1 : 0);
    if (!grade_->grade.empty()) {
      out.gauge("groundctl_tls_grade_score", "SSL Labs-style numeric TLS score (0-100).", e,
                grade_->score);
      out.gauge("groundctl_tls_grade_info", "The TLS grade, as a label; the value is always 1.",
                {{"endpoint", grade_->endpoint}, {"grade", grade_->grade}}, 1);
    }
  }
  if (!latest_) return;
  monitor::Labels l = {{"name", latest_->name}};
  out.gauge("groundctl_cert_renewal_last_run_timestamp_seconds",
            "When the daemon last ran the certificate renewal check, in unixtime.", l,
            static_cast<double>(latest_->time));
  out.gauge("groundctl_cert_renewal_success",
            "1 if the last certificate renewal check succeeded (renewed, issued or not due).", l,
            latest_->outcome == "failed" ? 0 : 1);
  out.gauge("groundctl_cert_renewal_rate_limited",
            "1 if the ACME server refused the last renewal with a rate limit.", l,
            latest_->rate_limited ? 1 : 0);
  if (latest_->renew_at > 0) {
    out.gauge("groundctl_cert_renewal_due_timestamp_seconds",
              "When the certificate becomes due for renewal, in unixtime.", l,
              static_cast<double>(latest_->renew_at));
  }
}

json CertScheduler::status_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!latest_) return nullptr;
  return {{"name", latest_->name},
          {"outcome", latest_->outcome},
          {"error", latest_->error},
          {"rate_limited", latest_->rate_limited},
          {"not_after", latest_->not_after},
          {"renew_at", latest_->renew_at},
          {"time", latest_->time}};
}

}  // namespace gc::daemon

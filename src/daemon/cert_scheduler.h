// SPDX-License-Identifier: MIT
// daemon/cert_scheduler.h: certificate upkeep in the daemon, on a thread of its own.
// - With [tls]: `groundctl cert renew --json` every check_interval (the first run one minute after
//   start, or sooner when the interval is shorter). The child decides whether the certificate is
//   due (a third of its lifetime left, with jitter, or the ACME server's renewal window), talks to
//   the ACME server, installs the files and reloads Nginx.
// - With [nginx]: `groundctl tls grade 127.0.0.1:443 --sni DOMAIN --json` every 12 hours (first
//   after five minutes, and soon after a renewal), so a weakened TLS setup alerts.
// Children keep OpenSSL and libcurl out of the daemon's memory and let shutdown kill a hung call.
// The outcomes feed metrics, and through them the CertificateRenewalFailed and TlsGradeBelowA
// alerts.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "monitor/metrics.h"

namespace gc::daemon {

// One `cert renew --json` result, as the child printed it.
struct RenewalOutcome {
  std::string name;     // The certificate: [tls] domains[0].
  std::string outcome;  // "renewed", "issued", "not_due" or "failed".
  std::string error;    // Why, when failed; never holds a secret.
  bool rate_limited = false;
  std::int64_t not_after = 0;  // Of the certificate now installed; 0 when there is none.
  std::int64_t renew_at = 0;   // When it becomes due; 0 when unknown.
  std::int64_t time = 0;       // When the run ended (unix seconds).
};

// Parses the child's stdout (one JSON object). Pure. Errors: kCorrupt naming what is missing.
Result<RenewalOutcome> parse_renewal_outcome(const std::string& text, std::int64_t now);

// One `tls grade --json` result.
struct GradeOutcome {
  std::string endpoint;  // "127.0.0.1:443".
  std::string grade;     // "A+", "A", ... "F", "M", "T"; empty when the probe failed.
  int score = 0;
  std::string error;  // Why there is no grade.
  std::int64_t time = 0;
  bool good() const { return grade == "A+" || grade == "A"; }
};

// Parses `tls grade --json` output; output without a grade gives an outcome whose error is
// `stderr_tail` (the probe failed). Pure.
GradeOutcome parse_grade_outcome(const std::string& text, const std::string& stderr_tail,
                                 const std::string& endpoint, std::int64_t now);

class CertScheduler {
 public:
  // Starts the thread; it idles while `cfg` has no [tls]. `exe` is this binary, `config_path`
  // the file the child reads.
  CertScheduler(std::string exe, std::string config_path, const config::Config& cfg);
  ~CertScheduler();  // Kills a renewal in progress, then joins.
  CertScheduler(const CertScheduler&) = delete;
  CertScheduler& operator=(const CertScheduler&) = delete;

  // The config of the next run; a changed [tls] runs `cert renew` soon. Thread-safe.
  void configure(const config::Config& cfg);
  // After the first run: groundctl_cert_renewal_last_run_timestamp_seconds{name},
  // groundctl_cert_renewal_success{name} (0 after a failed run),
  // groundctl_cert_renewal_rate_limited {name} and, when known,
  // groundctl_cert_renewal_due_timestamp_seconds{name}. Thread-safe.
  void add_metrics(monitor::MetricSet& out) const;
  // {"name", "outcome", "error", "rate_limited", "not_after", "renew_at", "time"} of the last
  // run, or null. Thread-safe.
  nlohmann::json status_json() const;

 private:
  struct ChildOutput {
    std::string out;
    std::string err;
    std::string status;  // "exit code 1", or why it could not run.
  };
  void run();
  // Runs `args` of this binary to its end (or until stop or kChildLimit) and returns what it
  // printed.
  ChildOutput run_child(const std::vector<std::string>& args);
  RenewalOutcome renew(const std::string& name);
  GradeOutcome grade(const config::Config& cfg);
  std::string exe_;
  std::string config_path_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;                     // Guarded by mu_.
  bool config_changed_ = false;           // Guarded by mu_.
  config::Config config_;                 // Guarded by mu_.
  std::optional<RenewalOutcome> latest_;  // Guarded by mu_.
  std::optional<GradeOutcome> grade_;     // Guarded by mu_.
  std::thread thread_;
};

}  // namespace gc::daemon

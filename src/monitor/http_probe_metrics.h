// SPDX-License-Identifier: MIT
// monitor/http_probe_metrics.h: the [[monitor.http]] API probes: one GET per probe per
// collection, with success, status, and a latency histogram kept for the daemon's lifetime
// (so rate() and histogram_quantile() over it give the recent p95).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "monitor/metrics.h"

namespace gc::monitor {

// What one probe saw. Pure data; probe_once() fills it.
struct ProbeOutcome {
  bool answered = false;  // An HTTP response arrived (any status).
  int status = 0;
  double seconds = 0;  // Until the response was complete (or the failure).
  std::string error;   // Why it failed: "connect: ...", "timeout after 5s", "HTTP 503".
};

// GETs `probe.url` with its timeout, without following redirects: http:// with groundctl's own
// client (monitor/http_client.h), https:// with libcurl. Blocking.
ProbeOutcome probe_once(const config::HttpProbeConfig& probe);

class HttpProbes {
 public:
  explicit HttpProbes(std::vector<config::HttpProbeConfig> probes);
  // Probes each target once, in order, and adds:
  //   groundctl_http_probe_success{probe}              1 when the status was expect_status
  //   groundctl_http_probe_status_code{probe}          0 when nothing answered
  //   groundctl_http_probe_duration_seconds{probe}     histogram of answered probes
  //   groundctl_http_probe_requests_total{probe,result="success"|"failure"}
  void collect(MetricSet& out);
  // Adds a probe outcome as collect() does (tests drive it with made-up outcomes).
  void record(const config::HttpProbeConfig& probe, const ProbeOutcome& o, MetricSet& out);

 private:
  std::vector<config::HttpProbeConfig> probes_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::pair<double, double>> totals_;  // success, failure.
};

}  // namespace gc::monitor

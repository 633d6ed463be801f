// SPDX-License-Identifier: MIT
#include "monitor/http_probe_metrics.h"

#include <chrono>

#include "monitor/http_client.h"
#include "storage/libcurl.h"

namespace gc::monitor {
namespace {

std::size_t discard_body(char*, std::size_t size, std::size_t n, void*) { return size * n; }

// http:// URLs: our own client, so that probing every interval never maps libcurl.
ProbeOutcome probe_plain_http(const config::HttpProbeConfig& probe) {
  ProbeOutcome o;
  HttpRequest r;
  r.url = probe.url;
  r.user_agent = "groundctl-probe";
  r.timeout = probe.timeout;
  r.keep_body = 0;  // Read to the end (the latency includes it), kept nowhere.
  auto start = std::chrono::steady_clock::now();
  auto res = http_request(r);
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!res) {
    o.error = res.error().message;
    return o;
  }
  o.answered = true;
  o.status = res->status;
  if (o.status != probe.expect_status) o.error = "HTTP " + std::to_string(o.status);
  return o;
}

}  // namespace

ProbeOutcome probe_once(const config::HttpProbeConfig& probe) {
  if (is_plain_http_url(probe.url)) return probe_plain_http(probe);
  ProbeOutcome o;
  if (auto st = storage::load_libcurl(); !st) {
    o.error = st.error().message;
    return o;
  }
  const auto& api = storage::curl_api();
  storage::CurlPtr curl(api.easy_init());
  if (!curl) {
    o.error = "curl_easy_init failed";
    return o;
  }
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  api.easy_setopt(c, CURLOPT_URL, probe.url.c_str());
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_USERAGENT, "groundctl-probe");
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(probe.timeout.count()));
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
  // A fresh connection each time: a probe measures what a new client gets.
  api.easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
  auto start = std::chrono::steady_clock::now();
  CURLcode rc = api.easy_perform(c);
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (rc != CURLE_OK) {
    o.error = errbuf[0] != '\0' ? errbuf : api.easy_strerror(rc);
    return o;
  }
  long status = 0;
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  o.answered = true;
  o.status = static_cast<int>(status);
  if (o.status != probe.expect_status) o.error = "HTTP " + std::to_string(o.status);
  return o;
}

HttpProbes::HttpProbes(std::vector<config::HttpProbeConfig> probes) : probes_(std::move(probes)) {
  for (const auto& p : probes_) {
    latency_[p.name].bounds = default_latency_buckets();
    totals_[p.name] = {0, 0};
  }
}

void HttpProbes::collect(MetricSet& out) {
  for (const auto& p : probes_) record(p, probe_once(p), out);
}

void HttpProbes::record(const config::HttpProbeConfig& probe, const ProbeOutcome& o,
                        MetricSet& out) {
  bool success = o.answered && o.status == probe.expect_status;
  Histogram& h = latency_[probe.name];
  if (h.bounds.empty()) h.bounds = default_latency_buckets();
  if (o.answered) h.observe(o.seconds);
  auto& [ok_count, failed_count] = totals_[probe.name];
  (success ? ok_count : failed_count) += 1;
  Labels l = {{"probe", probe.name}};
  out.gauge("groundctl_http_probe_success", "1 if the probe got the expected HTTP status.", l,
            success ? 1 : 0);
  out.gauge("groundctl_http_probe_status_code", "HTTP status of the last probe; 0: no answer.", l,
            o.status);
  out.histogram("groundctl_http_probe_duration_seconds",
                "Time until the probe's response was complete, answered probes only.", l, h);
  out.counter("groundctl_http_probe_requests_total", "Probes made, by result.",
              {{"probe", probe.name}, {"result", "success"}}, ok_count);
  out.counter("groundctl_http_probe_requests_total", "Probes made, by result.",
              {{"probe", probe.name}, {"result", "failure"}}, failed_count);
}

}  // namespace gc::monitor

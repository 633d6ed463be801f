// SPDX-License-Identifier: MIT
// monitor/nginx_metrics.h: Nginx's stub_status page, under nginx-prometheus-exporter's metric
// names, and request counts and latencies from its access log. The parsers and AccessLogStats are
// pure; NginxCollector fetches the page and follows the log.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "monitor/log_tail.h"
#include "monitor/metrics.h"

namespace gc::monitor {

// The counters of an ngx_http_stub_status_module page.
struct StubStatus {
  uint64_t active = 0;  // Open client connections, waiting ones included.
  uint64_t accepted = 0;
  uint64_t handled = 0;
  uint64_t requests = 0;
  uint64_t reading = 0;
  uint64_t writing = 0;
  uint64_t waiting = 0;
};

// Parses the page ("Active connections: 291 \nserver accepts handled requests\n 16630948
// 16630948 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n"). Errors: kCorrupt, naming the
// first field that is missing or not a number.
Result<StubStatus> parse_stub_status(std::string_view body);

// nginx_up 1 and, as nginx-prometheus-exporter names them: nginx_connections_{active,reading,
// writing,waiting} (gauges), nginx_connections_{accepted,handled} (counters without "_total",
// so untyped; see MetricType) and nginx_http_requests_total (counter).
void add_stub_status(const StubStatus& s, MetricSet& out);
// nginx_up 0 alone: the page could not be fetched or parsed.
void add_stub_status_down(MetricSet& out);

// GETs `url` (no proxy) and parses the stub_status page: http:// with groundctl's own client
// (monitor/http_client.h), so scraping never maps libcurl; https:// with libcurl. Errors:
// kUnavailable (refused, non-200 status), kTimeout, kCorrupt (not a stub_status page),
// kInternal (libcurl missing, https:// only); messages name the URL without its
// user:password@ part. Blocks up to `timeout_ms`. Thread-safe.
Result<StubStatus> fetch_stub_status(const std::string& url, long timeout_ms = 5000);

// The access log format groundctl provisions (`log_format groundctl ...;`). Plain "combined"
// lines, which lack the rt=/uct=/urt= tail, parse too, without a request time.
inline constexpr std::string_view kAccessLogFormat =
    R"('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent )"
    R"("$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" )"
    R"(urt="$upstream_response_time"')";

struct AccessLine {
  std::string method;  // "GET"; empty when the request line is "-" or not a request.
  int status = 0;      // 100..599 (499: the client closed the connection).
  std::optional<double> request_time;  // Seconds; nullopt without rt= or for "rt=-".
};

// One access log line in the format above or "combined". nullopt when it is neither: no
// "[time]", no quoted request, or a status that is not three digits in 100..599. Quoted fields
// may hold spaces and backslash escapes (\" and nginx's \x22).
std::optional<AccessLine> parse_access_line(std::string_view line);

// Request counts by status class and a latency histogram, accumulated over the life of the
// process (so the exported counters only grow). Pure; not thread-safe.
class AccessLogStats {
 public:
  AccessLogStats();
  void add(const AccessLine& line);
  // Parses `line` and adds it, or counts it as unparsed. Blank lines are ignored.
  void add_line(std::string_view line);
  // groundctl_nginx_http_requests_total{status="1xx".."5xx"} (every class, 0 included, so rate()
  // works from the first scrape), groundctl_nginx_http_request_duration_seconds (histogram of the
  // lines with a request time, default_latency_buckets()) and
  // groundctl_nginx_access_log_unparsed_lines_total.
  void add_to(MetricSet& out) const;

 private:
  std::array<uint64_t, 5> by_class_{};  // 1xx..5xx.
  uint64_t unparsed_ = 0;
  Histogram duration_;
};

// Scrapes one Nginx: its stub_status page and its access log.
class NginxCollector {
 public:
  // Either may be empty, which skips that part. The log is followed from its current end.
  NginxCollector(std::string status_url, std::string access_log);

  // Fetches status_url (fetch_stub_status, 5 s timeout) into add_stub_status() or, when that
  // fails, add_stub_status_down(); reads what the access log gained into the stats and adds
  // them. Failures are recorded in last_error(), never thrown or returned: a scrape reports what
  // it can. Blocks; call it from a worker thread. Not thread-safe.
  void collect(MetricSet& out);

  // Why the last collect() fell short ("" when it did not): the fetch, or reading the log.
  const std::string& last_error() const { return last_error_; }

 private:
  std::string status_url_;
  std::optional<LogTail> log_;
  AccessLogStats stats_;
  std::string last_error_;
};

}  // namespace gc::monitor

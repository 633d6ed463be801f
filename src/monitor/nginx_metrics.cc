// SPDX-License-Identifier: MIT
#include "monitor/nginx_metrics.h"

#include <cctype>
#include <charconv>
#include <chrono>

#include "monitor/http_client.h"
#include "storage/libcurl.h"

namespace gc::monitor {
namespace {

// A stub_status page is under 200 bytes; anything much larger is not one.
constexpr std::size_t kMaxStatusBody = 64 * 1024;

// The reads a log gets per collect(): bounds the time one scrape spends on a huge backlog. The
// rest is read by the next scrapes.
constexpr int kMaxLogReadsPerCollect = 64;

void skip_spaces(std::string_view& s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
}

std::optional<uint64_t> take_number(std::string_view& s) {
  skip_spaces(s);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc()) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return v;
}

// The number after `label` in `body`.
Result<uint64_t> number_after(std::string_view body, std::string_view label) {
  auto at = body.find(label);
  if (at == std::string_view::npos) {
    return make_error(Errc::kCorrupt, "stub_status: no \"" + std::string(label) + "\"");
  }
  body.remove_prefix(at + label.size());
  auto v = take_number(body);
  if (!v) {
    return make_error(Errc::kCorrupt,
                      "stub_status: no number after \"" + std::string(label) + "\"");
  }
  return *v;
}

// A double-quoted field starting at s[0] == '"', backslash escapes kept as they are. Moves `s`
// past the closing quote; nullopt when there is none.
std::optional<std::string_view> take_quoted(std::string_view& s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      std::string_view field = s.substr(1, i - 1);
      s.remove_prefix(i + 1);
      return field;
    }
  }
  return std::nullopt;
}

// The next space-separated token; quoted parts (`"a b"`, `uct="0.1"`) are kept whole. nullopt at
// the end, or at an unterminated quote (a line cut short).
std::optional<std::string_view> take_token(std::string_view& s) {
  skip_spaces(s);
  if (s.empty()) return std::nullopt;
  const char* start = s.data();
  while (!s.empty() && s.front() != ' ') {
    if (s.front() == '"') {
      if (!take_quoted(s)) return std::nullopt;
    } else {
      s.remove_prefix(1);
    }
  }
  return std::string_view(start, static_cast<std::size_t>(s.data() - start));
}

std::string method_of(std::string_view request) {
  std::string_view m = request.substr(0, request.find(' '));
  if (m.empty() || m.size() > 20 || m.size() == request.size()) return "";
  for (char c : m) {
    if (c < 'A' || c > 'Z') return "";
  }
  return std::string(m);
}

// The URL without a user:password@ part, for messages.
std::string redact_url(const std::string& url) {
  auto scheme = url.find("://");
  std::size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  auto at = url.find('@', host);
  auto slash = url.find('/', host);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, host) + url.substr(at + 1);
}

std::size_t append_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxStatusBody) return 0;  // Makes curl fail the transfer.
  body->append(data, size * n);
  return size * n;
}

}  // namespace

Result<StubStatus> parse_stub_status(std::string_view body) {
  StubStatus s;
  GC_ASSIGN_OR_RETURN(s.active, number_after(body, "Active connections:"));
  constexpr std::string_view kHeader = "server accepts handled requests";
  auto at = body.find(kHeader);
  if (at == std::string_view::npos) {
    return make_error(Errc::kCorrupt, "stub_status: no \"" + std::string(kHeader) + "\"");
  }
  std::string_view rest = body.substr(at + kHeader.size());
  auto accepted = take_number(rest);
  auto handled = take_number(rest);
  auto requests = take_number(rest);
  if (!accepted || !handled || !requests) {
    return make_error(Errc::kCorrupt, "stub_status: no accepts, handled and requests numbers");
  }
  s.accepted = *accepted;
  s.handled = *handled;
  s.requests = *requests;
  GC_ASSIGN_OR_RETURN(s.reading, number_after(rest, "Reading:"));
  GC_ASSIGN_OR_RETURN(s.writing, number_after(rest, "Writing:"));
  GC_ASSIGN_OR_RETURN(s.waiting, number_after(rest, "Waiting:"));
  return s;
}

void add_stub_status(const StubStatus& s, MetricSet& out) {
  out.gauge("nginx_up", "Status of the last metric scrape", {}, 1);
  out.gauge("nginx_connections_active", "Active client connections", {},
            static_cast<double>(s.active));
  // The exporter's counters lack "_total"; untyped keeps their names and promtool's lint.
  out.untyped("nginx_connections_accepted", "Accepted client connections", {},
              static_cast<double>(s.accepted));
  out.untyped("nginx_connections_handled", "Handled client connections", {},
              static_cast<double>(s.handled));
  out.gauge("nginx_connections_reading", "Connections where NGINX is reading the request header",
            {}, static_cast<double>(s.reading));
  out.gauge("nginx_connections_writing",
            "Connections where NGINX is writing the response back to the client", {},
            static_cast<double>(s.writing));
  out.gauge("nginx_connections_waiting", "Idle client connections", {},
            static_cast<double>(s.waiting));
  out.counter("nginx_http_requests_total", "Total http requests", {},
              static_cast<double>(s.requests));
}

void add_stub_status_down(MetricSet& out) {
  out.gauge("nginx_up", "Status of the last metric scrape", {}, 0);
}

std::optional<AccessLine> parse_access_line(std::string_view line) {
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
    line.remove_suffix(1);
  }
  // $remote_user may hold spaces; $time_local ("10/Oct/2023:13:55:36 +0000") never holds ']'.
  auto space = line.find(' ');
  if (space == 0 || space == std::string_view::npos) return std::nullopt;
  auto open = line.find('[', space);
  if (open == std::string_view::npos) return std::nullopt;
  auto close = line.find(']', open);
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(close + 1);
  skip_spaces(rest);
  if (rest.empty() || rest.front() != '"') return std::nullopt;
  auto request = take_quoted(rest);
  if (!request) return std::nullopt;
  if (rest.empty() || rest.front() != ' ') return std::nullopt;
  auto status = take_token(rest);
  if (!status || status->size() != 3) return std::nullopt;
  int code = 0;
  auto [end, ec] = std::from_chars(status->data(), status->data() + 3, code);
  if (ec != std::errc() || end != status->data() + 3 || code < 100 || code > 599) {
    return std::nullopt;
  }
  AccessLine out;
  out.status = code;
  out.method = method_of(*request);
  // The rest ($body_bytes_sent, referer, user agent, then key=value fields) is searched for rt=
  // only: a line cut short still counts by its status.
  while (auto token = take_token(rest)) {
    if (token->substr(0, 3) != "rt=") continue;
    std::string_view v = token->substr(3);
    double seconds = 0;
    auto [vend, vec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (vec == std::errc() && vend == v.data() + v.size() && seconds >= 0) {
      out.request_time = seconds;
    }
    break;
  }
  return out;
}

AccessLogStats::AccessLogStats() {
  duration_.bounds = default_latency_buckets();
  duration_.counts.assign(duration_.bounds.size(), 0);
}

void AccessLogStats::add(const AccessLine& line) {
  int cls = line.status / 100;
  if (cls >= 1 && cls <= 5) ++by_class_[static_cast<std::size_t>(cls - 1)];
  if (line.request_time) duration_.observe(*line.request_time);
}

void AccessLogStats::add_line(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
  if (auto parsed = parse_access_line(line)) {
    add(*parsed);
  } else {
    ++unparsed_;
  }
}

void AccessLogStats::add_to(MetricSet& out) const {
  for (std::size_t i = 0; i < by_class_.size(); ++i) {
    out.counter("groundctl_nginx_http_requests_total",
                "Requests in the Nginx access log since groundctl started, by status class.",
                {{"status", std::to_string(i + 1) + "xx"}}, static_cast<double>(by_class_[i]));
  }
  out.histogram("groundctl_nginx_http_request_duration_seconds",
                "Request time (rt=) of the requests in the Nginx access log.", {}, duration_);
  out.counter("groundctl_nginx_access_log_unparsed_lines_total",
              "Nginx access log lines in neither groundctl's format nor combined.", {},
              static_cast<double>(unparsed_));
}

Result<StubStatus> fetch_stub_status(const std::string& url, long timeout_ms) {
  std::string name = "nginx status " + redact_url(url);
  if (is_plain_http_url(url)) {
    // Our own client: scraping every interval must not map libcurl. It uses no proxy either.
    HttpRequest r;
    r.url = url;
    r.timeout = std::chrono::milliseconds(timeout_ms);
    r.keep_body = kMaxStatusBody;
    auto res = http_request(r);
    if (!res) return res.error().with_context(name);
    if (res->status != 200) {
      return make_error(Errc::kUnavailable, name + ": HTTP " + std::to_string(res->status));
    }
    if (res->truncated()) {
      return make_error(Errc::kCorrupt, name + ": not a stub_status page (over " +
                                            std::to_string(kMaxStatusBody / 1024) + " KiB)");
    }
    auto parsed = parse_stub_status(res->body);
    if (!parsed) return parsed.error().with_context(name);
    return parsed;
  }
  auto loaded = storage::load_libcurl();
  if (!loaded) return loaded.error().with_context(name);
  const auto& api = storage::curl_api();
  storage::CurlPtr curl(api.easy_init());
  if (!curl) return make_error(Errc::kInternal, name + ": curl_easy_init failed");
  CURL* c = curl.get();
  std::string body;
  char errbuf[CURL_ERROR_SIZE] = {0};
  api.easy_setopt(c, CURLOPT_URL, url.c_str());
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // The status page is local: an http_proxy in the daemon's environment must not reroute it.
  api.easy_setopt(c, CURLOPT_PROXY, "");
  api.easy_setopt(c, CURLOPT_USERAGENT, "groundctl");
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &body);
  CURLcode rc = api.easy_perform(c);
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] != '\0' ? errbuf : api.easy_strerror(rc);
    return make_error(rc == CURLE_OPERATION_TIMEDOUT ? Errc::kTimeout : Errc::kUnavailable,
                      name + ": " + detail);
  }
  long status = 0;
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    return make_error(Errc::kUnavailable, name + ": HTTP " + std::to_string(status));
  }
  auto parsed = parse_stub_status(body);
  if (!parsed) return parsed.error().with_context(name);
  return parsed;
}

NginxCollector::NginxCollector(std::string status_url, std::string access_log)
    : status_url_(std::move(status_url)) {
  if (!access_log.empty()) log_ = LogTail::follow(std::move(access_log), true);
}

void NginxCollector::collect(MetricSet& out) {
  last_error_.clear();
  if (!status_url_.empty()) {
    auto status = fetch_stub_status(status_url_);
    if (status) {
      add_stub_status(*status, out);
    } else {
      add_stub_status_down(out);
      last_error_ = status.error().message;
    }
  }
  if (!log_) return;
  for (int i = 0; i < kMaxLogReadsPerCollect; ++i) {
    auto lines = log_->read_lines();
    if (!lines) {
      if (!last_error_.empty()) last_error_ += "; ";
      last_error_ += "nginx access log: " + lines.error().message;
      break;
    }
    if (lines->empty()) break;
    for (const auto& line : *lines) stats_.add_line(line);
  }
  stats_.add_to(out);
}

}  // namespace gc::monitor

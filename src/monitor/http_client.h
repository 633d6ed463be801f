// SPDX-License-Identifier: MIT
// monitor/http_client.h: a small blocking HTTP/1.1 client for plain http:// URLs: the API
// probes, Nginx's stub_status page and http:// notifiers. The daemon runs these every interval;
// going through libcurl would map libcurl and the ~30 libraries Debian links it with (OpenSSL,
// GnuTLS, Kerberos, LDAP...) into the daemon for good, several MiB of its RSS. https:// URLs
// still go through libcurl. One request per connection (Connection: close), no redirects, no
// proxy, no cookies; the response is parsed by Beast (chunked bodies included), and the whole
// exchange (name lookup excepted) is bounded by one timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace gc::monitor {

// True when `url` starts with "http://" (any case).
bool is_plain_http_url(std::string_view url);

// An http:// URL split up. Pure.
struct PlainHttpUrl {
  std::string host;          // A name or an address; IPv6 literals without their brackets.
  std::string port = "80";   // Digits.
  std::string target = "/";  // Path and query; never empty. The fragment is dropped.
  std::string userinfo;      // "user:password" as written (percent-encoded), or "".
  // "host:port" ("[::1]:8080"): the only part of a URL that error messages show, since paths
  // (a webhook's) and userinfo may hold secrets.
  std::string authority() const;
};

// Parses "http://[user:password@]host[:port][/path][?query][#fragment]". Errors:
// kInvalidArgument, naming what is wrong but not quoting the URL.
Result<PlainHttpUrl> parse_plain_http_url(std::string_view url);

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // http:// only.
  // Sent besides Host, User-Agent, Connection: close, Content-Length (when there is a body or
  // the method is POST or PUT) and Authorization: Basic (when the URL has a userinfo).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string user_agent = "groundctl";
  std::chrono::milliseconds timeout{5000};  // Connect, send and the whole response.
  std::size_t keep_body = 64 * 1024;        // Bytes of the body kept; the rest is read, dropped.
};

struct HttpResponse {
  int status = 0;
  std::string body;             // The first HttpRequest::keep_body bytes (decoded if chunked).
  std::size_t body_length = 0;  // The whole body's.
  bool truncated() const { return body_length > body.size(); }
};

// Sends `request` over a new TCP connection (each address of the name in turn) and reads the
// whole response, which may take any status. Blocks up to request.timeout after the name lookup
// (getaddrinfo is not bounded). Errors: kInvalidArgument (the URL), kNotFound (the name does not
// resolve), kUnavailable (refused, reset, closed before a complete response), kTimeout,
// kCorrupt (not an HTTP/1.x response). Messages start with the authority ("127.0.0.1:8080:
// connect: Connection refused") and never hold the path or the userinfo. Thread-safe; no
// SIGPIPE.
Result<HttpResponse> http_request(const HttpRequest& request);

}  // namespace gc::monitor

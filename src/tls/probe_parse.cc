// SPDX-License-Identifier: MIT
// tls/probe_parse.cc: the pure parts of the probe: host:port, the HTTP response head and the
// Strict-Transport-Security header (RFC 6797).
#include <algorithm>
#include <cctype>
#include <string>

#include "tls/probe.h"

namespace gc::tls {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

const char* version_name(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return "TLSv1.0";
    case TlsVersion::kTls11:
      return "TLSv1.1";
    case TlsVersion::kTls12:
      return "TLSv1.2";
    case TlsVersion::kTls13:
      return "TLSv1.3";
  }
  return "?";
}

Result<std::pair<std::string, int>> parse_host_port(const std::string& text) {
  auto bad = [&] {
    return make_error(Errc::kInvalidArgument,
                      "\"" + text + "\": expected HOST:PORT or [IPv6]:PORT, e.g. example.org:443");
  };
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    std::size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad();
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return bad();
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty() || !all_digits(port) || port.size() > 5) return bad();
  int n = std::stoi(port);
  if (n < 1 || n > 65535) return bad();
  return std::make_pair(host, n);
}

std::optional<HstsProbe> parse_hsts(const std::string& value) {
  HstsProbe h;
  bool seen_max_age = false;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find(';', start);
    if (end == std::string::npos) end = value.size();
    std::string directive = trim(value.substr(start, end - start));
    start = end + 1;
    if (directive.empty()) continue;
    std::size_t eq = directive.find('=');
    std::string name = lower(trim(directive.substr(0, eq)));
    std::string arg = eq == std::string::npos ? "" : trim(directive.substr(eq + 1));
    if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"') {
      arg = arg.substr(1, arg.size() - 2);  // Section 6.1: a quoted-string is allowed.
    }
    if (name == "max-age") {
      // Section 6.1: each directive at most once, and max-age is required; otherwise the UA
      // ignores the header. A value past int64 is clamped: it is "forever" either way.
      if (seen_max_age || !all_digits(arg)) return std::nullopt;
      seen_max_age = true;
      h.max_age = arg.size() > 15 ? INT64_C(999999999999999) : std::stoll(arg);
    } else if (name == "includesubdomains") {
      h.include_subdomains = true;
    } else if (name == "preload") {
      h.preload = true;  // Not in RFC 6797; the preload list's convention.
    }
  }
  if (!seen_max_age) return std::nullopt;
  h.present = true;
  return h;
}

HstsProbe parse_hsts_response(const std::string& head) {
  HstsProbe out;
  std::size_t eol = head.find("\r\n");
  std::string status_line = head.substr(0, eol);
  // "HTTP/1.1 200 OK"
  if (status_line.rfind("HTTP/", 0) != 0 || status_line.size() < 12) {
    out.error = "not an HTTP response";
    return out;
  }
  std::string code = status_line.substr(9, 3);
  if (!all_digits(code)) {
    out.error = "not an HTTP response";
    return out;
  }
  out.requested = true;
  out.http_status = std::stoi(code);
  std::size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    std::size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    pos = next + 2;
    if (line.empty()) break;  // End of the head.
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (lower(trim(line.substr(0, colon))) != "strict-transport-security") continue;
    std::string value = trim(line.substr(colon + 1));
    if (auto h = parse_hsts(value)) {
      h->requested = true;
      h->http_status = out.http_status;
      return *h;
    }
    // Section 8.1: only the first header counts, and an invalid one is ignored.
    out.error = "invalid Strict-Transport-Security header \"" + value + "\" ignored";
    return out;
  }
  return out;
}

}  // namespace gc::tls

// SPDX-License-Identifier: MIT
// config/http_url.h: the URL of a `ready = { http = URL }` health check. Pure; shared by the
// config validator (so a bad URL is a config error) and the supervisor's probe.
#pragma once

#include <string>

#include "base/result.h"

namespace gc::config {

struct HttpUrl {
  std::string host;    // IP address (IPv6 without brackets) or "localhost".
  std::string port;    // Decimal, 1..65535; "80" when the URL has none.
  std::string target;  // Path and query, at least "/".
};

// Parses "http://host[:port][/path]" where host is an IP address or localhost (the probe uses
// no DNS). Errors: kInvalidArgument naming the URL and what is wrong with it.
Result<HttpUrl> parse_http_url(const std::string& url);

}  // namespace gc::config

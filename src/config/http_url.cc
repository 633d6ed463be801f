// SPDX-License-Identifier: MIT
#include "config/http_url.h"

#include <arpa/inet.h>

#include <string_view>

namespace gc::config {

namespace {

Error bad_url(const std::string& url, std::string_view why) {
  return make_error(Errc::kInvalidArgument, "invalid URL \"" + url + "\": " + std::string(why));
}

// Decimal digits only, 1..65535: strtoul would take "3000x" as 3000 and "-1" as a huge number.
bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned long n = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned long>(c - '0');
  }
  return n >= 1 && n <= 65535;
}

}  // namespace

Result<HttpUrl> parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return make_error(Errc::kInvalidArgument,
                      "unsupported URL \"" + url + "\": only http:// is supported");
  }
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  HttpUrl out;
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return bad_url(url, "missing \"]\"");
    out.host = authority.substr(1, close - 1);
    if (close + 1 == authority.size()) {
      out.port = "80";
    } else if (authority[close + 1] == ':') {
      out.port = authority.substr(close + 2);
    } else {
      return bad_url(url, "only \":port\" may follow \"]\"");
    }
  } else {
    auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    out.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad_url(url, "missing host");
  // The probe connects without DNS: a name other than localhost would never answer.
  unsigned char addr[16];
  if (out.host != "localhost" && ::inet_pton(AF_INET, out.host.c_str(), addr) != 1 &&
      ::inet_pton(AF_INET6, out.host.c_str(), addr) != 1) {
    return bad_url(url, "the host must be an IP address or localhost");
  }
  if (!valid_port(out.port)) return bad_url(url, "port must be a number from 1 to 65535");
  return out;
}

}  // namespace gc::config

// SPDX-License-Identifier: MIT
// config/listen_address.cc: numeric host:port parsing with inet_pton.
#include "config/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <string>

namespace gc::config {
namespace {

Error bad_address(std::string_view text, std::string_view why) {
  return make_error(Errc::kInvalidArgument, "invalid listen address \"" + std::string(text) +
                                                "\": " + std::string(why) +
                                                " (use \"127.0.0.1:3000\" or \"[::1]:3000\")");
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  std::string_view host;
  std::string_view port;
  bool is_ipv6 = false;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return bad_address(text, "missing \"]\"");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad_address(text, "missing \":port\"");
    port = rest.substr(1);
    is_ipv6 = true;
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad_address(text, "missing \":port\"");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad_address(text, "an IPv6 address needs brackets");
    }
  }
  if (host.empty()) return bad_address(text, "missing host");
  if (port.empty() || port.size() > 5) return bad_address(text, "port must be 0..65535");
  unsigned long port_number = 0;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return bad_address(text, "port must be 0..65535");
    }
    port_number = port_number * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port_number > 65535) return bad_address(text, "port must be 0..65535");

  std::string host_text(host);
  char canonical[INET6_ADDRSTRLEN] = {};
  if (is_ipv6) {
    in6_addr addr{};
    if (inet_pton(AF_INET6, host_text.c_str(), &addr) != 1) {
      return bad_address(text, "not a numeric IPv6 address");
    }
    inet_ntop(AF_INET6, &addr, canonical, sizeof canonical);
  } else {
    in_addr addr{};
    // inet_pton accepts only dotted-quad IPv4, which is what we want ("1" or "0x7f.1" are not).
    if (inet_pton(AF_INET, host_text.c_str(), &addr) != 1) {
      return bad_address(text, "not a numeric IPv4 address, and host names are not resolved");
    }
    inet_ntop(AF_INET, &addr, canonical, sizeof canonical);
  }
  ListenAddress result;
  result.text = std::string(text);
  result.host = canonical;
  result.port = static_cast<std::uint16_t>(port_number);
  result.is_ipv6 = is_ipv6;
  return result;
}

bool is_loopback(const ListenAddress& address) {
  if (!address.is_ipv6) return address.host.rfind("127.", 0) == 0;
  return address.host == "::1" || address.host.rfind("::ffff:127.", 0) == 0;
}

bool is_wildcard(const ListenAddress& address) {
  return address.host == "0.0.0.0" || address.host == "::";
}

bool addresses_conflict(const ListenAddress& a, const ListenAddress& b) {
  if (a.port == 0 || b.port == 0 || a.port != b.port || a.is_ipv6 != b.is_ipv6) return false;
  return a.host == b.host || is_wildcard(a) || is_wildcard(b);
}

}  // namespace gc::config

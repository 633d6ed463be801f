// SPDX-License-Identifier: MIT
#include "supervisor/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace gc::supervisor {

Result<Listener> bind_listener(const config::ListenAddress& address) {
  int family = address.is_ipv6 ? AF_INET6 : AF_INET;
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket", address.text, errno);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (address.is_ipv6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(address.port);
    if (::inet_pton(AF_INET6, address.host.c_str(), &sa->sin6_addr) != 1) {
      return make_error(Errc::kInvalidArgument, "invalid listen address " + address.text);
    }
    // An IPv6 address means IPv6 only; "0.0.0.0" is spelled separately.
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    len = sizeof(sockaddr_in6);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(address.port);
    if (::inet_pton(AF_INET, address.host.c_str(), &sa->sin_addr) != 1) {
      return make_error(Errc::kInvalidArgument, "invalid listen address " + address.text);
    }
    len = sizeof(sockaddr_in);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return sys_error("bind", address.text, errno);
  }
  if (::listen(fd.get(), 4096) != 0) return sys_error("listen", address.text, errno);
  sockaddr_storage actual{};
  socklen_t actual_len = sizeof actual;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&actual), &actual_len);
  char host[INET6_ADDRSTRLEN] = {};
  std::string bound;
  if (address.is_ipv6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&actual);
    ::inet_ntop(AF_INET6, &sa->sin6_addr, host, sizeof host);
    bound = "[" + std::string(host) + "]:" + std::to_string(ntohs(sa->sin6_port));
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&actual);
    ::inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
    bound = std::string(host) + ":" + std::to_string(ntohs(sa->sin_port));
  }
  return Listener{address, std::move(bound), std::move(fd)};
}

std::string listen_fd_name(const config::ListenAddress& address) {
  std::string name = address.text;
  for (char& c : name) {
    if (c == ':') c = '_';
  }
  return name;
}

}  // namespace gc::supervisor

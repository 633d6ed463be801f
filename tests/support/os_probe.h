// SPDX-License-Identifier: MIT
// tests/support/os_probe.h: small facts about this machine and process that OS tests check.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <system_error>

#include "base/unique_fd.h"

namespace gc::testing {

// True if an IPv6 loopback address can be bound (some sandboxes have none).
inline bool have_ipv6_loopback() {
  UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

// Open fds of this process; the directory stream's own fd is counted every time.
inline int open_fd_count() {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace gc::testing

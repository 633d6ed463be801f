// SPDX-License-Identifier: MIT
// Tests for supervisor/listener.h: real listening sockets on loopback, port 0 only.
#include "supervisor/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "base/unique_fd.h"
#include "config/listen_address.h"
#include "support/os_probe.h"

namespace gc::supervisor {
namespace {

using gc::testing::have_ipv6_loopback;
using gc::testing::open_fd_count;

config::ListenAddress parse(const std::string& text) {
  auto address = config::parse_listen_address(text);
  EXPECT_TRUE(address) << address.error().message;
  return address ? *address : config::ListenAddress{};
}

// The port of a bound socket, from the kernel.
int local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// Connects a blocking TCP client; the kernel completes the handshake from the listen backlog.
Status connect_to(int family, const std::string& host, int port) {
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket", host, errno);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET6, host.c_str(), &sa->sin6_addr) != 1) {
      return make_error(Errc::kInvalidArgument, host);
    }
    len = sizeof(sockaddr_in6);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &sa->sin_addr) != 1) {
      return make_error(Errc::kInvalidArgument, host);
    }
    len = sizeof(sockaddr_in);
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return sys_error("connect", host + ":" + std::to_string(port), errno);
  }
  return ok();
}

TEST(BindListener, PortZeroGetsARealPort) {
  auto listener = bind_listener(parse("127.0.0.1:0"));
  ASSERT_TRUE(listener) << listener.error().message;
  ASSERT_TRUE(listener->fd.valid());
  const int port = local_port(listener->fd.get());
  ASSERT_GT(port, 0);
  EXPECT_EQ(listener->bound, "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(listener->address.text, "127.0.0.1:0");
  Status connected = connect_to(AF_INET, "127.0.0.1", port);
  EXPECT_TRUE(connected) << connected.error().message;
}

TEST(BindListener, SocketIsCloseOnExec) {
  auto listener = bind_listener(parse("127.0.0.1:0"));
  ASSERT_TRUE(listener) << listener.error().message;
  int flags = ::fcntl(listener->fd.get(), F_GETFD);
  ASSERT_GE(flags, 0);
  EXPECT_TRUE(flags & FD_CLOEXEC);
}

TEST(BindListener, SameConcretePortTwiceIsAConflict) {
  auto first = bind_listener(parse("127.0.0.1:0"));
  ASSERT_TRUE(first) << first.error().message;
  const std::string text = "127.0.0.1:" + std::to_string(local_port(first->fd.get()));
  auto second = bind_listener(parse(text));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kConflict);
  EXPECT_NE(second.error().message.find(text), std::string::npos) << second.error().message;
}

TEST(BindListener, WildcardOverlappingALoopbackListenerIsAConflict) {
  auto first = bind_listener(parse("127.0.0.1:0"));
  ASSERT_TRUE(first) << first.error().message;
  const std::string text = "0.0.0.0:" + std::to_string(local_port(first->fd.get()));
  auto second = bind_listener(parse(text));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kConflict) << second.error().message;
}

TEST(BindListener, PortIsFreeAgainOnceTheListenerIsGone) {
  std::string text;
  {
    auto first = bind_listener(parse("127.0.0.1:0"));
    ASSERT_TRUE(first) << first.error().message;
    text = "127.0.0.1:" + std::to_string(local_port(first->fd.get()));
  }
  // SO_REUSEADDR: a closed listener's port can be bound again at once (a daemon restart).
  auto again = bind_listener(parse(text));
  EXPECT_TRUE(again) << again.error().message;
}

TEST(BindListener, Ipv6LoopbackWorks) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback on this host";
  auto listener = bind_listener(parse("[::1]:0"));
  ASSERT_TRUE(listener) << listener.error().message;
  const int port = local_port(listener->fd.get());
  ASSERT_GT(port, 0);
  EXPECT_EQ(listener->bound, "[::1]:" + std::to_string(port));
  Status connected = connect_to(AF_INET6, "::1", port);
  EXPECT_TRUE(connected) << connected.error().message;
}

TEST(BindListener, Ipv6ListenerIsIpv6Only) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback on this host";
  auto listener = bind_listener(parse("[::]:0"));
  ASSERT_TRUE(listener) << listener.error().message;
  const int port = local_port(listener->fd.get());
  // IPv4 clients are not caught by an IPv6 wildcard: "0.0.0.0" is spelled separately.
  Status v4 = connect_to(AF_INET, "127.0.0.1", port);
  EXPECT_FALSE(v4);
  Status v6 = connect_to(AF_INET6, "::1", port);
  EXPECT_TRUE(v6) << v6.error().message;
}

TEST(BindListener, AddressNotOnThisHostIsUnavailable) {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real host.
  auto listener = bind_listener(parse("192.0.2.1:0"));
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.error().code, Errc::kUnavailable) << listener.error().message;
  EXPECT_NE(listener.error().message.find("192.0.2.1:0"), std::string::npos);
}

TEST(BindListener, NonNumericHostIsInvalid) {
  config::ListenAddress address;
  address.text = "localhost:0";
  address.host = "localhost";
  auto listener = bind_listener(address);
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.error().code, Errc::kInvalidArgument);
  EXPECT_NE(listener.error().message.find("localhost:0"), std::string::npos);
}

TEST(BindListener, PrivilegedPortNeedsPermission) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may bind any port";
  auto start = read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  if (!start || std::stoi(*start) <= 1) GTEST_SKIP() << "every port is unprivileged here";
  auto listener = bind_listener(parse("127.0.0.1:1"));
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.error().code, Errc::kPermission) << listener.error().message;
}

TEST(ListenFdName, ReplacesColons) {
  EXPECT_EQ(listen_fd_name(parse("127.0.0.1:3000")), "127.0.0.1_3000");
  EXPECT_EQ(listen_fd_name(parse("[::1]:3000")), "[__1]_3000");
  EXPECT_EQ(listen_fd_name(parse("0.0.0.0:80")), "0.0.0.0_80");
}

TEST(ListenFdName, UsesTheTextAsWritten) {
  // "[0:0::1]" and "[::1]" are the same host but different names, as the config spells them.
  EXPECT_EQ(listen_fd_name(parse("[0:0::1]:8080")), "[0_0__1]_8080");
}

}  // namespace
}  // namespace gc::supervisor

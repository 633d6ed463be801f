// SPDX-License-Identifier: MIT
// Tests for supervisor/http_probe.h: URL parsing, and real probes on an io_context against a tiny
// in-test HTTP server on a loopback port 0.
#include "supervisor/http_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "base/unique_fd.h"
#include "support/os_probe.h"

namespace gc::supervisor {
namespace {

using gc::testing::have_ipv6_loopback;
using gc::testing::open_fd_count;

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// A one-thread HTTP server on loopback port 0. Once a request's headers have arrived, it writes
// the canned `pieces` (each a separate write) and closes, or with `hold` keeps the connection
// open without a word. The destructor wakes the thread through a pipe and joins it, so a
// failing test never hangs on a blocking accept.
class TinyHttpServer {
 public:
  struct Options {
    std::vector<std::string> pieces;
    bool hold = false;  // Accept, read, never answer: for timeouts.
    bool ipv6 = false;
  };

  explicit TinyHttpServer(Options options) : options_(std::move(options)) {
    int family = options_.ipv6 ? AF_INET6 : AF_INET;
    listen_.reset(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (options_.ipv6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
      sa->sin6_family = AF_INET6;
      sa->sin6_addr = in6addr_loopback;
      len = sizeof *sa;
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
      sa->sin_family = AF_INET;
      sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *sa;
    }
    if (!listen_ || ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::listen(listen_.get(), 16) != 0 ||
        ::getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      ADD_FAILURE() << "cannot start the test HTTP server: " << std::strerror(errno);
      return;
    }
    port_ = options_.ipv6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                          : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    auto wake = Pipe::create();
    if (!wake) {
      ADD_FAILURE() << wake.error().message;
      return;
    }
    wake_ = std::move(*wake);
    thread_ = std::thread([this] { serve(); });
  }

  ~TinyHttpServer() {
    if (wake_.write) (void)write_all(wake_.write.get(), "x");
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/health") const {
    return std::string(options_.ipv6 ? "http://[::1]:" : "http://127.0.0.1:") +
           std::to_string(port_) + path;
  }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  // Waits for `fd` to become readable or for the stop pipe. Returns false on stop.
  bool wait_readable(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_.read.get(), POLLIN, 0}};
    for (;;) {
      int n = ::poll(fds, 2, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || (fds[1].revents & POLLIN)) return false;
      if (fds[0].revents != 0) return true;
    }
  }

  void serve() {
    std::vector<UniqueFd> held;  // Connections kept open until the server stops.
    for (;;) {
      if (!wait_readable(listen_.get())) return;
      UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) continue;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        if (!wait_readable(conn.get())) return;
        ssize_t n = ::read(conn.get(), buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard lock(mu_);
        requests_.push_back(request);
      }
      if (options_.hold) {
        held.push_back(std::move(conn));
        continue;
      }
      for (const auto& piece : options_.pieces) {
        if (!write_all(conn.get(), piece)) break;
      }
    }
  }

  Options options_;
  UniqueFd listen_;
  Pipe wake_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;  // Guarded by mu_.
};

TinyHttpServer::Options answer(std::string response) {
  TinyHttpServer::Options o;
  o.pieces = {std::move(response)};
  return o;
}

const std::string k200 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
const std::string k503 =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

// What one probe reported and how long it took.
struct ProbeRun {
  int calls = 0;
  bool healthy = false;
  Clock::duration elapsed{};
};

// Starts one probe and runs the loop until it reports (or `limit` passes).
ProbeRun run_probe(const std::string& url, Duration timeout, Clock::duration limit = seconds(20)) {
  boost::asio::io_context io;
  ProbeRun run;
  auto start = Clock::now();
  start_http_probe(io, url, timeout, [&](bool healthy) {
    ++run.calls;
    run.healthy = healthy;
    run.elapsed = Clock::now() - start;
  });
  io.run_for(limit);  // Returns as soon as the probe has no work left.
  return run;
}

// The local port of an IPv4 socket, or -1.
int local_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return -1;
  return ntohs(sa.sin_port);
}

// A socket bound to 127.0.0.1 port 0; listening if `listen` is set. Invalid on error.
UniqueFd bind_loopback_listener(bool listen = true) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      (listen && ::listen(fd.get(), 16) != 0)) {
    return UniqueFd();
  }
  return fd;
}

// A loopback port with nothing listening: bound, then closed.
int closed_port() {
  UniqueFd fd = bind_loopback_listener(/*listen=*/false);
  return fd ? local_port(fd.get()) : -1;
}

TEST(ParseHttpUrl, HostPortAndPath) {
  auto url = parse_http_url("http://127.0.0.1:3000/health?deep=1");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "3000");
  EXPECT_EQ(url->target, "/health?deep=1");
}

TEST(ParseHttpUrl, PortDefaultsTo80AndPathToSlash) {
  auto url = parse_http_url("http://localhost");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->target, "/");
  auto with_slash = parse_http_url("http://127.0.0.1/");
  ASSERT_TRUE(with_slash) << with_slash.error().message;
  EXPECT_EQ(with_slash->port, "80");
  EXPECT_EQ(with_slash->target, "/");
}

TEST(ParseHttpUrl, Ipv6HostsAreInBrackets) {
  auto url = parse_http_url("http://[::1]:8080/ready");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/ready");
  auto no_port = parse_http_url("http://[fe80::1]");
  ASSERT_TRUE(no_port) << no_port.error().message;
  EXPECT_EQ(no_port->host, "fe80::1");
  EXPECT_EQ(no_port->port, "80");
  EXPECT_EQ(no_port->target, "/");
}

TEST(ParseHttpUrl, HttpsAndOtherSchemesAreRejected) {
  for (const char* text : {"https://127.0.0.1/health", "ftp://127.0.0.1/", "127.0.0.1:3000/",
                           "HTTP://127.0.0.1/", ""}) {
    auto url = parse_http_url(text);
    ASSERT_FALSE(url) << text;
    EXPECT_EQ(url.error().code, Errc::kInvalidArgument);
    EXPECT_NE(url.error().message.find("\"" + std::string(text) + "\""), std::string::npos)
        << url.error().message;
  }
}

TEST(ParseHttpUrl, MalformedAuthoritiesAreRejected) {
  for (const char* text : {"http://", "http:///health", "http://:3000/", "http://127.0.0.1:/",
                           "http://[::1", "http://[]:80/"}) {
    auto url = parse_http_url(text);
    ASSERT_FALSE(url) << text;
    EXPECT_EQ(url.error().code, Errc::kInvalidArgument);
    EXPECT_NE(url.error().message.find(text), std::string::npos) << url.error().message;
  }
}

TEST(ParseHttpUrl, PortMustBeANumberFrom1To65535) {
  for (const char* text :
       {"http://127.0.0.1:abc/", "http://127.0.0.1:3000x/health", "http://127.0.0.1:0/",
        "http://127.0.0.1:65536/", "http://127.0.0.1:99999999999999999999/",
        "http://127.0.0.1:-80/", "http://127.0.0.1:+80/", "http://[::1]:x/"}) {
    auto url = parse_http_url(text);
    ASSERT_FALSE(url) << text << " parsed with port \"" << url->port << "\"";
    EXPECT_EQ(url.error().code, Errc::kInvalidArgument);
    EXPECT_NE(url.error().message.find(text), std::string::npos) << url.error().message;
  }
  auto max = parse_http_url("http://127.0.0.1:65535/");
  ASSERT_TRUE(max) << max.error().message;
  EXPECT_EQ(max->port, "65535");
}

TEST(ParseHttpUrl, OnlyAPortMayFollowTheIpv6Bracket) {
  auto url = parse_http_url("http://[::1]junk/health");
  ASSERT_FALSE(url) << "parsed as host \"" << url->host << "\" port \"" << url->port << "\"";
  EXPECT_EQ(url.error().code, Errc::kInvalidArgument);
}

TEST(HttpProbe, TwoHundredIsHealthy) {
  TinyHttpServer server(answer(k200));
  ProbeRun run = run_probe(server.url(), seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_TRUE(run.healthy);
  EXPECT_LT(run.elapsed, seconds(5));
}

TEST(HttpProbe, AnyTwoHundredStatusIsHealthy) {
  TinyHttpServer server(answer("HTTP/1.0 204 No Content\r\n\r\n"));
  ProbeRun run = run_probe(server.url(), seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_TRUE(run.healthy);
}

TEST(HttpProbe, ServiceUnavailableIsNotHealthy) {
  TinyHttpServer server(answer(k503));
  ProbeRun run = run_probe(server.url(), seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_FALSE(run.healthy);
  EXPECT_LT(run.elapsed, seconds(5));
}

TEST(HttpProbe, RedirectIsNotHealthy) {
  TinyHttpServer server(answer("HTTP/1.1 302 Found\r\nLocation: /login\r\n\r\n"));
  ProbeRun run = run_probe(server.url(), seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_FALSE(run.healthy);
}

TEST(HttpProbe, NotHttpIsNotHealthy) {
  TinyHttpServer server(answer("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"));
  ProbeRun run = run_probe(server.url(), seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_FALSE(run.healthy);
}

TEST(HttpProbe, StatusLineMayArriveInPieces) {
  TinyHttpServer::Options o;
  o.pieces = {"HTTP/1.1 2", "00 OK\r\n", "Content-Length: 0\r\n\r\n"};
  TinyHttpServer server(o);
  ProbeRun run = run_probe(server.url(), seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_TRUE(run.healthy);
}

TEST(HttpProbe, ShortAnswerThenCloseIsNotHealthy) {
  TinyHttpServer server(answer("HTTP/1.1 2"));
  ProbeRun run = run_probe(server.url(), seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_FALSE(run.healthy);
  EXPECT_LT(run.elapsed, seconds(5));
}

TEST(HttpProbe, ConnectionRefusedIsNotHealthy) {
  const int port = closed_port();
  ASSERT_GT(port, 0);
  ProbeRun run = run_probe("http://127.0.0.1:" + std::to_string(port) + "/", seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_FALSE(run.healthy);
  EXPECT_LT(run.elapsed, seconds(5));
}

TEST(HttpProbe, SilentServerTimesOut) {
  TinyHttpServer::Options o;
  o.hold = true;
  TinyHttpServer server(o);
  ProbeRun run = run_probe(server.url(), milliseconds(200));
  EXPECT_EQ(run.calls, 1);
  EXPECT_FALSE(run.healthy);
  EXPECT_GE(run.elapsed, milliseconds(200));
  EXPECT_LT(run.elapsed, seconds(5));
}

// The reason start_http_check gives, for the deploy health watch's messages.
std::string check_reason(const std::string& url, Duration timeout) {
  boost::asio::io_context io;
  std::string reason = "(not called)";
  start_http_check(io, url, timeout, [&](std::string r) { reason = std::move(r); });
  io.run_for(seconds(20));
  return reason;
}

TEST(HttpCheck, SaysWhyAProbeFailed) {
  TinyHttpServer ok(answer(k200));
  EXPECT_EQ(check_reason(ok.url(), seconds(5)), "");
  TinyHttpServer unavailable(answer(k503));
  EXPECT_EQ(check_reason(unavailable.url(), seconds(5)), "answered HTTP 503");
  TinyHttpServer ssh(answer("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"));
  EXPECT_EQ(check_reason(ssh.url(), seconds(5)), "not an HTTP answer");
  TinyHttpServer::Options o;
  o.hold = true;
  TinyHttpServer silent(o);
  EXPECT_EQ(check_reason(silent.url(), milliseconds(200)), "no answer within 200ms");
  const int port = closed_port();
  ASSERT_GT(port, 0);
  std::string refused = check_reason("http://127.0.0.1:" + std::to_string(port) + "/", seconds(5));
  EXPECT_EQ(refused.rfind("connect: ", 0), 0u) << refused;
}

TEST(HttpProbe, SendsAGetForTheTarget) {
  TinyHttpServer server(answer(k200));
  ProbeRun run = run_probe(server.url("/health?deep=1"), seconds(5));
  ASSERT_TRUE(run.healthy);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].rfind("GET /health?deep=1 HTTP/1.1\r\n", 0), 0u) << requests[0];
  EXPECT_NE(requests[0].find("\r\nConnection: close\r\n"), std::string::npos) << requests[0];
}

TEST(HttpProbe, HostHeaderIsTheUrlsAuthority) {
  // RFC 9110 7.2: Host is the authority of the target URI, port included.
  TinyHttpServer server(answer(k200));
  ProbeRun run = run_probe(server.url(), seconds(5));
  ASSERT_TRUE(run.healthy);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string want = "\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n";
  EXPECT_NE(requests[0].find(want), std::string::npos) << requests[0];
}

TEST(HttpProbe, Ipv6HostHeaderKeepsItsBrackets) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback on this host";
  TinyHttpServer::Options o = answer(k200);
  o.ipv6 = true;
  TinyHttpServer server(o);
  ProbeRun run = run_probe(server.url(), seconds(5));
  ASSERT_TRUE(run.healthy);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string want = "\r\nHost: [::1]:" + std::to_string(server.port()) + "\r\n";
  EXPECT_NE(requests[0].find(want), std::string::npos) << requests[0];
}

TEST(HttpProbe, LeavesNoFdsBehind) {
  // No in-process server here: its accepted connections would blur the count. A listener that
  // never accepts still completes the handshake from its backlog, so that probe times out.
  auto backlog_only = bind_loopback_listener();
  ASSERT_TRUE(backlog_only.valid());
  const int port = closed_port();
  ASSERT_GT(port, 0);
  const int before = open_fd_count();
  {
    boost::asio::io_context io;
    int calls = 0;
    for (const std::string& url :
         {"http://127.0.0.1:" + std::to_string(local_port(backlog_only.get())) + "/",
          "http://127.0.0.1:" + std::to_string(port) + "/", std::string("http://host.invalid/")}) {
      start_http_probe(io, url, milliseconds(200), [&calls](bool healthy) {
        EXPECT_FALSE(healthy);
        ++calls;
      });
    }
    io.run_for(seconds(20));
    EXPECT_EQ(calls, 3);
  }
  EXPECT_EQ(open_fd_count(), before);
}

TEST(HttpProbe, LocalhostMeansIpv4Loopback) {
  TinyHttpServer server(answer(k200));
  ProbeRun run =
      run_probe("http://localhost:" + std::to_string(server.port()) + "/health", seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_TRUE(run.healthy);
}

TEST(HttpProbe, BadUrlReportsFalseOnTheLoopNotInline) {
  boost::asio::io_context io;
  int calls = 0;
  bool healthy = true;
  start_http_probe(io, "https://127.0.0.1/", seconds(5), [&](bool h) {
    ++calls;
    healthy = h;
  });
  EXPECT_EQ(calls, 0);  // `done` runs on the loop, never inside start_http_probe.
  io.run_for(seconds(5));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(healthy);
}

TEST(HttpProbe, HostNameIsNotResolved) {
  ProbeRun run = run_probe("http://example.invalid:80/", seconds(5));
  EXPECT_EQ(run.calls, 1);
  EXPECT_FALSE(run.healthy);
}

TEST(HttpProbe, ManyProbesOnOneLoopEachReportOnce) {
  TinyHttpServer ok_server(answer(k200));
  TinyHttpServer bad_server(answer(k503));
  boost::asio::io_context io;
  std::vector<std::optional<bool>> results(10);
  std::vector<int> calls(10, 0);
  for (int i = 0; i < 10; ++i) {
    const std::string url = (i % 2 == 0 ? ok_server : bad_server).url();
    start_http_probe(io, url, seconds(5), [&results, &calls, i](bool healthy) {
      ++calls[static_cast<size_t>(i)];
      results[static_cast<size_t>(i)] = healthy;
    });
  }
  io.run_for(seconds(20));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(calls[static_cast<size_t>(i)], 1) << i;
    EXPECT_EQ(results[static_cast<size_t>(i)], i % 2 == 0) << i;
  }
}

}  // namespace
}  // namespace gc::supervisor

// SPDX-License-Identifier: MIT
// The plain HTTP client: URL parsing, then real exchanges with a real Nginx on loopback (status,
// bodies big and chunked, basic auth) and with scripted one-connection servers for what Nginx
// will not do on demand (a server that never answers, a reply cut short, one that is not HTTP).
#include "monitor/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "support/nginx_server.h"

namespace gc::monitor {
namespace {

// --- URLs ---

TEST(PlainHttpUrl, SplitsHostPortTargetAndUserinfo) {
  auto u = parse_plain_http_url("HTTP://user:p%40ss@127.0.0.1:8080/nginx_status?x=1#frag");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/nginx_status?x=1");
  EXPECT_EQ(u->userinfo, "user:p%40ss");
  EXPECT_EQ(u->authority(), "127.0.0.1:8080");

  u = parse_plain_http_url("http://[::1]/");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->authority(), "[::1]:80");

  u = parse_plain_http_url("http://example.org?q");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/?q");
  u = parse_plain_http_url("http://example.org");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/");
}

TEST(PlainHttpUrl, RejectsWhatCannotBeSentWithoutQuotingTheUrl) {
  for (const char* bad :
       {"https://example.org/", "http://", "http://:80/", "http://h:0/", "http://h:65536/",
        "http://h:8o/", "http://[::1/", "http://h/a b", "http://h/a\r\nX: y", "http://[::1]x/"}) {
    auto u = parse_plain_http_url(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_EQ(u.error().code, Errc::kInvalidArgument) << bad;
    EXPECT_EQ(u.error().message.find(bad), std::string::npos) << u.error().message;
  }
  EXPECT_TRUE(is_plain_http_url("Http://x"));
  EXPECT_FALSE(is_plain_http_url("https://x"));
  EXPECT_FALSE(is_plain_http_url("http:/x"));
}

// --- a real Nginx ---

class HttpClientNginx : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/sbin/nginx", X_OK) != 0) {
      GTEST_SKIP() << "/usr/sbin/nginx is not installed (Debian package nginx)";
    }
    auto d = TempDir::create("gc-http-client-");
    ASSERT_TRUE(d) << d.error().message;
    dir_.emplace(std::move(*d));
    big_ = std::string(300 * 1024, 'x');
    ASSERT_TRUE(write_file_atomic(dir_->file("big.bin"), big_));
    ASSERT_TRUE(write_file_atomic(dir_->file("sub.txt"), std::string(50'000, 'a') + "\n"));
    std::string body =
        "server {\n"
        "  listen 127.0.0.1:@PORT0@;\n"
        "  access_log off;\n"
        "  default_type text/plain;\n"
        "  location = /ok { return 200 \"hello\\n\"; }\n"
        "  location = /big { alias " +
        dir_->file("big.bin") +
        "; }\n"
        // sub_filter drops Content-Length: Nginx sends the body chunked.
        "  location = /chunked { alias " +
        dir_->file("sub.txt") +
        "; sub_filter_types *; sub_filter 'a' 'b'; sub_filter_once off; }\n"
        "  location = /echo-method { return 200 \"$request_method $http_x_probe "
        "$http_authorization\\n\"; }\n"
        "  location / { return 404; }\n"
        "}\n";
    auto n = testing::NginxServer::start(dir_->path(), body);
    ASSERT_TRUE(n) << n.error().message;
    nginx_ = std::move(*n);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(nginx_->port()) + path;
  }
  std::optional<TempDir> dir_;
  std::unique_ptr<testing::NginxServer> nginx_;
  std::string big_;
};

TEST_F(HttpClientNginx, StatusAndBody) {
  HttpRequest r;
  r.url = url("/ok");
  auto res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "hello\n");
  EXPECT_FALSE(res->truncated());

  r.url = url("/missing");
  res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 404);  // Any status is a response; the caller judges it.
}

TEST_F(HttpClientNginx, ABigBodyIsReadWholeButKeptOnlyUpToTheCap) {
  HttpRequest r;
  r.url = url("/big");
  r.keep_body = 1000;
  auto res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, big_.substr(0, 1000));
  EXPECT_EQ(res->body_length, big_.size());
  EXPECT_TRUE(res->truncated());

  r.keep_body = 0;  // A probe keeps nothing.
  res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->body, "");
  EXPECT_EQ(res->body_length, big_.size());

  r.keep_body = 1 << 20;
  res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->body, big_);
}

TEST_F(HttpClientNginx, DecodesAChunkedBody) {
  HttpRequest r;
  r.url = url("/chunked");
  auto res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, std::string(50'000, 'b') + "\n");
}

TEST_F(HttpClientNginx, SendsMethodHeadersAndBasicAuth) {
  HttpRequest r;
  r.method = "POST";
  r.url = "http://al%20ice:s3cr%3At@127.0.0.1:" + std::to_string(nginx_->port()) + "/echo-method";
  r.headers = {{"X-Probe", "yes"}};
  r.body = "{}";
  auto res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  // base64("al ice:s3cr:t")
  EXPECT_EQ(res->body, "POST yes Basic YWwgaWNlOnMzY3I6dA==\n");
}

// --- scripted servers ---

// Listens on 127.0.0.1:0 and runs `session` on each accepted connection, one at a time, until
// destroyed.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(int)> session) : session_(std::move(session)) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        UniqueFd conn(c);
        session_(conn.get());
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  std::function<void(int)> session_;
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
};

// Reads the request's head (up to the blank line).
std::string read_head(int fd) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    req.append(buf, static_cast<std::size_t>(n));
  }
  return req;
}

TEST(HttpClient, HandCraftedChunksWithExtensionsAndTrailers) {
  ScriptedServer server([](int fd) {
    read_head(fd);
    (void)write_all(fd,
                    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;ext=1\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
  });
  HttpRequest r;
  r.url = server.url("/");
  auto res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, "hello, world");
}

TEST(HttpClient, ABodyUntilCloseWithoutLength) {
  ScriptedServer server([](int fd) {
    read_head(fd);
    (void)write_all(fd, "HTTP/1.0 200 OK\r\n\r\nuntil the end");
  });
  HttpRequest r;
  r.url = server.url("/");
  auto res = http_request(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->body, "until the end");
}

TEST(HttpClient, AServerThatNeverAnswersTimesOut) {
  std::atomic<bool> done = false;
  ScriptedServer server([&done](int fd) {
    read_head(fd);
    // Holds the connection open without answering until the client has given up (the client
    // closes, and read returns 0).
    char c;
    while (!done && ::read(fd, &c, 1) > 0) {
    }
  });
  HttpRequest r;
  r.url = server.url("/slow/SECRET");
  r.timeout = std::chrono::milliseconds(200);
  auto res = http_request(r);
  done = true;
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kTimeout) << res.error().message;
  EXPECT_EQ(res.error().message.rfind("127.0.0.1:", 0), 0u) << res.error().message;
  EXPECT_EQ(res.error().message.find("SECRET"), std::string::npos) << res.error().message;
}

TEST(HttpClient, AResponseCutShortIsUnavailable) {
  ScriptedServer server([](int fd) {
    read_head(fd);
    (void)write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
  });
  HttpRequest r;
  r.url = server.url("/");
  auto res = http_request(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kUnavailable) << res.error().message;
  EXPECT_NE(res.error().message.find("closed before the response was complete"), std::string::npos)
      << res.error().message;
}

TEST(HttpClient, NotHttpIsCorrupt) {
  ScriptedServer server([](int fd) {
    read_head(fd);
    (void)write_all(fd, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\r\n");
  });
  HttpRequest r;
  r.url = server.url("/");
  auto res = http_request(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kCorrupt) << res.error().message;
}

TEST(HttpClient, ARefusedConnectionNamesOnlyTheAuthority) {
  // Bound but not listening: connections are refused while `holder` is open.
  UniqueFd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  std::string authority = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  HttpRequest r;
  r.url = "http://user:hunter2@" + authority + "/hook/SECRET";
  auto res = http_request(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kUnavailable) << res.error().message;
  EXPECT_EQ(res.error().message, authority + ": connect: Connection refused");
}

}  // namespace
}  // namespace gc::monitor

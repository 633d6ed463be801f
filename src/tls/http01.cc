// SPDX-License-Identifier: MIT
#include "tls/http01.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "tls/acme_protocol.h"

namespace gc::tls {
namespace {

constexpr std::string_view kPrefix = "/.well-known/acme-challenge/";

class WebrootResponder final : public Http01Responder {
 public:
  explicit WebrootResponder(std::string dir) : dir_(std::move(dir)) {}
  ~WebrootResponder() override {
    for (const std::string& f : files_) (void)::unlink(f.c_str());
  }
  Status add(const std::string& token, const std::string& key_authorization) override {
    if (!is_valid_token(token)) {
      return make_error(Errc::kInvalidArgument,
                        "refusing an ACME challenge token that is not "
                        "base64url: it would become a file name");
    }
    GC_TRY(make_directories(dir_, 0755));
    std::string path = dir_ + "/" + token;
    GC_TRY(write_file_atomic(path, key_authorization, 0644));
    files_.push_back(path);
    return ok();
  }

 private:
  std::string dir_;
  std::vector<std::string> files_;
};

}  // namespace

class StandaloneResponder final : public Http01Responder {
 public:
  StandaloneResponder(UniqueFd listener, UniqueFd stop)
      : listener_(std::move(listener)), stop_(std::move(stop)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~StandaloneResponder() override {
    std::uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
  Status add(const std::string& token, const std::string& key_authorization) override {
    if (!is_valid_token(token)) {
      return make_error(Errc::kInvalidArgument,
                        "refusing an ACME challenge token that is not "
                        "base64url");
    }
    std::lock_guard lock(mu_);
    tokens_[token] = key_authorization;
    return ok();
  }

 private:
  void serve() {
    for (;;) {
      pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn) answer(conn.get());
    }
  }

  // Reads one request head (bounded in size and time, so a stuck client cannot hold the
  // responder) and answers it; the connection is then closed.
  void answer(int fd) {
    std::string req;
    char buf[2048];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
      pollfd p{fd, POLLIN, 0};
      pollfd s{stop_.get(), POLLIN, 0};
      pollfd both[2] = {p, s};
      if (::poll(both, 2, 5000) <= 0 || both[1].revents != 0) return;
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return;
      req.append(buf, static_cast<std::size_t>(n));
    }
    std::string body;
    int status = 404;
    std::size_t sp1 = req.find(' ');
    std::size_t sp2 = sp1 == std::string::npos ? sp1 : req.find(' ', sp1 + 1);
    if (sp2 != std::string::npos && req.compare(0, sp1, "GET") == 0) {
      std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
      if (path.compare(0, kPrefix.size(), kPrefix) == 0) {
        std::lock_guard lock(mu_);
        auto it = tokens_.find(path.substr(kPrefix.size()));
        if (it != tokens_.end()) {
          status = 200;
          body = it->second;
        }
      }
    }
    std::string head = status == 200 ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 404 Not Found\r\n";
    head += "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\nConnection: close\r\n\r\n";
    (void)write_all(fd, head + body);
  }

  UniqueFd listener_;
  UniqueFd stop_;
  std::mutex mu_;
  std::map<std::string, std::string> tokens_;  // Guarded by mu_.
  std::thread thread_;
};

Result<std::unique_ptr<Http01Responder>> make_webroot_responder(const std::string& webroot) {
  if (webroot.empty() || webroot.front() != '/') {
    return make_error(Errc::kInvalidArgument,
                      "webroot \"" + webroot + "\" is not an absolute path: set [tls] webroot");
  }
  std::string dir = webroot;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return std::unique_ptr<Http01Responder>(
      std::make_unique<WebrootResponder>(dir + std::string(kPrefix.substr(0, kPrefix.size() - 1))));
}

Result<std::unique_ptr<Http01Responder>> start_standalone_responder(const std::string& listen,
                                                                    int* bound_port) {
  auto bad = [&] {
    return make_error(Errc::kInvalidArgument,
                      "standalone_listen \"" + listen + "\": expected IPv4:port or [IPv6]:port");
  };
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) return bad();
  std::string host = listen.substr(0, colon);
  int port = 0;
  for (char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return bad();
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return bad();
  sockaddr_storage ss{};
  socklen_t len = 0;
  bool v6 = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &sa->sin6_addr) != 1) {
      return bad();
    }
    len = sizeof *sa;
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &sa->sin_addr) != 1) return bad();
    len = sizeof *sa;
  }
  UniqueFd s(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket", listen, errno);
  int on = 1, off = 0;
  (void)::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  // "[::]" should also take the IPv4 connections the CA makes to port 80.
  if (v6) (void)::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    if (err == EADDRINUSE) {
      return make_error(Errc::kConflict,
                        "standalone HTTP-01 responder: " + listen +
                            " is in use (a web server on port 80? use challenge = \"webroot\")");
    }
    return sys_error("bind", listen, err);
  }
  if (::listen(s.get(), 16) != 0) return sys_error("listen", listen, errno);
  if (bound_port != nullptr) {
    sockaddr_storage got{};
    socklen_t gl = sizeof got;
    (void)::getsockname(s.get(), reinterpret_cast<sockaddr*>(&got), &gl);
    *bound_port = got.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<sockaddr_in6*>(&got)->sin6_port)
                      : ntohs(reinterpret_cast<sockaddr_in*>(&got)->sin_port);
  }
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  if (!stop) return sys_error("eventfd", "standalone responder", errno);
  return std::unique_ptr<Http01Responder>(
      std::make_unique<StandaloneResponder>(std::move(s), std::move(stop)));
}

}  // namespace gc::tls

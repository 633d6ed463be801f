// SPDX-License-Identifier: MIT
// tls/connection.cc: connections and handshakes, non-blocking under poll(2) so that every step
// honours the deadline.
#include "tls/connection.h"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace gc::tls {
namespace {

// Waits until `fd` is ready for `events` or `deadline` passes. Errors: kTimeout, kIo.
Status wait_ready(int fd, short events, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return make_error(Errc::kTimeout, what + ": timed out");
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return ok();
    if (r < 0 && errno != EINTR) return sys_error("poll", what, errno);
  }
}

std::string numeric_address(const sockaddr* sa, socklen_t len) {
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (::getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return sa->sa_family == AF_INET6 ? "[" + std::string(host) + "]:" + port
                                   : std::string(host) + ":" + port;
}

Result<UniqueFd> connect_addr(const sockaddr* sa, socklen_t len, const std::string& text,
                              Clock::time_point deadline) {
  UniqueFd fd(::socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sys_error("socket", text, errno);
  if (::connect(fd.get(), sa, len) == 0) return fd;
  if (errno != EINPROGRESS) return sys_error("connect", text, errno);
  GC_TRY(wait_ready(fd.get(), POLLOUT, deadline, "connect " + text));
  int err = 0;
  socklen_t err_len = sizeof err;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) err = errno;
  if (err != 0) return sys_error("connect", text, err);
  return fd;
}

// Drives one SSL call (connect, read, write) until it completes, under the deadline. Returns
// the call's positive result, or 0 for a clean close by the peer on read.
template <typename Call>
Result<int> drive(const SslApi& a, SSL* ssl, int fd, const char* what, Clock::time_point deadline,
                  Call call) {
  for (;;) {
    a.err_clear_error();
    errno = 0;
    int r = call();
    int saved_errno = errno;
    if (r > 0) return r;
    int e = a.ssl_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      GC_TRY(wait_ready(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, what));
      continue;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    if (e == SSL_ERROR_SSL)
      return make_error(Errc::kUnavailable, what + (": " + take_ssl_error(a)));
    a.err_clear_error();
    if (e == SSL_ERROR_SYSCALL && saved_errno != 0) return sys_error(what, "", saved_errno);
    return make_error(Errc::kUnavailable, std::string(what) + ": connection closed by the server");
  }
}

}  // namespace

Result<Connected> connect_first(const std::string& host, int port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    return make_error(rc == EAI_NONAME ? Errc::kNotFound : Errc::kUnavailable,
                      "resolve " + host + ": " + why);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, ::freeaddrinfo);
  Error last = make_error(Errc::kNotFound, "resolve " + host + ": no address");
  // In getaddrinfo's order (RFC 6724), as a client without Happy Eyeballs tries them.
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    Endpoint ep;
    std::memcpy(&ep.addr, ai->ai_addr, ai->ai_addrlen);
    ep.len = ai->ai_addrlen;
    ep.text = numeric_address(ai->ai_addr, ai->ai_addrlen);
    auto fd = connect_addr(ai->ai_addr, ai->ai_addrlen, ep.text, deadline);
    if (fd) return Connected{std::move(ep), std::move(*fd)};
    last = fd.error();
    if (last.code == Errc::kTimeout) break;
  }
  return last;
}

Result<Endpoint> find_endpoint(const std::string& host, int port, Clock::time_point deadline) {
  GC_ASSIGN_OR_RETURN(Connected c, connect_first(host, port, deadline));
  return std::move(c.endpoint);
}

Result<UniqueFd> connect_to(const Endpoint& ep, Clock::time_point deadline) {
  return connect_addr(reinterpret_cast<const sockaddr*>(&ep.addr), ep.len, ep.text, deadline);
}

tl::expected<TlsConnection, HandshakeError> handshake(const SslApi& a, const Endpoint& ep,
                                                      const HandshakeSpec& spec,
                                                      Clock::time_point deadline) {
  auto fd = connect_to(ep, deadline);
  if (!fd) return tl::unexpected(HandshakeError{HandshakeFailure::kNetwork, fd.error()});
  return handshake_on(a, std::move(*fd), spec, deadline);
}

tl::expected<TlsConnection, HandshakeError> handshake_on(const SslApi& a, UniqueFd fd,
                                                         const HandshakeSpec& spec,
                                                         Clock::time_point deadline) {
  auto fail = [](HandshakeFailure kind, Error e) {
    return tl::unexpected(HandshakeError{kind, std::move(e)});
  };
  TlsConnection c{UniqueFd(), SslCtxPtr(nullptr, a.ssl_ctx_free), SslPtr(nullptr, a.ssl_free)};
  c.ctx.reset(a.ssl_ctx_new(a.tls_client_method()));
  if (!c.ctx)
    return fail(HandshakeFailure::kNetwork,
                make_error(Errc::kInternal, "tls context: " + take_ssl_error(a)));
  // Level 0 and the legacy option let us see everything a server offers, however weak: the
  // probe reports what the server accepts, it does not protect data.
  a.grade_ssl_ctx_set_security_level(c.ctx.get(), 0);
  a.grade_ssl_ctx_set_options(c.ctx.get(), SSL_OP_LEGACY_SERVER_CONNECT);
  if (spec.version) {
    // SSL_CTX_set_min/max_proto_version are these SSL_CTX_ctrl calls behind macros.
    a.grade_ssl_ctx_ctrl(c.ctx.get(), SSL_CTRL_SET_MIN_PROTO_VERSION, *spec.version, nullptr);
    a.grade_ssl_ctx_ctrl(c.ctx.get(), SSL_CTRL_SET_MAX_PROTO_VERSION, *spec.version, nullptr);
  }
  if (a.grade_ssl_ctx_set_cipher_list(c.ctx.get(), spec.cipher_list.c_str()) != 1) {
    return fail(HandshakeFailure::kRefused,
                make_error(Errc::kInvalidArgument, "cipher list: " + take_ssl_error(a)));
  }
  if (!spec.ciphersuites.empty() &&
      a.grade_ssl_ctx_set_ciphersuites(c.ctx.get(), spec.ciphersuites.c_str()) != 1) {
    return fail(HandshakeFailure::kRefused,
                make_error(Errc::kInvalidArgument, "ciphersuites: " + take_ssl_error(a)));
  }
  c.fd = std::move(fd);
  c.ssl.reset(a.ssl_new(c.ctx.get()));
  if (!c.ssl || a.ssl_set_fd(c.ssl.get(), c.fd.get()) != 1) {
    return fail(HandshakeFailure::kNetwork,
                make_error(Errc::kInternal, "tls session: " + take_ssl_error(a)));
  }
  if (!spec.sni.empty()) {
    // SSL_set_tlsext_host_name is this SSL_ctrl call behind a macro.
    void* name = const_cast<char*>(spec.sni.c_str());
    if (a.ssl_ctrl(c.ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name) !=
        1) {
      return fail(HandshakeFailure::kNetwork,
                  make_error(Errc::kInvalidArgument, "sni " + spec.sni + ": " + take_ssl_error(a)));
    }
  }
  SSL* ssl = c.ssl.get();
  auto r = drive(a, ssl, c.fd.get(), "tls handshake", deadline, [&] { return a.ssl_connect(ssl); });
  if (!r) {
    // A timeout is no answer; an alert, a close or a reset after our ClientHello is the server
    // declining what we offered (some servers reset instead of sending an alert).
    bool network = r.error().code == Errc::kTimeout;
    return fail(network ? HandshakeFailure::kNetwork : HandshakeFailure::kRefused, r.error());
  }
  if (*r == 0) {
    return fail(HandshakeFailure::kRefused,
                make_error(Errc::kUnavailable, "tls handshake: connection closed by the server"));
  }
  return c;
}

Result<std::string> exchange(const SslApi& a, TlsConnection& c, const std::string& data,
                             const std::string& stop, std::size_t max_bytes,
                             Clock::time_point deadline) {
  SSL* ssl = c.ssl.get();
  std::size_t sent = 0;
  while (sent < data.size()) {
    GC_ASSIGN_OR_RETURN(int n, drive(a, ssl, c.fd.get(), "tls write", deadline, [&] {
                          return a.grade_ssl_write(ssl, data.data() + sent,
                                                   static_cast<int>(data.size() - sent));
                        }));
    if (n == 0) return make_error(Errc::kUnavailable, "tls write: connection closed by the server");
    sent += static_cast<std::size_t>(n);
  }
  std::string got;
  char buf[4096];
  while (got.size() < max_bytes && got.find(stop) == std::string::npos) {
    auto n = drive(a, ssl, c.fd.get(), "tls read", deadline,
                   [&] { return a.grade_ssl_read(ssl, buf, sizeof buf); });
    if (!n) {
      // A server that closes without close_notify after a complete answer is common (nginx
      // with `Connection: close` does it properly, others not): keep what arrived.
      if (!got.empty() && n.error().code != Errc::kTimeout) break;
      return n.error();
    }
    if (*n == 0) break;
    got.append(buf, static_cast<std::size_t>(*n));
  }
  return got;
}

std::vector<X509Ptr> peer_chain(const SslApi& a, SSL* ssl) {
  std::vector<X509Ptr> certs;
  // On the client side the stack includes the leaf, first. The SSL owns it; we take references.
  const auto* chain = reinterpret_cast<const OPENSSL_STACK*>(a.ssl_get_peer_cert_chain(ssl));
  for (int i = 0; chain != nullptr && i < a.sk_num(chain); ++i) {
    auto* x = static_cast<X509*>(a.sk_value(chain, i));
    if (x != nullptr && a.x509_up_ref(x) == 1) certs.emplace_back(x, a.x509_free);
  }
  return certs;
}

SigpipeGuard::SigpipeGuard() {
  sigset_t pipe_only;
  ::sigemptyset(&pipe_only);
  ::sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
  sigset_t pending;
  ::sigpending(&pending);
  was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
}

SigpipeGuard::~SigpipeGuard() {
  sigset_t pending;
  ::sigpending(&pending);
  if (!was_pending_ && ::sigismember(&pending, SIGPIPE) == 1) {
    sigset_t pipe_only;
    ::sigemptyset(&pipe_only);
    ::sigaddset(&pipe_only, SIGPIPE);
    timespec zero{};
    ::sigtimedwait(&pipe_only, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace gc::tls

// SPDX-License-Identifier: MIT
// tls/connection.h: TLS client connections for looking at servers (not for sending data that
// needs protecting): TCP connections to a resolved address and handshakes on them that accept
// whatever the server offers, each bounded by a deadline. The grading probe (probe.h) and the
// monitor's certificate collector (monitor/tls_metrics.h) use them.
#pragma once

#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "tls/ssl_api.h"

namespace gc::tls {

using Clock = std::chrono::steady_clock;

// One address of the server, found once and reused for every probe connection.
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // "127.0.0.1:443", "[::1]:443".
};

// An open TCP connection and the address it reached.
struct Connected {
  Endpoint endpoint;
  UniqueFd fd;
};

// Resolves host:port and connects to each address in getaddrinfo's order (RFC 6724) until one
// accepts, before `deadline`. Errors: kNotFound (no such name), kUnavailable (refused,
// unreachable: the last address's error, "connect ADDR: ..."), kTimeout ("connect ADDR: timed
// out").
Result<Connected> connect_first(const std::string& host, int port, Clock::time_point deadline);

// connect_first()'s address, for callers that make many connections to it; the connection is
// closed.
Result<Endpoint> find_endpoint(const std::string& host, int port, Clock::time_point deadline);

// A new TCP connection to `ep`. Errors: kUnavailable, kTimeout.
Result<UniqueFd> connect_to(const Endpoint& ep, Clock::time_point deadline);

// A client connection after its handshake. Members are destroyed in reverse order: the SSL
// before its context, both before the socket.
struct TlsConnection {
  UniqueFd fd;
  SslCtxPtr ctx;
  SslPtr ssl;
};

// The knobs of one handshake.
struct HandshakeSpec {
  std::optional<int> version;  // TLS1_VERSION... as both min and max; nullopt: any version.
  std::string cipher_list = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";  // TLS <= 1.2 suites.
  std::string ciphersuites;  // TLS 1.3 suites; "" keeps OpenSSL's default.
  std::string sni;           // "" sends none.
};

// Whether a failed handshake was the server refusing our offer (an alert or a close during the
// handshake: the answer to the probe) or the network failing (refused, timeout: no answer).
enum class HandshakeFailure { kRefused, kNetwork };

struct HandshakeError {
  HandshakeFailure kind = HandshakeFailure::kRefused;
  Error error;
};

// Runs one client handshake on the connected socket `fd` with a permissive context (security
// level 0, legacy server connect allowed, no certificate verification: callers verify apart,
// see chain_check.h, so that a bad chain can still be described). Blocks until done or
// `deadline` (errors then: kTimeout "tls handshake: timed out"). Thread-safe.
tl::expected<TlsConnection, HandshakeError> handshake_on(const SslApi& a, UniqueFd fd,
                                                         const HandshakeSpec& spec,
                                                         Clock::time_point deadline);

// connect_to(ep) then handshake_on() it.
tl::expected<TlsConnection, HandshakeError> handshake(const SslApi& a, const Endpoint& ep,
                                                      const HandshakeSpec& spec,
                                                      Clock::time_point deadline);

// The certificates the server presented, leaf first, each with its own reference (they outlive
// the connection). Empty before a handshake or when the server sent none.
std::vector<X509Ptr> peer_chain(const SslApi& a, SSL* ssl);

// Writes all of `data`, then reads until `stop` is found in what was read, the peer closes, or
// `max_bytes` arrived. Errors: kTimeout, kUnavailable, kIo.
Result<std::string> exchange(const SslApi& a, TlsConnection& c, const std::string& data,
                             const std::string& stop, std::size_t max_bytes,
                             Clock::time_point deadline);

// Blocks SIGPIPE in this thread while alive: OpenSSL writes with write(2), and a server that
// resets the connection would otherwise kill the process. A SIGPIPE raised meanwhile is dropped.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_mask_{};
  bool was_pending_ = false;
};

}  // namespace gc::tls

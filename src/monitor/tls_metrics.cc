// SPDX-License-Identifier: MIT
#include "monitor/tls_metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "base/unique_fd.h"
#include "tls/ssl_api.h"
#include "tls/x509_fields.h"

namespace gc::monitor {
namespace {

using tls::SslApi;
using tls::X509Ptr;
using Clock = std::chrono::steady_clock;

// A fullchain.pem is a few KiB; the cap keeps a mistyped path (a log file, /dev/zero behind a
// symlink) from being read into memory whole.
constexpr off_t kMaxPemBytes = 1 << 20;

// The oldest error on this thread's OpenSSL queue, as its reason text, then empties the queue
// so that the next call on this thread does not see stale entries.
std::string take_ssl_error(const SslApi& a) {
  unsigned long e = a.err_get_error();
  a.err_clear_error();
  if (e == 0) return "unknown error";
  if (const char* reason = a.err_reason_error_string(e)) return reason;
  char buf[256];
  a.err_error_string_n(e, buf, sizeof buf);
  return buf;
}

// OpenSSL writes to the socket with write(2), so a peer that resets the connection turns the
// next write into SIGPIPE, which kills any process that has not ignored it (the CLI and the
// test binaries do not all ignore it). As libpq does: block SIGPIPE in this thread while we talk
// TLS, and discard one raised meanwhile. SIGPIPE from write(2) is sent to the writing thread.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe_only = sigpipe_set();
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
    sigset_t pending;
    ::sigpending(&pending);
    was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    sigset_t pending;
    ::sigpending(&pending);
    if (!was_pending_ && ::sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe_only = sigpipe_set();
      timespec zero{};
      ::sigtimedwait(&pipe_only, nullptr, &zero);
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  static sigset_t sigpipe_set() {
    sigset_t s;
    ::sigemptyset(&s);
    ::sigaddset(&s, SIGPIPE);
    return s;
  }
  sigset_t old_mask_{};
  bool was_pending_ = false;
};

bool is_ip_literal(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// As browsers check it: subjectAltName only (the CN fallback is deprecated by RFC 6125 and
// ignored by Chrome and Firefox, so a CN-only certificate is a real outage), and "*" only as
// the whole leftmost label.
bool name_matches(const SslApi& a, X509* leaf, const std::string& name) {
  if (is_ip_literal(name)) return a.x509_check_ip_asc(leaf, name.c_str(), 0) == 1;
  unsigned flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
  return a.x509_check_host(leaf, name.data(), name.size(), flags, nullptr) == 1;
}

// Verifies certs[0] through certs[1..] up to the trust store at the current time, for the
// TLS server purpose. The host name is checked apart (name_matches above).
void verify_chain(const SslApi& a, const std::vector<X509Ptr>& certs, const std::string& ca_file,
                  CertFacts& f) {
  tls::StorePtr store(a.store_new(), a.store_free);
  tls::StackPtr untrusted(a.sk_new_null(), a.sk_free);
  tls::StoreCtxPtr ctx(a.store_ctx_new(), a.store_ctx_free);
  if (!store || !untrusted || !ctx) {
    f.verify_error = "out of memory";
    a.err_clear_error();
    return;
  }
  int loaded = ca_file.empty() ? a.store_set_default_paths(store.get())
                               : a.store_load_file(store.get(), ca_file.c_str());
  if (loaded != 1) {
    f.verify_error =
        "cannot load " +
        (ca_file.empty() ? std::string("the system trust store") : "ca file " + ca_file) + ": " +
        take_ssl_error(a);
    return;
  }
  // The stack borrows the certificates; `certs` keeps owning them.
  for (size_t i = 1; i < certs.size(); ++i) a.sk_push(untrusted.get(), certs[i].get());
  auto* chain = reinterpret_cast<STACK_OF(X509)*>(untrusted.get());
  if (a.store_ctx_init(ctx.get(), store.get(), certs[0].get(), chain) != 1) {
    f.verify_error = "cannot start verification: " + take_ssl_error(a);
    return;
  }
  a.store_ctx_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  f.chain_valid = a.verify_cert(ctx.get()) == 1;
  if (!f.chain_valid) {
    f.verify_error = a.verify_cert_error_string(a.store_ctx_get_error(ctx.get()));
  }
  a.err_clear_error();
}

// Fills everything but source, error and name_matches from certs (leaf first, at least one).
void describe(const SslApi& a, const std::vector<X509Ptr>& certs, const TlsOptions& o,
              CertFacts& f) {
  X509* leaf = certs[0].get();
  f.ok = true;
  f.subject_cn = tls::x509_name_entry(a, a.x509_get_subject_name(leaf), NID_commonName);
  f.issuer_cn = tls::x509_name_entry(a, a.x509_get_issuer_name(leaf), NID_commonName);
  f.dns_names = tls::x509_dns_names(a, leaf);
  f.not_before = tls::x509_unix_seconds(a, a.x509_get0_not_before(leaf));
  f.not_after = tls::x509_unix_seconds(a, a.x509_get0_not_after(leaf));
  f.chain_not_after = f.not_after;
  for (const X509Ptr& c : certs) {
    f.chain_not_after =
        std::min(f.chain_not_after, tls::x509_unix_seconds(a, a.x509_get0_not_after(c.get())));
  }
  verify_chain(a, certs, o.ca_file, f);
}

Result<std::string> read_pem_file(const std::string& path) {
  // O_NONBLOCK: a FIFO at the path must not hang the collector in open(2).
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDONLY | O_NONBLOCK));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat", path, errno);
  if (!S_ISREG(st.st_mode))
    return make_error(Errc::kInvalidArgument, path + ": not a regular file");
  if (st.st_size > kMaxPemBytes) {
    return make_error(Errc::kInvalidArgument, path + ": too large for a certificate file");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read", path, errno);
    if (n == 0) break;  // Truncated while we read it.
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return text;
}

Result<std::vector<X509Ptr>> parse_pem(const SslApi& a, const std::string& text,
                                       const std::string& path) {
  std::vector<X509Ptr> certs;
  tls::BioPtr bio(a.bio_new_mem_buf(text.data(), static_cast<int>(text.size())), a.bio_free);
  if (!bio) return make_error(Errc::kInternal, path + ": out of memory");
  // PEM_read_bio_X509 skips blocks of other types (a private key in a combined file) and fails
  // at the end of the input, leaving "no start line" on the error queue.
  while (X509* x = a.pem_read_bio_x509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(x, a.x509_free);
  }
  a.err_clear_error();
  if (certs.empty()) return make_error(Errc::kCorrupt, path + ": no PEM certificate found");
  return certs;
}

struct HostPort {
  std::string host;
  std::string port;
};

Result<HostPort> split_host_port(const std::string& hp) {
  HostPort out;
  size_t colon;
  if (!hp.empty() && hp[0] == '[') {
    size_t close = hp.find(']');
    colon = close == std::string::npos ? close : close + 1;
    if (colon != std::string::npos) out.host = hp.substr(1, close - 1);
  } else {
    colon = hp.find(':');
    if (colon != std::string::npos && hp.find(':', colon + 1) == std::string::npos) {
      out.host = hp.substr(0, colon);
    }
  }
  if (colon < hp.size() && hp[colon] == ':') out.port = hp.substr(colon + 1);
  bool digits =
      !out.port.empty() && out.port.size() <= 5 &&
      std::all_of(out.port.begin(), out.port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (out.host.empty() || !digits) {
    return make_error(Errc::kInvalidArgument,
                      "endpoint \"" + hp + "\": expected host:port or [ipv6]:port");
  }
  return out;
}

std::string millis(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

// Waits until `fd` is ready for `events` or `deadline` passes. Errors: kTimeout, kIo.
Status wait_ready(int fd, short events, Clock::time_point deadline, const std::string& what,
                  std::chrono::milliseconds budget) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return make_error(Errc::kTimeout, what + ": timed out after " + millis(budget));
    }
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return ok();
    if (r < 0 && errno != EINTR) return sys_error("poll", what, errno);
  }
}

std::string numeric_address(const addrinfo& ai) {
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (::getnameinfo(ai.ai_addr, ai.ai_addrlen, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return ai.ai_family == AF_INET6 ? "[" + std::string(host) + "]:" + port
                                  : std::string(host) + ":" + port;
}

// Tries each address in turn, as a browser without Happy Eyeballs does, within one deadline.
// Errors: the last address's (kUnavailable for refused), kTimeout, kNotFound for a name that
// does not resolve.
Result<UniqueFd> connect_tcp(const HostPort& hp, Clock::time_point deadline,
                             std::chrono::milliseconds budget) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &list);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    return make_error(rc == EAI_NONAME ? Errc::kNotFound : Errc::kUnavailable,
                      "resolve " + hp.host + ": " + why);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, ::freeaddrinfo);
  Error last = make_error(Errc::kNotFound, "resolve " + hp.host + ": no address");
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    std::string addr = numeric_address(*ai);
    UniqueFd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return sys_error("socket", addr, errno);
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) {
      last = sys_error("connect", addr, errno);
      continue;
    }
    GC_TRY(wait_ready(fd.get(), POLLOUT, deadline, "connect " + addr, budget));
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) return fd;
    last = sys_error("connect", addr, err);
  }
  return last;
}

// The handshake on the connected non-blocking socket, driven by poll until `deadline`.
// Returns the chain the server presented, leaf first. Errors: kTimeout, kUnavailable.
Result<std::vector<X509Ptr>> handshake(const SslApi& a, int fd, const std::string& sni,
                                       Clock::time_point deadline,
                                       std::chrono::milliseconds budget) {
  tls::SslCtxPtr ctx(a.ssl_ctx_new(a.tls_client_method()), a.ssl_ctx_free);
  if (!ctx) return make_error(Errc::kInternal, "tls context: " + take_ssl_error(a));
  // Verification is ours, after the handshake (verify_chain): with SSL_VERIFY_NONE, the default,
  // a bad chain still completes the handshake, so its certificates can be reported.
  tls::SslPtr ssl(a.ssl_new(ctx.get()), a.ssl_free);
  if (!ssl || a.ssl_set_fd(ssl.get(), fd) != 1) {
    return make_error(Errc::kInternal, "tls session: " + take_ssl_error(a));
  }
  if (!sni.empty() && !is_ip_literal(sni)) {
    // SSL_set_tlsext_host_name is this SSL_ctrl call behind a macro.
    void* name = const_cast<char*>(sni.c_str());
    if (a.ssl_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name) != 1) {
      return make_error(Errc::kInvalidArgument, "sni " + sni + ": " + take_ssl_error(a));
    }
  }
  for (;;) {
    a.err_clear_error();
    errno = 0;
    int r = a.ssl_connect(ssl.get());
    int saved_errno = errno;
    if (r == 1) break;
    int e = a.ssl_get_error(ssl.get(), r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      GC_TRY(wait_ready(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "tls handshake",
                        budget));
      continue;
    }
    if (e == SSL_ERROR_SSL) {
      return make_error(Errc::kUnavailable, "tls handshake: " + take_ssl_error(a));
    }
    a.err_clear_error();
    if (e == SSL_ERROR_SYSCALL && saved_errno != 0)
      return sys_error("tls handshake", "", saved_errno);
    return make_error(Errc::kUnavailable, "tls handshake: connection closed by the server");
  }
  std::vector<X509Ptr> certs;
  // On the client side the stack includes the leaf, first. SSL owns it; we take references so
  // that the certificates outlive the session.
  const auto* chain = reinterpret_cast<const OPENSSL_STACK*>(a.ssl_get_peer_cert_chain(ssl.get()));
  for (int i = 0; chain != nullptr && i < a.sk_num(chain); ++i) {
    auto* x = static_cast<X509*>(a.sk_value(chain, i));
    if (x != nullptr && a.x509_up_ref(x) == 1) certs.emplace_back(x, a.x509_free);
  }
  // A polite close_notify; non-blocking, so a server that does not read cannot stall us.
  a.ssl_shutdown(ssl.get());
  a.err_clear_error();
  if (certs.empty())
    return make_error(Errc::kUnavailable, "tls handshake: no certificate presented");
  return certs;
}

}  // namespace

CertFacts inspect_cert_file(const std::string& path, const std::string& expected_name,
                            const TlsOptions& o) {
  CertFacts f;
  f.source = "file:" + path;
  auto api = tls::ssl_api();
  if (!api) {
    f.error = api.error().message;
    return f;
  }
  const SslApi& a = **api;
  auto text = read_pem_file(path);
  if (!text) {
    f.error = text.error().message;
    return f;
  }
  auto certs = parse_pem(a, *text, path);
  if (!certs) {
    f.error = certs.error().message;
    return f;
  }
  describe(a, *certs, o, f);
  f.name_matches = expected_name.empty() || name_matches(a, (*certs)[0].get(), expected_name);
  return f;
}

CertFacts inspect_endpoint(const std::string& host_port, const std::string& sni,
                           const TlsOptions& o) {
  CertFacts f;
  f.source = "endpoint:" + host_port;
  auto fail = [&](const Error& e) {
    f.error = host_port + ": " + e.message;
    return f;
  };
  auto api = tls::ssl_api();
  if (!api) return fail(api.error());
  const SslApi& a = **api;
  auto hp = split_host_port(host_port);
  if (!hp) {
    f.error = hp.error().message;
    return f;
  }
  const std::string& name = sni.empty() ? hp->host : sni;
  auto deadline = Clock::now() + o.timeout;
  auto fd = connect_tcp(*hp, deadline, o.timeout);
  if (!fd) return fail(fd.error());
  SigpipeGuard no_sigpipe;
  auto certs = handshake(a, fd->get(), name, deadline, o.timeout);
  if (!certs) return fail(certs.error());
  describe(a, *certs, o, f);
  f.name_matches = name_matches(a, (*certs)[0].get(), name);
  return f;
}

CertFacts inspect_target(const TlsTarget& target, const TlsOptions& o) {
  if (!target.file.empty()) return inspect_cert_file(target.file, target.expected_name, o);
  if (!target.endpoint.empty()) return inspect_endpoint(target.endpoint, target.sni, o);
  CertFacts f;
  f.error = "tls target names neither a file nor an endpoint";
  return f;
}

void add_tls_metrics(const std::vector<CertFacts>& facts, int64_t now_s, MetricSet& out) {
  for (const CertFacts& f : facts) {
    Labels by_source = {{"source", f.source}};
    out.gauge("groundctl_tls_probe_success",
              "Whether the certificate file was read or the TLS handshake succeeded.", by_source,
              f.ok ? 1 : 0);
    bool valid =
        f.ok && f.chain_valid && f.name_matches && f.not_before <= now_s && now_s < f.not_after;
    out.gauge("groundctl_tls_cert_valid",
              "Whether the certificate is in its validity period, chains to a trusted root and "
              "matches the expected name.",
              by_source, valid ? 1 : 0);
    if (!f.ok) continue;
    out.gauge("groundctl_tls_cert_expiry_timestamp_seconds",
              "The notAfter time of the leaf certificate, in unix seconds.",
              {{"source", f.source}, {"subject", f.subject_cn}, {"issuer", f.issuer_cn}},
              static_cast<double>(f.not_after));
    out.gauge("groundctl_tls_cert_not_before_timestamp_seconds",
              "The notBefore time of the leaf certificate, in unix seconds.", by_source,
              static_cast<double>(f.not_before));
    out.gauge("groundctl_tls_chain_expiry_timestamp_seconds",
              "The earliest notAfter time over the certificate chain, in unix seconds.", by_source,
              static_cast<double>(f.chain_not_after));
  }
}

}  // namespace gc::monitor

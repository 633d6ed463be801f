// SPDX-License-Identifier: MIT
#include "backup/pg_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>

#include "backup/pg_auth.h"
#include "backup/pg_wire.h"
#include "base/check.h"
#include "base/unique_fd.h"
#include "tls/connection.h"
#include "tls/ssl_api.h"

namespace gc::backup {
namespace {

std::string describe_target(const PgTarget& t) {
  std::string where = t.host.starts_with('/') ? t.host : t.host + ":" + std::to_string(t.port);
  return "database " + t.dbname + " on " + where + " as role " + t.user;
}

// The raw system calls change only the calling thread's credentials; glibc's seteuid() would
// switch every thread of the process (the daemon's event loop included) for the duration.
int thread_setegid(gid_t gid) {
  return static_cast<int>(
      ::syscall(SYS_setresgid, static_cast<gid_t>(-1), gid, static_cast<gid_t>(-1)));
}
int thread_seteuid(uid_t uid) {
  return static_cast<int>(
      ::syscall(SYS_setresuid, static_cast<uid_t>(-1), uid, static_cast<uid_t>(-1)));
}

// Switches this thread's effective uid/gid for the duration of a connect(), then back. Peer
// authentication reads the credentials the socket captured at connect time, so nothing else
// runs as that user, and no other thread ever does.
class EffectiveUser {
 public:
  static Result<EffectiveUser> become(const std::optional<Credentials>& creds) {
    EffectiveUser e;
    if (!creds) return e;
    if (thread_setegid(creds->gid) != 0) return tl::unexpected(sys_error("setegid", "", errno));
    if (thread_seteuid(creds->uid) != 0) {
      int err = errno;
      // Back to our own group; a failure here would leave the thread half switched.
      GC_CHECK(thread_setegid(0) == 0);
      return tl::unexpected(sys_error("seteuid", "", err));
    }
    e.active_ = true;
    return e;
  }
  EffectiveUser(EffectiveUser&& o) noexcept : active_(std::exchange(o.active_, false)) {}
  EffectiveUser& operator=(EffectiveUser&&) = delete;
  ~EffectiveUser() {
    if (active_) {
      // Back to root; cannot fail for a process whose real and saved uid are 0, and carrying on
      // as the other user would be worse than stopping.
      GC_CHECK(thread_seteuid(0) == 0);
      GC_CHECK(thread_setegid(0) == 0);
    }
  }

 private:
  EffectiveUser() = default;
  bool active_ = false;
};

}  // namespace

std::optional<Credentials> peer_os_user(const PgTarget& target) {
  if (::geteuid() != 0 || !target.host.starts_with('/') || !target.password.empty()) {
    return std::nullopt;
  }
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwnam_r(target.user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  if (found->pw_uid == 0) return std::nullopt;  // Already root: nothing to switch.
  return Credentials{found->pw_uid, found->pw_gid, {}};
}

// The socket, TLS state and protocol state of one connection. Members are destroyed in reverse
// order: the SSL before its context, both before the socket.
class PgSession {
 public:
  explicit PgSession(UniqueFd fd) : fd_(std::move(fd)) {}
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  ~PgSession() {
    // Terminate lets the server end the backend at once rather than log an unexpected EOF.
    if (!broken_) (void)send(wire::terminate_message());
    if (ssl_ && !broken_) {
      tls::SigpipeGuard guard;
      api_->ssl_shutdown(ssl_.get());
    }
  }

  // Asks for TLS (TCP only) and runs the handshake when the server agrees. Errors: kUnavailable.
  Status negotiate_tls();
  Status send(std::string_view bytes);
  // The next whole message. A broken stream marks the session broken. Errors: kUnavailable (the
  // server closed the connection), kTimeout, kCorrupt, kIo.
  Result<wire::Message> receive();
  // Limits each send and receive (connection setup) or lifts the limit (zero).
  Status set_timeout(std::chrono::seconds t);

  bool broken() const { return broken_; }
  void mark_broken() { broken_ = true; }
  int server_version = 0;

 private:
  Result<std::size_t> read_some(char* buf, std::size_t len);
  Error lost(Error e) {
    broken_ = true;
    return e;
  }

  UniqueFd fd_;
  const tls::SslApi* api_ = nullptr;  // Set with ssl_.
  tls::SslCtxPtr ctx_{nullptr, nullptr};
  tls::SslPtr ssl_{nullptr, nullptr};
  wire::MessageReader reader_;
  bool broken_ = false;
};

Status PgSession::set_timeout(std::chrono::seconds t) {
  timeval tv{static_cast<time_t>(t.count()), 0};
  for (int opt : {SO_RCVTIMEO, SO_SNDTIMEO}) {
    if (::setsockopt(fd_.get(), SOL_SOCKET, opt, &tv, sizeof tv) != 0) {
      return sys_error("setsockopt", "SO_RCVTIMEO", errno);
    }
  }
  return {};
}

Status PgSession::negotiate_tls() {
  GC_TRY(send(wire::ssl_request()));
  // Exactly one byte: anything the server sent after 'S' and before the handshake would be
  // plain text injected into the TLS session (CVE-2021-23222).
  char answer = 0;
  GC_ASSIGN_OR_RETURN(std::size_t n, read_some(&answer, 1));
  if (n == 1 && answer == 'N') return {};
  if (n != 1 || answer != 'S') {
    return lost(make_error(Errc::kUnavailable, "the server refused the SSLRequest"));
  }
  auto loaded = tls::ssl_api();
  if (!loaded) return lost(loaded.error());
  const tls::SslApi& a = **loaded;
  api_ = &a;
  ctx_ = tls::SslCtxPtr(a.ssl_ctx_new(a.tls_client_method()), a.ssl_ctx_free);
  if (!ctx_) return lost(make_error(Errc::kInternal, "tls context: " + tls::take_ssl_error(a)));
  // As libpq's default ssl_min_protocol_version. The certificate is not verified (the context's
  // default, SSL_VERIFY_NONE): that is libpq's sslmode=prefer, which groundctl used before.
  a.pg_ssl_ctx_ctrl(ctx_.get(), SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  ssl_ = tls::SslPtr(a.ssl_new(ctx_.get()), a.ssl_free);
  if (!ssl_ || a.ssl_set_fd(ssl_.get(), fd_.get()) != 1) {
    return lost(make_error(Errc::kInternal, "tls session: " + tls::take_ssl_error(a)));
  }
  tls::SigpipeGuard guard;
  a.err_clear_error();
  int r = a.ssl_connect(ssl_.get());
  if (r != 1) {
    int e = a.ssl_get_error(ssl_.get(), r);
    std::string why = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE
                          ? "timed out"
                          : tls::take_ssl_error(a);
    return lost(make_error(Errc::kUnavailable, "tls handshake: " + why));
  }
  return {};
}

Status PgSession::send(std::string_view bytes) {
  if (broken_) return make_error(Errc::kUnavailable, "the connection was lost earlier");
  while (!bytes.empty()) {
    std::size_t n = 0;
    if (ssl_) {
      tls::SigpipeGuard guard;
      api_->err_clear_error();
      int r = api_->pg_ssl_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size()));
      if (r <= 0) {
        int e = api_->ssl_get_error(ssl_.get(), r);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
          return lost(make_error(Errc::kTimeout, "send: timed out"));
        }
        return lost(make_error(Errc::kUnavailable, "send: " + tls::take_ssl_error(*api_)));
      }
      n = static_cast<std::size_t>(r);
    } else {
      // MSG_NOSIGNAL: a server gone away is an error here, not SIGPIPE for the process.
      ssize_t r = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return lost(make_error(Errc::kTimeout, "send: timed out"));
      }
      if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) {
        return lost(make_error(Errc::kUnavailable, "the server closed the connection"));
      }
      if (r < 0) return lost(sys_error("send", "", errno));
      n = static_cast<std::size_t>(r);
    }
    bytes.remove_prefix(n);
  }
  return {};
}

Result<std::size_t> PgSession::read_some(char* buf, std::size_t len) {
  auto closed = [this] {
    return lost(make_error(Errc::kUnavailable, "the server closed the connection"));
  };
  for (;;) {
    if (ssl_) {
      api_->err_clear_error();
      errno = 0;
      int r = api_->pg_ssl_read(ssl_.get(), buf, static_cast<int>(len));
      if (r > 0) return static_cast<std::size_t>(r);
      int saved = errno;
      int e = api_->ssl_get_error(ssl_.get(), r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (saved == EINTR) continue;
        return lost(make_error(Errc::kTimeout, "receive: timed out"));
      }
      if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && saved == 0)) return closed();
      if (e == SSL_ERROR_SYSCALL) return lost(sys_error("receive", "", saved));
      return lost(make_error(Errc::kUnavailable, "receive: " + tls::take_ssl_error(*api_)));
    }
    ssize_t r = ::recv(fd_.get(), buf, len, 0);
    if (r > 0) return static_cast<std::size_t>(r);
    if (r == 0) return closed();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return lost(make_error(Errc::kTimeout, "receive: timed out"));
    }
    return lost(sys_error("receive", "", errno));
  }
}

Result<wire::Message> PgSession::receive() {
  if (broken_) return make_error(Errc::kUnavailable, "the connection was lost earlier");
  for (;;) {
    auto m = reader_.next();
    if (!m) return lost(Error{m.error().code, "protocol error: " + m.error().message});
    if (*m) return std::move(**m);
    std::array<char, 64 * 1024> buf;
    auto n = read_some(buf.data(), buf.size());
    if (!n && reader_.buffered() > 0) {
      return Error{n.error().code, n.error().message + " in the middle of a message"};
    }
    if (!n) return n.error();
    reader_.feed({buf.data(), *n});
  }
}

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);

Result<UniqueFd> connect_unix(const PgTarget& target) {
  std::string path = target.host + "/.s.PGSQL." + std::to_string(target.port);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return make_error(Errc::kInvalidArgument, "socket path " + path + " is too long");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket", path, errno);
  // Bounds connect() too: a server whose listen backlog is full would block it.
  timeval tv{kConnectTimeout.count(), 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc = 0;
  {
    GC_ASSIGN_OR_RETURN(EffectiveUser as_user, EffectiveUser::become(target.os_user));
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  }
  if (rc != 0) {
    int err = errno;
    Error e = sys_error("connect", path, err);
    if (err == ENOENT || err == ECONNREFUSED) e.message += " (is the server running?)";
    return e;
  }
  return fd;
}

Result<UniqueFd> connect_tcp(const PgTarget& target) {
  GC_ASSIGN_OR_RETURN(tls::Connected c, tls::connect_first(target.host, target.port,
                                                           tls::Clock::now() + kConnectTimeout));
  int fd = c.fd.get();
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return sys_error("fcntl", c.endpoint.text, errno);
  }
  // As libpq: no Nagle delay for small protocol messages, and keepalives so that a server that
  // vanished from the network ends a session instead of hanging it.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  return std::move(c.fd);
}

std::string random_nonce() {
  // randombytes_buf needs sodium_init(); it is idempotent and thread-safe.
  static const int rc = sodium_init();
  GC_CHECK(rc >= 0);
  std::array<unsigned char, 18> raw{};
  randombytes_buf(raw.data(), raw.size());
  std::array<char, sodium_base64_ENCODED_LEN(18, sodium_base64_VARIANT_ORIGINAL)> text{};
  sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  return text.data();
}

// StartupMessage, authentication, then the server's parameters up to ReadyForQuery.
Status start_session(PgSession& s, const PgTarget& target) {
  GC_TRY(s.send(wire::startup_message({{"user", target.user},
                                       {"database", target.dbname},
                                       {"application_name", "groundctl"},
                                       {"client_encoding", "UTF8"}})));
  wire::Authenticator auth(target.user, target.password, random_nonce());
  for (;;) {
    GC_ASSIGN_OR_RETURN(wire::Message m, s.receive());
    switch (m.type) {
      case 'R': {
        auto req = wire::parse_auth(m.body);
        if (!req) {
          s.mark_broken();
          return req.error();
        }
        auto reply = auth.reply(*req);
        if (!reply) {
          s.mark_broken();
          return reply.error();
        }
        if (!reply->empty()) GC_TRY(s.send(*reply));
        break;
      }
      case 'E':
        s.mark_broken();
        return make_error(Errc::kUnavailable, wire::parse_error(m.body).text);
      case 'S': {
        GC_ASSIGN_OR_RETURN(auto param, wire::parse_parameter_status(m.body));
        if (param.first == "server_version") {
          s.server_version = wire::parse_server_version(param.second);
        }
        break;
      }
      case 'K':  // BackendKeyData: for cancel requests, which we do not send.
      case 'N':  // Notices are not for the terminal.
        break;
      case 'Z':
        return {};
      default:
        s.mark_broken();
        return make_error(Errc::kCorrupt, std::string("protocol error: unexpected message '") +
                                              m.type + "' during startup");
    }
  }
}

Result<std::unique_ptr<PgSession>> open_session(const PgTarget& target) {
  bool is_unix = target.host.starts_with('/');
  GC_ASSIGN_OR_RETURN(UniqueFd fd, is_unix ? connect_unix(target) : connect_tcp(target));
  auto s = std::make_unique<PgSession>(std::move(fd));
  GC_TRY(s->set_timeout(kConnectTimeout));
  if (!is_unix) GC_TRY(s->negotiate_tls());
  GC_TRY(start_session(*s, target));
  // Queries may run long (count(*) of a big table); the monitor bounds its own with
  // statement_timeout, and a server that goes away closes the socket or trips keepalives.
  GC_TRY(s->set_timeout(std::chrono::seconds(0)));
  return s;
}

// Keeps the first error of a query; the rest (a failed COMMIT after it...) add nothing.
void keep_first(std::optional<Error>& first, Error e) {
  if (!first) first = std::move(e);
}

}  // namespace

PgConnection::PgConnection(std::unique_ptr<PgSession> session, std::string describe)
    : session_(std::move(session)), describe_(std::move(describe)) {}
PgConnection::PgConnection(PgConnection&&) noexcept = default;
PgConnection& PgConnection::operator=(PgConnection&&) noexcept = default;
PgConnection::~PgConnection() = default;

int PgConnection::server_version() const { return session_->server_version; }

Result<PgConnection> PgConnection::connect(const PgTarget& target) {
  std::string describe = describe_target(target);
  auto s = open_session(target);
  if (!s) {
    // One code for every failure, as with libpq: callers tell "no database to talk to" apart
    // from a failing query by it (a restore drill stops rather than reports a bad restore).
    return make_error(Errc::kUnavailable,
                      "cannot connect to " + describe + ": " + s.error().message);
  }
  return PgConnection(std::move(*s), std::move(describe));
}

Result<PgRows> PgConnection::query(const std::string& sql) {
  auto fail = [this](const Error& e) { return Error{e.code, describe_ + ": " + e.message}; };
  if (auto st = session_->send(wire::query_message(sql)); !st) return fail(st.error());
  PgRows rows;
  bool in_rows = false;
  std::optional<Error> error;
  // Reads up to ReadyForQuery whatever happened, so that the next query starts in step.
  for (;;) {
    auto m = session_->receive();
    if (!m && error) {
      // A FATAL error ("terminating connection due to administrator command") came first.
      return fail(Error{m.error().code, error->message + "; " + m.error().message});
    }
    if (!m) return fail(m.error());
    switch (m->type) {
      case 'T':  // A new result set: PQexec keeps only the last one.
        rows.clear();
        in_rows = true;
        break;
      case 'D': {
        auto row = wire::parse_data_row(m->body);
        if (!row) {
          session_->mark_broken();
          return fail(row.error());
        }
        rows.push_back(std::move(*row));
        break;
      }
      case 'C':  // A command after a SELECT is the last result: no rows.
        if (!in_rows) rows.clear();
        in_rows = false;
        break;
      case 'I':  // An empty query.
        rows.clear();
        break;
      case 'E':
        keep_first(error, Error{Errc::kInternal, wire::parse_error(m->body).text});
        break;
      case 'G':  // COPY FROM STDIN: refuse; the server answers with an error and ReadyForQuery.
        keep_first(error, Error{Errc::kInternal, "COPY is not supported"});
        if (auto st = session_->send(wire::copy_fail_message("COPY is not supported")); !st) {
          return fail(st.error());
        }
        break;
      case 'H':  // COPY TO STDOUT: the data that follows is dropped.
        keep_first(error, Error{Errc::kInternal, "COPY is not supported"});
        break;
      case 'd':
      case 'c':
      case 'N':
      case 'S':
      case 'A':
        break;
      case 'Z':
        if (error) return fail(*error);
        return rows;
      default:
        session_->mark_broken();
        return fail(Error{Errc::kCorrupt, std::string("protocol error: unexpected message '") +
                                              m->type + "' after a query"});
    }
  }
}

Status PgConnection::exec(const std::string& sql) {
  GC_TRY(query(sql));
  return {};
}

std::string PgConnection::quote_identifier(const std::string& name) const {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::string> export_snapshot(PgConnection& conn) {
  GC_TRY(conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
  GC_ASSIGN_OR_RETURN(PgRows rows, conn.query("SELECT pg_export_snapshot()"));
  if (rows.size() != 1 || rows[0].size() != 1 || rows[0][0].empty()) {
    return tl::unexpected(Error{Errc::kInternal, conn.describe() + ": no snapshot id returned"});
  }
  return rows[0][0];
}

Result<std::vector<TableCount>> count_rows(PgConnection& conn) {
  GC_ASSIGN_OR_RETURN(
      PgRows tables,
      conn.query("SELECT n.nspname, c.relname FROM pg_class c "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                 "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' "
                 "ORDER BY 1, 2"));
  std::vector<TableCount> out;
  out.reserve(tables.size());
  for (const auto& t : tables) {
    std::string sql = "SELECT count(*) FROM ONLY " + conn.quote_identifier(t[0]) + "." +
                      conn.quote_identifier(t[1]);
    GC_ASSIGN_OR_RETURN(PgRows n, conn.query(sql));
    TableCount tc{t[0], t[1], 0};
    const std::string& v = n.size() == 1 && n[0].size() == 1 ? n[0][0] : t[1];
    if (std::from_chars(v.data(), v.data() + v.size(), tc.rows).ec != std::errc{}) {
      return tl::unexpected(
          Error{Errc::kInternal, conn.describe() + ": bad row count for " + t[1]});
    }
    out.push_back(std::move(tc));
  }
  return out;
}

std::string PgConnection::quote_literal(const std::string& value) const {
  // libpq's PQescapeLiteral rule: with a backslash, an E'' string with the backslashes doubled,
  // which reads the same whether standard_conforming_strings is on (every supported server's
  // default) or a session turned it off; without one, a plain '' string reads the same either way.
  bool has_backslash = value.find('\\') != std::string::npos;
  std::string out = has_backslash ? "E'" : "'";
  for (char c : value) {
    if (c == '\'' || (c == '\\' && has_backslash)) out += c;
    out += c;
  }
  return out + "'";
}

std::optional<std::string> count_mismatch(const std::vector<TableCount>& want,
                                          const std::vector<TableCount>& got) {
  for (const auto& w : want) {
    auto it = std::find_if(got.begin(), got.end(), [&](const TableCount& g) {
      return g.schema == w.schema && g.table == w.table;
    });
    if (it == got.end()) return "table " + w.schema + "." + w.table + " is missing after restore";
    if (it->rows != w.rows) {
      return "table " + w.schema + "." + w.table + " has " + std::to_string(it->rows) +
             " rows after restore, " + std::to_string(w.rows) + " in the snapshot";
    }
  }
  if (got.size() != want.size()) {
    return "the restore has " + std::to_string(got.size()) + " tables, the snapshot " +
           std::to_string(want.size());
  }
  return std::nullopt;
}

std::string format_server_version(int version) {
  return std::to_string(version / 10000) + "." + std::to_string(version % 10000);
}

}  // namespace gc::backup

// SPDX-License-Identifier: MIT
#include "backup/pg_client.h"

#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <mutex>
#include <optional>

#include "base/check.h"
#include "base/dynamic_library.h"

namespace gc::backup {
namespace {

// libpq, loaded on first use: see base/dynamic_library.h for why it is not linked.
struct LibPq {
  DynamicLibrary lib;
  decltype(&::PQconnectdbParams) connectdbParams = nullptr;
  decltype(&::PQstatus) status = nullptr;
  decltype(&::PQerrorMessage) errorMessage = nullptr;
  decltype(&::PQfinish) finish = nullptr;
  decltype(&::PQexec) exec = nullptr;
  decltype(&::PQresultStatus) resultStatus = nullptr;
  decltype(&::PQclear) clear = nullptr;
  decltype(&::PQntuples) ntuples = nullptr;
  decltype(&::PQnfields) nfields = nullptr;
  decltype(&::PQgetvalue) getvalue = nullptr;
  decltype(&::PQserverVersion) serverVersion = nullptr;
  decltype(&::PQsetNoticeProcessor) setNoticeProcessor = nullptr;
};

Result<const LibPq*> load_libpq() {
  static std::once_flag once;
  static std::optional<LibPq> api;
  static Error failure;
  std::call_once(once, [] {
    auto lib = DynamicLibrary::open("libpq.so.5", "libpq5");
    if (!lib) {
      failure = lib.error();
      return;
    }
    LibPq p{std::move(*lib)};
    Status st = p.lib.bind("PQconnectdbParams", p.connectdbParams);
    if (st) st = p.lib.bind("PQstatus", p.status);
    if (st) st = p.lib.bind("PQerrorMessage", p.errorMessage);
    if (st) st = p.lib.bind("PQfinish", p.finish);
    if (st) st = p.lib.bind("PQexec", p.exec);
    if (st) st = p.lib.bind("PQresultStatus", p.resultStatus);
    if (st) st = p.lib.bind("PQclear", p.clear);
    if (st) st = p.lib.bind("PQntuples", p.ntuples);
    if (st) st = p.lib.bind("PQnfields", p.nfields);
    if (st) st = p.lib.bind("PQgetvalue", p.getvalue);
    if (st) st = p.lib.bind("PQserverVersion", p.serverVersion);
    if (st) st = p.lib.bind("PQsetNoticeProcessor", p.setNoticeProcessor);
    if (!st) {
      failure = st.error();
      return;
    }
    api.emplace(std::move(p));
  });
  if (!api) return tl::unexpected(failure);
  return &*api;
}

// Only valid once a connection exists, which proves libpq loaded.
const LibPq& pq() { return **load_libpq(); }

// libpq's messages span lines ("...failed: No such file\n\tIs the server running..."): errors
// here are one line.
std::string one_line(std::string msg) {
  std::string out;
  for (char c : msg) {
    if (c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += (c == '\n' ? "; " : " ");
      continue;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

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

void PgConnection::Closer::operator()(pg_conn* c) const { pq().finish(c); }

int PgConnection::server_version() const { return pq().serverVersion(conn_.get()); }

Result<PgConnection> PgConnection::connect(const PgTarget& target) {
  GC_ASSIGN_OR_RETURN(const LibPq* api, load_libpq());
  std::string port = std::to_string(target.port);
  std::array<const char*, 9> keys = {"host",
                                     "port",
                                     "user",
                                     "dbname",
                                     "password",
                                     "application_name",
                                     "connect_timeout",
                                     "client_encoding",
                                     nullptr};
  std::array<const char*, 9> values = {target.host.c_str(),
                                       port.c_str(),
                                       target.user.c_str(),
                                       target.dbname.c_str(),
                                       target.password.empty() ? nullptr : target.password.c_str(),
                                       "groundctl",
                                       "10",
                                       "UTF8",
                                       nullptr};
  if (target.password.empty()) {
    // libpq stops at the first null key; move the remaining pairs over the password slot.
    for (size_t i = 4; i + 1 < keys.size(); ++i) {
      keys[i] = keys[i + 1];
      values[i] = values[i + 1];
    }
  }
  PGconn* raw = nullptr;
  {
    GC_ASSIGN_OR_RETURN(EffectiveUser as_user, EffectiveUser::become(target.os_user));
    raw = api->connectdbParams(keys.data(), values.data(), 0);
  }
  PgConnection conn(raw, describe_target(target));
  if (!raw) return tl::unexpected(Error{Errc::kInternal, "libpq: out of memory"});
  // Server NOTICEs ("database ... does not exist, skipping") are not for the terminal.
  api->setNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  if (api->status(raw) != CONNECTION_OK) {
    std::string msg = one_line(api->errorMessage(raw));
    return tl::unexpected(
        Error{Errc::kUnavailable, "cannot connect to " + conn.describe_ + ": " + msg});
  }
  return conn;
}

Result<PgRows> PgConnection::query(const std::string& sql) {
  const LibPq& api = pq();
  auto clear = [&api](PGresult* r) { api.clear(r); };
  std::unique_ptr<PGresult, decltype(clear)> res(api.exec(conn_.get(), sql.c_str()), clear);
  ExecStatusType st = res ? api.resultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = one_line(api.errorMessage(conn_.get()));
    return tl::unexpected(Error{Errc::kInternal, describe_ + ": " + msg});
  }
  PgRows rows;
  int n = api.ntuples(res.get()), cols = api.nfields(res.get());
  rows.reserve(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    std::vector<std::string> row;
    row.reserve(static_cast<size_t>(cols));
    for (int c = 0; c < cols; ++c) row.emplace_back(api.getvalue(res.get(), r, c));
    rows.push_back(std::move(row));
  }
  return rows;
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
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
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

// SPDX-License-Identifier: MIT
// backup/pg_client.h: a small PostgreSQL client (protocol v3, backup/pg_wire.h) for backups, the
// audit and the monitor: connect (also by peer authentication as another OS user), run a query,
// hold an exported snapshot, count rows. Own code rather than libpq, which mapped ~22 libraries
// (~5.3 MiB) into the daemon for as long as the monitor held its connection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

namespace gc::backup {

struct PgTarget {
  std::string host = "/var/run/postgresql";  // Socket directory (starts with '/') or host name.
  int port = 5432;
  std::string user = "postgres";
  std::string password;  // Empty: none (peer or trust). Never logged.
  std::string dbname = "postgres";
  // Peer authentication as this OS user: the connection is made with this effective uid/gid,
  // which the server reads from the socket (SO_PEERCRED). Needs root; nullopt: as we are.
  std::optional<Credentials> os_user;
};

// The OS account that peer authentication maps `target.user` to, when that is how we must
// connect: running as root, on a Unix socket, without a password, and an OS user of that name
// exists (Debian's `postgres`). nullopt otherwise.
std::optional<Credentials> peer_os_user(const PgTarget& target);

// Rows of text values; a NULL is an empty string.
using PgRows = std::vector<std::vector<std::string>>;

class PgSession;  // The socket, TLS and protocol state; pg_client.cc.

// One session. Move-only; not thread-safe; every call blocks. Closing sends Terminate.
class PgConnection {
 public:
  // Connects within 10 s: a Unix socket HOST/.s.PGSQL.PORT when `host` starts with '/' (never
  // TLS), else TCP to each address of `host` in turn. Over TCP it asks for TLS first and uses it
  // when the server has it, without verifying the certificate (libpq's default sslmode=prefer:
  // protection against eavesdropping, not against an active attacker); plain text otherwise.
  // Authenticates by trust, peer, password, md5 or scram-sha-256 (whose server signature must be
  // right). Every error is kUnavailable, "cannot connect to database D on H as role R: WHY"
  // (never the password), WHY being the server's FATAL, the socket's error, a timeout, an
  // authentication method we do not support or a password we do not have, with the fix.
  static Result<PgConnection> connect(const PgTarget& target);
  PgConnection(PgConnection&&) noexcept;
  PgConnection& operator=(PgConnection&&) noexcept;
  ~PgConnection();

  // Runs `sql` (one or more statements) with the Simple Query protocol and returns the rows of
  // the last statement (none for a command). Errors ("DESCRIBE: ERROR:  ...; DETAIL:  ...")
  // leave the session usable (the statements after a failed one do not run, as in psql -c):
  // kInternal for a server error or COPY, which is not supported; kUnavailable, kCorrupt or
  // kIo when the connection broke, after which every call fails.
  Result<PgRows> query(const std::string& sql);
  Status exec(const std::string& sql);
  // "orbital.public.users" style quoting for use in SQL text.
  std::string quote_identifier(const std::string& name) const;
  // 'it''s' style quoting of a string literal for SQL text (E'a\\b' for a\b).
  std::string quote_literal(const std::string& value) const;
  int server_version() const;  // 150018 for 15.18; 0: unknown.
  // "database orbital on /var/run/postgresql as role postgres" ("on 127.0.0.1:5432" for TCP).
  const std::string& describe() const { return describe_; }

 private:
  PgConnection(std::unique_ptr<PgSession> session, std::string describe);
  std::unique_ptr<PgSession> session_;
  std::string describe_;
};

struct TableCount {
  std::string schema;
  std::string table;
  std::int64_t rows = 0;
  bool operator==(const TableCount&) const = default;
};

// Starts a REPEATABLE READ, READ ONLY transaction and exports its snapshot; the id is valid for
// `pg_dump --snapshot` as long as this connection stays open inside that transaction.
Result<std::string> export_snapshot(PgConnection& conn);

// Exact row counts of every ordinary user table (leaf tables only, so partitioned data is counted
// once), in the connection's current transaction, ordered by schema and table.
Result<std::vector<TableCount>> count_rows(PgConnection& conn);

// Why `got` (after a restore) differs from `want` (the snapshot's counts), or nullopt if every
// table is there with the same number of rows and there are no extra tables.
std::optional<std::string> count_mismatch(const std::vector<TableCount>& want,
                                          const std::vector<TableCount>& got);

// "15.18" from 150018.
std::string format_server_version(int version);

}  // namespace gc::backup

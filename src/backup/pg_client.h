// SPDX-License-Identifier: MIT
// backup/pg_client.h: the thin libpq driver backups need: connect (also by peer authentication as
// another OS user), run a query, hold an exported snapshot, count rows.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

// libpq's connection type, declared here so that this header needs no libpq include.
struct pg_conn;

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

class PgConnection {
 public:
  // Errors name host, port, database and role (never the password) plus libpq's message.
  static Result<PgConnection> connect(const PgTarget& target);

  Result<PgRows> query(const std::string& sql);
  Status exec(const std::string& sql);
  // "orbital.public.users" style quoting for use in SQL text.
  std::string quote_identifier(const std::string& name) const;
  // 'it''s' style quoting of a string literal for SQL text.
  std::string quote_literal(const std::string& value) const;
  int server_version() const;                                // 150018 for 15.18.
  const std::string& describe() const { return describe_; }  // "db orbital on /run/... as postgres"

 private:
  struct Closer {
    void operator()(pg_conn* c) const;
  };
  PgConnection(pg_conn* c, std::string describe) : conn_(c), describe_(std::move(describe)) {}
  std::unique_ptr<pg_conn, Closer> conn_;
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

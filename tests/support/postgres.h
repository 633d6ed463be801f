// SPDX-License-Identifier: MIT
// tests/support/postgres.h: a real PostgreSQL 15 server for one test, started from Debian's
// binaries in a private temp dir, reachable through its Unix socket and, when asked, on
// 127.0.0.1 (a free port, optionally with TLS). As root it runs as `nobody`, since initdb and
// postgres refuse to run as root.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"
#include "base/temp_dir.h"

namespace gc::testing {

// Directory of the PostgreSQL 15 server binaries, or "" when they are not installed.
std::string postgres_bindir();

struct PostgresOptions {
  std::vector<std::string> settings;  // Extra `-c name=value` options.
  // Also listen on 127.0.0.1, on a port that was free a moment before the start.
  bool listen_tcp = false;
  // ssl=on with a self-signed certificate made for this server (clients see it over TCP).
  bool ssl = false;
  // pg_hba.conf lines after "local all postgres trust" (which psql() needs); empty keeps
  // initdb's file (trust for everything).
  std::vector<std::string> hba;
};

class PostgresServer {
 public:
  // initdb (trust auth for the superuser role "postgres") and start; waits until it accepts
  // connections.
  static Result<std::unique_ptr<PostgresServer>> start(std::vector<std::string> settings = {});
  static Result<std::unique_ptr<PostgresServer>> start(PostgresOptions options);
  ~PostgresServer();  // Fast shutdown (SIGINT), then SIGKILL if it hangs.

  // Fast shutdown now (clients are disconnected); the data directory stays.
  Status stop();

  const std::string& socket_dir() const { return socket_dir_; }
  // Names the socket file, and is the TCP port with listen_tcp.
  int port() const { return port_; }
  std::string data_dir() const { return root_.file("data"); }

  // Runs SQL with psql as "postgres" on `db`; returns stdout (unaligned, tuples only, '|'
  // separated). Errors carry psql's stderr.
  Result<std::string> psql(const std::string& db, const std::string& sql) const;
  // createdb NAME.
  Status create_database(const std::string& name) const;

 private:
  explicit PostgresServer(TempDir root) : root_(std::move(root)) {}
  TempDir root_;
  std::string socket_dir_;
  int port_ = 5432;
  std::optional<ChildProcess> postmaster_;
};

}  // namespace gc::testing

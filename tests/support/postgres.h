// SPDX-License-Identifier: MIT
// tests/support/postgres.h: a real PostgreSQL 15 server for one test, started from Debian's
// binaries in a private temp dir, reachable only through its Unix socket (no TCP port at all).
// As root it runs as `nobody`, since initdb and postgres refuse to run as root.
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

class PostgresServer {
 public:
  // initdb (trust auth for the superuser role "postgres") and start; waits until it accepts
  // connections. `settings` are extra `-c name=value` options.
  static Result<std::unique_ptr<PostgresServer>> start(std::vector<std::string> settings = {});
  ~PostgresServer();  // Fast shutdown (SIGINT), then SIGKILL if it hangs.

  const std::string& socket_dir() const { return socket_dir_; }
  int port() const { return 5432; }  // Only names the socket file; there is no TCP listener.
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
  std::optional<ChildProcess> postmaster_;
};

}  // namespace gc::testing

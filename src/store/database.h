// SPDX-License-Identifier: MIT
// store/database.h: the SQLite state store (state_dir/state.db): one owner per open database,
// prepared statements, and per-module schema migrations. Backups, alerts, deploys and audits keep
// their history here; every module owns its tables.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

// SQLite's handle types, declared here so that this header needs no sqlite3 include.
struct sqlite3;
struct sqlite3_stmt;

namespace gc::store {

class Statement {
 public:
  // Binds by 1-based index. Errors are reported by step().
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);
  // Advances: true with a row to read, false when done. Errors: kConflict when the database
  // stayed locked past the busy timeout, kCorrupt, kIo...
  Result<bool> step();
  // Steps to completion (INSERT, UPDATE...).
  Status run();
  Statement& reset();  // Ready to run again with new bindings.

  std::int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  bool column_is_null(int index) const;

 private:
  friend class Database;
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  Statement(sqlite3* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

class Database {
 public:
  // Opens or creates the file (0600: it holds operational history), in WAL mode with a busy
  // timeout so the daemon and a CLI command can share it. Errors name the path.
  static Result<Database> open(const std::string& path);

  Status exec(std::string_view sql);  // One or more statements, no results.
  Result<Statement> prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const;

  // Brings `module`'s tables up to date: runs steps[v..] for a module at version v, each in its
  // own transaction, and records the new version. Steps are append-only.
  Status migrate(std::string_view module, std::span<const std::string_view> steps);

  // Runs `body` (returning Status) in one BEGIN IMMEDIATE transaction: all of it lands, or
  // none (rolled back when `body` fails or COMMIT does).
  template <typename F>
  Status transaction(F body) {
    GC_TRY(exec("BEGIN IMMEDIATE"));
    Status st = body();
    if (st) st = exec("COMMIT");
    if (!st) (void)exec("ROLLBACK");
    return st;
  }

  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  std::unique_ptr<sqlite3, Closer> db_;
  std::string path_;
};

}  // namespace gc::store

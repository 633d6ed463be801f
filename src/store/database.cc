// SPDX-License-Identifier: MIT
#include "store/database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gc::store {
namespace {

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  Errc code = Errc::kInternal;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = Errc::kConflict;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = Errc::kCorrupt;
      break;
    case SQLITE_IOERR:
    case SQLITE_FULL:
      code = Errc::kIo;
      break;
    case SQLITE_CANTOPEN:
      code = Errc::kNotFound;
      break;
    case SQLITE_PERM:
    case SQLITE_READONLY:
      code = Errc::kPermission;
      break;
    default:
      break;
  }
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error{code, std::string(what) + ": " + (msg ? msg : "sqlite error")};
}

}  // namespace

void Statement::Finalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
void Database::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}
Statement& Statement::bind(int index, double value) {
  sqlite3_bind_double(stmt_.get(), index, value);
  return *this;
}
Statement& Statement::bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return tl::unexpected(sqlite_error(db_, rc, "state store"));
}

Status Statement::run() {
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return {};
  }
}

Statement& Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  return *this;
}

std::int64_t Statement::column_int(int i) const { return sqlite3_column_int64(stmt_.get(), i); }
double Statement::column_double(int i) const { return sqlite3_column_double(stmt_.get(), i); }
std::string Statement::column_text(int i) const {
  const unsigned char* t = sqlite3_column_text(stmt_.get(), i);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), i)))
           : std::string();
}
bool Statement::column_is_null(int i) const {
  return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL;
}

Result<Database> Database::open(const std::string& path) {
  // Create it 0600 ourselves: SQLite would use the umask. Only when it does not exist yet:
  // closing any descriptor of an open database drops every POSIX lock this process holds on it,
  // including those of the process's other connections (the daemon has several), and a CLI
  // command closing its connection then takes itself for the last user, checkpoints and
  // removes the WAL under the daemon's feet, which from then on reads a frozen snapshot.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    return tl::unexpected(sys_error("open state store", path, errno));
  }
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  Database db(raw, path);
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(raw, rc, "open state store " + path));
  sqlite3_busy_timeout(raw, 5000);
  // WAL lets a CLI command read while the daemon writes; NORMAL sync is durable in WAL mode
  // except for the last commits before a power cut, which history can afford.
  GC_TRY(db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  GC_TRY(
      db.exec("CREATE TABLE IF NOT EXISTS schema_versions ("
              "module TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
  return db;
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Error e = sqlite_error(nullptr, rc, "state store " + path_);
    e.message = "state store " + path_ + ": " + msg;
    return tl::unexpected(e);
  }
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(db_.get(), rc, "state store " + path_));
  return Statement(db_.get(), s);
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

Status Database::migrate(std::string_view module, std::span<const std::string_view> steps) {
  GC_ASSIGN_OR_RETURN(Statement q, prepare("SELECT version FROM schema_versions WHERE module = ?"));
  q.bind(1, module);
  GC_ASSIGN_OR_RETURN(bool found, q.step());
  std::int64_t version = found ? q.column_int(0) : 0;
  if (version > static_cast<std::int64_t>(steps.size())) {
    return tl::unexpected(
        Error{Errc::kConflict, "state store " + path_ + ": " + std::string(module) +
                                   " tables are newer than this groundctl (version " +
                                   std::to_string(version) + "); upgrade groundctl"});
  }
  for (auto i = static_cast<size_t>(version); i < steps.size(); ++i) {
    GC_TRY(exec("BEGIN IMMEDIATE"));
    Status st = exec(steps[i]);
    if (st) {
      auto up = prepare(
          "INSERT INTO schema_versions (module, version) VALUES (?, ?) "
          "ON CONFLICT(module) DO UPDATE SET version = excluded.version");
      if (!up) {
        st = tl::unexpected(up.error());
      } else {
        up->bind(1, module).bind(2, static_cast<std::int64_t>(i + 1));
        st = up->run();
      }
    }
    if (!st) {
      (void)exec("ROLLBACK");
      return st;
    }
    GC_TRY(exec("COMMIT"));
  }
  return {};
}

}  // namespace gc::store

// SPDX-License-Identifier: MIT
// provision/postgres.cc: renders the PostgreSQL component (files, validate/reload, role and
// database steps). Pure: the steps are argv + SQL text that apply runs later.
#include "provision/postgres.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "base/check.h"

namespace gc::provision {
namespace {

constexpr const char* kPsql = "/usr/bin/psql";
constexpr const char* kRunuser = "/usr/sbin/runuser";
constexpr const char* kHeader =
    "# Managed by groundctl from [postgres] in its config: local edits are overwritten by\n"
    "# `groundctl apply`.\n";

std::string conf_text(const config::PostgresConfig& pg) {
  const config::PostgresManageConfig& m = *pg.manage;
  auto slow_ms = std::chrono::duration_cast<std::chrono::milliseconds>(m.slow_query).count();
  std::string out = kHeader;
  // Only the loopback interfaces: the app and PgBouncer are on this machine, and the firewall is
  // a second line, not the only one. Needs a restart to change (restart_step).
  out += "listen_addresses = 'localhost'\n";
  // New and changed passwords are stored as SCRAM verifiers, which pg_hba requires below.
  out += "password_encryption = 'scram-sha-256'\n";
  out += "log_min_duration_statement = " + std::to_string(slow_ms) + "\n";
  out += "log_connections = on\n";
  out += "log_disconnections = on\n";
  out += "log_lock_waits = on\n";
  // Debian's default prefix plus the application name, so a slow query names its client.
  out += "log_line_prefix = '%m [%p] %q%u@%d app=%a '\n";
  return out;
}

std::string hba_text(const config::PostgresConfig& pg) {
  std::string out = kHeader;
  out += "# TYPE  DATABASE  USER  ADDRESS  METHOD\n";
  // The superuser only for the OS user of the same name (apply's psql steps, pg_dump as root).
  out += "local   all       postgres          peer\n";
  // Backups connect as [postgres].user by peer when it has no password file.
  // Quoted: [postgres].user may hold characters a bare pg_hba token cannot (it has no '"').
  if (pg.user != "postgres" && pg.password_file.empty() && pg.user.find('"') == std::string::npos) {
    out += "local   all       \"" + pg.user + "\"  peer\n";
  }
  out += "local   all       all               scram-sha-256\n";
  out += "host    all       all   127.0.0.1/32  scram-sha-256\n";
  out += "host    all       all   ::1/128       scram-sha-256\n";
  return out;
}

// Read from disk by the running server: errors in the new files show up here before a reload
// would apply (or half-apply) them. "setting could not be applied" only means that a
// postmaster-level setting differs from the running value (it needs a restart), which is not
// an error in the file; lc_messages = C keeps that text untranslated.
constexpr const char* kValidateSql =
    "DO $gc$\n"
    "DECLARE problems text;\n"
    "BEGIN\n"
    "  SET LOCAL lc_messages TO 'C';\n"
    "  SELECT string_agg(e.problem, '; ') INTO problems FROM (\n"
    "    SELECT format('%s:%s: %s', sourcefile, sourceline, error) AS problem\n"
    "      FROM pg_file_settings\n"
    "      WHERE error IS NOT NULL AND error <> 'setting could not be applied'\n"
    "    UNION ALL\n"
    "    SELECT format('%s:%s: %s', current_setting('hba_file'), line_number, error)\n"
    "      FROM pg_hba_file_rules WHERE error IS NOT NULL) e;\n"
    "  IF problems IS NOT NULL THEN\n"
    "    RAISE EXCEPTION 'postgresql configuration errors: %', problems;\n"
    "  END IF;\n"
    "END\n"
    "$gc$";

// A check: psql exits 1 when `condition` (SQL, evaluated in `db`) is false or errors.
std::vector<std::string> check_argv(const config::PostgresConfig& pg, const std::string& db,
                                    const std::string& condition) {
  std::vector<std::string> argv = psql_argv(pg, db);
  argv.push_back("-c");
  argv.push_back("DO $gc$ BEGIN IF NOT (" + condition +
                 ") THEN RAISE EXCEPTION 'not satisfied'; END IF; END $gc$");
  return argv;
}

// PostgreSQL 15's settings of context "postmaster" (SELECT name FROM pg_settings WHERE context
// = 'postmaster') that a groundctl.conf may plausibly set: a reload leaves the running value.
constexpr std::string_view kRestartOnly[] = {"listen_addresses",
                                             "port",
                                             "max_connections",
                                             "shared_buffers",
                                             "huge_pages",
                                             "max_wal_senders",
                                             "max_worker_processes",
                                             "max_prepared_transactions",
                                             "max_locks_per_transaction",
                                             "shared_preload_libraries",
                                             "unix_socket_directories",
                                             "unix_socket_permissions",
                                             "wal_level",
                                             "wal_buffers",
                                             "ssl_library",
                                             "track_commit_timestamp"};

// pg_ctl restart as the OS user postgres on the running server's data directory: $@ is psql.
// -w waits until the server accepts connections again.
constexpr const char* kPgCtlRestart =
    "set -e\n"
    "data=$(\"$@\" -A -t -c 'SHOW data_directory')\n"
    "version=$(\"$@\" -A -t -c 'SHOW server_version_num')\n"
    "exec \"/usr/lib/postgresql/$((version / 10000))/bin/pg_ctl\" restart -D \"$data\" -m fast -w "
    "-t 300\n";

Step psql_step(const config::PostgresConfig& pg, std::string summary, const std::string& db,
               std::string sql, const std::string& condition) {
  Step s;
  s.summary = std::move(summary);
  s.argv = psql_argv(pg, db);
  s.stdin_text = std::move(sql);
  s.check = check_argv(pg, db, condition);
  s.run_as = "postgres";
  return s;
}

Step app_role_step(const config::PostgresConfig& pg) {
  const std::string& role = pg.manage->app_role;
  const std::string lit = quote_literal(role), id = quote_ident(role);
  std::string sql =
      "SELECT format('CREATE ROLE %I', " + lit +
      ") WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = " + lit + ")\n\\gexec\n" +
      "ALTER ROLE " + id +
      " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;\n";
  std::string condition =
      "EXISTS (SELECT FROM pg_roles WHERE rolname = " + lit +
      " AND rolcanlogin AND NOT rolsuper AND NOT rolcreatedb AND NOT rolcreaterole"
      " AND NOT rolreplication AND NOT rolbypassrls)";
  return psql_step(pg, "create or correct role " + role + " (login, no superuser)", "postgres",
                   std::move(sql), condition);
}

Step database_step(const config::PostgresConfig& pg, const std::string& db) {
  const std::string& role = pg.manage->app_role;
  // CREATE DATABASE cannot run inside a DO block (a transaction): \gexec runs it from psql.
  std::string sql =
      "SELECT format('CREATE DATABASE %I OWNER %I', " + quote_literal(db) + ", " +
      quote_literal(role) +
      ") WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = " + quote_literal(db) +
      ")\n\\gexec\n" + "ALTER DATABASE " + quote_ident(db) + " OWNER TO " + quote_ident(role) +
      ";\n";
  std::string condition = "EXISTS (SELECT FROM pg_database WHERE datname = " + quote_literal(db) +
                          " AND pg_get_userbyid(datdba) = " + quote_literal(role) + ")";
  return psql_step(pg, "create database " + db + " owned by " + role, "postgres", std::move(sql),
                   condition);
}

Step privileges_step(const config::PostgresConfig& pg, const std::string& db) {
  const std::string& role = pg.manage->app_role;
  const std::string dbl = quote_literal(db);
  // Run inside `db`: schema privileges are per database.
  std::string sql = "REVOKE ALL ON DATABASE " + quote_ident(db) + " FROM PUBLIC;\n" +
                    "GRANT CONNECT ON DATABASE " + quote_ident(db) + " TO " + quote_ident(role) +
                    ";\n" + "REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n";
  std::string condition = "NOT has_database_privilege('public', " + dbl + ", 'CONNECT')" +
                          " AND NOT has_database_privilege('public', " + dbl + ", 'CREATE')" +
                          " AND NOT has_database_privilege('public', " + dbl + ", 'TEMPORARY')" +
                          " AND has_database_privilege(" + quote_literal(role) + ", " + dbl +
                          ", 'CONNECT')" +
                          " AND (NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'public')" +
                          " OR NOT has_schema_privilege('public', 'public', 'CREATE'))";
  return psql_step(pg, "restrict database " + db + " to role " + role, db, std::move(sql),
                   condition);
}

Step monitor_role_step(const config::PostgresConfig& pg) {
  const std::string& role = pg.manage->monitor_role;
  const std::string lit = quote_literal(role), id = quote_ident(role);
  std::string sql =
      "SELECT format('CREATE ROLE %I', " + lit +
      ") WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = " + lit + ")\n\\gexec\n" +
      "ALTER ROLE " + id +
      " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;\n" +
      "GRANT pg_monitor TO " + id + ";\n";
  std::string condition = "EXISTS (SELECT FROM pg_roles WHERE rolname = " + lit +
                          " AND rolcanlogin AND NOT rolsuper AND NOT rolcreatedb"
                          " AND NOT rolcreaterole AND NOT rolreplication AND NOT rolbypassrls"
                          " AND pg_has_role(" +
                          lit + ", 'pg_monitor', 'MEMBER'))";
  return psql_step(pg, "create role " + role + " (pg_monitor)", "postgres", std::move(sql),
                   condition);
}

}  // namespace

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::vector<std::string> psql_argv(const config::PostgresConfig& pg, const std::string& db) {
  return {kPsql,
          "-X",
          "-q",
          "-v",
          "ON_ERROR_STOP=1",
          "-h",
          pg.host,
          "-p",
          std::to_string(pg.port),
          "-U",
          "postgres",
          "-d",
          db};
}

std::vector<std::pair<std::string, std::string>> restart_settings(std::string_view conf_text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!conf_text.empty()) {
    std::size_t nl = conf_text.find('\n');
    std::string_view line = conf_text.substr(0, nl);
    conf_text = nl == std::string_view::npos ? std::string_view() : conf_text.substr(nl + 1);
    std::size_t eq = line.find('=');
    if (line.empty() || line.front() == '#' || eq == std::string_view::npos) continue;
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    std::string_view name = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (std::find(std::begin(kRestartOnly), std::end(kRestartOnly), name) == std::end(kRestartOnly))
      continue;
    // The renderer writes simple values: a quoted string has no quote inside.
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

std::optional<Step> restart_step(const config::PostgresConfig& pg, std::string_view conf_text,
                                 const Target& target) {
  auto settings = restart_settings(conf_text);
  if (settings.empty()) return std::nullopt;
  std::string names, condition = "true";
  for (const auto& [name, value] : settings) {
    names += (names.empty() ? "" : ", ") + name;
    // SHOW's spelling: values must be rendered the way the server prints them back.
    condition += " AND (current_setting(" + quote_literal(name) + ") = " + quote_literal(value) +
                 " OR (SELECT source FROM pg_settings WHERE name = " + quote_literal(name) +
                 ") = 'command line')";
  }
  Step s;
  s.summary = "restart postgresql: " + names + " changed";
  const std::vector<std::string> as_postgres = {kRunuser, "-u", "postgres", "--"};
  if (target.systemd) {
    // Debian's postgresql.service restarts every cluster (postgresql@VERSION-NAME).
    s.argv = {"systemctl", "restart", "postgresql"};
  } else {
    s.argv = as_postgres;
    s.argv.insert(s.argv.end(), {"/bin/sh", "-c", kPgCtlRestart, "groundctl-restart-postgres"});
    for (std::string& a : psql_argv(pg, "postgres")) s.argv.push_back(std::move(a));
  }
  s.check = as_postgres;
  for (std::string& a : check_argv(pg, "postgres", condition)) s.check.push_back(std::move(a));
  s.run_as = "";  // systemctl needs root; runuser drops to postgres for psql and pg_ctl.
  return s;
}

Step password_step(const config::PostgresConfig& pg) {
  GC_CHECK(pg.manage && !pg.manage->app_password_file.empty());
  const config::PostgresManageConfig& m = *pg.manage;
  Step s;
  s.summary = "set the password of role " + m.app_role + " from " + m.app_password_file;
  // $(cat) drops the file's trailing newlines. An empty password would clear it instead.
  s.argv = {"/bin/sh",
            "-c",
            "GC_APP_PASSWORD=$(cat -- \"$1\") || exit 1\n"
            "if [ -z \"$GC_APP_PASSWORD\" ]; then echo \"$1: empty password\" >&2; exit 1; fi\n"
            "export GC_APP_PASSWORD\n"
            "shift\n"
            "exec \"$@\"\n",
            "groundctl-set-password",
            m.app_password_file,
            kRunuser,
            "-u",
            "postgres",
            "--"};
  for (std::string& a : psql_argv(pg, "postgres")) s.argv.push_back(std::move(a));
  // The statement text holds the password once psql interpolated it: keep it out of the log
  // whatever the server's logging settings (superuser-only settings, for this session only).
  s.stdin_text =
      "SET log_statement = 'none';\n"
      "SET log_min_duration_statement = -1;\n"
      "SET log_min_error_statement = 'panic';\n"
      "SET password_encryption = 'scram-sha-256';\n"
      "\\getenv app_password GC_APP_PASSWORD\n"
      "ALTER ROLE " +
      quote_ident(m.app_role) + " PASSWORD :'app_password';\n";
  // Log in as the app role; the first database is the one it surely may connect to.
  s.check = {"/bin/sh",
             "-c",
             "PGPASSWORD=$(cat -- \"$1\") || exit 1\n"
             "export PGPASSWORD\n"
             "exec " +
                 std::string(kPsql) +
                 " -X -w -q -h \"$2\" -p \"$3\" -U \"$4\" -d \"$5\" -c 'SELECT 1' >/dev/null\n",
             "groundctl-check-password",
             m.app_password_file,
             pg.host,
             std::to_string(pg.port),
             m.app_role,
             pg.databases.empty() ? "postgres" : pg.databases.front()};
  s.run_as = "";  // Root reads the file; runuser drops to postgres for psql.
  return s;
}

Component render_postgres(const config::Config& config, const Target& target) {
  GC_CHECK(config.postgres && config.postgres->manage);
  const config::PostgresConfig& pg = *config.postgres;
  const config::PostgresManageConfig& m = *pg.manage;
  Component c;
  c.name = "postgres";
  c.files.push_back(ManagedFile{m.config_dir + "/conf.d/groundctl.conf", conf_text(pg), 0644,
                                "postgres", "postgres", false});
  c.files.push_back(ManagedFile{m.config_dir + "/pg_hba.conf", hba_text(pg), 0640, "postgres",
                                "postgres", false});
  c.lifecycle.validate = psql_argv(pg, "postgres");
  c.lifecycle.validate.insert(c.lifecycle.validate.end(), {"-c", kValidateSql});
  c.lifecycle.reload = psql_argv(pg, "postgres");
  c.lifecycle.reload.insert(c.lifecycle.reload.end(), {"-c", "SELECT pg_reload_conf()"});
  c.lifecycle.run_as = "postgres";
  // First, right after the reload: the roles and databases below then see the final server.
  if (auto restart = restart_step(pg, c.files[0].content, target)) {
    c.steps_after.push_back(std::move(*restart));
  }
  c.steps_after.push_back(app_role_step(pg));
  for (const std::string& db : pg.databases) c.steps_after.push_back(database_step(pg, db));
  for (const std::string& db : pg.databases) c.steps_after.push_back(privileges_step(pg, db));
  // After the databases: its check logs in to the first one.
  if (!m.app_password_file.empty()) c.steps_after.push_back(password_step(pg));
  c.steps_after.push_back(monitor_role_step(pg));
  return c;
}

}  // namespace gc::provision

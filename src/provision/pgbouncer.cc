// SPDX-License-Identifier: MIT
// provision/pgbouncer.cc: renders the PgBouncer component (pgbouncer.ini, the userlist step,
// reload). Pure.
#include "provision/pgbouncer.h"

#include "base/check.h"
#include "provision/postgres.h"

namespace gc::provision {
namespace {

// Signals PgBouncer only when the pidfile names a live pgbouncer: a stale pidfile must not make
// us signal whatever process reused the number. Not running is fine: it reads the files when it
// starts. $1 is the pidfile.
constexpr const char* kHupScript =
    "[ -s \"$1\" ] || exit 0\n"
    "pid=$(cat -- \"$1\") || exit 1\n"
    "[ \"$(cat \"/proc/$pid/comm\" 2>/dev/null)\" = pgbouncer ] || exit 0\n"
    "exec kill -HUP \"$pid\"\n";

// $1 the userlist, $2 "systemd" or the pidfile; the rest is the psql command printing the
// userlist line. The verifier stays in a shell variable (printf is a dash builtin: no argv).
constexpr const char* kUserlistScript =
    "f=$1; how=$2; shift 2\n"
    "out=$(\"$@\") || exit 1\n"
    "if [ -z \"$out\" ]; then\n"
    "  echo \"the app role has no SCRAM-SHA-256 password: set postgres.app_password_file\" >&2\n"
    "  exit 1\n"
    "fi\n"
    "umask 077\n"
    "tmp=$(mktemp \"$f.XXXXXX\") || exit 1\n"
    "if ! { printf '%s\\n' \"$out\" >\"$tmp\" && chown postgres:postgres \"$tmp\" &&\n"
    "       chmod 0600 \"$tmp\" && mv -f -- \"$tmp\" \"$f\"; }; then\n"
    "  rm -f -- \"$tmp\"; exit 1\n"
    "fi\n"
    "if [ \"$how\" = systemd ]; then exec systemctl try-reload-or-restart pgbouncer.service; fi\n"
    "set -- \"$how\"\n";

// $1 the userlist; the rest as above. Exit 0: the file is current and private.
constexpr const char* kUserlistCheckScript =
    "f=$1; shift\n"
    "out=$(\"$@\") || exit 1\n"
    "[ -n \"$out\" ] || exit 1\n"
    "[ \"$(stat -c %a:%U:%G -- \"$f\" 2>/dev/null)\" = 600:postgres:postgres ] || exit 1\n"
    "printf '%s\\n' \"$out\" | cmp -s -- - \"$f\"\n";

std::string ini_text(const config::PostgresConfig& pg, const Target& target) {
  const config::PgPoolConfig& pool = *pg.manage->pool;
  std::string out =
      "; Managed by groundctl from [postgres.pool] in its config: local edits are overwritten\n"
      "; by `groundctl apply`.\n"
      "[databases]\n";
  for (const std::string& db : pg.databases) {
    out += db + " = host=" + pg.host + " port=" + std::to_string(pg.port) + " dbname=" + db + "\n";
  }
  out += "\n[pgbouncer]\n";
  out += "listen_addr = 127.0.0.1\n";
  out += "listen_port = " + std::to_string(pool.port) + "\n";
  out += "unix_socket_dir = " + pg.host + "\n";
  out += "auth_type = scram-sha-256\n";
  out += "auth_file = " + pool.config_dir + "/userlist.txt\n";
  out += "pool_mode = transaction\n";
  out += "default_pool_size = " + std::to_string(pool.default_pool_size) + "\n";
  out += "max_client_conn = " + std::to_string(pool.max_client_conn) + "\n";
  // Drivers such as JDBC send it; without this PgBouncer refuses their connections.
  out += "ignore_startup_parameters = extra_float_digits\n";
  out += "pidfile = " + pgbouncer_pidfile(pg) + "\n";
  if (!target.systemd) out += "logfile = /var/log/postgresql/pgbouncer.log\n";
  return out;
}

// psql as postgres printing `"role" "SCRAM-SHA-256$..."`, or nothing without a SCRAM password.
std::vector<std::string> verifier_argv(const config::PostgresConfig& pg) {
  std::vector<std::string> argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  for (std::string& a : psql_argv(pg, "postgres")) argv.push_back(std::move(a));
  argv.insert(argv.end(),
              {"-A", "-t", "-c",
               "SELECT format('\"%s\" \"%s\"', rolname, rolpassword) FROM pg_authid"
               " WHERE rolname = " +
                   quote_literal(pg.manage->app_role) + " AND rolpassword LIKE 'SCRAM-SHA-256$%'"});
  return argv;
}

Step userlist_step(const config::PostgresConfig& pg, const Target& target) {
  const std::string file = pg.manage->pool->config_dir + "/userlist.txt";
  Step s;
  s.summary = "write " + file + " from the verifier of role " + pg.manage->app_role;
  s.argv = {"/bin/sh",
            "-c",
            std::string(kUserlistScript) + kHupScript,
            "groundctl-userlist",
            file,
            target.systemd ? "systemd" : pgbouncer_pidfile(pg)};
  std::vector<std::string> query = verifier_argv(pg);
  s.argv.insert(s.argv.end(), query.begin(), query.end());
  s.check = {"/bin/sh", "-c", kUserlistCheckScript, "groundctl-userlist-check", file};
  s.check.insert(s.check.end(), query.begin(), query.end());
  return s;  // run_as root: it writes into the root-owned config dir.
}

}  // namespace

std::string pgbouncer_pidfile(const config::PostgresConfig& pg) {
  return pg.host + "/pgbouncer.pid";
}

Component render_pgbouncer(const config::Config& config, const Target& target) {
  GC_CHECK(config.postgres && config.postgres->manage && config.postgres->manage->pool);
  const config::PostgresConfig& pg = *config.postgres;
  Component c;
  c.name = "pgbouncer";
  c.files.push_back(ManagedFile{pg.manage->pool->config_dir + "/pgbouncer.ini",
                                ini_text(pg, target), 0640, "postgres", "postgres", false});
  c.steps_after.push_back(userlist_step(pg, target));
  if (target.systemd) {
    c.lifecycle.reload = {"systemctl", "reload", "pgbouncer.service"};
  } else {
    c.lifecycle.reload = {"/bin/sh", "-c", kHupScript, "groundctl-reload-pgbouncer",
                          pgbouncer_pidfile(pg)};
  }
  return c;
}

}  // namespace gc::provision

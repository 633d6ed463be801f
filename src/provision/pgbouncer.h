// SPDX-License-Identifier: MIT
// provision/pgbouncer.h: the PgBouncer component rendered from [postgres.pool]: transaction
// pooling on 127.0.0.1 in front of the local server, SCRAM authentication against the app
// role's verifier.
#pragma once

#include <string>

#include "config/config.h"
#include "provision/resource.h"

namespace gc::provision {

// The "pgbouncer" component. Pure; requires config.postgres->manage->pool (GC_CHECK). Apply it
// after the "postgres" component, whose steps create the app role and its password.
//
// Files: {pool.config_dir}/pgbouncer.ini, postgres:postgres 0640. It listens on 127.0.0.1 at
// pool.port and on a Unix socket in the server's socket directory ([postgres].host), like
// Debian's; one [databases] line per [postgres].databases entry points at the server's socket.
// pidfile: {socket dir}/pgbouncer.pid (Debian: /var/run/postgresql/pgbouncer.pid). logfile:
// without systemd /var/log/postgresql/pgbouncer.log as Debian's init script needs (-d); with
// systemd none, since the unit runs it in the foreground and the journal keeps stderr.
//
// userlist.txt ({pool.config_dir}/userlist.txt, postgres:postgres 0600) holds the app role's
// SCRAM verifier, which only the server knows, so it is not a ManagedFile (it could not be
// rendered, nor shown by plan). A step in steps_after (run as root) copies the verifier from
// pg_authid through psql run as postgres into that file (atomic rename) and reloads PgBouncer;
// its check compares the file with pg_authid, so a rotated password is picked up by the next
// apply. The verifier travels through a shell variable and a pipe only, never argv or output.
// The step fails when the role has no SCRAM password (set postgres.app_password_file).
//
// Lifecycle: no validate (PgBouncer 1.18 has no config check mode); reload is `systemctl reload
// pgbouncer` with systemd, else SIGHUP to the pid in the pidfile.
Component render_pgbouncer(const config::Config& config, const Target& target);

// The pidfile render_pgbouncer writes into pgbouncer.ini.
std::string pgbouncer_pidfile(const config::PostgresConfig& pg);

}  // namespace gc::provision

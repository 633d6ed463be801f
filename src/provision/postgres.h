// SPDX-License-Identifier: MIT
// provision/postgres.h: the PostgreSQL 15 component rendered from [postgres] with manage = true:
// a conf.d drop-in (localhost only, SCRAM, slow-query and connection logging), the whole
// pg_hba.conf (local only), and the roles and databases of a least-privilege app.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "provision/resource.h"

namespace gc::provision {

// The "postgres" component. Pure; requires config.postgres->manage (GC_CHECK).
//
// Files: {config_dir}/conf.d/groundctl.conf (0644) and {config_dir}/pg_hba.conf (0640), both
// postgres:postgres. pg_hba.conf allows only the Unix socket and loopback: peer for the
// superuser "postgres" (what apply's psql steps use) and for [postgres].user when that is
// another role without a password_file (backups connect as root by peer as the OS user of that
// name, see backup/pg_client.h), scram-sha-256 for every other role. No trust, no wide network.
//
// Lifecycle (run as the OS user postgres, over [postgres].host/port): validate asks the running
// server to parse the new files from disk (pg_file_settings and pg_hba_file_rules) and exits
// non-zero when either reports an error, naming file, line and error; a postmaster-only setting
// that merely needs a restart is not an error. reload is SELECT pg_reload_conf(), with or without
// systemd; the settings a reload cannot change come with the restart step below.
//
// steps_after, in order, each with a check so a satisfied step is skipped (checks and steps
// carry identifiers only, never a secret, on argv; SQL goes through stdin_text):
//   - restart_step (below) for the restart-only settings of groundctl.conf (listen_addresses);
//   - the app role: LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS, created
//     or corrected;
//   - per database: created owned by the app role, or given to it when another role owns it;
//   - per database: REVOKE ALL ON DATABASE and CREATE ON SCHEMA public FROM PUBLIC, CONNECT
//     for the app role;
//   - with app_password_file: its password, see password_step below;
//   - the monitor role: LOGIN, member of pg_monitor, no password (an exporter gets one out of
//     band; groundctl's own checks connect as [postgres].user like backups do).
Component render_postgres(const config::Config& config, const Target& target);

// The password step, self-contained so that the renderer stays pure and the secret never
// passes through groundctl's memory, argv, plan output or the server log:
//   - the step runs as root: /bin/sh reads app_password_file into an environment variable and
//     execs psql as the OS user postgres through runuser; its stdin_text (no secret) makes psql
//     pick the variable up with \getenv and send ALTER ROLE ... PASSWORD with statement and
//     error logging turned off for that session, so the server stores only a SCRAM verifier;
//   - the check runs as root and logs in as the app role with the file's password (PGPASSWORD,
//     scram over the Unix socket): exit 0 when the password already works.
// Exposed for tests; render_postgres includes it when app_password_file is set.
Step password_step(const config::PostgresConfig& pg);

// The settings of a rendered groundctl.conf (`conf_text`, lines `name = value`) that PostgreSQL
// reads only when it starts (context "postmaster": listen_addresses, port, shared_buffers,
// max_connections...), as {name, value} in file order, the value unquoted. Pure.
std::vector<std::pair<std::string, std::string>> restart_settings(std::string_view conf_text);

// The step "restart postgresql: listen_addresses changed" (every restart_settings name), or
// nullopt when `conf_text` has none. Its check (psql as postgres through runuser) passes when
// the running server already has each value, or got that setting on its command line, which a
// restart would not change either: so a restart is planned exactly when it changes something,
// and apply runs it after the reload. The step runs as root: `systemctl restart postgresql`
// with systemd, else pg_ctl restart (as postgres) on the server's data_directory, which replays
// the server's own command line (postmaster.opts). Exposed for tests. Pure.
std::optional<Step> restart_step(const config::PostgresConfig& pg, std::string_view conf_text,
                                 const Target& target);

// The psql invocation apply uses: /usr/bin/psql without psqlrc, quiet, stopping at the first
// error, connecting to `db` on [postgres].host/port as the superuser "postgres" (peer).
std::vector<std::string> psql_argv(const config::PostgresConfig& pg, const std::string& db);

// SQL quoting: "name" with '"' doubled, and 'text' with '\'' doubled. Config identifiers are
// plain already; they are quoted anyway.
std::string quote_ident(std::string_view name);
std::string quote_literal(std::string_view text);

}  // namespace gc::provision

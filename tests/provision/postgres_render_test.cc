// SPDX-License-Identifier: MIT
// tests/provision/postgres_render_test.cc: the pure rendering of the postgres and pgbouncer
// components. What the rendered commands do is tested against a real server in postgres_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "config/loader.h"
#include "provision/pgbouncer.h"
#include "provision/postgres.h"

namespace gc::provision {
namespace {

config::Config load(const std::string& text) {
  config::LoadOutcome outcome = config::load_config_from_string(text, "/etc/groundctl/g.toml");
  std::string errors;
  for (const auto& d : outcome.diagnostics) errors += d.to_string() + "\n";
  EXPECT_TRUE(outcome.config) << errors;
  return outcome.config ? *outcome.config : config::Config{};
}

const std::string kConfig = R"([postgres]
databases = ["orbital", "analytics"]
manage = true
app_role = "orbital_user"
app_password_file = "/etc/groundctl/app.password"
slow_query = "250ms"
pool = { port = 6432, default_pool_size = 20, max_client_conn = 200 }
)";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += a + "\n";
  return out;
}

TEST(RenderPostgres, WritesTheConfDropInAndAClosedPgHba) {
  Component c = render_postgres(load(kConfig), Target{});
  EXPECT_EQ(c.name, "postgres");
  ASSERT_EQ(c.files.size(), 2u);
  const ManagedFile& conf = c.files[0];
  EXPECT_EQ(conf.path, "/etc/postgresql/15/main/conf.d/groundctl.conf");
  EXPECT_EQ(conf.mode, 0644u);
  EXPECT_EQ(conf.owner, "postgres");
  EXPECT_EQ(conf.group, "postgres");
  EXPECT_FALSE(conf.secret);
  for (const char* line :
       {"listen_addresses = 'localhost'\n", "password_encryption = 'scram-sha-256'\n",
        "log_min_duration_statement = 250\n", "log_connections = on\n", "log_disconnections = on\n",
        "log_lock_waits = on\n", "log_line_prefix = '"}) {
    EXPECT_TRUE(contains(conf.content, line)) << line << " in\n" << conf.content;
  }
  EXPECT_FALSE(contains(conf.content, "ssl"));
  const ManagedFile& hba = c.files[1];
  EXPECT_EQ(hba.path, "/etc/postgresql/15/main/pg_hba.conf");
  EXPECT_EQ(hba.mode, 0640u);
  EXPECT_EQ(hba.owner, "postgres");
  EXPECT_TRUE(contains(hba.content, "local   all       postgres          peer\n"));
  EXPECT_TRUE(contains(hba.content, "local   all       all               scram-sha-256\n"));
  EXPECT_TRUE(contains(hba.content, "127.0.0.1/32  scram-sha-256\n"));
  EXPECT_TRUE(contains(hba.content, "::1/128       scram-sha-256\n"));
  EXPECT_FALSE(contains(hba.content, "trust"));
  EXPECT_FALSE(contains(hba.content, "0.0.0.0"));
  EXPECT_FALSE(contains(hba.content, "md5"));
  // [postgres].user is postgres: no extra peer line.
  int lines = static_cast<int>(std::count(hba.content.begin(), hba.content.end(), '\n'));
  EXPECT_EQ(lines, 7) << hba.content;  // Two header lines, a column line and four rules.
}

TEST(RenderPostgres, GivesABackupRoleWithoutPasswordPeerAccess) {
  Component c = render_postgres(load(kConfig + "user = \"backup-role\"\n"), Target{});
  EXPECT_TRUE(contains(c.files[1].content, "local   all       \"backup-role\"  peer\n"));
  Component with_password =
      render_postgres(load(kConfig + "user = \"backup\"\npassword_file = \"/etc/pw\"\n"), Target{});
  EXPECT_FALSE(contains(with_password.files[1].content, "backup"));
}

TEST(RenderPostgres, HonoursConfigDirAndConnectionSettings) {
  Component c = render_postgres(
      load(kConfig + "config_dir = \"/srv/pg\"\nhost = \"/tmp/sock\"\nport = 5555\n"), Target{});
  EXPECT_EQ(c.files[0].path, "/srv/pg/conf.d/groundctl.conf");
  EXPECT_EQ(c.files[1].path, "/srv/pg/pg_hba.conf");
  std::string validate = joined(c.lifecycle.validate);
  EXPECT_TRUE(contains(validate, "-h\n/tmp/sock\n-p\n5555\n-U\npostgres\n")) << validate;
  EXPECT_TRUE(contains(validate, "pg_file_settings"));
  EXPECT_TRUE(contains(validate, "pg_hba_file_rules"));
  EXPECT_TRUE(contains(validate, "ON_ERROR_STOP=1"));
  EXPECT_TRUE(contains(joined(c.lifecycle.reload), "SELECT pg_reload_conf()"));
  EXPECT_EQ(c.lifecycle.run_as, "postgres");
}

TEST(RenderPostgres, RendersOneCheckedStepPerConcern) {
  Component c = render_postgres(load(kConfig), Target{});
  ASSERT_EQ(c.steps_after.size(), 8u);  // Restart, role, 2 databases, 2 grants, password, monitor.
  for (const Step& s : c.steps_after) {
    EXPECT_FALSE(s.check.empty()) << s.summary;
    EXPECT_FALSE(s.summary.empty());
  }
  EXPECT_EQ(c.steps_after[1].run_as, "postgres");
  EXPECT_TRUE(contains(c.steps_after[1].stdin_text,
                       "ALTER ROLE \"orbital_user\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                       "NOREPLICATION"));
  EXPECT_TRUE(contains(c.steps_after[2].stdin_text, "CREATE DATABASE %I OWNER %I"));
  EXPECT_TRUE(contains(c.steps_after[2].stdin_text,
                       "ALTER DATABASE \"orbital\" OWNER TO \"orbital_user\""));
  EXPECT_TRUE(contains(c.steps_after[3].stdin_text, "\"analytics\""));
  const Step& grants = c.steps_after[4];
  EXPECT_TRUE(contains(grants.stdin_text, "REVOKE ALL ON DATABASE \"orbital\" FROM PUBLIC"));
  EXPECT_TRUE(contains(grants.stdin_text, "REVOKE CREATE ON SCHEMA public FROM PUBLIC"));
  EXPECT_TRUE(contains(grants.stdin_text, "GRANT CONNECT ON DATABASE \"orbital\" TO"));
  EXPECT_TRUE(contains(joined(grants.argv), "-d\norbital\n"));  // Schema grants are per database.
  EXPECT_EQ(c.steps_after[6].summary,
            "set the password of role orbital_user from /etc/groundctl/app.password");
  EXPECT_TRUE(contains(c.steps_after[7].stdin_text, "GRANT pg_monitor TO \"groundctl_monitor\""));
  // SQL statements go through stdin, never argv; checks only carry a condition.
  for (const Step& s : c.steps_after) {
    EXPECT_FALSE(contains(joined(s.argv), "ALTER ")) << s.summary;
    EXPECT_FALSE(contains(joined(s.argv), "CREATE ")) << s.summary;
  }
}

TEST(RenderPostgres, KeepsThePasswordOutOfArgvAndTheServerLog) {
  config::Config config = load(kConfig);
  Step s = password_step(*config.postgres);
  EXPECT_EQ(s.run_as, "");  // Root reads the root-only file.
  std::string argv = joined(s.argv);
  EXPECT_TRUE(contains(argv, "/etc/groundctl/app.password\n"));
  EXPECT_TRUE(contains(argv, "/usr/sbin/runuser\n-u\npostgres\n--\n/usr/bin/psql\n"));
  EXPECT_TRUE(contains(s.stdin_text, "\\getenv app_password GC_APP_PASSWORD\n"));
  EXPECT_TRUE(contains(s.stdin_text, "PASSWORD :'app_password'"));
  EXPECT_TRUE(contains(s.stdin_text, "SET log_statement = 'none'"));
  EXPECT_TRUE(contains(s.stdin_text, "SET log_min_error_statement = 'panic'"));
  EXPECT_TRUE(contains(joined(s.check), "orbital_user\norbital\n"));
  // Without a password file there is no password step.
  std::string no_password = kConfig;
  no_password.erase(no_password.find("app_password_file"),
                    no_password.find('\n', no_password.find("app_password_file")) -
                        no_password.find("app_password_file") + 1);
  EXPECT_EQ(render_postgres(load(no_password), Target{}).steps_after.size(), 7u);
}

TEST(RenderPostgres, FindsTheSettingsThatNeedARestart) {
  EXPECT_EQ(restart_settings("# listen_addresses = '*'\nlisten_addresses = 'localhost'\n"
                             "log_connections = on\nport=5433\nshared_buffers = '64MB'\n"),
            (std::vector<std::pair<std::string, std::string>>{
                {"listen_addresses", "localhost"}, {"port", "5433"}, {"shared_buffers", "64MB"}}));
  EXPECT_TRUE(restart_settings("log_connections = on\nlog_min_duration_statement = 250\n").empty());
  // What groundctl renders today: listen_addresses only.
  Component c = render_postgres(load(kConfig), Target{});
  EXPECT_EQ(restart_settings(c.files[0].content),
            (std::vector<std::pair<std::string, std::string>>{{"listen_addresses", "localhost"}}));
}

TEST(RenderPostgres, RestartsWhenARestartOnlySettingWouldChange) {
  Component c = render_postgres(load(kConfig), Target{"", true});
  ASSERT_FALSE(c.steps_after.empty());
  const Step& restart = c.steps_after[0];  // Right after the reload, before roles and grants.
  EXPECT_EQ(restart.summary, "restart postgresql: listen_addresses changed");
  EXPECT_EQ(restart.argv, (std::vector<std::string>{"systemctl", "restart", "postgresql"}));
  EXPECT_EQ(restart.run_as, "");
  std::string check = joined(restart.check);
  EXPECT_TRUE(contains(check, "/usr/sbin/runuser\n-u\npostgres\n--\n/usr/bin/psql\n")) << check;
  EXPECT_TRUE(contains(check, "current_setting('listen_addresses') = 'localhost'")) << check;
  EXPECT_TRUE(contains(check, "= 'command line'")) << check;
  // Without systemd: pg_ctl restart on the running server's data directory, as postgres.
  Step sysv = render_postgres(load(kConfig), Target{}).steps_after.at(0);
  std::string argv = joined(sysv.argv);
  EXPECT_TRUE(contains(argv, "/usr/sbin/runuser\n-u\npostgres\n--\n/bin/sh\n-c\n")) << argv;
  EXPECT_TRUE(contains(argv, "pg_ctl\" restart -D \"$data\" -m fast -w")) << argv;
  EXPECT_TRUE(contains(argv, "groundctl-restart-postgres\n/usr/bin/psql\n")) << argv;
  // No restart-only setting in the text: no step.
  EXPECT_FALSE(restart_step(*load(kConfig).postgres, "log_connections = on\n", Target{}));
  auto port = restart_step(*load(kConfig).postgres, "port = 5433\nwal_level = 'logical'\n", {});
  ASSERT_TRUE(port);
  EXPECT_EQ(port->summary, "restart postgresql: port, wal_level changed");
}

TEST(RenderPostgres, QuotesIdentifiersAndLiterals) {
  EXPECT_EQ(quote_ident("orbital"), "\"orbital\"");
  EXPECT_EQ(quote_ident("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
}

TEST(RenderPgbouncer, WritesTheIniForTransactionPoolingOnLoopback) {
  Component c = render_pgbouncer(load(kConfig), Target{"", true});
  EXPECT_EQ(c.name, "pgbouncer");
  ASSERT_EQ(c.files.size(), 1u);
  const ManagedFile& ini = c.files[0];
  EXPECT_EQ(ini.path, "/etc/pgbouncer/pgbouncer.ini");
  EXPECT_EQ(ini.mode, 0640u);
  EXPECT_EQ(ini.owner, "postgres");
  for (const char* line :
       {"[databases]\norbital = host=/var/run/postgresql port=5432 dbname=orbital\n"
        "analytics = host=/var/run/postgresql port=5432 dbname=analytics\n",
        "listen_addr = 127.0.0.1\n", "listen_port = 6432\n", "auth_type = scram-sha-256\n",
        "auth_file = /etc/pgbouncer/userlist.txt\n", "pool_mode = transaction\n",
        "default_pool_size = 20\n", "max_client_conn = 200\n",
        "pidfile = /var/run/postgresql/pgbouncer.pid\n",
        "unix_socket_dir = /var/run/postgresql\n"}) {
    EXPECT_TRUE(contains(ini.content, line)) << line << " in\n" << ini.content;
  }
  // Under systemd the journal has the log; without it Debian's path.
  EXPECT_FALSE(contains(ini.content, "logfile"));
  EXPECT_EQ(c.lifecycle.reload,
            (std::vector<std::string>{"systemctl", "reload", "pgbouncer.service"}));
  Component sysv = render_pgbouncer(load(kConfig), Target{"", false});
  EXPECT_TRUE(contains(sysv.files[0].content, "logfile = /var/log/postgresql/pgbouncer.log\n"));
  EXPECT_TRUE(contains(joined(sysv.lifecycle.reload), "kill -HUP"));
  EXPECT_TRUE(contains(joined(sysv.lifecycle.reload), "/var/run/postgresql/pgbouncer.pid"));
}

TEST(RenderPgbouncer, CopiesTheVerifierWithACheckedStep) {
  Component c = render_pgbouncer(load(kConfig), Target{"", true});
  ASSERT_EQ(c.steps_after.size(), 1u);
  const Step& s = c.steps_after[0];
  EXPECT_EQ(s.run_as, "");
  EXPECT_FALSE(s.check.empty());
  EXPECT_TRUE(s.stdin_text.empty());
  EXPECT_TRUE(contains(joined(s.argv), "/etc/pgbouncer/userlist.txt\nsystemd\n"));
  EXPECT_TRUE(contains(joined(s.argv), "pg_authid"));
  EXPECT_TRUE(contains(joined(s.argv), "'orbital_user'"));
  EXPECT_TRUE(contains(joined(s.check), "/etc/pgbouncer/userlist.txt\n"));
}

}  // namespace
}  // namespace gc::provision

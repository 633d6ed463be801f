// SPDX-License-Identifier: MIT
// tests/provision/postgres_test.cc: the rendered postgres and pgbouncer components run for real
// against a throwaway PostgreSQL 15 cluster and a real PgBouncer: validate, reload, the role and
// database steps with their checks, SCRAM logins through the pool. Needs root (steps run as the
// OS user postgres, as apply would).
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "config/loader.h"
#include "provision/pgbouncer.h"
#include "provision/postgres.h"
#include "support/postgres.h"

namespace gc::provision {
namespace {

using testing::PostgresServer;

constexpr const char* kPassword = "correct horse 'battery' staple";
constexpr uid_t kNobody = 65534;  // The throwaway server's OS user (support/postgres.cc).
constexpr gid_t kNogroup = 65534;

struct Ran {
  ExitStatus status;
  std::string out;
  std::string err;
};

std::optional<Credentials> credentials_of(const std::string& user) {
  if (user.empty()) return std::nullopt;
  struct passwd* pw = ::getpwnam(user.c_str());
  if (!pw) return std::nullopt;
  Credentials c{pw->pw_uid, pw->pw_gid, {}};
  int n = 32;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  if (::getgrouplist(user.c_str(), pw->pw_gid, groups.data(), &n) >= 0) {
    groups.resize(static_cast<std::size_t>(n));
    c.groups = groups;
  }
  return c;
}

// Runs argv as `run_as` ("" = root) the way apply does: stdin_text on stdin, no shell.
Result<Ran> run(const TempDir& dir, const std::vector<std::string>& argv, const std::string& run_as,
                const std::string& stdin_text = "", std::vector<std::string> extra_env = {}) {
  std::string in_path = dir.file("cmd.in"), out_path = dir.file("cmd.out"),
              err_path = dir.file("cmd.err");
  GC_TRY(write_file_atomic(in_path, stdin_text, 0600));
  GC_ASSIGN_OR_RETURN(UniqueFd in, open_fd(in_path, O_RDONLY));
  GC_ASSIGN_OR_RETURN(UniqueFd out, open_fd(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  GC_ASSIGN_OR_RETURN(UniqueFd err, open_fd(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  SpawnOptions o;
  o.argv = argv;
  o.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8"};
  for (std::string& e : extra_env) o.env.push_back(std::move(e));
  o.cwd = "/";
  o.stdin_fd = in.get();
  o.stdout_fd = out.get();
  o.stderr_fd = err.get();
  o.credentials = credentials_of(run_as);
  if (!run_as.empty() && !o.credentials) {
    return tl::unexpected(Error{Errc::kNotFound, "no OS user " + run_as});
  }
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  GC_ASSIGN_OR_RETURN(ExitStatus st, child.wait());
  return Ran{st, read_file(out_path).value_or(""), read_file(err_path).value_or("")};
}

// A free loopback TCP port: bound to port 0, read back, released.
int free_port() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  socklen_t len = sizeof a;
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) return -1;
  return ntohs(a.sin_port);
}

class PostgresProvision : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: steps run as the OS user postgres";
    if (testing::postgres_bindir().empty()) GTEST_SKIP() << "postgresql-15 is not installed";
    if (!credentials_of("postgres")) GTEST_SKIP() << "no OS user postgres";
    auto pg = PostgresServer::start();
    ASSERT_TRUE(pg) << pg.error().message;
    server_ = std::move(*pg);
    auto dir = TempDir::create("gc-provision-pg-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    ::chmod(dir_->path().c_str(), 0755);  // PgBouncer (as postgres) reads its files here.
    password_file_ = dir_->file("app.password");
    ASSERT_TRUE(write_file_atomic(password_file_, std::string(kPassword) + "\n", 0600));
    // The cluster from initdb has no include_dir; Debian's postgresql.conf does.
    conf_dir_ = server_->data_dir();
    ASSERT_TRUE(make_directories(conf_dir_ + "/conf.d", 0755));
    ASSERT_EQ(::chown((conf_dir_ + "/conf.d").c_str(), kNobody, kNogroup), 0);
    auto conf = read_file(conf_dir_ + "/postgresql.conf");
    ASSERT_TRUE(conf);
    ASSERT_TRUE(install(conf_dir_ + "/postgresql.conf", *conf + "include_dir = 'conf.d'\n", 0600));
    pool_port_ = free_port();
    ASSERT_GT(pool_port_, 0);
    std::string text =
        "[postgres]\nhost = \"" + server_->socket_dir() +
        "\"\nport = 5432\ndatabases = [\"orbital\", \"shop\"]\nmanage = true\n"
        "app_role = \"orbital_user\"\napp_password_file = \"" +
        password_file_ + "\"\nconfig_dir = \"" + conf_dir_ +
        "\"\nslow_query = \"1234ms\"\n[postgres.pool]\nport = " + std::to_string(pool_port_) +
        "\nconfig_dir = \"" + dir_->path() + "\"\n";
    config::LoadOutcome outcome = config::load_config_from_string(text, dir_->file("g.toml"));
    ASSERT_TRUE(outcome.config) << (outcome.diagnostics.empty() ? ""
                                                                : outcome.diagnostics[0].message);
    config_ = *outcome.config;
    component_ = render_postgres(config_, Target{});
  }

  // Writes a file the server reads. Apply would make it postgres-owned; this cluster's server
  // runs as nobody.
  Status install(const std::string& path, const std::string& content, mode_t mode) {
    GC_TRY(write_file_atomic(path, content, static_cast<int>(mode)));
    if (::chown(path.c_str(), kNobody, kNogroup) != 0) {
      return tl::unexpected(sys_error("chown", path, errno));
    }
    return {};
  }

  void install_rendered() {
    for (const ManagedFile& f : component_.files) {
      ASSERT_TRUE(install(f.path, f.content, f.mode)) << f.path;
    }
  }

  Result<Ran> lifecycle(const std::vector<std::string>& argv) {
    return run(*dir_, argv, component_.lifecycle.run_as);
  }

  // psql as the OS user postgres (peer) on `db`, tuples only.
  std::string sql(const std::string& query, const std::string& db = "postgres") {
    std::vector<std::string> argv = psql_argv(*config_.postgres, db);
    argv.insert(argv.end(), {"-A", "-t", "-c", query});
    auto r = run(*dir_, argv, "postgres");
    EXPECT_TRUE(r && r->status.success()) << query << ": " << (r ? r->err : r.error().message);
    return r ? r->out : "";
  }

  // psql as the app role with `password` (scram) at host:port, as an app would log in.
  Result<Ran> app_login(const std::string& host, int port, const std::string& password) {
    return run(*dir_,
               {"/usr/bin/psql", "-X", "-w", "-A", "-t", "-h", host, "-p", std::to_string(port),
                "-U", "orbital_user", "-d", "orbital", "-c", "SELECT current_user"},
               "", "", {"PGPASSWORD=" + password});
  }

  // Runs each step whose check fails, then requires its check to pass. Returns how many ran.
  int apply_steps(const std::vector<Step>& steps) {
    int ran = 0;
    for (const Step& s : steps) {
      auto check = run(*dir_, s.check, s.run_as);
      EXPECT_TRUE(check) << s.summary;
      if (check && check->status.success()) continue;
      ++ran;
      auto r = run(*dir_, s.argv, s.run_as, s.stdin_text);
      EXPECT_TRUE(r && r->status.success())
          << s.summary << ": " << (r ? r->status.to_string() + " " + r->err : r.error().message);
      auto again = run(*dir_, s.check, s.run_as);
      EXPECT_TRUE(again && again->status.success())
          << s.summary << ": still unsatisfied: " << (again ? again->err : "");
    }
    return ran;
  }

  // Waits until a new session sees the reloaded setting.
  std::string wait_for_setting(const std::string& name, const std::string& want) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      got = sql("SHOW " + name);
      if (got == want + "\n") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return got;
  }

  std::unique_ptr<PostgresServer> server_;
  std::optional<TempDir> dir_;
  std::string password_file_;
  std::string conf_dir_;
  int pool_port_ = 0;
  config::Config config_;
  Component component_;
};

TEST_F(PostgresProvision, ValidatesReloadsAndProvisionsIdempotently) {
  // Drift to correct: the role exists with CREATEDB, "shop" belongs to another role.
  ASSERT_TRUE(server_->psql("postgres", "CREATE ROLE orbital_user CREATEDB"));
  ASSERT_TRUE(server_->psql("postgres", "CREATE ROLE someone"));
  ASSERT_TRUE(server_->psql("postgres", "CREATE DATABASE shop OWNER someone"));
  install_rendered();
  auto validate = lifecycle(component_.lifecycle.validate);
  ASSERT_TRUE(validate);
  EXPECT_TRUE(validate->status.success()) << validate->err;
  auto reload = lifecycle(component_.lifecycle.reload);
  ASSERT_TRUE(reload);
  EXPECT_TRUE(reload->status.success()) << reload->err;
  EXPECT_EQ(wait_for_setting("log_min_duration_statement", "1234ms"), "1234ms\n");
  EXPECT_EQ(sql("SHOW password_encryption"), "scram-sha-256\n");
  EXPECT_EQ(sql("SHOW log_connections"), "on\n");

  EXPECT_EQ(apply_steps(component_.steps_after), 7);  // Every step: all were unsatisfied.
  EXPECT_EQ(sql("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication "
                "FROM pg_roles WHERE rolname = 'orbital_user'"),
            "t|f|f|f|f\n");
  EXPECT_EQ(sql("SELECT datname, pg_get_userbyid(datdba) FROM pg_database "
                "WHERE datname IN ('orbital', 'shop') ORDER BY 1"),
            "orbital|orbital_user\nshop|orbital_user\n");
  EXPECT_EQ(sql("SELECT has_database_privilege('public', 'orbital', 'CONNECT'), "
                "has_database_privilege('someone', 'shop', 'CONNECT'), "
                "has_database_privilege('orbital_user', 'shop', 'CONNECT')"),
            "f|f|t\n");
  EXPECT_EQ(sql("SELECT has_schema_privilege('public', 'public', 'CREATE')", "shop"), "f\n");
  EXPECT_EQ(sql("SELECT rolcanlogin, rolsuper, pg_has_role('groundctl_monitor', 'pg_monitor', "
                "'MEMBER') FROM pg_roles WHERE rolname = 'groundctl_monitor'"),
            "t|f|t\n");
  // Only a SCRAM verifier is stored, and the password logs in; a wrong one does not.
  EXPECT_EQ(sql("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'orbital_user'"),
            "SCRAM-SHA-256$\n");
  auto login = app_login(server_->socket_dir(), 5432, kPassword);
  ASSERT_TRUE(login);
  EXPECT_TRUE(login->status.success()) << login->err;
  EXPECT_EQ(login->out, "orbital_user\n");
  auto wrong = app_login(server_->socket_dir(), 5432, "wrong");
  ASSERT_TRUE(wrong);
  EXPECT_FALSE(wrong->status.success());
  EXPECT_NE(wrong->err.find("password authentication failed"), std::string::npos) << wrong->err;
  // The server log never saw the password.
  auto log = read_file(server_->data_dir() + "/../postgres.log");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->find("battery"), std::string::npos);

  // A second run: every check passes, nothing runs.
  EXPECT_EQ(apply_steps(component_.steps_after), 0);
  // Drift again: attributes are corrected by the next run.
  sql("ALTER ROLE orbital_user SUPERUSER");
  EXPECT_EQ(apply_steps(component_.steps_after), 1);
  EXPECT_EQ(sql("SELECT rolsuper FROM pg_roles WHERE rolname = 'orbital_user'"), "f\n");
}

TEST_F(PostgresProvision, RestartIsPlannedOnlyWhenItWouldChangeTheRunningServer) {
  auto satisfied = [&](const Step& s) {
    auto r = run(*dir_, s.check, s.run_as);
    EXPECT_TRUE(r) << s.summary;
    return r && r->status.success();
  };
  // The rendered listen_addresses = 'localhost': this server got listen_addresses on its
  // command line, which a restart would not change either.
  const Step& rendered = component_.steps_after.at(0);
  ASSERT_EQ(rendered.summary, "restart postgresql: listen_addresses changed");
  EXPECT_TRUE(satisfied(rendered));
  // A restart-only setting that is not on the command line: needed when the file's value
  // differs from the running one (initdb's default max_worker_processes is 8).
  auto differs = restart_step(*config_.postgres, "max_worker_processes = 9\n", Target{});
  ASSERT_TRUE(differs);
  EXPECT_FALSE(satisfied(*differs));
  auto same = restart_step(*config_.postgres, "max_worker_processes = 8\n", Target{});
  ASSERT_TRUE(same);
  EXPECT_TRUE(satisfied(*same));
  // The steps this fixture runs (apply_steps) therefore never include the restart.
  EXPECT_EQ(apply_steps({rendered}), 0);
}

TEST_F(PostgresProvision, ValidateRejectsBrokenFilesBeforeReload) {
  install_rendered();
  auto ok = lifecycle(component_.lifecycle.validate);
  ASSERT_TRUE(ok);
  ASSERT_TRUE(ok->status.success()) << ok->err;

  std::string conf = conf_dir_ + "/conf.d/groundctl.conf";
  ASSERT_TRUE(install(conf, component_.files[0].content + "no_such_setting = 1\n", 0644));
  auto unknown = lifecycle(component_.lifecycle.validate);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->status.success());
  EXPECT_NE(unknown->err.find("unrecognized configuration parameter"), std::string::npos)
      << unknown->err;

  ASSERT_TRUE(install(conf, component_.files[0].content + "listen_addresses = \n", 0644));
  auto garbage = lifecycle(component_.lifecycle.validate);
  ASSERT_TRUE(garbage);
  EXPECT_FALSE(garbage->status.success());
  EXPECT_NE(garbage->err.find("syntax error"), std::string::npos) << garbage->err;

  ASSERT_TRUE(install(conf, component_.files[0].content, 0644));
  std::string hba = conf_dir_ + "/pg_hba.conf";
  ASSERT_TRUE(install(hba, component_.files[1].content + "local all all trus\n", 0640));
  auto bad_hba = lifecycle(component_.lifecycle.validate);
  ASSERT_TRUE(bad_hba);
  EXPECT_FALSE(bad_hba->status.success());
  EXPECT_NE(bad_hba->err.find("invalid authentication method \"trus\""), std::string::npos)
      << bad_hba->err;

  // Back to the rendered files: valid again. The broken ones were never loaded: the running
  // server still uses initdb's settings.
  ASSERT_TRUE(install(hba, component_.files[1].content, 0640));
  auto again = lifecycle(component_.lifecycle.validate);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->status.success()) << again->err;
  EXPECT_EQ(sql("SHOW log_min_duration_statement"), "-1\n");
}

class PgBouncerRun {
 public:
  ~PgBouncerRun() {
    if (child_) (void)child_->terminate(SIGTERM, std::chrono::seconds(10));
  }
  std::optional<ChildProcess> child_;
};

TEST_F(PostgresProvision, PgBouncerAuthenticatesTheAppRoleWithScram) {
  install_rendered();
  auto reload = lifecycle(component_.lifecycle.reload);
  ASSERT_TRUE(reload && reload->status.success());
  EXPECT_EQ(apply_steps(component_.steps_after), 7);
  // PgBouncer (as postgres) puts its socket and pidfile beside the server's, as on Debian.
  ASSERT_EQ(::chmod(server_->socket_dir().c_str(), 01777), 0);

  // The ini as under systemd (stderr logging); the userlist step signals through the pidfile.
  Component bouncer = render_pgbouncer(config_, Target{"", true});
  Component sysv = render_pgbouncer(config_, Target{"", false});
  ASSERT_EQ(bouncer.files.size(), 1u);
  const ManagedFile& ini = bouncer.files[0];
  ASSERT_TRUE(write_file_atomic(ini.path, ini.content, static_cast<int>(ini.mode)));
  auto pg_user = credentials_of("postgres");
  ASSERT_EQ(::chown(ini.path.c_str(), pg_user->uid, pg_user->gid), 0);
  ASSERT_EQ(apply_steps(sysv.steps_after), 1);
  std::string userlist = dir_->file("userlist.txt");
  struct stat st {};
  ASSERT_EQ(::stat(userlist.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, pg_user->uid);
  auto content = read_file(userlist);
  ASSERT_TRUE(content);
  EXPECT_EQ(content->rfind("\"orbital_user\" \"SCRAM-SHA-256$4096:", 0), 0u);
  EXPECT_EQ(apply_steps(sysv.steps_after), 0);  // Current: the check passes.

  auto log = open_fd(dir_->file("pgbouncer.log"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_TRUE(log);
  SpawnOptions o;
  o.argv = {"/usr/sbin/pgbouncer", ini.path};
  o.env = {"PATH=/usr/bin:/bin"};
  o.stdout_fd = log->get();
  o.stderr_fd = log->get();
  o.credentials = pg_user;
  o.parent_death_signal = SIGTERM;
  PgBouncerRun bouncer_run;
  auto child = ChildProcess::spawn(o);
  ASSERT_TRUE(child) << child.error().message;
  bouncer_run.child_.emplace(std::move(*child));

  Result<Ran> through{tl::unexpected(Error{Errc::kTimeout, "no attempt"})};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    through = app_login("127.0.0.1", pool_port_, kPassword);
    if (through && through->status.success()) break;
    auto exited = bouncer_run.child_->try_wait();
    ASSERT_TRUE(exited && !*exited)
        << "pgbouncer exited: " << read_file(dir_->file("pgbouncer.log")).value_or("");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(through);
  EXPECT_TRUE(through->status.success())
      << through->err << read_file(dir_->file("pgbouncer.log")).value_or("");
  EXPECT_EQ(through->out, "orbital_user\n");
  auto wrong = app_login("127.0.0.1", pool_port_, "wrong");
  ASSERT_TRUE(wrong);
  EXPECT_FALSE(wrong->status.success());
  EXPECT_NE(wrong->err.find("SASL authentication failed"), std::string::npos) << wrong->err;

  // A rotated password: the password step sets it, the userlist check notices, the userlist
  // step rewrites the file and signals PgBouncer, which then accepts the new password only.
  const std::string rotated = "n3w-pa$$word";
  ASSERT_TRUE(write_file_atomic(password_file_, rotated, 0600));
  EXPECT_EQ(apply_steps(component_.steps_after), 1);
  EXPECT_EQ(apply_steps(sysv.steps_after), 1);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    through = app_login("127.0.0.1", pool_port_, rotated);
    if (through && through->status.success()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(through);
  EXPECT_TRUE(through->status.success()) << through->err;
  auto old = app_login("127.0.0.1", pool_port_, kPassword);
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->status.success());
}

}  // namespace
}  // namespace gc::provision

// SPDX-License-Identifier: MIT
#include "support/postgres.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/atomic_file.h"
#include "base/unique_fd.h"

namespace gc::testing {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

std::optional<Credentials> server_credentials() {
  if (::geteuid() != 0) return std::nullopt;
  return Credentials{kNobody, kNogroup, {}};
}

struct Captured {
  ExitStatus status;
  std::string out;
  std::string err;
};

// Runs argv to completion (as the server's user) with output captured in files under `dir`.
Result<Captured> run(const std::vector<std::string>& argv, const std::string& dir) {
  std::string out_path = dir + "/cmd.out", err_path = dir + "/cmd.err";
  GC_ASSIGN_OR_RETURN(UniqueFd out, open_fd(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  GC_ASSIGN_OR_RETURN(UniqueFd err, open_fd(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  SpawnOptions o;
  o.argv = argv;
  o.env = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "PGTZ=UTC"};
  o.stdout_fd = out.get();
  o.stderr_fd = err.get();
  o.new_session = false;
  o.credentials = server_credentials();
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  GC_ASSIGN_OR_RETURN(ExitStatus st, child.wait());
  return Captured{st, read_file(out_path).value_or(""), read_file(err_path).value_or("")};
}

Status chown_to_server(const std::string& path) {
  if (::geteuid() != 0) return {};
  if (::chown(path.c_str(), kNobody, kNogroup) != 0)
    return tl::unexpected(sys_error("chown", path, errno));
  return {};
}

// A TCP port on 127.0.0.1 that nobody listens on right now.
Result<int> free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return tl::unexpected(sys_error("socket", "", errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return tl::unexpected(sys_error("bind", "127.0.0.1:0", errno));
  }
  return ntohs(a.sin_port);
}

}  // namespace

std::string postgres_bindir() {
  const std::string dir = "/usr/lib/postgresql/15/bin";
  return ::access((dir + "/postgres").c_str(), X_OK) == 0 ? dir : "";
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::start(std::vector<std::string> settings) {
  PostgresOptions o;
  o.settings = std::move(settings);
  return start(std::move(o));
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::start(PostgresOptions options) {
  std::string bindir = postgres_bindir();
  if (bindir.empty())
    return tl::unexpected(Error{Errc::kNotFound, "postgresql-15 is not installed"});
  GC_ASSIGN_OR_RETURN(TempDir root, TempDir::create("gc-pg-"));
  std::unique_ptr<PostgresServer> pg(new PostgresServer(std::move(root)));
  const TempDir& r = pg->root_;
  // The server user must reach its directories; nobody else needs to list them.
  ::chmod(r.path().c_str(), 0711);
  std::string work = r.file("work"), data = r.file("data");
  pg->socket_dir_ = r.file("run");
  for (const std::string& d : {work, data, pg->socket_dir_}) {
    GC_TRY(make_directories(d, d == data ? 0700 : 0755));
    GC_TRY(chown_to_server(d));
  }
  GC_ASSIGN_OR_RETURN(Captured init, run({bindir + "/initdb", "-D", data, "-U", "postgres", "-A",
                                          "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                                         work));
  if (!init.status.success()) {
    return tl::unexpected(Error{Errc::kInternal, "initdb failed: " + init.err});
  }
  if (!options.hba.empty()) {
    std::string hba = "local all postgres trust\n";
    for (const std::string& line : options.hba) hba += line + "\n";
    GC_TRY(write_file_atomic(data + "/pg_hba.conf", hba, 0600));
    GC_TRY(chown_to_server(data + "/pg_hba.conf"));
  }
  if (options.ssl) {
    GC_ASSIGN_OR_RETURN(Captured cert, run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec",
                                            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                            "-subj", "/CN=localhost", "-days", "2", "-keyout",
                                            data + "/server.key", "-out", data + "/server.crt"},
                                           work));
    if (!cert.status.success()) {
      return tl::unexpected(Error{Errc::kInternal, "openssl req failed: " + cert.err});
    }
    options.settings.push_back("ssl=on");
  }
  if (options.listen_tcp) {
    GC_ASSIGN_OR_RETURN(pg->port_, free_port());
    options.settings.push_back("listen_addresses=127.0.0.1");
  } else {
    options.settings.push_back("listen_addresses=");
  }
  SpawnOptions o;
  o.argv = {bindir + "/postgres",
            "-D",
            data,
            "-k",
            pg->socket_dir_,
            "-p",
            std::to_string(pg->port_),
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "shared_buffers=32MB",
            "-c",
            "max_connections=40"};
  for (const std::string& s : options.settings) {
    o.argv.push_back("-c");
    o.argv.push_back(s);
  }
  o.env = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"};
  GC_ASSIGN_OR_RETURN(UniqueFd log, open_fd(r.file("postgres.log"), O_WRONLY | O_CREAT, 0644));
  o.stdout_fd = log.get();
  o.stderr_fd = log.get();
  o.credentials = server_credentials();
  o.parent_death_signal = SIGINT;  // A crashed test must not leave a server behind.
  GC_ASSIGN_OR_RETURN(ChildProcess postmaster, ChildProcess::spawn(o));
  pg->postmaster_.emplace(std::move(postmaster));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    auto ok = pg->psql("postgres", "SELECT 1");
    if (ok && *ok == "1\n") break;
    auto exited = pg->postmaster_->try_wait();
    if (!exited || *exited || std::chrono::steady_clock::now() > deadline) {
      return tl::unexpected(
          Error{Errc::kUnavailable,
                "postgres did not start: " + read_file(r.file("postgres.log")).value_or("")});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pg;
}

PostgresServer::~PostgresServer() { (void)stop(); }

Status PostgresServer::stop() {
  if (postmaster_ && !postmaster_->reaped()) {
    // SIGINT is PostgreSQL's fast shutdown: disconnect clients, checkpoint, exit.
    GC_TRY(postmaster_->terminate(SIGINT, std::chrono::seconds(30)));
  }
  return {};
}

Result<std::string> PostgresServer::psql(const std::string& db, const std::string& sql) const {
  GC_ASSIGN_OR_RETURN(
      Captured c,
      run({"/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socket_dir_,
           "-p", std::to_string(port_), "-U", "postgres", "-d", db, "-c", sql},
          root_.file("work")));
  if (!c.status.success()) {
    return tl::unexpected(
        Error{Errc::kInternal, "psql failed (" + c.status.to_string() + "): " + c.err});
  }
  return c.out;
}

Status PostgresServer::create_database(const std::string& name) const {
  GC_TRY(psql("postgres", "CREATE DATABASE \"" + name + "\""));
  return {};
}

}  // namespace gc::testing

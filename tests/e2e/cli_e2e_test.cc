// SPDX-License-Identifier: MIT
// The CLI and the daemon's edges: systemd integration, the control socket's permissions and
// robustness, PM2 import.
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstring>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

// Runs groundctl with `args`; returns (exit code, stdout, stderr).
// Runs groundctl with `args`.
CliResult run(const TempDir& dir, std::vector<std::string> args,
              std::vector<std::string> env = {}) {
  std::vector<std::string> argv = {groundctl_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv, dir.path(), std::move(env));
}

UniqueFd connect_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return UniqueFd();
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  return line;
}

TEST(Cli, StartupPrintsANotifyUnitForThisConfig) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto r = run(*dir, {"-c", "/etc/groundctl/custom.toml", "startup"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Type=notify\n"), std::string::npos);
  EXPECT_NE(
      r.out.find("ExecStart=" + groundctl_bin() + " daemon --config /etc/groundctl/custom.toml\n"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("ExecReload=/bin/kill -HUP $MAINPID"), std::string::npos);
}

TEST(Cli, ImportPm2EvaluatesAJsEcosystemIntoAConfigThatChecks) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_file_atomic(
      dir->file("ecosystem.config.js"),
      "module.exports = { apps: [{ name: 'orbital-backend', script: 'src/server.js',\n"
      "  instances: 2, max_memory_restart: '400M', wait_ready: true, watch: true,\n"
      "  env: { NODE_ENV: 'production' } }] };\n"));
  auto r = run(*dir, {"import-pm2", dir->file("ecosystem.config.js")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name = \"orbital-backend\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stop_signal = \"SIGINT\""), std::string::npos);
  EXPECT_NE(r.out.find("max_memory = \"400MiB\""), std::string::npos);
  EXPECT_NE(r.out.find("# not imported: watch"), std::string::npos);
  ASSERT_TRUE(write_file_atomic(dir->file("g.toml"), r.out));
  auto check = run(*dir, {"-c", dir->file("g.toml"), "check", "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.parsed()["ok"], true);

  ASSERT_TRUE(write_file_atomic(dir->file("broken.js"), "module.exports = {;\n"));
  auto bad = run(*dir, {"import-pm2", dir->file("broken.js")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("could not evaluate"), std::string::npos) << bad.err;
}

TEST(Daemon, ControlSocketIsPrivateAndSurvivesGarbage) {
  auto d = Daemon::start("");
  std::string sock = d->dir() + "/run/control.sock";
  struct stat st {};
  ASSERT_EQ(::stat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  UniqueFd fd = connect_unix(sock);
  ASSERT_TRUE(fd);
  ASSERT_TRUE(write_all(fd.get(), "this is not json\n"));
  json reply = json::parse(read_line(fd.get()), nullptr, false);
  EXPECT_EQ(reply["ok"], false);
  EXPECT_EQ(reply["error"]["code"], "invalid_argument");
  ASSERT_TRUE(write_all(fd.get(), "{\"cmd\":\"explode\"}\n"));
  reply = json::parse(read_line(fd.get()), nullptr, false);
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("unknown command"),
            std::string::npos);
  ASSERT_TRUE(write_all(fd.get(), "{\"cmd\":\"describe\",\"name\":42}\n"));
  reply = json::parse(read_line(fd.get()), nullptr, false);
  EXPECT_EQ(reply["ok"], false);
  // A request line over the limit closes that connection and nothing else.
  UniqueFd big = connect_unix(sock);
  std::string huge(2 << 20, 'x');
  // The daemon hangs up part-way: MSG_NOSIGNAL turns that into EPIPE instead of SIGPIPE.
  for (size_t sent = 0; sent < huge.size();) {
    ssize_t n = ::send(big.get(), huge.data() + sent, huge.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  EXPECT_EQ(read_line(big.get()), "");
  EXPECT_EQ(d->cli({"status", "--json"}).exit_code, 0);
}

TEST(Daemon, AdminGroupMakesTheSocketGroupWritable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  group* g = ::getgrnam("nogroup");
  if (g == nullptr) GTEST_SKIP() << "no group nogroup";
  auto d = Daemon::start("", "admin_group = \"nogroup\"");
  struct stat st {};
  ASSERT_EQ(::stat((d->dir() + "/run/control.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, g->gr_gid);
}

TEST(Daemon, TellsSystemdReadyAndStopping) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  UniqueFd notify(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::string path = dir->file("notify.sock");
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(::bind(notify.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  timeval tv{20, 0};
  ::setsockopt(notify.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ASSERT_TRUE(write_file_atomic(dir->file("g.toml"),
                                "[server]\nruntime_dir = \"run\"\nlog_dir = \"log\"\n"
                                "[[service]]\nname = \"s\"\ncommand = [\"sleep\", \"600\"]\nready "
                                "= { delay = \"100ms\" }\n"));
  SpawnOptions o;
  o.argv = {groundctl_bin(), "daemon", "-c", dir->file("g.toml")};
  o.env = {"NOTIFY_SOCKET=" + path, "PATH=/usr/bin:/bin"};
  auto child = ChildProcess::spawn(o);
  ASSERT_TRUE(child);
  char buf[256];
  ssize_t n = ::recv(notify.get(), buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "READY=1");
  ASSERT_TRUE(child->signal(SIGTERM));
  n = ::recv(notify.get(), buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "STOPPING=1");
  auto st = child->wait();
  EXPECT_TRUE(st->success());
}

TEST(Daemon, BadConfigAtStartupExitsTwoWithEveryError) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_file_atomic(dir->file("g.toml"),
                                "[server]\nruntime_dir = \"run\"\nbogus = 1\n"
                                "[[service]]\nname = \"s\"\ncommand = []\n"));
  auto r = run(*dir, {"daemon", "-c", dir->file("g.toml")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(":3:1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":6:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 error(s)"), std::string::npos) << r.err;
}

TEST(Daemon, RefusesToStartTwiceOnOneSocket) {
  auto d = Daemon::start("");
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto r = run(*dir, {"daemon", "-c", d->config_path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("another groundctl daemon is running"), std::string::npos) << r.err;
  EXPECT_EQ(d->cli({"status"}).exit_code, 0);
}

}  // namespace
}  // namespace gc::e2e

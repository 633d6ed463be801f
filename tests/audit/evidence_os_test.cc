// SPDX-License-Identifier: MIT
// tests/audit/evidence_os_test.cc: the evidence driver against the real OS: listening sockets
// read back from /proc/net/tcp (a 0.0.0.0 one only inside a network namespace the test
// creates), secret file modes, `sshd -T` on a temp config with a temp host key (in a private
// mount namespace, for sshd's /run/sshd), and a throwaway PostgreSQL cluster.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <sstream>

#include "audit/checks.h"
#include "audit/evidence.h"
#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "support/postgres.h"

namespace gc::audit {
namespace {

// Runs `body` in a forked child and returns what it wrote (its result as text). The child
// may change its namespaces without touching this test process.
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "ERR pipe";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string out = body();
    (void)write_all(fds[1], out);
    ::_exit(0);
  }
  ::close(fds[1]);
  UniqueFd r(fds[0]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(r.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

// A TCP socket listening on `addr`, port 0; the port the kernel chose goes to `port`.
UniqueFd listen_on(const char* addr, std::uint16_t& port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  ::inet_pton(AF_INET, addr, &sa.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return UniqueFd();
  if (::listen(fd.get(), 4) != 0) return UniqueFd();
  socklen_t len = sizeof sa;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  port = ntohs(sa.sin_port);
  return fd;
}

bool has_listener(const ListenerFacts& f, const std::string& addr, std::uint16_t port) {
  for (const auto& l : f.listeners) {
    if (l.address == addr && l.port == port) return true;
  }
  return false;
}

TEST(Listeners, LoopbackSocketIsReadBackFromProc) {
  std::uint16_t port = 0;
  UniqueFd fd = listen_on("127.0.0.1", port);
  ASSERT_TRUE(fd);
  ListenerFacts f = gather_listeners("/proc/net");
  ASSERT_EQ(f.error, "");
  EXPECT_TRUE(has_listener(f, "127.0.0.1", port));
}

TEST(Listeners, WildcardSocketInANetworkNamespaceIsExposed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
  // In the child: a new network namespace with lo up, one socket on 127.0.0.1 and one on
  // 0.0.0.0; the listeners it reads back are printed as "ADDR PORT" lines after its own ports.
  std::string out = in_child([]() -> std::string {
    if (::unshare(CLONE_NEWNET) != 0) return "ERR unshare";
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    ifr.ifr_flags = IFF_UP;
    if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return "ERR lo up";
    std::uint16_t local_port = 0, any_port = 0;
    UniqueFd a = listen_on("127.0.0.1", local_port);
    UniqueFd b = listen_on("0.0.0.0", any_port);
    if (!a || !b) return "ERR listen";
    ListenerFacts f = gather_listeners("/proc/net");
    if (!f.error.empty()) return "ERR " + f.error;
    std::string text = std::to_string(local_port) + " " + std::to_string(any_port) + "\n";
    for (const auto& l : f.listeners)
      text += l.address + " " + std::to_string(l.port) + " " + (l.ipv6 ? "6" : "4") + "\n";
    return text;
  });
  ASSERT_EQ(out.rfind("ERR", 0), std::string::npos) << out;
  std::istringstream in(out);
  std::uint16_t local_port = 0, any_port = 0;
  in >> local_port >> any_port;
  ListenerFacts f;
  std::string addr, family;
  std::uint16_t port;
  while (in >> addr >> port >> family) f.listeners.push_back({addr, port, family == "6"});
  // A fresh namespace has exactly our two sockets.
  ASSERT_EQ(f.listeners.size(), 2u) << out;
  EXPECT_TRUE(has_listener(f, "127.0.0.1", local_port));
  EXPECT_TRUE(has_listener(f, "0.0.0.0", any_port));
  Evidence e;
  e.listeners = f;
  Verdict v = find_check("net.exposed_listeners")->verdict(e, config::Config{});
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("0.0.0.0:" + std::to_string(any_port)), std::string::npos)
      << v.evidence;
  EXPECT_EQ(v.evidence.find("127.0.0.1"), std::string::npos) << v.evidence;
}

TEST(SecretFiles, ModesAreReadAndJudged) {
  auto dir = TempDir::create("gc-audit-");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_file_atomic(dir->file("private.env"), "A=1\n", 0600));
  ASSERT_TRUE(write_file_atomic(dir->file("open.env"), "B=2\n", 0644));
  FileFact priv = stat_secret("", "private", dir->file("private.env"));
  FileFact open = stat_secret("", "open", dir->file("open.env"));
  FileFact missing = stat_secret("", "missing", dir->file("nope"));
  EXPECT_TRUE(priv.exists);
  EXPECT_EQ(priv.mode, 0600u);
  EXPECT_EQ(open.mode, 0644u);
  EXPECT_FALSE(missing.exists);
  EXPECT_EQ(missing.error, "");
  // Under a root prefix the configured path is joined to it.
  FileFact rooted = stat_secret(dir->path(), "rooted", "/open.env");
  EXPECT_TRUE(rooted.exists);
  EXPECT_EQ(rooted.path, "/open.env");
  Evidence e;
  e.secret_files = {priv, missing};
  const Check* c = find_check("files.secret_modes");
  EXPECT_EQ(c->verdict(e, config::Config{}).status, CheckStatus::kPass);
  e.secret_files.push_back(open);
  Verdict v = c->verdict(e, config::Config{});
  EXPECT_EQ(v.status, CheckStatus::kFail);
  EXPECT_NE(v.evidence.find("open.env mode 0644"), std::string::npos) << v.evidence;
}

// A temp dir with an ed25519 host key and an sshd_config that uses it.
struct SshdFixture {
  TempDir dir;
  std::string config;
};

std::optional<SshdFixture> sshd_fixture(const std::string& extra) {
  auto dir = TempDir::create("gc-audit-sshd-");
  if (!dir) return std::nullopt;
  std::string key = dir->file("host_ed25519");
  std::string cmd = "ssh-keygen -q -t ed25519 -N '' -f " + key + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return std::nullopt;
  std::string cfg = dir->file("sshd_config");
  if (!write_file_atomic(cfg, "HostKey " + key + "\n" + extra, 0600)) return std::nullopt;
  return SshdFixture{std::move(*dir), cfg};
}

TEST(Sshd, EffectiveSettingsFromSshdT) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
  if (::access("/usr/sbin/sshd", X_OK) != 0) GTEST_SKIP() << "openssh-server is not installed";
  auto fx = sshd_fixture(
      "PermitRootLogin no\nPermitRootLogin yes\nPasswordAuthentication no\nMaxAuthTries 2\n"
      "AllowUsers orbital deploy\nMatch User deploy\n  PasswordAuthentication yes\n");
  ASSERT_TRUE(fx);
  // sshd -T insists on its privilege separation directory (/run/sshd), which exists only where
  // sshd runs: give it one on a private tmpfs so this machine's /run stays untouched.
  std::string out = in_child([&]() -> std::string {
    if (::unshare(CLONE_NEWNS) != 0) return "ERR unshare";
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return "ERR private";
    if (::mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0) return "ERR tmpfs";
    if (::mkdir("/run/sshd", 0755) != 0) return "ERR mkdir";
    auto f = sshd_effective(fx->config, std::chrono::seconds(30));
    if (!f) return "ERR " + f.error().message;
    std::string text = f->source + "\n";
    for (const char* k : {"permitrootlogin", "passwordauthentication", "maxauthtries"})
      text += std::string(k) + "=" + f->get(k) + "\n";
    text += "allowusers=";
    for (const auto& u : f->settings["allowusers"]) text += u + ",";
    return text + "\n";
  });
  ASSERT_EQ(out.rfind("ERR", 0), std::string::npos) << out;
  EXPECT_NE(out.find("sshd -T\n"), std::string::npos) << out;
  EXPECT_NE(out.find("permitrootlogin=no\n"), std::string::npos) << out;  // First one wins.
  EXPECT_NE(out.find("passwordauthentication=no\n"), std::string::npos) << out;
  EXPECT_NE(out.find("maxauthtries=2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("allowusers=orbital,deploy,\n"), std::string::npos) << out;
}

TEST(Sshd, RejectedConfigIsAnError) {
  if (::access("/usr/sbin/sshd", X_OK) != 0) GTEST_SKIP() << "openssh-server is not installed";
  auto fx = sshd_fixture("NoSuchKeyword yes\n");
  ASSERT_TRUE(fx);
  auto f = sshd_effective(fx->config, std::chrono::seconds(30));
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("sshd -T"), std::string::npos) << f.error().message;
}

TEST(Sshd, ParsedUnderARootWithRelativeIncludes) {
  auto dir = TempDir::create("gc-audit-root-");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(make_directories(dir->file("etc/ssh/sshd_config.d")));
  ASSERT_TRUE(write_file_atomic(dir->file("etc/ssh/sshd_config"),
                                "Include sshd_config.d/*.conf\nPermitRootLogin yes\n"));
  ASSERT_TRUE(write_file_atomic(dir->file("etc/ssh/sshd_config.d/10-groundctl.conf"),
                                "PermitRootLogin no\n"));
  SshdFacts f = gather_sshd(dir->path(), std::chrono::seconds(10));
  EXPECT_TRUE(f.installed);
  EXPECT_EQ(f.error, "");
  EXPECT_EQ(f.get("permitrootlogin"), "no");
  EXPECT_NE(f.source.find("1 drop-in"), std::string::npos) << f.source;
  SshdFacts none = gather_sshd(dir->file("empty"), std::chrono::seconds(10));
  EXPECT_FALSE(none.installed);
  EXPECT_EQ(none.error, "");
}

TEST(Postgres, WideHbaTrustAndSuperuserAppRoleFail) {
  auto pg = testing::PostgresServer::start();
  if (!pg && pg.error().code == Errc::kNotFound) GTEST_SKIP() << pg.error().message;
  ASSERT_TRUE(pg) << pg.error().message;
  // pg_hba_file_rules reads the file as it is on disk: no reload needed.
  std::string hba = (*pg)->data_dir() + "/pg_hba.conf";
  auto text = read_file(hba);
  ASSERT_TRUE(text);
  ASSERT_TRUE(write_file_atomic(hba, *text + "host all all 0.0.0.0/0 scram-sha-256\n", 0600));
  ASSERT_EQ(::chown(hba.c_str(), 65534, 65534), 0);
  ASSERT_TRUE((*pg)->psql("postgres", "CREATE ROLE orbital_user LOGIN SUPERUSER"));
  config::Config cfg;
  cfg.postgres = config::PostgresConfig{};
  cfg.postgres->host = (*pg)->socket_dir();
  cfg.postgres->port = (*pg)->port();
  cfg.postgres->manage = config::PostgresManageConfig{};
  cfg.postgres->manage->app_role = "orbital_user";
  PostgresFacts f = gather_postgres(cfg);
  ASSERT_EQ(f.error, "");
  EXPECT_EQ(f.listen_addresses, "");
  ASSERT_TRUE(f.app_role_superuser.has_value());
  EXPECT_TRUE(*f.app_role_superuser);
  Evidence e;
  e.postgres = f;
  auto verdict = [&](const char* id) { return find_check(id)->verdict(e, cfg); };
  EXPECT_EQ(verdict("postgres.listen_local").status, CheckStatus::kPass);
  Verdict wide = verdict("postgres.hba_wide");
  EXPECT_EQ(wide.status, CheckStatus::kFail);
  EXPECT_NE(wide.evidence.find("0.0.0.0"), std::string::npos) << wide.evidence;
  // initdb -A trust: every line trusts.
  EXPECT_EQ(verdict("postgres.hba_trust").status, CheckStatus::kFail);
  Verdict su = verdict("postgres.app_superuser");
  EXPECT_EQ(su.status, CheckStatus::kFail);
  EXPECT_EQ(su.evidence, "pg_roles: orbital_user rolsuper true");
  ASSERT_TRUE((*pg)->psql("postgres", "ALTER ROLE orbital_user NOSUPERUSER"));
  e.postgres = gather_postgres(cfg);
  EXPECT_EQ(verdict("postgres.app_superuser").status, CheckStatus::kPass);
}

TEST(Postgres, UnreachableServerIsAnErrorNotACrash) {
  auto dir = TempDir::create("gc-audit-nopg-");
  ASSERT_TRUE(dir);
  config::Config cfg;
  cfg.postgres = config::PostgresConfig{};
  cfg.postgres->host = dir->path();  // No server socket here.
  PostgresFacts f = gather_postgres(cfg);
  EXPECT_TRUE(f.configured);
  EXPECT_NE(f.error, "");
  Evidence e;
  e.postgres = f;
  EXPECT_EQ(find_check("postgres.listen_local")->verdict(e, cfg).status, CheckStatus::kError);
}

}  // namespace
}  // namespace gc::audit

// SPDX-License-Identifier: MIT
// The rendered files against the real daemons: `nginx -t` on a site with a self-signed
// certificate, `sshd -t` / `sshd -T` on the drop-in, `fail2ban-client -t` on a copy of
// /etc/fail2ban, and ufw + iptables inside a network namespace this test creates. The machine's
// own /etc is never written: files go to temp dirs, which a private mount namespace binds over
// /etc/ufw, /etc/default/ufw and /run where a tool insists on its fixed paths.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "config/loader.h"
#include "provision/fail2ban.h"
#include "provision/firewall.h"
#include "provision/nginx_site.h"
#include "provision/sshd.h"

namespace gc::provision {
namespace {

struct Ran {
  int code = -1;
  std::string out;  // stdout and stderr, interleaved.
};

// Runs argv to completion with its output captured through a file.
Ran run(const std::vector<std::string>& argv) {
  Ran r;
  auto dir = TempDir::create("gc-run-");
  if (!dir) return r;
  std::string path = dir->file("out");
  auto fd = open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!fd) return r;
  SpawnOptions o;
  o.argv = argv;
  o.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"};
  o.stdout_fd = fd->get();
  o.stderr_fd = fd->get();
  auto child = ChildProcess::spawn(o);
  if (!child) {
    r.out = child.error().message;
    return r;
  }
  auto st = child->wait();
  r.code = st ? (st->signaled ? 128 + st->signal : st->code) : -1;
  r.out = read_file(path).value_or("");
  return r;
}

bool write(const std::string& path, const std::string& text) {
  return static_cast<bool>(write_file_atomic(path, text, 0644));
}

bool have(const char* tool) { return access(tool, X_OK) == 0; }

constexpr const char* kConfig = R"(
[[service]]
name = "orbital-backend"
command = ["node", "src/server.js"]
listen = ["127.0.0.1:3000", "[::1]:3001"]

[nginx]
domain = "api.orbitl.org"
upstream = "orbital-backend"
websocket = ["/v1/websocket"]
client_max_body_size = "500m"
rate_limit = { rate = "10r/s", burst = 20 }
[[nginx.limit]]
paths = ["/api/login", "/api/signup"]
rate = "10r/m"
burst = 5
[[nginx.static]]
location = "/static/"
root = "/var/www/orbital/static"

[firewall]
allow = ["22/tcp", "80/tcp", "443/tcp"]

[ssh]
allow_users = ["orbital", "deploy"]
max_auth_tries = 4

[fail2ban]
jails = ["sshd", "nginx-limit-req", "nginx-botsearch", "nginx-http-auth"]
)";

config::Config load() {
  config::LoadOutcome o = config::load_config_from_string(kConfig, "/etc/groundctl/groundctl.toml");
  EXPECT_TRUE(o.config);
  return o.config ? *o.config : config::Config{};
}

class RenderOs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (ufw, namespaces, sshd -T)";
    auto d = TempDir::create("gc-render-");
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
  }
  std::string file(const std::string& name) { return dir_->file(name); }
  std::optional<TempDir> dir_;
};

TEST_F(RenderOs, NginxAcceptsTheSite) {
  if (!have("/usr/sbin/nginx")) GTEST_SKIP() << "nginx is not installed";
  config::Config c = load();
  c.nginx->certificate = file("fullchain.pem");
  c.nginx->certificate_key = file("privkey.pem");
  c.nginx->access_log = file("access.log");
  c.nginx->acme_root = file("acme");
  Ran cert =
      run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
           "/CN=api.orbitl.org", "-keyout", file("privkey.pem"), "-out", file("fullchain.pem")});
  ASSERT_EQ(cert.code, 0) << cert.out;
  Component n = render_nginx(c, Target{});
  ASSERT_TRUE(write(file("site.conf"), n.files[0].content));
  // A minimal nginx.conf that includes the site inside http{} as Debian's conf.d include does.
  ASSERT_TRUE(write(file("nginx.conf"), "pid " + file("nginx.pid") + ";\nerror_log " +
                                            file("error.log") +
                                            ";\nevents {}\nhttp {\n    include "
                                            "/etc/nginx/mime.types;\n    include " +
                                            file("site.conf") + ";\n}\n"));
  Ran t = run({"nginx", "-t", "-p", dir_->path(), "-c", file("nginx.conf")});
  EXPECT_EQ(t.code, 0) << t.out << "\n" << n.files[0].content;
  EXPECT_NE(t.out.find("test is successful"), std::string::npos) << t.out;

  // The same check fails when the certificate is missing: the test can tell a broken site.
  ASSERT_EQ(::unlink(file("privkey.pem").c_str()), 0);
  Ran broken = run({"nginx", "-t", "-p", dir_->path(), "-c", file("nginx.conf")});
  EXPECT_NE(broken.code, 0) << broken.out;
}

// sshd checks for its privilege separation directory /run/sshd, which only exists while the
// system's sshd runs: a private mount namespace gets a tmpfs /run that has it.
Ran sshd_in_private_run(const std::string& args) {
  return run({"unshare", "-m", "sh", "-c",
              "mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && " + args});
}

TEST_F(RenderOs, SshdAcceptsTheDropInAndAppliesIt) {
  if (!have("/usr/sbin/sshd")) GTEST_SKIP() << "openssh-server is not installed";
  Component s = render_ssh(load(), Target{});
  ASSERT_TRUE(write(file("10-groundctl.conf"), s.files[0].content));
  Ran key = run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", file("host_key")});
  ASSERT_EQ(key.code, 0) << key.out;
  // Like Debian's sshd_config: the Include comes first, later lines set the opposite values.
  ASSERT_TRUE(write(file("sshd_config"), "Include " + file("10-groundctl.conf") + "\nHostKey " +
                                             file("host_key") + "\nPidFile " + file("sshd.pid") +
                                             "\nUsePAM yes\nPasswordAuthentication yes\n"
                                             "KbdInteractiveAuthentication yes\n"
                                             "X11Forwarding yes\nPermitRootLogin yes\n"));
  Ran t = sshd_in_private_run("exec /usr/sbin/sshd -t -f " + file("sshd_config"));
  EXPECT_EQ(t.code, 0) << t.out;
  Ran effective = sshd_in_private_run("exec /usr/sbin/sshd -T -f " + file("sshd_config"));
  ASSERT_EQ(effective.code, 0) << effective.out;
  effective.out.insert(0, "\n");  // Every value line, the first included, follows a newline.
  for (const char* l :
       {"\npermitrootlogin no\n", "\npasswordauthentication no\n",
        "\nkbdinteractiveauthentication no\n", "\npubkeyauthentication yes\n",
        "\nauthenticationmethods publickey\n", "\nmaxauthtries 4\n", "\nallowusers orbital\n",
        "\nallowusers deploy\n", "\nx11forwarding no\n", "\nport 22\n", "\nlogingracetime 30\n"}) {
    EXPECT_NE(effective.out.find(l), std::string::npos) << l << effective.out;
  }
  // A keyword sshd does not know fails the same validation.
  ASSERT_TRUE(write(file("10-groundctl.conf"), s.files[0].content + "PermitRootLogn no\n"));
  EXPECT_NE(sshd_in_private_run("exec /usr/sbin/sshd -t -f " + file("sshd_config")).code, 0);
}

TEST_F(RenderOs, Fail2banAcceptsTheJails) {
  if (!have("/usr/bin/fail2ban-client")) GTEST_SKIP() << "fail2ban is not installed";
  config::Config c = load();
  c.nginx->access_log = file("access.log");
  Component f = render_fail2ban(c, Target{});
  // The jails read files that must exist; the renderer's paths are fixed, so they are pointed at
  // temp files here (the rest of the text is unchanged).
  std::string text = f.files[0].content;
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"/var/log/nginx/error.log", file("error.log")}}) {
    for (std::size_t at; (at = text.find(from)) != std::string::npos;) {
      text.replace(at, from.size(), to);
    }
  }
  ASSERT_TRUE(write(file("error.log"), ""));
  ASSERT_TRUE(write(file("access.log"), ""));
  std::string conf = file("fail2ban");
  Ran copy = run({"cp", "-a", "/etc/fail2ban", conf});
  ASSERT_EQ(copy.code, 0) << copy.out;
  ASSERT_TRUE(write(conf + "/jail.d/groundctl.local", text));
  Ran t = run({"fail2ban-client", "-c", conf, "-t"});
  EXPECT_EQ(t.code, 0) << t.out << "\n" << text;
  EXPECT_NE(t.out.find("OK: configuration test is successful"), std::string::npos) << t.out;
  // The parsed configuration has each jail with the backend and log the renderer chose.
  Ran dump = run({"fail2ban-client", "-c", conf, "-d"});
  ASSERT_EQ(dump.code, 0) << dump.out;
  EXPECT_NE(dump.out.find("['add', 'sshd', 'systemd']"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("['add', 'nginx-limit-req', 'auto']"), std::string::npos);
  EXPECT_NE(dump.out.find("['set', 'nginx-botsearch', 'addlogpath', '" + file("access.log")),
            std::string::npos);
  EXPECT_NE(dump.out.find("['set', 'sshd', 'addaction', 'nftables-multiport']"), std::string::npos)
      << dump.out;
  EXPECT_NE(dump.out.find("['set', 'nginx-http-auth', 'addlogpath', '" + file("error.log")),
            std::string::npos);
}

// A network namespace named gctest-<pid>, deleted on destruction.
class TestNetns {
 public:
  TestNetns() : name_("gctest-" + std::to_string(getpid())) {
    created_ = run({"ip", "netns", "add", name_}).code == 0;
  }
  ~TestNetns() {
    if (created_) (void)run({"ip", "netns", "delete", name_});
  }
  bool created() const { return created_; }
  // Runs `script` with sh inside the namespace and a private mount namespace where `ufw_dir` is
  // /etc/ufw, `default_ufw` is /etc/default/ufw and /run is an empty tmpfs (ufw and iptables
  // keep their locks there).
  Ran sh(const std::string& ufw_dir, const std::string& default_ufw, const std::string& script) {
    return run({"ip", "netns", "exec", name_, "unshare", "-m", "sh", "-ec",
                "mount --bind " + ufw_dir + " /etc/ufw\nmount --bind " + default_ufw +
                    " /etc/default/ufw\nmount -t tmpfs tmpfs /run\n" + script});
  }

 private:
  std::string name_;
  bool created_ = false;
};

// A pristine ufw configuration directory in `dir`: Debian's /etc/ufw with the package's empty
// rule files and no sysctl changes (those would be per-namespace anyway; this keeps it quiet).
bool fresh_ufw(const std::string& dir, const std::string& default_ufw) {
  return run({"cp", "-a", "/etc/ufw", dir}).code == 0 &&
         run({"cp", "/usr/share/ufw/user.rules", "/usr/share/ufw/user6.rules", dir}).code == 0 &&
         run({"cp", "/usr/share/ufw/ufw.conf", dir}).code == 0 && write(dir + "/sysctl.conf", "") &&
         run({"cp", "/etc/default/ufw", default_ufw}).code == 0;
}

TEST_F(RenderOs, UfwLoadsTheRulesAndWritesTheSameFiles) {
  if (!have("/usr/sbin/ufw") || !have("/usr/sbin/ip")) GTEST_SKIP() << "ufw or iproute2 missing";
  config::Config c = load();
  Component fw = render_firewall(c, Target{});
  ASSERT_EQ(fw.files.size(), 4u);

  TestNetns ns;
  ASSERT_TRUE(ns.created());

  // 1. The rendered files, enabled by ufw itself, give the firewall we asked for.
  std::string ours = file("ours"), ours_default = file("ours-default-ufw");
  ASSERT_TRUE(fresh_ufw(ours, ours_default));
  ASSERT_TRUE(write(ours + "/user.rules", fw.files[0].content));
  ASSERT_TRUE(write(ours + "/user6.rules", fw.files[1].content));
  ASSERT_TRUE(write(ours_default, fw.files[2].content));
  ASSERT_TRUE(write(ours + "/ufw.conf", fw.files[3].content));
  Ran on = ns.sh(ours, ours_default,
                 "ufw --force enable\necho ==status\nufw status verbose\necho ==v4\n"
                 "iptables -S\necho ==v6\nip6tables -S\n");
  ASSERT_EQ(on.code, 0) << on.out;
  EXPECT_NE(on.out.find("Status: active"), std::string::npos) << on.out;
  EXPECT_NE(on.out.find("Default: deny (incoming), allow (outgoing)"), std::string::npos) << on.out;
  EXPECT_NE(on.out.find("22/tcp                     LIMIT IN    Anywhere"), std::string::npos)
      << on.out;
  EXPECT_NE(on.out.find("80/tcp                     ALLOW IN    Anywhere"), std::string::npos);
  EXPECT_NE(on.out.find("443/tcp (v6)               ALLOW IN    Anywhere (v6)"), std::string::npos)
      << on.out;
  EXPECT_NE(on.out.find("-P INPUT DROP"), std::string::npos) << on.out;
  EXPECT_NE(on.out.find("-A ufw-user-input -p tcp -m tcp --dport 443 -j ACCEPT"), std::string::npos)
      << on.out;
  EXPECT_NE(on.out.find("-A ufw-user-input -p tcp -m tcp --dport 22 -j ufw-user-limit-accept"),
            std::string::npos);
  EXPECT_NE(on.out.find("-A ufw6-user-input -p tcp -m tcp --dport 80 -j ACCEPT"),
            std::string::npos);
  EXPECT_EQ(on.out.find("--dport 3000"), std::string::npos);
  // The step's check sees the firewall as enabled.
  const Step& enable = fw.steps_after.at(0);
  ASSERT_EQ(enable.check.at(0), "sh");
  Ran check = ns.sh(ours, ours_default, "ufw --force enable >/dev/null\n" + enable.check.at(2));
  EXPECT_EQ(check.code, 0) << check.out;
  Ran off = ns.sh(ours, ours_default, "ufw --force disable >/dev/null\n" + enable.check.at(2));
  EXPECT_NE(off.code, 0) << off.out;

  // 2. ufw's own commands, from a pristine directory, write byte for byte what we render: a
  // later `apply` after someone ran them finds nothing to change.
  std::string theirs = file("theirs"), theirs_default = file("theirs-default-ufw");
  ASSERT_TRUE(fresh_ufw(theirs, theirs_default));
  Ran cmds = ns.sh(theirs, theirs_default,
                   "ufw limit 22/tcp\nufw allow 80/tcp\nufw allow 443/tcp\nufw --force enable\n");
  ASSERT_EQ(cmds.code, 0) << cmds.out;
  EXPECT_EQ(read_file(theirs + "/user.rules").value_or(""), fw.files[0].content);
  EXPECT_EQ(read_file(theirs + "/user6.rules").value_or(""), fw.files[1].content);
  EXPECT_EQ(read_file(theirs + "/ufw.conf").value_or(""), fw.files[3].content);
  EXPECT_EQ(read_file(theirs_default).value_or(""), fw.files[2].content);
  // Enabling did not rewrite our rule files either.
  EXPECT_EQ(read_file(ours + "/user.rules").value_or(""), fw.files[0].content);
}

}  // namespace
}  // namespace gc::provision

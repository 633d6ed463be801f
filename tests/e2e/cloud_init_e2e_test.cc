// SPDX-License-Identifier: MIT
// `groundctl cloud-init`: the built binary's document checked by the real `cloud-init schema`
// (22.4) and read back with PyYAML, the refusals that keep an operator from locking themselves
// out, and (as root) the first-boot script run in a private mount namespace against a loopback
// HTTP server.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <fstream>
#include <regex>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-yaml.

// Reads the document like cloud-init does (yaml.safe_load) and checks that write_files carries
// the config byte for byte, 0600, that every allowed user gets the key, and the runcmd argv.
// Prints "ok" or why not.
constexpr char kCheckScript[] = R"PY(
import base64, sys, yaml
doc_path, cfg_path, key_path, users = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
raw = open(doc_path, "rb").read()
if not raw.startswith(b"#cloud-config\n"):
    sys.exit("no #cloud-config header")
d = yaml.safe_load(raw)
files = [f for f in d["write_files"] if f["path"] == "/etc/groundctl/groundctl.toml"]
if len(files) != 1:
    sys.exit("write_files: %d entries for the config" % len(files))
f = files[0]
if f["permissions"] != "0600" or f["owner"] != "root:root":
    sys.exit("mode/owner: %r %r" % (f["permissions"], f["owner"]))
got = base64.b64decode(f["content"]) if f.get("encoding") == "b64" else f["content"].encode()
want = open(cfg_path, "rb").read()
if got != want:
    sys.exit("config differs:\n got %r\nwant %r" % (got, want))
keys = [l.strip() for l in open(key_path).read().splitlines() if l.strip()] if key_path else []
names = [u for u in users.split(",") if u]
if names:
    if d.get("disable_root") is not True:
        sys.exit("disable_root is not true")
    if [u["name"] for u in d["users"]] != names:
        sys.exit("users: %r" % d["users"])
    for u in d["users"]:
        if u["ssh_authorized_keys"] != keys or "sudo" not in u["groups"]:
            sys.exit("user %r: %r" % (u["name"], u))
if d.get("ssh_pwauth") is not False:
    sys.exit("ssh_pwauth is not false")
argv = d["runcmd"][0]
if argv[:2] != ["sh", "-c"] or argv[4:] != [sys.argv[5], sys.argv[6], "/etc/groundctl/groundctl.toml"]:
    sys.exit("runcmd: %r" % (argv[:2] + argv[3:],))
print(",".join(d["packages"]))
)PY";

struct Fixture {
  TempDir dir;
  std::string path(const std::string& name) const { return dir.file(name); }
  void write(const std::string& name, const std::string& text, int mode = 0600) const {
    ASSERT_TRUE(write_file_atomic(path(name), text, mode));
  }
  CliResult groundctl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {groundctl_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_capture(argv, dir.path());
  }
};

Fixture make_fixture() {
  auto dir = TempDir::create("gc-cloud-init-");
  EXPECT_TRUE(dir);
  return Fixture{std::move(*dir)};
}

// A real key pair from ssh-keygen; returns the public key file.
std::string make_key(const Fixture& f) {
  auto r = run_capture({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "admin@laptop", "-f",
                        f.path("id_ed25519")},
                       f.dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return f.path("id_ed25519.pub");
}

// The config of the issue, trimmed, with what YAML must not mangle: quotes, '#', unicode, a line
// with trailing spaces, a line of spaces, an indented line and a final blank line.
std::string tricky_config(const Fixture& f) {
  return "# Orbital \"prod\" \xE2\x80\x94 caf\xC3\xA9 \xE2\x9C\x93 #not-yaml: [x] {y} &z *w !t\n"
         "[server]\n"
         "name = \"orbital-prod-1\"   \n"
         "state_dir = \"" +
         f.path("state") + "\"\n  \nlog_dir = \"" + f.path("log") + "\"\n" + "\t runtime_dir = \"" +
         f.path("run") +
         "\"\n\n"
         "[[service]]\n"
         "name = \"api\"\n"
         "command = [\"node\", \"src/server.js\", \"--title=it's \\\"q\\\" \\\\ #1\"]\n"
         "env_file = \"/home/orbital/shared/.env\"\n"
         "\n"
         "[ssh]\n"
         "allow_users = [\"orbital\", \"ops\"]\n"
         "\n"
         "[firewall]\n"
         "allow = [\"22/tcp\", \"80/tcp\", \"443/tcp\"]\n"
         "\n"
         "[fail2ban]\n"
         "jails = [\"sshd\"]\n\n";
}

const std::string kUrl = "https://downloads.example.org/groundctl/v1/groundctl-linux-amd64";
const std::string kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

CliResult schema(const Fixture& f, const std::string& doc) {
  return run_capture({"cloud-init", "schema", "--config-file", doc}, f.dir.path());
}

CliResult check_doc(const Fixture& f, const std::string& doc, const std::string& config,
                    const std::string& key, const std::string& users) {
  return run_capture({kPython, "-c", kCheckScript, doc, config, key, users, kUrl, kSha},
                     f.dir.path());
}

TEST(CloudInit, DocumentPassesCloudInitSchemaAndCarriesTheConfigByteForByte) {
  Fixture f = make_fixture();
  std::string key = make_key(f);
  f.write("groundctl.toml", tricky_config(f));
  auto r = f.groundctl({"-c", f.path("groundctl.toml"), "cloud-init", "--ssh-key", key,
                        "--binary-url", kUrl, "--binary-sha256", kSha, "--package", "nodejs", "-o",
                        f.path("user-data.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(f.path("user-data.yaml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // The env file the service reads is not in the document: the operator is told.
  EXPECT_NE(r.err.find("/home/orbital/shared/.env"), std::string::npos) << r.err;

  auto s = schema(f, f.path("user-data.yaml"));
  EXPECT_EQ(s.exit_code, 0) << s.out << s.err;
  EXPECT_NE(s.out.find("Valid cloud-config"), std::string::npos) << s.out;

  auto c = check_doc(f, f.path("user-data.yaml"), f.path("groundctl.toml"), key, "orbital,ops");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  for (const char* p : {"openssh-server", "ufw", "fail2ban", "python3-systemd", "curl",
                        "unattended-upgrades", "age", "zstd", "nodejs"}) {
    EXPECT_NE(("," + c.out).find("," + std::string(p)), std::string::npos) << p << ": " << c.out;
  }
  EXPECT_EQ(c.out.find("nginx"), std::string::npos) << c.out;  // No [nginx] in this config.

  // Without -o the same document goes to stdout.
  auto out = f.groundctl({"-c", f.path("groundctl.toml"), "cloud-init", "--ssh-key", key,
                          "--binary-url", kUrl, "--binary-sha256", kSha, "--package", "nodejs"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(out.out, read_file(f.path("user-data.yaml")).value_or(""));
}

TEST(CloudInit, SchemaCheckRejectsABrokenDocument) {
  // The validator this suite relies on does fail: the same document with one wrong type.
  Fixture f = make_fixture();
  std::string key = make_key(f);
  f.write("groundctl.toml", tricky_config(f));
  auto r = f.groundctl({"-c", f.path("groundctl.toml"), "cloud-init", "--ssh-key", key,
                        "--binary-url", kUrl, "--binary-sha256", kSha});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string broken = std::regex_replace(r.out, std::regex("package_update: true"),
                                          "package_update: \"sometimes\"");
  ASSERT_NE(broken, r.out);
  f.write("broken.yaml", broken);
  auto s = schema(f, f.path("broken.yaml"));
  EXPECT_NE(s.exit_code, 0) << s.out;
  EXPECT_NE(s.err.find("package_update"), std::string::npos) << s.err;
}

TEST(CloudInit, ConfigWithCrLfLineEndsRoundTripsThroughBase64) {
  Fixture f = make_fixture();
  std::string config = "[server]\r\nstate_dir = \"" + f.path("state") +
                       "\"\r\n# caf\xC3\xA9\r\n[[service]]\r\nname = \"api\"\r\n"
                       "command = [\"sleep\", \"1\"]\r\n";
  f.write("groundctl.toml", config);
  auto r = f.groundctl({"-c", f.path("groundctl.toml"), "cloud-init", "--binary-url", kUrl,
                        "--binary-sha256", kSha, "-o", f.path("user-data.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_file(f.path("user-data.yaml")).value_or("").find("encoding: b64"),
            std::string::npos);
  auto s = schema(f, f.path("user-data.yaml"));
  EXPECT_EQ(s.exit_code, 0) << s.out << s.err;
  auto c = check_doc(f, f.path("user-data.yaml"), f.path("groundctl.toml"), "", "");
  EXPECT_EQ(c.exit_code, 0) << c.err;
}

TEST(CloudInit, RefusesWhatWouldLockTheOperatorOutOrTrustAnUnverifiedDownload) {
  Fixture f = make_fixture();
  std::string key = make_key(f);
  f.write("groundctl.toml", tricky_config(f));
  std::vector<std::string> base = {"-c", f.path("groundctl.toml"), "cloud-init"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return f.groundctl(a);
  };
  // [ssh] is key-only: no key, no document.
  auto r = with({"--binary-url", kUrl, "--binary-sha256", kSha});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--ssh-key"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  // The private key by mistake: refused, and its content is not echoed.
  r = with({"--ssh-key", f.path("id_ed25519"), "--binary-url", kUrl, "--binary-sha256", kSha});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("private key"), std::string::npos) << r.err;
  std::string priv = read_file(f.path("id_ed25519")).value_or("");
  EXPECT_EQ(r.err.find(priv.substr(priv.find('\n') + 1, 20)), std::string::npos);
  // http:// only with --insecure-url.
  r = with(
      {"--ssh-key", key, "--binary-url", "http://example.org/groundctl", "--binary-sha256", kSha});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--insecure-url"), std::string::npos) << r.err;
  r = with({"--ssh-key", key, "--binary-url", "http://example.org/groundctl", "--binary-sha256",
            kSha, "--insecure-url"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The checksum is 64 hex digits, and both download options are required.
  r = with({"--ssh-key", key, "--binary-url", kUrl, "--binary-sha256", kSha.substr(1)});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--binary-sha256"), std::string::npos) << r.err;
  r = with({"--ssh-key", key, "--binary-url", kUrl});
  EXPECT_EQ(r.exit_code, 2);
  r = with({"--ssh-key", f.path("missing.pub"), "--binary-url", kUrl, "--binary-sha256", kSha});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.pub"), std::string::npos) << r.err;
  // A config that does not load is a config error, as for every command.
  f.write("bad.toml", "[server]\nnmae = 1\n");
  r = f.groundctl(
      {"-c", f.path("bad.toml"), "cloud-init", "--binary-url", kUrl, "--binary-sha256", kSha});
  EXPECT_EQ(r.exit_code, 2);
}

// The document's first-boot script, run as cloud-init would (sh -c SCRIPT NAME ARGS...), in a
// private mount namespace: /usr/local/bin is a fresh tmpfs and systemctl a recorder, so this
// machine is untouched. The served "groundctl" records its arguments.
TEST(CloudInit, FirstBootScriptInstallsOnlyAVerifiedBinaryThenChecksAppliesAndStarts) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
  Fixture f = make_fixture();
  ::chmod(f.dir.path().c_str(), 0755);
  ASSERT_EQ(::mkdir(f.path("www").c_str(), 0755), 0);
  const std::string log = f.path("calls.log");
  f.write("www/groundctl",
          "#!/bin/sh\necho \"groundctl $* mode=$(stat -c %a \"$0\")\" >> " + log + "\n", 0644);
  f.write("systemctl", "#!/bin/sh\necho \"systemctl $*\" >> " + log + "\n", 0755);
  auto served = read_file(f.path("www/groundctl"));
  ASSERT_TRUE(served);

  auto out = open_fd(f.path("http.out"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_TRUE(out);
  SpawnOptions o;
  o.argv = {kPython,  "-u",        "-m",          "http.server", "0",
            "--bind", "127.0.0.1", "--directory", f.path("www")};
  o.env = {"PATH=/usr/bin:/bin"};
  o.stdout_fd = out->get();
  o.stderr_fd = out->get();
  auto server = ChildProcess::spawn(o);
  ASSERT_TRUE(server) << server.error().message;
  std::smatch m;
  std::string banner;
  ASSERT_TRUE(eventually([&] {
    banner = read_file(f.path("http.out")).value_or("");
    return std::regex_search(banner, m, std::regex("port (\\d+)"));
  })) << banner;
  const std::string url = "http://127.0.0.1:" + m[1].str() + "/groundctl";

  f.write("groundctl.toml", "[server]\nstate_dir = \"" + f.path("state") +
                                "\"\n[[service]]\nname = \"api\"\ncommand = [\"sleep\", \"1\"]\n");
  auto run_first_boot = [&](const std::string& sha) {
    auto r = f.groundctl({"-c", f.path("groundctl.toml"), "cloud-init", "--binary-url", url,
                          "--binary-sha256", sha, "--insecure-url", "-o", f.path("ud.yaml")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // runcmd[0] as NUL-separated argv, exactly as the YAML parser hands it to cloud-init.
    auto argv = run_capture(
        {kPython, "-c",
         "import sys, yaml; sys.stdout.write('\\0'.join(yaml.safe_load(open(sys.argv[1]))"
         "['runcmd'][0]))",
         f.path("ud.yaml")},
        f.path("www"));
    EXPECT_EQ(argv.exit_code, 0) << argv.err;
    std::vector<std::string> cmd = {
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount -t tmpfs gc-test /usr/local/bin && mount --bind \"$0\" /usr/bin/systemctl && "
        "exec \"$@\"",
        f.path("systemctl")};
    size_t start = 0;
    for (size_t nul; (nul = argv.out.find('\0', start)) != std::string::npos; start = nul + 1) {
      cmd.push_back(argv.out.substr(start, nul - start));
    }
    cmd.push_back(argv.out.substr(start));
    return run_capture(cmd, f.path("www"));
  };

  // The wrong checksum: nothing is installed and nothing after the download runs.
  auto bad = run_first_boot(std::string(64, 'e'));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("SHA-256 mismatch"), std::string::npos) << bad.out << bad.err;
  EXPECT_FALSE(read_file(log));

  // The right one: installed 0755, then check, apply, the unit, and the daemon started.
  std::string sha =
      run_capture({"sha256sum", f.path("www/groundctl")}, f.path("www")).out.substr(0, 64);
  auto good = run_first_boot(sha);
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_EQ(read_file(log).value_or(""),
            "groundctl check -c /etc/groundctl/groundctl.toml mode=755\n"
            "groundctl apply -c /etc/groundctl/groundctl.toml mode=755\n"
            "groundctl startup --install -c /etc/groundctl/groundctl.toml mode=755\n"
            "systemctl enable --now groundctl.service\n");
  // The host's own /usr/local/bin never saw it.
  EXPECT_NE(read_file("/usr/local/bin/groundctl").value_or(""), *served);
}

}  // namespace
}  // namespace gc::e2e

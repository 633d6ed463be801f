// SPDX-License-Identifier: MIT
// tests/provision/cloud_init_test.cc: the cloud-init renderer and its YAML emitter (pure). The
// e2e test feeds the output to the real `cloud-init schema` and PyYAML.
#include "provision/cloud_init.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/base64.h"

namespace gc::provision {
namespace {

using detail::yaml_block_safe;
using detail::yaml_literal_block;
using detail::yaml_quote;

constexpr char kKey[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0ZXN0a2V5dGVzdGtleXRlc3RrZXk admin@laptop";
const std::string kSha(64, 'a');

CloudInitOptions options() {
  CloudInitOptions o;
  o.binary_url = "https://example.org/releases/groundctl-linux-amd64";
  o.binary_sha256 = kSha;
  o.ssh_keys = {{"id.pub", std::string(kKey) + "\n"}};
  return o;
}

config::Config hardened() {
  config::Config c;
  c.ssh = config::SshConfig{};
  c.ssh->allow_users = {"orbital", "ops"};
  c.firewall = config::FirewallConfig{};
  c.fail2ban = config::Fail2banConfig{};
  return c;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(CloudInit, CreatesEachAllowedUserWithTheKeysAndSudoAndTurnsRootAndPasswordsOff) {
  auto doc = render_cloud_init(hardened(), "[server]\n", options());
  ASSERT_TRUE(doc) << doc.error().message;
  const std::string& y = doc->text;
  EXPECT_EQ(y.rfind("#cloud-config\n", 0), 0u);
  EXPECT_TRUE(contains(y, "\ndisable_root: true\n"));
  EXPECT_TRUE(contains(y, "\nssh_pwauth: false\n"));
  EXPECT_TRUE(contains(y, "  - name: \"orbital\"\n"));
  EXPECT_TRUE(contains(y, "  - name: \"ops\"\n"));
  EXPECT_TRUE(contains(y, "    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n"));
  EXPECT_TRUE(contains(y, "    lock_passwd: true\n"));
  // Both users get the key.
  std::string key_item = "      - \"" + std::string(kKey) + "\"\n";
  size_t first = y.find(key_item);
  ASSERT_NE(first, std::string::npos) << y;
  EXPECT_NE(y.find(key_item, first + 1), std::string::npos);
  EXPECT_TRUE(contains(y, "\npackage_update: true\npackage_upgrade: true\n"));
}

TEST(CloudInit, RefusesAKeyOnlyServerWithoutAKey) {
  auto o = options();
  o.ssh_keys.clear();
  auto doc = render_cloud_init(hardened(), "", o);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(contains(doc.error().message, "--ssh-key")) << doc.error().message;
  // A file with only comments holds no key either.
  o.ssh_keys = {{"empty.pub", "# nothing here\n\n"}};
  doc = render_cloud_init(hardened(), "", o);
  ASSERT_FALSE(doc);
  EXPECT_TRUE(contains(doc.error().message, "empty.pub")) << doc.error().message;
}

TEST(CloudInit, RefusesAPrivateKeyAndLinesThatAreNotPublicKeys) {
  auto o = options();
  o.ssh_keys = {{"id_ed25519",
                 "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n"
                 "-----END OPENSSH PRIVATE KEY-----\n"}};
  auto doc = render_cloud_init(hardened(), "", o);
  ASSERT_FALSE(doc);
  EXPECT_TRUE(contains(doc.error().message, "private key")) << doc.error().message;
  EXPECT_FALSE(contains(doc.error().message, "b3BlbnNzaC1rZXk"));
  o.ssh_keys = {{"k.pub", std::string(kKey) + "\nhello world\n"}};
  doc = render_cloud_init(hardened(), "", o);
  ASSERT_FALSE(doc);
  EXPECT_TRUE(contains(doc.error().message, "k.pub:2")) << doc.error().message;
  o.ssh_keys = {{"k.pub", "ssh-ed25519\n"}};
  EXPECT_FALSE(render_cloud_init(hardened(), "", o));
  o.ssh_keys = {{"k.pub", "ssh-ed25519 AAAA\"x\n"}};
  EXPECT_FALSE(render_cloud_init(hardened(), "", o));
}

TEST(CloudInit, RefusesKeysWhenNoUserWouldGetThem) {
  config::Config c;  // No [ssh].
  auto doc = render_cloud_init(c, "", options());
  ASSERT_FALSE(doc);
  EXPECT_TRUE(contains(doc.error().message, "allow_users")) << doc.error().message;
  auto o = options();
  o.ssh_keys.clear();
  doc = render_cloud_init(c, "", o);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_FALSE(contains(doc->text, "users:"));
  EXPECT_FALSE(contains(doc->text, "disable_root"));  // Root may be the only way in.
  EXPECT_TRUE(contains(doc->text, "\nssh_pwauth: false\n"));
}

TEST(CloudInit, DownloadNeedsHttpsAndA64DigitChecksum) {
  auto o = options();
  o.binary_url = "http://example.org/groundctl";
  auto doc = render_cloud_init(hardened(), "", o);
  ASSERT_FALSE(doc);
  EXPECT_TRUE(contains(doc.error().message, "--insecure-url")) << doc.error().message;
  o.insecure_url = true;
  doc = render_cloud_init(hardened(), "", o);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_FALSE(contains(doc->text, "--proto"));
  for (std::string url : {"", "ftp://x/y", "https://", "https://x/a b", "https://x/\n"}) {
    o = options();
    o.binary_url = url;
    EXPECT_FALSE(render_cloud_init(hardened(), "", o)) << url;
  }
  for (std::string sha :
       {std::string(63, 'a'), std::string(65, 'a'), std::string(63, 'a') + "g", std::string()}) {
    o = options();
    o.binary_sha256 = sha;
    auto d = render_cloud_init(hardened(), "", o);
    ASSERT_FALSE(d) << sha;
    EXPECT_TRUE(contains(d.error().message, "--binary-sha256"));
  }
}

TEST(CloudInit, ScriptGetsUrlChecksumAndPathAsArgumentsNotShellText) {
  auto o = options();
  o.binary_url = "https://example.org/g?a=1&b=$(reboot)'\"";
  o.binary_sha256 = std::string(32, 'A') + std::string(32, 'f');
  auto doc = render_cloud_init(hardened(), "", o);
  ASSERT_TRUE(doc) << doc.error().message;
  const std::string& y = doc->text;
  EXPECT_TRUE(contains(y, "runcmd:\n  - - sh\n    - -c\n    - |\n      set -eu\n")) << y;
  EXPECT_TRUE(contains(y, "--proto '=https'"));
  EXPECT_TRUE(contains(y, "sha256sum --check"));
  EXPECT_TRUE(contains(y, "install -m 0755 -o root -g root \"$tmp\" /usr/local/bin/groundctl\n"));
  // check, apply, the unit, in that order.
  size_t check = y.find("groundctl check -c \"$3\"");
  size_t apply = y.find("groundctl apply -c \"$3\"");
  size_t startup = y.find("groundctl startup --install -c \"$3\"");
  size_t enable = y.find("systemctl enable --now groundctl.service");
  ASSERT_NE(check, std::string::npos);
  EXPECT_LT(check, apply);
  EXPECT_LT(apply, startup);
  EXPECT_LT(startup, enable);
  EXPECT_TRUE(
      contains(y,
               "    - groundctl-cloud-init\n    - \"https://example.org/g?a=1&b=$(reboot)'\\\"\"\n"
               "    - \"" +
                   std::string(32, 'a') + std::string(32, 'f') +
                   "\"\n    - \"/etc/groundctl/groundctl.toml\"\n"))
      << y;
}

TEST(CloudInit, WritesTheConfigVerbatimAsA0600LiteralBlock) {
  std::string text =
      "# \"quoted\" 'single' #hash\n[server]\nname = \"caf\xC3\xA9 \xE2\x9C\x93\"\n"
      "  \ntrailing = 1   \n";
  auto doc = render_cloud_init(hardened(), text, options());
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_TRUE(contains(doc->text,
                       "write_files:\n  - path: \"/etc/groundctl/groundctl.toml\"\n"
                       "    owner: \"root:root\"\n    permissions: \"0600\"\n"
                       "    content: |\n      # \"quoted\" 'single' #hash\n"
                       "      [server]\n"))
      << doc->text;
  EXPECT_TRUE(contains(doc->text, "\n        \n      trailing = 1   \n"));
}

TEST(CloudInit, ConfigWithCarriageReturnsTravelsAsBase64) {
  std::string text = "[server]\r\nname = \"x\"\r\n";
  auto doc = render_cloud_init(hardened(), text, options());
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_TRUE(contains(doc->text, "    encoding: b64\n    content: " + base64_encode(text) + "\n"));
}

TEST(CloudInit, InstallsThePackagesTheConfigNeeds) {
  config::Config bare;
  auto p = cloud_init_packages(bare, {});
  for (const char* x : {"curl", "ca-certificates", "unattended-upgrades", "age", "zstd"}) {
    EXPECT_TRUE(has(p, x)) << x;
  }
  for (const char* x : {"nginx", "postgresql-15", "pgbouncer", "fail2ban", "ufw", "git"}) {
    EXPECT_FALSE(has(p, x)) << x;
  }
  config::Config c = hardened();
  c.nginx = config::NginxConfig{};
  c.postgres = config::PostgresConfig{};
  p = cloud_init_packages(c, {"nodejs", "curl"});
  for (const char* x : {"nginx", "ufw", "fail2ban", "nftables", "python3-systemd", "openssh-server",
                        "postgresql-client-15", "nodejs"}) {
    EXPECT_TRUE(has(p, x)) << x;
  }
  EXPECT_FALSE(has(p, "postgresql-15"));  // Not managed: only the client tools for backups.
  EXPECT_EQ(std::count(p.begin(), p.end(), "curl"), 1);
  c.postgres->manage = config::PostgresManageConfig{};
  p = cloud_init_packages(c, {});
  EXPECT_TRUE(has(p, "postgresql-15"));
  EXPECT_FALSE(has(p, "pgbouncer"));
  c.postgres->manage->pool = config::PgPoolConfig{};
  EXPECT_TRUE(has(cloud_init_packages(c, {}), "pgbouncer"));

  auto o = options();
  o.extra_packages = {"nodejs; reboot"};
  EXPECT_FALSE(render_cloud_init(hardened(), "", o));
}

TEST(CloudInit, ListsTheReferencedFilesItDoesNotCarry) {
  config::Config c = hardened();
  config::ServiceConfig s;
  s.name = "api";
  s.env_file = "/home/orbital/shared/.env";
  c.services.push_back(s);
  c.postgres = config::PostgresConfig{};
  c.postgres->password_file = "/etc/groundctl/pg.pass";
  c.http.token_file = "/etc/groundctl/api.token";
  auto doc = render_cloud_init(c, "", options());
  ASSERT_TRUE(doc) << doc.error().message;
  ASSERT_EQ(doc->files_to_provision.size(), 3u);
  EXPECT_EQ(doc->files_to_provision[0], "/etc/groundctl/api.token ([http].token_file)");
  EXPECT_EQ(doc->files_to_provision[1], "/etc/groundctl/pg.pass ([postgres].password_file)");
  EXPECT_EQ(doc->files_to_provision[2], "/home/orbital/shared/.env ([[service]] api env_file)");
}

TEST(YamlEmitter, QuotesEverythingYamlWouldReadDifferently) {
  EXPECT_EQ(yaml_quote("plain"), "\"plain\"");
  EXPECT_EQ(yaml_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(yaml_quote("l1\nl2\tx"), "\"l1\\nl2\\tx\"");
  EXPECT_EQ(yaml_quote(std::string("\x01\x7F", 2)), "\"\\x01\\x7F\"");
  EXPECT_EQ(yaml_quote("\xE2\x80\xA8"), "\"\\u2028\"");
  EXPECT_EQ(yaml_quote("caf\xC3\xA9 # : - {}"), "\"caf\xC3\xA9 # : - {}\"");
}

TEST(YamlEmitter, LiteralBlocksStateChompingAndIndentationWhenNeeded) {
  EXPECT_EQ(yaml_literal_block("a\nb\n", 0), "|\n  a\n  b\n");
  EXPECT_EQ(yaml_literal_block("a\nb", 0), "|-\n  a\n  b\n");
  EXPECT_EQ(yaml_literal_block("a\n\n\n", 0), "|+\n  a\n\n\n");
  EXPECT_EQ(yaml_literal_block("a\n\nb\n", 4), "|\n      a\n\n      b\n");
  EXPECT_EQ(yaml_literal_block("  a\nb\n", 4), "|2\n        a\n      b\n");
  EXPECT_EQ(yaml_literal_block("\n \nb\n", 0), "|2\n\n   \n  b\n");
  EXPECT_EQ(yaml_literal_block("\n\n", 0), "|+\n\n\n");
  EXPECT_EQ(yaml_literal_block("\n", 0), "|+\n\n");  // Clip would read back "".
}

TEST(YamlEmitter, BlockSafetyRejectsWhatPyYamlWouldFoldOrRefuse) {
  EXPECT_TRUE(yaml_block_safe("tab\there \"q\" #x \xC3\xA9 \xF0\x9F\x98\x80\n"));
  EXPECT_FALSE(yaml_block_safe("a\r\nb"));
  EXPECT_FALSE(yaml_block_safe("nel\xC2\x85"));
  EXPECT_FALSE(yaml_block_safe("ls\xE2\x80\xA8"));
  EXPECT_FALSE(yaml_block_safe("bom\xEF\xBB\xBF"));
  EXPECT_FALSE(yaml_block_safe("bad\xC3"));
  EXPECT_FALSE(yaml_block_safe("overlong\xC0\xAF"));
  EXPECT_FALSE(yaml_block_safe("surrogate\xED\xA0\x80"));
  EXPECT_FALSE(yaml_block_safe(std::string("nul\0", 4)));
}

}  // namespace
}  // namespace gc::provision

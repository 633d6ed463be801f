// SPDX-License-Identifier: MIT
// The [tls] section of the loader: the issue's example, defaults taken from [server] and
// [nginx], and one error per bad value.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace gc::config {
namespace {

constexpr const char* kPath = "/etc/groundctl/groundctl.toml";

LoadOutcome load(const std::string& text) { return load_config_from_string(text, kPath); }

std::string dump(const LoadOutcome& outcome) {
  std::string out;
  for (const auto& d : outcome.diagnostics) out += d.to_string() + "\n";
  return out;
}

// Expects exactly one error at `line` (counting from 1 in `text`) containing `text_part`.
::testing::AssertionResult one_error(const std::string& text, int line,
                                     const std::string& text_part) {
  LoadOutcome o = load(text);
  if (o.config) return ::testing::AssertionFailure() << "accepted:\n" << text;
  if (o.diagnostics.size() != 1) return ::testing::AssertionFailure() << dump(o);
  const Diagnostic& d = o.diagnostics[0];
  if (d.line != line || d.message.find(text_part) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "want line " << line << " \"" << text_part << "\", got " << dump(o);
  }
  return ::testing::AssertionSuccess();
}

TEST(TlsConfig, ReadsTheIssueExampleWithDefaults) {
  LoadOutcome o = load(R"([server]
state_dir = "/srv/gc"

[tls]
domains = ["api.orbitl.org"]
email = "ops@orbitl.org"
directory = "https://acme-v02.api.letsencrypt.org/directory"
key_type = "ec-p256"
challenge = "webroot"
)");
  ASSERT_TRUE(o.config) << dump(o);
  ASSERT_TRUE(o.config->tls);
  const TlsConfig& t = *o.config->tls;
  EXPECT_EQ(t.domains, std::vector<std::string>{"api.orbitl.org"});
  EXPECT_EQ(t.email, "ops@orbitl.org");
  EXPECT_EQ(t.key_type, "ec-p256");
  EXPECT_EQ(t.challenge, "webroot");
  EXPECT_EQ(t.cert_dir, "/srv/gc/tls/api.orbitl.org");
  EXPECT_EQ(t.webroot, "/var/www/groundctl-acme");
  // Without [nginx] nothing is validated or reloaded: the user's own server is not ours to touch.
  EXPECT_TRUE(t.validate_command.empty());
  EXPECT_TRUE(t.reload_command.empty());
  EXPECT_EQ(t.check_interval, std::chrono::hours(12));
  EXPECT_FALSE(load("").config->tls);
}

TEST(TlsConfig, TakesNginxDefaultsAndExplicitValues) {
  LoadOutcome o = load(R"(
[[service]]
name = "api"
command = ["node", "server.js"]
listen = ["127.0.0.1:3000"]

[nginx]
domain = "api.orbitl.org"
upstream = "api"
acme_root = "/srv/acme"

[tls]
domains = ["api.orbitl.org", "www.orbitl.org"]
directory = "http://127.0.0.1:14000/dir"
key_type = "rsa-4096"
challenge = "standalone"
standalone_listen = "127.0.0.1:5002"
ca_bundle = "/etc/pebble/ca.pem"
cert_dir = "/srv/certs"
reload_command = ["/usr/sbin/nginx", "-s", "reload"]
check_interval = "1h"
)");
  ASSERT_TRUE(o.config) << dump(o);
  const TlsConfig& t = *o.config->tls;
  EXPECT_EQ(t.webroot, "/srv/acme");
  EXPECT_EQ(t.validate_command, (std::vector<std::string>{"nginx", "-t", "-q"}));
  EXPECT_EQ(t.reload_command, (std::vector<std::string>{"/usr/sbin/nginx", "-s", "reload"}));
  EXPECT_EQ(t.standalone_listen, "127.0.0.1:5002");
  EXPECT_EQ(t.cert_dir, "/srv/certs");
  EXPECT_EQ(t.key_type, "rsa-4096");
  EXPECT_EQ(t.directory, "http://127.0.0.1:14000/dir");
  EXPECT_EQ(t.check_interval, std::chrono::hours(1));
}

TEST(TlsConfig, RefusesBadValuesOnePerLine) {
  EXPECT_TRUE(one_error("[tls]\nemail = \"x@y.org\"\n", 1, "tls.domains"));
  EXPECT_TRUE(one_error("[tls]\ndomains = []\n", 2, "at least one domain"));
  EXPECT_TRUE(one_error("[tls]\ndomains = [\"*.orbitl.org\"]\n", 2, "DNS-01"));
  EXPECT_TRUE(one_error("[tls]\ndomains = [\"localhost\"]\n", 2, "fully qualified"));
  EXPECT_TRUE(one_error("[tls]\ndomains = [\"a.org\", \"a.org\"]\n", 2, "listed twice"));
  EXPECT_TRUE(one_error("[tls]\ndomains = [\"a.org\"]\nkey_type = \"rsa-1024\"\n", 3,
                        "\"ec-p256\", \"rsa-2048\" or \"rsa-4096\""));
  EXPECT_TRUE(one_error("[tls]\ndomains = [\"a.org\"]\nchallenge = \"dns-01\"\n", 3,
                        "\"webroot\" or \"standalone\""));
  EXPECT_TRUE(one_error("[tls]\ndomains = [\"a.org\"]\ndirectory = \"ftp://x\"\n", 3,
                        "not an ACME directory URL"));
  EXPECT_TRUE(
      one_error("[tls]\ndomains = [\"a.org\"]\nemail = \"nobody\"\n", 3, "not an email address"));
  EXPECT_TRUE(one_error("[tls]\ndomains = [\"a.org\"]\nstandalone_listen = \"*:80\"\n", 3,
                        "tls.standalone_listen"));
  EXPECT_TRUE(
      one_error("[tls]\ndomains = [\"a.org\"]\nreload_command = [\"\"]\n", 3, "must not be empty"));
  EXPECT_TRUE(one_error("[tls]\ndomains = [\"a.org\"]\nrenew = true\n", 3, "renew"));
}

TEST(TlsConfig, RequiresTheNginxDomain) {
  EXPECT_TRUE(one_error(R"([[service]]
name = "api"
command = ["node", "server.js"]
listen = ["127.0.0.1:3000"]
[nginx]
domain = "api.orbitl.org"
upstream = "api"
[tls]
domains = ["www.orbitl.org"]
)",
                        9, "does not include [nginx] domain \"api.orbitl.org\""));
}

}  // namespace
}  // namespace gc::config

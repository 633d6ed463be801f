// SPDX-License-Identifier: MIT
// The TLS collector's child process: the JSON it speaks, the real `groundctl __tls-facts` giving
// the same facts as an in-process inspection, and a child that cannot help.
#include "monitor/tls_child.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/temp_dir.h"

namespace gc::monitor {
namespace {

CertFacts sample_facts() {
  CertFacts f;
  f.source = "file:/etc/letsencrypt/live/x/fullchain.pem";
  f.ok = true;
  f.subject_cn = "x.example";
  f.issuer_cn = "R11";
  f.dns_names = {"x.example", "www.x.example"};
  f.not_before = 1'700'000'000;
  f.not_after = 1'800'000'000;
  f.chain_not_after = 1'750'000'000;
  f.chain_valid = false;
  f.name_matches = true;
  f.verify_error = "certificate has expired";
  return f;
}

TEST(TlsChild, FactsSurviveTheJsonRoundTrip) {
  CertFacts f = sample_facts();
  auto back = cert_facts_from_json(nlohmann::json::parse(cert_facts_json(f).dump()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(cert_facts_json(*back), cert_facts_json(f));
  EXPECT_EQ(back->dns_names, f.dns_names);
  EXPECT_EQ(back->not_after, f.not_after);

  nlohmann::json broken = cert_facts_json(f);
  broken["not_after"] = "soon";
  auto bad = cert_facts_from_json(broken);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kCorrupt);
  broken.erase("not_after");
  EXPECT_FALSE(cert_facts_from_json(broken));
}

TEST(TlsChild, AChildThatCannotAnswerFailsEveryTarget) {
  std::vector<TlsTarget> targets = {{"/etc/ssl/a.pem", "", "", ""}, {"", "h.example:443", "", ""}};
  for (const char* exe : {"/bin/false", "/bin/true", "/nonexistent/groundctl"}) {
    auto facts = inspect_targets_in_child(exe, targets, TlsOptions{});
    ASSERT_EQ(facts.size(), 2u) << exe;
    EXPECT_EQ(facts[0].source, "file:/etc/ssl/a.pem");
    EXPECT_EQ(facts[1].source, "endpoint:h.example:443");
    for (const auto& f : facts) {
      EXPECT_FALSE(f.ok) << exe;
      EXPECT_EQ(f.error.rfind("tls check process: ", 0), 0u) << f.error;
    }
  }
  EXPECT_TRUE(inspect_targets_in_child("/bin/false", {}, TlsOptions{}).empty());
}

TEST(TlsChild, GroundctlGivesTheFactsAnInProcessInspectionGives) {
  auto dir = TempDir::create("gc-tls-child-");
  ASSERT_TRUE(dir) << dir.error().message;
  SpawnOptions o;
  o.argv = {"openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            dir->file("key.pem"),
            "-out",
            dir->file("cert.pem"),
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost"};
  o.env = {"PATH=/usr/bin:/bin"};
  auto openssl = ChildProcess::spawn(o);
  ASSERT_TRUE(openssl) << openssl.error().message;
  auto st = openssl->wait();
  ASSERT_TRUE(st && st->success());

  TlsOptions options;
  options.ca_file = dir->file("cert.pem");  // Self-signed: it is its own root.
  options.timeout = std::chrono::seconds(2);
  std::vector<TlsTarget> targets = {{dir->file("cert.pem"), "", "", "localhost"},
                                    {dir->file("cert.pem"), "", "", "other.example"},
                                    {dir->file("missing.pem"), "", "", ""}};
  auto facts = inspect_targets_in_child(GC_GROUNDCTL_BIN, targets, options);
  ASSERT_EQ(facts.size(), targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    EXPECT_EQ(cert_facts_json(facts[i]), cert_facts_json(inspect_target(targets[i], options))) << i;
  }
  EXPECT_TRUE(facts[0].ok) << facts[0].error;
  EXPECT_TRUE(facts[0].chain_valid) << facts[0].verify_error;
  EXPECT_TRUE(facts[0].name_matches);
  EXPECT_FALSE(facts[1].name_matches);
  EXPECT_FALSE(facts[2].ok);
  EXPECT_NE(facts[2].error.find("missing.pem"), std::string::npos) << facts[2].error;
}

}  // namespace
}  // namespace gc::monitor

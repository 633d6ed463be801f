// SPDX-License-Identifier: MIT
// `tls grade` against real Nginx servers on loopback, with certificates made by the openssl CLI:
// the provisioned site's TLS settings rate A+, and each weakening gives SSL Labs' grade. The
// protocol and cipher lists are checked against sslscan's on the same servers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "base/child_process.h"
#include "base/temp_dir.h"
#include "config/loader.h"
#include "provision/nginx_site.h"
#include "support/nginx_server.h"
#include "tls/grade.h"
#include "tls/probe.h"

namespace gc::tls {
namespace {

struct CmdResult {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs argv to completion with its output in files under `dir` (no pipe to fill up).
CmdResult run_cmd(const std::vector<std::string>& argv, const std::string& dir) {
  CmdResult r;
  std::string out = dir + "/run.out", err = dir + "/run.err";
  int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  SpawnOptions so;
  so.argv = argv;
  so.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir};
  so.stdout_fd = o;
  so.stderr_fd = e;
  auto child = ChildProcess::spawn(so);
  ::close(o);
  ::close(e);
  if (!child) {
    r.err = child.error().message;
    return r;
  }
  auto st = child->wait();
  r.code = st && !st->signaled ? st->code : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The TLS lines of the site the provisioning renderer writes (Mozilla intermediate + HSTS),
// without its certificate paths: the test's servers use the same text.
struct SiteTls {
  std::string directives;  // ssl_protocols, ssl_ciphers, ... one a line.
  std::string hsts;        // The add_header Strict-Transport-Security line.
};

SiteTls provisioned_tls() {
  const char* toml = R"(
[server]
state_dir = "/var/lib/groundctl"
[[service]]
name = "app"
command = ["node", "server.js"]
listen = ["127.0.0.1:3000"]
[nginx]
domain = "localhost"
upstream = "app"
)";
  config::LoadOutcome o = config::load_config_from_string(toml, "/etc/groundctl/groundctl.toml");
  EXPECT_TRUE(o.config);
  SiteTls out;
  if (!o.config) return out;
  std::string site = provision::render_nginx(*o.config, provision::Target{}).files.at(0).content;
  std::istringstream in(site);
  std::string line;
  while (std::getline(in, line)) {
    std::string t = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
    if (t.rfind("ssl_", 0) == 0 && t.rfind("ssl_certificate", 0) != 0) {
      out.directives += "    " + t + "\n";
    }
    if (t.rfind("add_header Strict-Transport-Security", 0) == 0) out.hsts = "    " + t + "\n";
  }
  return out;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

class GradeNginx : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto d = TempDir::create("gc-tls-grade-");
    ASSERT_TRUE(d) << d.error().message;
    dir_ = new TempDir(std::move(*d));
    const std::string& p = dir_->path();
    auto sh = [&](const std::string& script) {
      CmdResult r = run_cmd({"/bin/sh", "-ec", script}, p);
      ASSERT_EQ(r.code, 0) << script << "\n" << r.err;
    };
    // A test CA, and leaves it signs: ECDSA P-256 for localhost, the same for another name, and
    // RSA 1024 for localhost. Plus a self-signed P-256 one for localhost.
    sh("cd " + p +
       " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key"
       " -out ca.pem -subj '/CN=groundctl test CA' -days 30"
       " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    for (auto [name, key, san] :
         {std::tuple{"good", "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "DNS:localhost"},
          std::tuple{"wrong", "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "DNS:wrong.example"},
          std::tuple{"rsa1024", "-newkey rsa:1024", "DNS:localhost"}}) {
      std::string n = name;
      sh("cd " + p + " && printf 'subjectAltName=" + san +
         "\\nextendedKeyUsage=serverAuth\\nbasicConstraints=CA:FALSE\\n' > " + n + ".ext" +
         " && openssl req -new " + key + " -nodes -keyout " + n + ".key -out " + n +
         ".csr -subj /CN=localhost && openssl x509 -req -in " + n +
         ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -out " + n + ".pem -extfile " + n +
         ".ext");
    }
    sh("cd " + p +
       " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key"
       " -out self.pem -subj /CN=localhost -days 30 -addext subjectAltName=DNS:localhost");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // Starts Nginx serving `cert` with the provisioned TLS lines; `protocols` and `ciphers`, when
  // set, replace the ssl_protocols and ssl_ciphers lines.
  std::unique_ptr<testing::NginxServer> serve(const std::string& cert, bool hsts = true,
                                              const std::string& protocols = "",
                                              const std::string& ciphers = "") {
    SiteTls tls = provisioned_tls();
    EXPECT_NE(tls.directives.find("ssl_protocols TLSv1.2 TLSv1.3;"), std::string::npos)
        << tls.directives;
    EXPECT_FALSE(tls.hsts.empty());
    std::string d = tls.directives;
    if (!protocols.empty()) d = replace(d, "ssl_protocols TLSv1.2 TLSv1.3;", protocols);
    if (!ciphers.empty()) {
      std::size_t at = d.find("ssl_ciphers ");
      std::size_t end = d.find('\n', at);
      d.replace(at, end - at, ciphers);
    }
    std::string p = dir_->path();
    std::string body =
        "server {\n    listen 127.0.0.1:@PORT0@ ssl;\n    server_name localhost;\n"
        "    ssl_certificate " +
        p + "/" + cert +
        ".pem;\n"
        "    ssl_certificate_key " +
        p + "/" + cert + ".key;\n" + d + (hsts ? tls.hsts : "") +
        "    location / { return 200 \"ok\\n\"; }\n}\n";
    auto sub = TempDir::create("nginx-", p);
    EXPECT_TRUE(sub);
    if (!sub) return nullptr;
    sub->keep();  // Removed with dir_.
    auto n = testing::NginxServer::start(sub->path(), body);
    EXPECT_TRUE(n) << n.error().message;
    return n ? std::move(*n) : nullptr;
  }

  static ProbeResult probe(int port, bool with_ca = true, const std::string& host = "127.0.0.1") {
    ProbeOptions o;
    o.host = host;
    o.port = port;
    o.sni = host == "127.0.0.1" ? "localhost" : "";
    if (with_ca) o.ca_file = dir_->file("ca.pem");
    auto r = probe_server(o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProbeResult{};
  }

  static GradeReport grade(const ProbeResult& p) {
    return grade_server(p, std::chrono::system_clock::now());
  }

  static std::string reasons(const GradeReport& r) {
    std::string out;
    for (const auto& x : r.reasons) out += x.id + ": " + x.message + "\n";
    return out;
  }

  static bool has(const GradeReport& r, const std::string& id) {
    for (const auto& x : r.reasons) {
      if (x.id == id) return true;
    }
    return false;
  }

  // sslscan's view: offered protocols and the accepted suites per protocol (OpenSSL names).
  static std::map<std::string, std::set<std::string>> sslscan(int port) {
    CmdResult r = run_cmd({"sslscan", "--no-colour", "--no-heartbleed", "--no-compression",
                           "--no-renegotiation", "--no-fallback", "--no-groups",
                           "--sni-name=localhost", "--xml=-", "127.0.0.1:" + std::to_string(port)},
                          dir_->path());
    EXPECT_EQ(r.code, 0) << r.err;
    std::map<std::string, std::set<std::string>> out;
    std::regex proto(R"re(<protocol type="tls" version="(1\.[0-3])" enabled="1")re");
    for (std::sregex_iterator it(r.out.begin(), r.out.end(), proto), end; it != end; ++it) {
      out["TLSv" + (*it)[1].str()];
    }
    std::regex cipher(
        R"re(<cipher status="[a-z]+" sslversion="(TLSv1\.[0-3])"[^>]* cipher="([^"]+)")re");
    for (std::sregex_iterator it(r.out.begin(), r.out.end(), cipher), end; it != end; ++it) {
      out[(*it)[1].str()].insert((*it)[2].str());
    }
    return out;
  }

  static std::map<std::string, std::set<std::string>> ours(const ProbeResult& p) {
    std::map<std::string, std::set<std::string>> out;
    for (const ProtocolProbe& pp : p.protocols) {
      if (!pp.offered) continue;
      auto& s = out[version_name(pp.version)];
      for (const CipherSuite& c : pp.suites) s.insert(c.name);
    }
    return out;
  }

  static TempDir* dir_;
};

TempDir* GradeNginx::dir_ = nullptr;

TEST_F(GradeNginx, ProvisionedSiteWithTrustedEcdsaCertificateIsAPlus) {
  auto n = serve("good");
  ASSERT_TRUE(n);
  ProbeResult p = probe(n->port());
  GradeReport r = grade(p);
  EXPECT_EQ(r.grade, Grade::kAPlus) << reasons(r);
  EXPECT_FALSE(p.protocols[0].offered);
  EXPECT_FALSE(p.protocols[1].offered);
  EXPECT_TRUE(p.protocols[2].offered);
  EXPECT_TRUE(p.protocols[3].offered);
  // Intermediate's ECDSA suites for TLS 1.2 (its RSA ones cannot be used with an EC key).
  std::set<std::string> t12;
  for (const auto& s : p.protocols[2].suites) t12.insert(s.name);
  EXPECT_EQ(t12,
            (std::set<std::string>{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                   "ECDHE-ECDSA-CHACHA20-POLY1305"}));
  for (const auto& pp : p.protocols) {
    for (const auto& s : pp.suites) {
      EXPECT_TRUE(s.forward_secrecy) << s.name;
      EXPECT_TRUE(s.aead) << s.name;
      EXPECT_FALSE(s.kx_group.empty()) << s.name;
    }
  }
  EXPECT_EQ(p.protocols[2].suites[0].iana_name.rfind("TLS_ECDHE_ECDSA_WITH_", 0), 0u);
  EXPECT_EQ(p.certificate.key_type, "EC");
  EXPECT_EQ(p.certificate.key_bits, 256);
  EXPECT_EQ(p.certificate.key_curve, "prime256v1");
  EXPECT_EQ(p.certificate.signature_algorithm, "ecdsa-with-SHA256");
  EXPECT_TRUE(p.certificate.trusted) << p.certificate.verify_error;
  EXPECT_TRUE(p.certificate.name_matches);
  EXPECT_TRUE(p.certificate.chain_complete);
  EXPECT_TRUE(p.hsts.present);
  EXPECT_EQ(p.hsts.max_age, 63072000);
  EXPECT_EQ(p.hsts.http_status, 200);
  EXPECT_EQ(p.secure_renegotiation, std::optional<bool>(true));
}

TEST_F(GradeNginx, AgreesWithSslscanOnTheProvisionedSite) {
  auto n = serve("good");
  ASSERT_TRUE(n);
  ProbeResult p = probe(n->port());
  auto theirs = sslscan(n->port());
  EXPECT_EQ(ours(p), theirs);
  EXPECT_EQ(theirs.size(), 2u);  // TLSv1.2 and TLSv1.3: sslscan saw something.
}

TEST_F(GradeNginx, Tls10EnabledIsBAndAgreesWithSslscan) {
  auto n = serve("good", true, "ssl_protocols TLSv1 TLSv1.2 TLSv1.3;",
                 "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                 "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
                 "@SECLEVEL=0;");
  ASSERT_TRUE(n);
  ProbeResult p = probe(n->port());
  GradeReport r = grade(p);
  EXPECT_EQ(r.grade, Grade::kB) << reasons(r);
  EXPECT_TRUE(has(r, "tls10"));
  EXPECT_TRUE(p.protocols[0].offered);
  EXPECT_FALSE(p.protocols[1].offered);
  std::set<std::string> t10;
  for (const auto& s : p.protocols[0].suites) t10.insert(s.name);
  EXPECT_EQ(t10, (std::set<std::string>{"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA"}));
  EXPECT_EQ(ours(p), sslscan(n->port()));
}

TEST_F(GradeNginx, WithoutHstsIsA) {
  auto n = serve("good", false);
  ASSERT_TRUE(n);
  GradeReport r = grade(probe(n->port()));
  EXPECT_EQ(r.grade, Grade::kA) << reasons(r);
  EXPECT_TRUE(has(r, "no-hsts"));
}

TEST_F(GradeNginx, SelfSignedIsT) {
  auto n = serve("self");
  ASSERT_TRUE(n);
  ProbeResult p = probe(n->port());
  GradeReport r = grade(p);
  EXPECT_EQ(r.grade, Grade::kT) << reasons(r);
  EXPECT_EQ(r.grade_ignoring_trust, Grade::kAPlus);
  EXPECT_TRUE(p.certificate.self_signed);
  EXPECT_FALSE(p.certificate.trusted);
  EXPECT_TRUE(has(r, "untrusted"));
}

TEST_F(GradeNginx, WrongNameIsM) {
  auto n = serve("wrong");
  ASSERT_TRUE(n);
  ProbeResult p = probe(n->port());
  GradeReport r = grade(p);
  EXPECT_EQ(r.grade, Grade::kM) << reasons(r);
  EXPECT_TRUE(p.certificate.trusted) << p.certificate.verify_error;
  EXPECT_FALSE(p.certificate.name_matches);
  EXPECT_EQ(p.certificate.dns_names, std::vector<std::string>{"wrong.example"});
}

TEST_F(GradeNginx, Rsa1024KeyIsF) {
  // Nginx refuses to load a 1024-bit key at OpenSSL 3's default security level.
  auto n = serve("rsa1024", true, "",
                 "ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                 "ECDHE-RSA-CHACHA20-POLY1305:@SECLEVEL=0;");
  ASSERT_TRUE(n);
  ProbeResult p = probe(n->port());
  GradeReport r = grade(p);
  EXPECT_EQ(r.grade, Grade::kF) << reasons(r);
  EXPECT_EQ(p.certificate.key_type, "RSA");
  EXPECT_EQ(p.certificate.key_bits, 1024);
  EXPECT_EQ(r.reasons.at(0).id, "cert-key-insecure");
}

TEST_F(GradeNginx, UntrustedWithoutTheCaIsT) {
  auto n = serve("good");
  ASSERT_TRUE(n);
  GradeReport r = grade(probe(n->port(), /*with_ca=*/false));
  EXPECT_EQ(r.grade, Grade::kT) << reasons(r);
}

TEST_F(GradeNginx, ProbesByNameToo) {
  auto n = serve("good");
  ASSERT_TRUE(n);
  ProbeResult p = probe(n->port(), true, "localhost");
  EXPECT_EQ(p.sni, "localhost");
  EXPECT_EQ(grade(p).grade, Grade::kAPlus);
}

TEST(GradeProbe, ClosedPortIsUnavailable) {
  ProbeOptions o;
  o.host = "127.0.0.1";
  o.port = testing::free_loopback_port();
  auto r = probe_server(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos) << r.error().message;
}

TEST_F(GradeNginx, PlainHttpServerIsNotTls) {
  auto sub = TempDir::create("nginx-", dir_->path());
  ASSERT_TRUE(sub);
  sub->keep();
  auto n = testing::NginxServer::start(
      sub->path(), "server { listen 127.0.0.1:@PORT0@; location / { return 200; } }\n");
  ASSERT_TRUE(n) << n.error().message;
  ProbeOptions o;
  o.host = "127.0.0.1";
  o.port = (*n)->port();
  auto r = probe_server(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  EXPECT_NE(r.error().message.find("no TLS version"), std::string::npos) << r.error().message;
}

// The CLI end to end: exit codes and the JSON shape.
TEST_F(GradeNginx, CliPrintsJsonAndExitsZeroForAPlus) {
  auto n = serve("good");
  ASSERT_TRUE(n);
  CmdResult r = run_cmd({GC_GROUNDCTL_BIN, "tls", "grade", "127.0.0.1:" + std::to_string(n->port()),
                         "--sni", "localhost", "--ca", dir_->file("ca.pem"), "--json"},
                        dir_->path());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["grade"], "A+");
  EXPECT_EQ(j["sni"], "localhost");
  EXPECT_EQ(j["port"], n->port());
  EXPECT_EQ(j["protocols"]["TLSv1.3"], true);
  EXPECT_EQ(j["protocols"]["TLSv1.0"], false);
  EXPECT_EQ(j["protocols"]["SSLv3"], "not tested");
  EXPECT_EQ(j["ciphers"]["TLSv1.2"].size(), 3u);
  EXPECT_EQ(j["certificate"]["trusted"], true);
  EXPECT_EQ(j["hsts"]["max_age"], 63072000);
  EXPECT_TRUE(j["reasons"].is_array());
  EXPECT_GE(j["score"].get<int>(), 80);
}

TEST_F(GradeNginx, CliExitsOneForWorseGradesAndListsReasons) {
  auto n = serve("self");
  ASSERT_TRUE(n);
  CmdResult r = run_cmd({GC_GROUNDCTL_BIN, "tls", "grade", "127.0.0.1:" + std::to_string(n->port()),
                         "--sni", "localhost"},
                        dir_->path());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("grade T"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("untrusted:"), std::string::npos) << r.out;
}

TEST_F(GradeNginx, CliUsageAndUnreachableErrors) {
  CmdResult bad = run_cmd({GC_GROUNDCTL_BIN, "tls", "grade", "no-port-here"}, dir_->path());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("HOST:PORT"), std::string::npos) << bad.err;
  CmdResult down = run_cmd({GC_GROUNDCTL_BIN, "tls", "grade",
                            "127.0.0.1:" + std::to_string(testing::free_loopback_port())},
                           dir_->path());
  EXPECT_EQ(down.code, 1);
  EXPECT_NE(down.err.find("connect"), std::string::npos) << down.err;
}

}  // namespace
}  // namespace gc::tls

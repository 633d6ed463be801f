// SPDX-License-Identifier: MIT
// The TLS certificate collector against certificates made by the real `openssl` CLI (a test
// CA, an intermediate, good, expired, self-signed and wrong-name leaves), served by a real
// `openssl s_server` on 127.0.0.1 port 0; and its metrics, checked by the real promtool.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "monitor/metrics.h"
#include "monitor/tls_metrics.h"

namespace gc::monitor {
namespace {

using std::chrono::milliseconds;

constexpr const char* kPath = "/usr/local/bin:/usr/bin:/bin";
// The fixed validity periods given to `openssl ca`, in unix seconds.
constexpr int64_t k2020Jan = 1577836800;
constexpr int64_t k2020Feb = 1580515200;
constexpr int64_t k2040Jan = 2208988800;  // The intermediate's notAfter.
constexpr int64_t k2045Jan = 2366841600;  // The good leaves' notAfter.

struct CliRun {
  ExitStatus status;
  std::string out;  // stdout and stderr together.
};

// Runs a CLI to completion in `dir` with its output captured. The empty OPENSSL_CONF keeps the
// host's openssl.cnf (default extensions, providers) out of the certificates made here.
CliRun run(const std::vector<std::string>& argv, const std::string& dir) {
  CliRun r;
  auto out = open_fd(dir + "/cmd.out", O_WRONLY | O_CREAT | O_TRUNC);
  EXPECT_TRUE(out) << out.error().message;
  if (!out) return r;
  SpawnOptions o;
  o.argv = argv;
  o.env = {std::string("PATH=") + kPath, "HOME=" + dir, "OPENSSL_CONF=" + dir + "/empty.cnf"};
  o.cwd = dir;
  o.stdout_fd = out->get();
  o.stderr_fd = out->get();
  auto child = ChildProcess::spawn(o);
  EXPECT_TRUE(child) << argv[0] << ": " << child.error().message;
  if (!child) return r;
  auto status = child->wait();
  EXPECT_TRUE(status);
  if (status) r.status = *status;
  r.out = read_file(dir + "/cmd.out").value_or("");
  return r;
}

// The certificates, made once for the suite: ~20 openssl runs.
class Pki {
 public:
  static Pki& get() {
    static Pki pki;
    if (!pki.tried_) {
      pki.tried_ = true;
      pki.make();
    }
    return pki;
  }
  std::string file(const std::string& name) const { return dir_->file(name); }
  bool ready() const { return ready_; }

 private:
  void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    CliRun r = run(args, dir_->path());
    ASSERT_TRUE(r.status.success()) << args[1] << ": " << r.status.to_string() << "\n" << r.out;
  }
  void write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(write_file_atomic(file(name), text, 0600));
  }
  void request(const std::string& name, const std::string& cn) {
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn});
  }
  // `openssl ca`, unlike `openssl x509 -req` in OpenSSL 3.0, takes fixed start and end dates,
  // which is how an already expired certificate is made without faking the clock.
  void sign(const std::string& name, const std::string& issuer, const std::string& start,
            const std::string& end, const std::string& extensions) {
    write(name + ".ext", extensions);
    openssl({"ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", issuer + ".pem", "-keyfile",
             issuer + ".key", "-in", name + ".csr", "-out", name + ".pem", "-startdate", start,
             "-enddate", end, "-extfile", name + ".ext"});
  }
  void concat(const std::string& out, const std::vector<std::string>& parts) {
    std::string text;
    for (const auto& p : parts) text += read_file(file(p)).value_or("");
    write(out, text);
  }
  void make() {
    auto dir = TempDir::create("gc-tls-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    write("empty.cnf", "");
    write("index.txt", "");
    write("serial", "01\n");
    write("ca.cnf",
          "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\n"
          "serial = serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
          "[any]\ncommonName = supplied\n");
    const std::string ca_ext =
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
    const std::string localhost_ext = "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "root.key", "-out", "root.pem", "-days", "36500", "-subj",
             "/CN=Groundctl Test Root", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign"});
    request("int", "Groundctl Test Intermediate");
    sign("int", "root", "20200101000000Z", "20400101000000Z", ca_ext);
    request("leaf", "localhost");
    sign("leaf", "int", "20200101000000Z", "20450101000000Z", localhost_ext);
    request("expired", "localhost");
    sign("expired", "int", "20200101000000Z", "20200201000000Z", localhost_ext);
    request("wrong", "wrong.example");
    sign("wrong", "int", "20200101000000Z", "20450101000000Z",
         "subjectAltName=DNS:wrong.example\n");
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "self.key", "-out", "self.pem", "-days", "30", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost"});
    concat("leaf-full.pem", {"leaf.pem", "int.pem"});
    concat("expired-full.pem", {"expired.pem", "int.pem"});
    concat("wrong-full.pem", {"wrong.pem", "int.pem"});
    concat("key-and-full.pem", {"leaf.key", "leaf.pem", "int.pem"});
    ready_ = true;
  }
  std::optional<TempDir> dir_;
  bool tried_ = false;
  bool ready_ = false;
};

class TlsCertFile : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ready()) << "making the test certificates failed"; }
  TlsOptions with_ca() const {
    TlsOptions o;
    o.ca_file = pki_.file("root.pem");
    return o;
  }
  Pki& pki_ = Pki::get();
};

TEST_F(TlsCertFile, FullChainVerifiesAgainstTheCaFile) {
  CertFacts f = inspect_cert_file(pki_.file("leaf-full.pem"), "localhost", with_ca());
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.source, "file:" + pki_.file("leaf-full.pem"));
  EXPECT_EQ(f.subject_cn, "localhost");
  EXPECT_EQ(f.issuer_cn, "Groundctl Test Intermediate");
  EXPECT_EQ(f.dns_names, std::vector<std::string>{"localhost"});
  EXPECT_EQ(f.not_before, k2020Jan);
  EXPECT_EQ(f.not_after, k2045Jan);
  EXPECT_EQ(f.chain_not_after, k2040Jan);  // The intermediate expires first.
  EXPECT_TRUE(f.chain_valid) << f.verify_error;
  EXPECT_EQ(f.verify_error, "");
  EXPECT_TRUE(f.name_matches);
}

TEST_F(TlsCertFile, SkipsThePrivateKeyOfACombinedFile) {
  CertFacts f = inspect_cert_file(pki_.file("key-and-full.pem"), "localhost", with_ca());
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.subject_cn, "localhost");
  EXPECT_EQ(f.chain_not_after, k2040Jan);
  EXPECT_TRUE(f.chain_valid) << f.verify_error;
}

TEST_F(TlsCertFile, LeafWithoutItsIntermediateDoesNotChain) {
  CertFacts f = inspect_cert_file(pki_.file("leaf.pem"), "", with_ca());
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.chain_not_after, k2045Jan);
  EXPECT_FALSE(f.chain_valid);
  EXPECT_EQ(f.verify_error, "unable to get local issuer certificate");
}

TEST_F(TlsCertFile, ExpiredLeafIsReadButNotValid) {
  CertFacts f = inspect_cert_file(pki_.file("expired-full.pem"), "localhost", with_ca());
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.not_after, k2020Feb);
  EXPECT_EQ(f.chain_not_after, k2020Feb);
  EXPECT_FALSE(f.chain_valid);
  EXPECT_EQ(f.verify_error, "certificate has expired");
  EXPECT_TRUE(f.name_matches);

  MetricSet set;
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  add_tls_metrics({f}, now, set);
  EXPECT_EQ(set.families().at("groundctl_tls_cert_valid").samples.at(0).value, 0);
  EXPECT_EQ(set.families().at("groundctl_tls_probe_success").samples.at(0).value, 1);
  double expiry =
      set.families().at("groundctl_tls_cert_expiry_timestamp_seconds").samples.at(0).value;
  EXPECT_LT(expiry, static_cast<double>(now));
}

TEST_F(TlsCertFile, SelfSignedDoesNotChain) {
  CertFacts f = inspect_cert_file(pki_.file("self.pem"), "localhost", with_ca());
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.subject_cn, "localhost");
  EXPECT_EQ(f.issuer_cn, "localhost");
  EXPECT_FALSE(f.chain_valid);
  EXPECT_EQ(f.verify_error, "self-signed certificate");
  EXPECT_TRUE(f.name_matches);
}

TEST_F(TlsCertFile, WrongNameChainsButDoesNotMatch) {
  CertFacts f = inspect_cert_file(pki_.file("wrong-full.pem"), "localhost", with_ca());
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.dns_names, std::vector<std::string>{"wrong.example"});
  EXPECT_TRUE(f.chain_valid) << f.verify_error;
  EXPECT_FALSE(f.name_matches);
  // Without an expected name there is nothing to mismatch.
  EXPECT_TRUE(inspect_cert_file(pki_.file("wrong-full.pem"), "", with_ca()).name_matches);
  // Only the whole leftmost label may be matched by a wildcard, and only in the certificate.
  EXPECT_TRUE(
      inspect_cert_file(pki_.file("wrong-full.pem"), "wrong.example", with_ca()).name_matches);
  EXPECT_FALSE(
      inspect_cert_file(pki_.file("wrong-full.pem"), "a.wrong.example", with_ca()).name_matches);
}

TEST_F(TlsCertFile, TheSystemStoreDoesNotTrustTheTestCa) {
  CertFacts f = inspect_cert_file(pki_.file("leaf-full.pem"), "localhost", TlsOptions{});
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_FALSE(f.chain_valid);
  EXPECT_EQ(f.verify_error, "unable to get local issuer certificate");
}

TEST_F(TlsCertFile, MissingCaFileIsAVerifyError) {
  TlsOptions o;
  o.ca_file = pki_.file("no-such-ca.pem");
  CertFacts f = inspect_cert_file(pki_.file("leaf-full.pem"), "localhost", o);
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_FALSE(f.chain_valid);
  EXPECT_NE(f.verify_error.find("cannot load ca file " + o.ca_file), std::string::npos)
      << f.verify_error;
}

TEST_F(TlsCertFile, MissingFileIsAnErrorNamingThePath) {
  std::string path = pki_.file("missing.pem");
  CertFacts f = inspect_cert_file(path, "", with_ca());
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.source, "file:" + path);
  EXPECT_NE(f.error.find(path), std::string::npos) << f.error;
  EXPECT_NE(f.error.find("No such file"), std::string::npos) << f.error;
}

TEST_F(TlsCertFile, NonPemFileIsAnErrorNamingThePath) {
  std::string path = pki_.file("notes.txt");
  ASSERT_TRUE(write_file_atomic(path, "not a certificate\n", 0600));
  CertFacts f = inspect_cert_file(path, "", with_ca());
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.error, path + ": no PEM certificate found");
  // A directory is not a certificate file either, and must not be read.
  CertFacts d = inspect_cert_file(pki_.file(""), "", with_ca());
  EXPECT_FALSE(d.ok);
  EXPECT_NE(d.error.find("not a regular file"), std::string::npos) << d.error;
}

// `openssl s_server` on 127.0.0.1 port 0, serving `cert` with `chain`. It prints the port it
// got ("ACCEPT 127.0.0.1:40123") once it listens. The ChildProcess kills exactly it at the end.
class TlsServer {
 public:
  static std::optional<TlsServer> start(const Pki& pki, const std::string& cert,
                                        const std::string& chain) {
    std::string log = pki.file("s_server-" + cert + ".log");
    auto log_fd = open_fd(log, O_WRONLY | O_CREAT | O_TRUNC);
    EXPECT_TRUE(log_fd);
    if (!log_fd) return std::nullopt;
    SpawnOptions o;
    o.argv = {"openssl",     "s_server",
              "-accept",     "127.0.0.1:0",
              "-cert",       pki.file(cert + ".pem"),
              "-key",        pki.file(cert + ".key"),
              "-cert_chain", pki.file(chain + ".pem"),
              "-www"};
    o.env = {std::string("PATH=") + kPath, "OPENSSL_CONF=" + pki.file("empty.cnf")};
    o.stdout_fd = log_fd->get();
    o.stderr_fd = log_fd->get();
    o.parent_death_signal = SIGKILL;
    auto child = ChildProcess::spawn(o);
    EXPECT_TRUE(child) << child.error().message;
    if (!child) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      std::string text = read_file(log).value_or("");
      if (size_t at = text.find("ACCEPT 127.0.0.1:"); at != std::string::npos) {
        size_t end = text.find('\n', at);
        if (end != std::string::npos) {
          return TlsServer(std::move(*child), text.substr(at + 7, end - at - 7));
        }
      }
      auto exited = child->try_wait();
      if (!exited || *exited || std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "s_server did not start:\n" << text;
        return std::nullopt;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  const std::string& address() const { return address_; }  // "127.0.0.1:PORT".
  std::string port() const { return address_.substr(address_.find(':') + 1); }

 private:
  TlsServer(ChildProcess child, std::string address)
      : child_(std::move(child)), address_(std::move(address)) {}
  ChildProcess child_;
  std::string address_;
};

// A TCP socket on 127.0.0.1 port 0: listening (connects succeed and then hang, since nobody
// accepts) or merely bound (connects are refused, and no one else can take the port meanwhile).
std::pair<UniqueFd, std::string> loopback_socket(bool listening) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  if (listening) {
    EXPECT_EQ(::listen(fd.get(), 8), 0);
  }
  socklen_t len = sizeof a;
  EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  return {std::move(fd), "127.0.0.1:" + std::to_string(ntohs(a.sin_port))};
}

class TlsEndpoint : public TlsCertFile {};

TEST_F(TlsEndpoint, ReadsAndVerifiesThePresentedChain) {
  auto server = TlsServer::start(pki_, "leaf", "int");
  ASSERT_TRUE(server);
  CertFacts f = inspect_endpoint(server->address(), "localhost", with_ca());
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.source, "endpoint:" + server->address());
  EXPECT_EQ(f.subject_cn, "localhost");
  EXPECT_EQ(f.issuer_cn, "Groundctl Test Intermediate");
  EXPECT_EQ(f.dns_names, std::vector<std::string>{"localhost"});
  EXPECT_EQ(f.not_before, k2020Jan);
  EXPECT_EQ(f.not_after, k2045Jan);
  EXPECT_EQ(f.chain_not_after, k2040Jan);
  EXPECT_TRUE(f.chain_valid) << f.verify_error;
  EXPECT_TRUE(f.name_matches);

  // Without an SNI the host is the name: here an IP address, in the leaf's IP SAN.
  CertFacts by_ip = inspect_endpoint(server->address(), "", with_ca());
  ASSERT_TRUE(by_ip.ok) << by_ip.error;
  EXPECT_TRUE(by_ip.name_matches);
  CertFacts other = inspect_endpoint(server->address(), "other.example", with_ca());
  ASSERT_TRUE(other.ok) << other.error;
  EXPECT_TRUE(other.chain_valid);
  EXPECT_FALSE(other.name_matches);
  // "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
  CertFacts by_name = inspect_endpoint("localhost:" + server->port(), "", with_ca());
  ASSERT_TRUE(by_name.ok) << by_name.error;
  EXPECT_TRUE(by_name.name_matches);
  // The system store does not know the test CA; the handshake still succeeds.
  CertFacts system = inspect_endpoint(server->address(), "localhost", TlsOptions{});
  ASSERT_TRUE(system.ok) << system.error;
  EXPECT_FALSE(system.chain_valid);
  EXPECT_EQ(system.verify_error, "unable to get local issuer certificate");
}

TEST_F(TlsEndpoint, ExpiredCertificateIsReported) {
  auto server = TlsServer::start(pki_, "expired", "int");
  ASSERT_TRUE(server);
  CertFacts f = inspect_endpoint(server->address(), "localhost", with_ca());
  ASSERT_TRUE(f.ok) << f.error;
  EXPECT_EQ(f.not_after, k2020Feb);
  EXPECT_FALSE(f.chain_valid);
  EXPECT_EQ(f.verify_error, "certificate has expired");
}

TEST_F(TlsEndpoint, RefusedConnectionIsAnErrorNamingTheEndpoint) {
  auto [bound, address] = loopback_socket(/*listening=*/false);
  CertFacts f = inspect_endpoint(address, "localhost", with_ca());
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.source, "endpoint:" + address);
  EXPECT_EQ(f.error.rfind(address + ": connect", 0), 0u) << f.error;
  EXPECT_NE(f.error.find("Connection refused"), std::string::npos) << f.error;
}

TEST_F(TlsEndpoint, SilentServerTimesOutWithinTheTimeout) {
  auto [listening, address] = loopback_socket(/*listening=*/true);
  TlsOptions o = with_ca();
  o.timeout = milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  CertFacts f = inspect_endpoint(address, "localhost", o);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.error, address + ": tls handshake: timed out after 300ms");
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(1300));
}

TEST_F(TlsEndpoint, ServerThatHangsUpIsAnErrorNotACrash) {
  // The test binary does not ignore SIGPIPE: a write to the closed connection must not kill it.
  auto [listening, address] = loopback_socket(/*listening=*/true);
  std::thread server([fd = listening.get()] {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return;
    UniqueFd conn(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
  });
  CertFacts f = inspect_endpoint(address, "localhost", with_ca());
  server.join();
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.error.rfind(address + ": tls handshake: ", 0), 0u) << f.error;
}

TEST_F(TlsEndpoint, BadAddressIsAnError) {
  CertFacts f = inspect_endpoint("no-port-here", "", with_ca());
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.source, "endpoint:no-port-here");
  EXPECT_NE(f.error.find("expected HOST:PORT"), std::string::npos) << f.error;
  EXPECT_FALSE(inspect_endpoint("[::1]", "", with_ca()).ok);
  EXPECT_FALSE(inspect_endpoint("::1:443", "", with_ca()).ok);
}

TEST_F(TlsEndpoint, TargetPicksFileOrEndpoint) {
  TlsTarget t;
  t.file = pki_.file("wrong-full.pem");
  t.expected_name = "localhost";
  CertFacts f = inspect_target(t, with_ca());
  EXPECT_EQ(f.source, "file:" + t.file);
  EXPECT_FALSE(f.name_matches);
  auto [bound, address] = loopback_socket(/*listening=*/false);
  TlsTarget e;
  e.endpoint = address;
  EXPECT_EQ(inspect_target(e, with_ca()).source, "endpoint:" + address);
  EXPECT_FALSE(inspect_target(TlsTarget{}, with_ca()).ok);
}

// Facts as inspect_*() would give them for a healthy certificate, valid in [1000, 2000).
CertFacts healthy(const std::string& source) {
  CertFacts f;
  f.source = source;
  f.ok = true;
  f.subject_cn = "example.org";
  f.issuer_cn = "R3";
  f.not_before = 1000;
  f.not_after = 2000;
  f.chain_not_after = 1900;
  f.chain_valid = true;
  f.name_matches = true;
  return f;
}

double value_of(const MetricSet& set, const std::string& name, const std::string& source) {
  for (const Sample& s : set.families().at(name).samples) {
    if (s.labels.at("source") == source) return s.value;
  }
  ADD_FAILURE() << "no " << name << " for " << source;
  return -1;
}

TEST(TlsMetrics, HealthyCertificateGivesEveryGauge) {
  MetricSet set;
  add_tls_metrics({healthy("endpoint:example.org:443")}, 1500, set);
  ASSERT_EQ(set.families().size(), 5u);
  const MetricFamily& expiry = set.families().at("groundctl_tls_cert_expiry_timestamp_seconds");
  EXPECT_EQ(expiry.type, MetricType::kGauge);
  ASSERT_EQ(expiry.samples.size(), 1u);
  EXPECT_EQ(expiry.samples[0].labels, (Labels{{"source", "endpoint:example.org:443"},
                                              {"subject", "example.org"},
                                              {"issuer", "R3"}}));
  EXPECT_EQ(expiry.samples[0].value, 2000);
  const std::string src = "endpoint:example.org:443";
  EXPECT_EQ(value_of(set, "groundctl_tls_cert_not_before_timestamp_seconds", src), 1000);
  EXPECT_EQ(value_of(set, "groundctl_tls_chain_expiry_timestamp_seconds", src), 1900);
  EXPECT_EQ(value_of(set, "groundctl_tls_cert_valid", src), 1);
  EXPECT_EQ(value_of(set, "groundctl_tls_probe_success", src), 1);
  for (const auto& [name, family] : set.families()) {
    EXPECT_EQ(family.type, MetricType::kGauge) << name;
    EXPECT_FALSE(family.help.empty()) << name;
    if (name != "groundctl_tls_cert_expiry_timestamp_seconds") {
      EXPECT_EQ(family.samples.at(0).labels, (Labels{{"source", src}})) << name;
    }
  }
}

TEST(TlsMetrics, FailedProbeGivesOnlySuccessAndValidity) {
  CertFacts f;
  f.source = "file:/etc/missing.pem";
  f.error = "open /etc/missing.pem: No such file or directory";
  MetricSet set;
  add_tls_metrics({f}, 1500, set);
  ASSERT_EQ(set.families().size(), 2u);
  EXPECT_EQ(value_of(set, "groundctl_tls_probe_success", f.source), 0);
  EXPECT_EQ(value_of(set, "groundctl_tls_cert_valid", f.source), 0);
}

TEST(TlsMetrics, ValidNeedsEveryCondition) {
  struct Case {
    const char* what;
    void (*change)(CertFacts&);
    int64_t now;
    double valid;
  };
  const Case cases[] = {
      {"healthy", [](CertFacts&) {}, 1500, 1},
      {"first second", [](CertFacts&) {}, 1000, 1},
      {"not yet valid", [](CertFacts&) {}, 999, 0},
      {"expired at notAfter", [](CertFacts&) {}, 2000, 0},
      {"broken chain", [](CertFacts& f) { f.chain_valid = false; }, 1500, 0},
      {"wrong name", [](CertFacts& f) { f.name_matches = false; }, 1500, 0},
      {"probe failed", [](CertFacts& f) { f.ok = false; }, 1500, 0},
  };
  for (const Case& c : cases) {
    CertFacts f = healthy("file:/x.pem");
    c.change(f);
    MetricSet set;
    add_tls_metrics({f}, c.now, set);
    EXPECT_EQ(value_of(set, "groundctl_tls_cert_valid", "file:/x.pem"), c.valid) << c.what;
  }
}

TEST(TlsMetrics, CertificatesJsonListsEachSourceFromTheGauges) {
  CertFacts failed;
  failed.source = "file:/etc/missing.pem";
  failed.error = "open /etc/missing.pem: No such file or directory";
  CertFacts wrong_name = healthy("endpoint:example.org:443");
  wrong_name.name_matches = false;
  MetricSet set;
  add_tls_metrics({healthy("file:/etc/ssl/a.pem"), failed, wrong_name}, 1500, set);
  set.gauge("node_load1", "Load.", {}, 0.5);  // Other families are ignored.
  nlohmann::json certs = certificates_json(set, 1500);
  ASSERT_EQ(certs.size(), 3u) << certs.dump();
  // In source order.
  EXPECT_EQ(certs[0], (nlohmann::json{{"source", "endpoint:example.org:443"},
                                      {"ok", true},
                                      {"valid", false},
                                      {"subject", "example.org"},
                                      {"issuer", "R3"},
                                      {"expires_at", "1970-01-01T00:33:20Z"},
                                      {"expires_in_s", 500}}));
  EXPECT_EQ(certs[1],
            (nlohmann::json{{"source", "file:/etc/missing.pem"}, {"ok", false}, {"valid", false}}));
  EXPECT_EQ(certs[2]["source"], "file:/etc/ssl/a.pem");
  EXPECT_EQ(certs[2]["valid"], true);
  // Expired: a negative time left.
  EXPECT_EQ(certificates_json(set, 2600)[2]["expires_in_s"], -600);
  EXPECT_EQ(certificates_json(MetricSet{}, 1500), nlohmann::json::array());
}

TEST(TlsMetrics, PromtoolAcceptsTheRenderedText) {
  auto dir = TempDir::create("gc-tls-prom-");
  ASSERT_TRUE(dir) << dir.error().message;
  CertFacts failed;
  failed.source = "endpoint:down.example:443";
  CertFacts no_cn = healthy("file:/etc/ssl/\"odd\" name.pem");
  no_cn.subject_cn = "";
  MetricSet set;
  add_tls_metrics(
      {healthy("endpoint:example.org:443"), healthy("file:/etc/ssl/a.pem"), failed, no_cn}, 1500,
      set);
  ASSERT_TRUE(write_file_atomic(dir->file("metrics.txt"), render(set), 0600));
  CliRun r = run({"sh", "-c", "exec promtool check metrics < metrics.txt"}, dir->path());
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << "\n" << r.out;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace gc::monitor

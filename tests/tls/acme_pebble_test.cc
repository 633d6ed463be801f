// SPDX-License-Identifier: MIT
// Issuance and renewal against Debian's real `pebble` ACME server on loopback: HTTP-01 through
// the standalone responder and through a real Nginx webroot, nonce rejection, the failure cases
// (challenge unreachable, server down, rate limited, validation refused) with the old files
// kept, and `groundctl cert renew --json` through the built binary.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "support/nginx_server.h"
#include "support/pebble.h"
#include "tls/cert_manager.h"

namespace gc::tls {
namespace {

using testing::NginxServer;
using testing::Pebble;
using testing::PebbleOptions;

SysSeconds now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

struct Ran {
  int code = -1;
  std::string out;
};

// Runs argv to completion with stdout in one file and stderr in another.
Ran run_cmd(const std::vector<std::string>& argv, const std::string& dir,
            std::string* err = nullptr) {
  Ran r;
  auto out = open_fd(dir + "/run.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  auto errf = open_fd(dir + "/run.err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!out || !errf) return r;
  SpawnOptions o;
  o.argv = argv;
  o.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  o.stdout_fd = out->get();
  o.stderr_fd = errf->get();
  auto child = ChildProcess::spawn(o);
  if (!child) return r;
  auto st = child->wait();
  r.code = st && !st->signaled ? st->code : -1;
  r.out = read_file(dir + "/run.out").value_or("");
  if (err != nullptr) *err = read_file(dir + "/run.err").value_or("");
  return r;
}

class AcmePebbleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("gc-acme-");
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
    ASSERT_TRUE(make_directories(dir_->file("pebble"), 0700));
  }

  // Starts pebble whose VA connects to `http_port` for HTTP-01.
  void start_pebble(int http_port, int nonce_reject = 0) {
    PebbleOptions po;
    po.dir = dir_->file("pebble");
    po.http_port = http_port;
    po.nonce_reject_percent = nonce_reject;
    auto p = Pebble::start(po);
    if (!p && p.error().code == Errc::kNotFound) GTEST_SKIP() << p.error().message;
    ASSERT_TRUE(p) << p.error().message;
    pebble_ = std::move(*p);
  }

  CertOptions options(const std::string& domain, int standalone_port) const {
    CertOptions o;
    o.domains = {domain, "www." + domain};
    o.email = "ops@example.org";
    o.directory = pebble_ ? pebble_->directory_url() : "";
    o.ca_bundle = pebble_ ? pebble_->ca_bundle() : "";
    o.challenge = "standalone";
    o.standalone_listen = "127.0.0.1:" + std::to_string(standalone_port);
    o.cert_dir = dir_->file("certs/" + domain);
    o.accounts_dir = dir_->file("accounts");
    o.poll_timeout = std::chrono::seconds(60);
    o.poll_interval = std::chrono::milliseconds(100);
    return o;
  }

  // Fails the test unless `fullchain` chains to pebble's root for `domain`.
  void expect_verifies(const std::string& fullchain, const std::string& domain) {
    auto root = pebble_->root_pem();
    ASSERT_TRUE(root) << root.error().message;
    ASSERT_TRUE(write_file_atomic(dir_->file("root.pem"), *root));
    Ran r = run_cmd({"openssl", "verify", "-CAfile", dir_->file("root.pem"), "-untrusted",
                     fullchain, "-verify_hostname", domain, fullchain},
                    dir_->path());
    EXPECT_EQ(r.code, 0) << r.out;
  }

  std::optional<TempDir> dir_;
  std::unique_ptr<Pebble> pebble_;
};

TEST_F(AcmePebbleTest, IssuesViaStandaloneThenRenewsKeepingThePreviousPair) {
  int port = testing::free_loopback_port();
  start_pebble(port);
  if (!pebble_) return;
  CertOptions o = options("standalone.example.org", port);
  CertOutcome out = run_certificate(o, CertMode::kIssue, false, now());
  ASSERT_EQ(out.kind, CertOutcome::Kind::kIssued) << out.error << "\n" << pebble_->log();
  EXPECT_FALSE(out.rate_limited);
  CertPaths paths{o.cert_dir};
  struct stat st {};
  ASSERT_EQ(::stat(paths.privkey().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(paths.fullchain().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(::stat(account_key_path(o.accounts_dir, o.directory).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto info = load_cert_info(paths.fullchain());
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->dns_names.size(), 2u);
  EXPECT_EQ(info->not_after, out.not_after);
  EXPECT_GT(out.renew_at, now());
  expect_verifies(paths.fullchain(), "www.standalone.example.org");
  auto rec = load_renewal_record(paths);
  ASSERT_TRUE(rec && *rec);
  EXPECT_EQ((*rec)->result, "issued");
  // The responder's port is closed once issuance is over.
  EXPECT_FALSE(testing::accepts_connections(port));

  // A valid certificate exists: issue does nothing, renew is not due.
  EXPECT_EQ(run_certificate(o, CertMode::kIssue, false, now()).kind, CertOutcome::Kind::kNotDue);
  EXPECT_EQ(run_certificate(o, CertMode::kRenew, false, now()).kind, CertOutcome::Kind::kNotDue);
  std::string first = read_file(paths.fullchain()).value_or("");
  CertOutcome renewed = run_certificate(o, CertMode::kRenew, true, now());
  ASSERT_EQ(renewed.kind, CertOutcome::Kind::kRenewed) << renewed.error;
  EXPECT_EQ(read_file(paths.previous_fullchain()).value_or(""), first);
  EXPECT_NE(read_file(paths.fullchain()).value_or(""), first);
  // The account is reused: one key file, one account.
  EXPECT_EQ(load_cert_info(paths.fullchain())->dns_names.size(), 2u);
}

TEST_F(AcmePebbleTest, IssuesViaWebrootThroughNginxAndNginxServesTheNewCertificate) {
  const std::string domain = "web.example.org";
  std::string webroot = dir_->file("webroot");
  std::string cert_dir = dir_->file("certs/" + domain);
  ASSERT_TRUE(make_directories(webroot, 0755));
  ASSERT_TRUE(make_directories(cert_dir, 0700));
  // A self-signed placeholder, as `apply` installs before the first issuance.
  Ran ph = run_cmd({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=placeholder",
                    "-keyout", cert_dir + "/privkey.pem", "-out", cert_dir + "/fullchain.pem"},
                   dir_->path());
  ASSERT_EQ(ph.code, 0) << ph.out;
  std::string nginx_dir = dir_->file("nginx");
  ASSERT_TRUE(make_directories(nginx_dir, 0755));
  std::string body =
      "server {\n  listen 127.0.0.1:@PORT0@;\n  location /.well-known/acme-challenge/ "
      "{ root " +
      webroot + "; }\n}\nserver {\n  listen 127.0.0.1:@PORT1@ ssl;\n" + "  ssl_certificate " +
      cert_dir + "/fullchain.pem;\n  ssl_certificate_key " + cert_dir +
      "/privkey.pem;\n  return 200 ok;\n}\n";
  auto nginx = NginxServer::start(nginx_dir, body, 2);
  if (!nginx && nginx.error().code == Errc::kNotFound) GTEST_SKIP() << nginx.error().message;
  ASSERT_TRUE(nginx) << nginx.error().message;
  start_pebble((*nginx)->port(0));
  if (!pebble_) return;

  CertOptions o = options(domain, 0);
  o.domains = {domain};
  o.challenge = "webroot";
  o.webroot = webroot;
  o.validate_command = {"/usr/sbin/nginx",
                        "-t",
                        "-q",
                        "-p",
                        nginx_dir + "/",
                        "-c",
                        nginx_dir + "/nginx.conf",
                        "-e",
                        nginx_dir + "/error.log"};
  o.reload_command = {"/bin/kill", "-HUP", std::to_string((*nginx)->pid())};
  // The placeholder is for other names: issue replaces it.
  CertOutcome out = run_certificate(o, CertMode::kIssue, false, now());
  ASSERT_EQ(out.kind, CertOutcome::Kind::kIssued) << out.error << "\n" << pebble_->log();
  // The challenge files are gone, and the placeholder is kept as the previous pair.
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_empty(webroot + "/.well-known/acme-challenge", ec));
  EXPECT_NE(read_file(cert_dir + "/previous/fullchain.pem").value_or("").find("BEGIN"),
            std::string::npos);
  // Nginx (reloaded by the reload command) serves the Pebble certificate.
  std::string served;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    served = run_cmd({"openssl", "s_client", "-connect",
                      "127.0.0.1:" + std::to_string((*nginx)->port(1)), "-servername", domain},
                     dir_->path())
                 .out;
    if (served.find("Pebble") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // Polling, with a deadline.
  }
  EXPECT_NE(served.find("Pebble"), std::string::npos) << served;
  expect_verifies(cert_dir + "/fullchain.pem", domain);
}

TEST_F(AcmePebbleTest, RetriesRejectedNonces) {
  int port = testing::free_loopback_port();
  // 30 %: ten rejections in a row (our retry limit) is a 6e-6 chance per request, so this test
  // does not flake; at 50 % it failed about once in a hundred runs.
  start_pebble(port, /*nonce_reject=*/30);
  if (!pebble_) return;
  // A dozen signed requests all accepted is still a 0.5 % chance: issue again, for another name,
  // until Pebble has rejected one, so the retries are exercised, not skipped.
  int retries = 0;
  for (int i = 0; i < 3 && retries == 0; ++i) {
    CertOptions o = options("nonce" + std::to_string(i) + ".example.org", port);
    CertOutcome out = run_certificate(o, CertMode::kIssue, false, now());
    ASSERT_EQ(out.kind, CertOutcome::Kind::kIssued) << out.error;
    retries = out.bad_nonce_retries;
  }
  EXPECT_GT(retries, 0);
}

// Writes a self-signed pair into `o.cert_dir` and returns its fullchain text.
std::string install_placeholder(const CertOptions& o, const std::string& tmp) {
  EXPECT_TRUE(make_directories(o.cert_dir, 0700));
  Ran r =
      run_cmd({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
               "-nodes", "-days", "2", "-subj", "/CN=" + o.domains.front(), "-addext",
               "subjectAltName=DNS:" + o.domains.front() + ",DNS:" + o.domains.back(), "-keyout",
               o.cert_dir + "/privkey.pem", "-out", o.cert_dir + "/fullchain.pem"},
              tmp);
  EXPECT_EQ(r.code, 0) << r.out;
  return read_file(o.cert_dir + "/fullchain.pem").value_or("");
}

TEST_F(AcmePebbleTest, UnreachableChallengeFailsAndKeepsTheOldFiles) {
  // Pebble's VA connects to a port nobody listens on; the responder listens elsewhere.
  start_pebble(testing::free_loopback_port());
  if (!pebble_) return;
  CertOptions o = options("unreachable.example.org", testing::free_loopback_port());
  std::string old = install_placeholder(o, dir_->path());
  std::string old_key = read_file(o.cert_dir + "/privkey.pem").value_or("");
  CertOutcome out = run_certificate(o, CertMode::kRenew, true, now());
  EXPECT_EQ(out.kind, CertOutcome::Kind::kFailed);
  EXPECT_FALSE(out.rate_limited);
  EXPECT_NE(out.error.find("unreachable.example.org"), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("urn:ietf:params:acme:error:connection"), std::string::npos)
      << out.error;
  EXPECT_EQ(read_file(o.cert_dir + "/fullchain.pem").value_or(""), old);
  EXPECT_EQ(read_file(o.cert_dir + "/privkey.pem").value_or(""), old_key);
  auto rec = load_renewal_record(CertPaths{o.cert_dir});
  ASSERT_TRUE(rec && *rec);
  EXPECT_EQ((*rec)->result, "failed");
  EXPECT_EQ((*rec)->error, out.error);
}

TEST_F(AcmePebbleTest, ServerDownFailsClearlyAndKeepsTheOldFiles) {
  CertOptions o = options("down.example.org", testing::free_loopback_port());
  o.directory = "https://127.0.0.1:" + std::to_string(testing::free_loopback_port()) + "/dir";
  std::string old = install_placeholder(o, dir_->path());
  CertOutcome out = run_certificate(o, CertMode::kRenew, true, now());
  EXPECT_EQ(out.kind, CertOutcome::Kind::kFailed);
  EXPECT_NE(out.error.find("ACME server " + o.directory), std::string::npos) << out.error;
  EXPECT_EQ(read_file(o.cert_dir + "/fullchain.pem").value_or(""), old);
  // The self-signed placeholder must be replaced, so even a plain renew tries, and fails.
  CertOutcome renew = run_certificate(o, CertMode::kRenew, false, now());
  EXPECT_EQ(renew.kind, CertOutcome::Kind::kFailed);
  EXPECT_EQ(renew.reason, "a self-signed placeholder");
}

// A tiny ACME server that serves a directory, nonces and an account, then answers every new
// order with 429 rateLimited. Pebble has no rate limits, so this is the closest real thing: the
// real client, over real HTTP, against the answer Let's Encrypt sends.
class RateLimitingServer {
 public:
  RateLimitingServer() {
    listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listener_.get(), 8) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      return;
    }
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RateLimitingServer() {
    stop_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/dir"; }
  int orders() const { return orders_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) continue;
      std::string req;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (need == std::string::npos || req.size() < need) {
        ssize_t n = ::read(c.get(), buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
        std::size_t end = req.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          std::size_t cl = req.find("Content-Length: ");
          need = end + 4 + (cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16)));
        }
      }
      std::string base = "http://127.0.0.1:" + std::to_string(port_);
      std::string status = "200 OK", extra, body;
      if (req.rfind("GET /dir", 0) == 0) {
        body = R"({"newNonce": ")" + base + R"(/nonce", "newAccount": ")" + base +
               R"(/acct", "newOrder": ")" + base + R"(/order"})";
      } else if (req.rfind("POST /acct", 0) == 0) {
        status = "201 Created";
        extra = "Location: " + base + "/acct/1\r\n";
        body = R"({"status": "valid"})";
      } else if (req.rfind("POST /order", 0) == 0) {
        ++orders_;
        status = "429 Too Many Requests";
        extra = "Retry-After: 3600\r\nContent-Type: application/problem+json\r\n";
        body = R"({"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many )"
               R"(certificates (5) already issued for this exact set of domains", "status": 429})";
      }
      std::string resp = "HTTP/1.1 " + status + "\r\nReplay-Nonce: n" + std::to_string(nonce_++) +
                         "\r\n" + extra + "Content-Length: " + std::to_string(body.size()) +
                         "\r\nConnection: close\r\n\r\n" + body;
      (void)write_all(c.get(), resp);
    }
  }
  UniqueFd listener_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> orders_{0};
  int nonce_ = 0;
  std::thread thread_;
};

TEST_F(AcmePebbleTest, RateLimitedStopsAtOnceAndIsFlagged) {
  RateLimitingServer server;
  CertOptions o = options("limited.example.org", testing::free_loopback_port());
  o.directory = server.url();
  o.ca_bundle = "";
  std::string old = install_placeholder(o, dir_->path());
  CertOutcome out = run_certificate(o, CertMode::kRenew, true, now());
  EXPECT_EQ(out.kind, CertOutcome::Kind::kFailed);
  EXPECT_TRUE(out.rate_limited);
  EXPECT_NE(out.error.find("rate limited"), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("limited.example.org"), std::string::npos) << out.error;
  EXPECT_EQ(server.orders(), 1);  // No retry of a rate-limited request.
  EXPECT_EQ(read_file(o.cert_dir + "/fullchain.pem").value_or(""), old);
  auto rec = load_renewal_record(CertPaths{o.cert_dir});
  ASSERT_TRUE(rec && *rec);
  EXPECT_TRUE((*rec)->rate_limited);
}

TEST_F(AcmePebbleTest, RefusedValidationRestoresThePreviousFilesAndSkipsReload) {
  int port = testing::free_loopback_port();
  start_pebble(port);
  if (!pebble_) return;
  CertOptions o = options("validate.example.org", port);
  ASSERT_EQ(run_certificate(o, CertMode::kIssue, false, now()).kind, CertOutcome::Kind::kIssued);
  std::string chain = read_file(o.cert_dir + "/fullchain.pem").value_or("");
  std::string key = read_file(o.cert_dir + "/privkey.pem").value_or("");
  o.validate_command = {"/bin/sh", "-c", "echo 'ssl_certificate: bad' >&2; exit 3"};
  o.reload_command = {"/bin/sh", "-c", "touch " + dir_->file("reloaded")};
  CertOutcome out = run_certificate(o, CertMode::kRenew, true, now());
  EXPECT_EQ(out.kind, CertOutcome::Kind::kFailed);
  EXPECT_NE(out.error.find("validate command"), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("ssl_certificate: bad"), std::string::npos) << out.error;
  EXPECT_EQ(read_file(o.cert_dir + "/fullchain.pem").value_or(""), chain);
  EXPECT_EQ(read_file(o.cert_dir + "/privkey.pem").value_or(""), key);
  EXPECT_NE(::access(dir_->file("reloaded").c_str(), F_OK), 0);
}

TEST_F(AcmePebbleTest, CliRenewJsonIssuesThenIsNotDue) {
  int port = testing::free_loopback_port();
  start_pebble(port);
  if (!pebble_) return;
  std::string config = dir_->file("groundctl.toml");
  std::string toml = "[server]\nname = \"acme\"\nstate_dir = \"" + dir_->file("state") +
                     "\"\nlog_dir = \"" + dir_->file("log") + "\"\nruntime_dir = \"" +
                     dir_->file("run") + "\"\n\n[tls]\ndomains = [\"cli.example.org\"]\n" +
                     "directory = \"" + pebble_->directory_url() + "\"\nca_bundle = \"" +
                     pebble_->ca_bundle() + "\"\nchallenge = \"standalone\"\n" +
                     "standalone_listen = \"127.0.0.1:" + std::to_string(port) + "\"\n";
  ASSERT_TRUE(write_file_atomic(config, toml));
  std::string err;
  Ran status = run_cmd({GC_GROUNDCTL_BIN, "-c", config, "cert", "status", "--json"}, dir_->path());
  EXPECT_EQ(status.code, 1) << status.out;  // No certificate yet.
  Ran r = run_cmd({GC_GROUNDCTL_BIN, "-c", config, "cert", "renew", "--json"}, dir_->path(), &err);
  ASSERT_EQ(r.code, 0) << r.out << err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j.size(), 6u) << r.out;
  EXPECT_EQ(j["name"], "cli.example.org");
  EXPECT_EQ(j["outcome"], "issued");
  EXPECT_EQ(j["error"], "");
  EXPECT_EQ(j["rate_limited"], false);
  EXPECT_GT(j["not_after"].get<std::int64_t>(), now().time_since_epoch().count());
  EXPECT_GT(j["renew_at"].get<std::int64_t>(), now().time_since_epoch().count());
  EXPECT_LT(j["renew_at"].get<std::int64_t>(), j["not_after"].get<std::int64_t>());
  // The default cert_dir is {state_dir}/tls/{domain}.
  EXPECT_EQ(::access(dir_->file("state/tls/cli.example.org/fullchain.pem").c_str(), R_OK), 0);

  Ran again = run_cmd({GC_GROUNDCTL_BIN, "-c", config, "cert", "renew", "--json"}, dir_->path());
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(nlohmann::json::parse(again.out, nullptr, false)["outcome"], "not_due") << again.out;
  status = run_cmd({GC_GROUNDCTL_BIN, "-c", config, "cert", "status", "--json"}, dir_->path());
  EXPECT_EQ(status.code, 0) << status.out;
  auto s = nlohmann::json::parse(status.out, nullptr, false);
  EXPECT_EQ(s["sans"], nlohmann::json::array({"cli.example.org"})) << status.out;
  EXPECT_EQ(s["last_attempt"]["result"], "not_due") << status.out;

  // Without [tls]: exit 2 and a hint.
  ASSERT_TRUE(write_file_atomic(config, toml.substr(0, toml.find("[tls]"))));
  Ran none = run_cmd({GC_GROUNDCTL_BIN, "-c", config, "cert", "status"}, dir_->path(), &err);
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(err.find("[tls]"), std::string::npos) << err;
}

}  // namespace
}  // namespace gc::tls

// SPDX-License-Identifier: MIT
// The daemon renews a certificate by itself: Pebble issues certificates that live 45 seconds, the
// daemon's renewal check runs every 2 seconds, and Nginx, reloaded by `cert renew`, serves the new
// certificate while a client keeps making fresh HTTPS connections. No request may fail, the served
// certificate must change, and status and metrics must say so.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"
#include "storage/libcurl.h"
#include "support/nginx_server.h"
#include "support/pebble.h"

namespace gc::e2e {
namespace {

using testing::NginxServer;
using testing::Pebble;
using testing::PebbleOptions;

constexpr const char* kDomain = "renew.example.org";

// Mozilla's "intermediate" TLS settings, as the provisioned site has them, and HSTS: with a
// CA-issued ECDSA certificate this rates A+.
constexpr const char* kIntermediateTls =
    "  ssl_protocols TLSv1.2 TLSv1.3;\n"
    "  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-CHACHA20-POLY1305;\n"
    "  ssl_prefer_server_ciphers off;\n"
    "  add_header Strict-Transport-Security \"max-age=63072000\" always;\n";

// HTTPS GETs on new connections (no reuse, no TLS session resumption) until stop(); each records
// the serial number of the certificate it was served.
class HttpsLoad {
 public:
  HttpsLoad(int port, std::string ca_file) : port_(port), ca_file_(std::move(ca_file)) {
    thread_ = std::thread([this] { run(); });
  }
  ~HttpsLoad() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long ok() const { return ok_; }
  long failed() const { return failed_; }
  std::string first_failure() {
    std::lock_guard<std::mutex> l(mu_);
    return first_failure_;
  }
  std::set<std::string> serials() {
    std::lock_guard<std::mutex> l(mu_);
    return serials_;
  }

 private:
  void run() {
    const auto& c = storage::curl_api();
    std::string url = "https://" + std::string(kDomain) + ":" + std::to_string(port_) + "/";
    std::string resolve = std::string(kDomain) + ":" + std::to_string(port_) + ":127.0.0.1";
    while (!stop_) {
      storage::CurlPtr h(c.easy_init());
      storage::SlistPtr res(c.slist_append(nullptr, resolve.c_str()));
      std::string body;
      c.easy_setopt(h.get(), CURLOPT_URL, url.c_str());
      c.easy_setopt(h.get(), CURLOPT_RESOLVE, res.get());
      c.easy_setopt(h.get(), CURLOPT_CAINFO, ca_file_.c_str());
      c.easy_setopt(h.get(), CURLOPT_CERTINFO, 1L);
      c.easy_setopt(h.get(), CURLOPT_FRESH_CONNECT, 1L);
      c.easy_setopt(h.get(), CURLOPT_SSL_SESSIONID_CACHE, 0L);
      c.easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, 5000L);
      c.easy_setopt(
          h.get(), CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* u) {
            static_cast<std::string*>(u)->append(p, s * n);
            return s * n;
          });
      c.easy_setopt(h.get(), CURLOPT_WRITEDATA, &body);
      CURLcode rc = c.easy_perform(h.get());
      long status = 0;
      c.easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
      if (rc != CURLE_OK || status != 200) {
        // Until the first success Nginx may still serve the placeholder: the status said
        // "issued" when `cert renew` sent SIGHUP, and the master reloads a moment later.
        if (ok_ == 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        ++failed_;
        std::lock_guard<std::mutex> l(mu_);
        if (first_failure_.empty()) {
          first_failure_ = std::string(c.easy_strerror(rc)) + " status " + std::to_string(status);
        }
        continue;
      }
      ++ok_;
      curl_certinfo* info = nullptr;
      c.easy_getinfo(h.get(), CURLINFO_CERTINFO, &info);
      if (info && info->num_of_certs > 0) {
        for (curl_slist* s = info->certinfo[0]; s; s = s->next) {
          std::string line = s->data;
          if (line.rfind("Serial Number:", 0) == 0) {
            std::lock_guard<std::mutex> l(mu_);
            serials_.insert(line.substr(14));
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // About 20 handshakes a second.
    }
  }

  int port_;
  std::string ca_file_;
  std::atomic<bool> stop_{false};
  std::atomic<long> ok_{0}, failed_{0};
  std::mutex mu_;
  std::string first_failure_;      // Guarded by mu_.
  std::set<std::string> serials_;  // Guarded by mu_.
  std::thread thread_;
};

TEST(CertRenewalE2e, TheDaemonRenewsByItselfAndNginxServesTheNewCertificateWithoutAFailedRequest) {
  if (::access("/usr/bin/pebble", X_OK) != 0) GTEST_SKIP() << "pebble is not installed";
  ASSERT_TRUE(storage::load_libcurl());
  auto dir = TempDir::create("cert-renewal-");
  ASSERT_TRUE(dir) << dir.error().message;
  std::string webroot = dir->file("webroot");
  std::string cert_dir = dir->file("certs");
  std::string nginx_dir = dir->file("nginx");
  for (const auto& d : {webroot, cert_dir, nginx_dir, dir->file("pebble")}) {
    ASSERT_TRUE(make_directories(d, 0755));
  }
  // The placeholder `apply` installs before the first certificate, so Nginx can start.
  CliResult ph =
      run_capture({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=placeholder",
                   "-keyout", cert_dir + "/privkey.pem", "-out", cert_dir + "/fullchain.pem"},
                  dir->path());
  ASSERT_EQ(ph.exit_code, 0) << ph.err;
  std::string body =
      "server {\n  listen 127.0.0.1:@PORT0@;\n"
      "  location /.well-known/acme-challenge/ { root " +
      webroot + "; }\n}\nserver {\n  listen 127.0.0.1:@PORT1@ ssl;\n" + "  ssl_certificate " +
      cert_dir + "/fullchain.pem;\n  ssl_certificate_key " + cert_dir + "/privkey.pem;\n" +
      kIntermediateTls + "  return 200 ok;\n}\n";
  auto nginx = NginxServer::start(nginx_dir, body, 2);
  ASSERT_TRUE(nginx) << nginx.error().message;
  PebbleOptions po;
  po.dir = dir->file("pebble");
  po.http_port = (*nginx)->port(0);
  po.validity = std::chrono::seconds(45);
  auto pebble = Pebble::start(po);
  ASSERT_TRUE(pebble) << pebble.error().message;
  auto root = (*pebble)->root_pem();
  ASSERT_TRUE(root) << root.error().message;
  ASSERT_TRUE(write_file_atomic(dir->file("pebble-root.pem"), *root));

  auto q = [](const std::string& s) { return "\"" + s + "\""; };
  std::string nginx_argv = q("/usr/sbin/nginx") + ", \"-p\", " + q(nginx_dir + "/") + ", \"-c\", " +
                           q(nginx_dir + "/nginx.conf") + ", \"-e\", " +
                           q(nginx_dir + "/error.log");
  std::string tls = std::string("[tls]\ndomains = [\"") + kDomain + "\"]\n" +
                    "directory = " + q((*pebble)->directory_url()) + "\n" +
                    "ca_bundle = " + q((*pebble)->ca_bundle()) + "\n" + "webroot = " + q(webroot) +
                    "\n" + "cert_dir = " + q(cert_dir) + "\n" + "validate_command = [" +
                    nginx_argv + ", \"-t\", \"-q\"]\n" +
                    "reload_command = [\"/bin/kill\", \"-HUP\", " +
                    q(std::to_string((*nginx)->pid())) + "]\n" + "check_interval = \"2s\"\n";
  auto daemon = Daemon::start(tls);
  ASSERT_TRUE(daemon);

  // The first run replaces the placeholder (a certificate for no domain of ours: `issued`).
  ASSERT_TRUE(eventually(
      [&] {
        json s = daemon->cli({"--json", "status"}).parsed();
        if (!s.contains("certificate") || !s["certificate"].is_object()) return false;
        std::string outcome = s["certificate"].value("outcome", "");
        return outcome == "issued" || outcome == "renewed";
      },
      std::chrono::seconds(60)))
      << daemon->daemon_log() << (*pebble)->log();

  HttpsLoad load((*nginx)->port(1), dir->file("pebble-root.pem"));
  // Renewal is due with a third of 45 s left: 30 s after issuance, at most a second earlier for
  // jitter. Wait for the load to see a second certificate.
  ASSERT_TRUE(eventually([&] { return load.serials().size() >= 2; }, std::chrono::seconds(90)))
      << "served serials: " << load.serials().size() << "\n"
      << daemon->daemon_log();
  // A few more handshakes on the new certificate, then stop.
  long ok_at_switch = load.ok();
  ASSERT_TRUE(eventually([&] { return load.ok() >= ok_at_switch + 10; }, std::chrono::seconds(15)));
  load.stop();
  EXPECT_EQ(load.failed(), 0) << load.first_failure();
  EXPECT_GT(load.ok(), 20);

  json s = daemon->cli({"--json", "status"}).parsed();
  EXPECT_EQ(s["certificate"]["name"], kDomain) << s.dump();
  EXPECT_NE(s["certificate"]["outcome"], "failed") << s.dump();
  CliResult m = daemon->cli({"metrics", "groundctl_cert_renewal"});
  EXPECT_NE(m.out.find("groundctl_cert_renewal_success{name=\"renew.example.org\"} 1"),
            std::string::npos)
      << m.out << m.err;
  // The Pebble-issued ECDSA certificate behind Mozilla's intermediate settings and HSTS rates A+
  // when Pebble's root is trusted, and T (untrusted) with the system store alone.
  std::string target = "127.0.0.1:" + std::to_string((*nginx)->port(1));
  CliResult trusted = run_capture({groundctl_bin(), "--json", "tls", "grade", target, "--sni",
                                   kDomain, "--ca", dir->file("pebble-root.pem")},
                                  dir->path());
  EXPECT_EQ(trusted.exit_code, 0) << trusted.out << trusted.err;
  EXPECT_EQ(trusted.parsed()["grade"], "A+") << trusted.out;
  CliResult untrusted = run_capture(
      {groundctl_bin(), "--json", "tls", "grade", target, "--sni", kDomain}, dir->path());
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.out << untrusted.err;
  EXPECT_EQ(untrusted.parsed()["grade"], "T") << untrusted.out;

  // The key stays private through every renewal.
  struct stat st {};
  ASSERT_EQ(::stat((cert_dir + "/privkey.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace gc::e2e

// SPDX-License-Identifier: MIT
#include "support/pebble.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "support/nginx_server.h"

namespace gc::testing {
namespace {

const std::vector<std::string> kBaseEnv = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};

// Runs argv to completion with stdout and stderr in `log`. Errors: spawn errors, kUnavailable
// for a non-zero exit (with the log).
Status run(const std::vector<std::string>& argv, const std::string& log) {
  GC_ASSIGN_OR_RETURN(UniqueFd out, open_fd(log, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  SpawnOptions o;
  o.argv = argv;
  o.env = kBaseEnv;
  o.stdout_fd = out.get();
  o.stderr_fd = out.get();
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  GC_ASSIGN_OR_RETURN(ExitStatus st, child.wait());
  if (!st.success()) {
    return make_error(Errc::kUnavailable,
                      argv.front() + ": " + st.to_string() + ": " + read_file(log).value_or(""));
  }
  return ok();
}

Result<ChildProcess> spawn_logged(const std::vector<std::string>& argv,
                                  std::vector<std::string> env, const std::string& log) {
  GC_ASSIGN_OR_RETURN(UniqueFd out, open_fd(log, O_WRONLY | O_CREAT | O_APPEND, 0644));
  SpawnOptions o;
  o.argv = argv;
  o.env = std::move(env);
  o.stdout_fd = out.get();
  o.stderr_fd = out.get();
  return ChildProcess::spawn(o);
}

bool wait_for_port(int port, ChildProcess& child) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepts_connections(port)) return true;
    auto exited = child.try_wait();
    if (!exited || exited->has_value()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Pebble>> Pebble::start(const PebbleOptions& options) {
  if (::access("/usr/bin/pebble", X_OK) != 0 || ::access("/usr/bin/pebble-challtestsrv", X_OK)) {
    return make_error(Errc::kNotFound, "pebble is not installed (apt-get install pebble)");
  }
  const std::string& dir = options.dir;
  if (::access((dir + "/pebble-https.pem").c_str(), F_OK) != 0) {
    GC_TRY(run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", dir + "/pebble-https.key",
                "-out", dir + "/pebble-https.pem"},
               dir + "/openssl.log"));
  }
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<Pebble> p(new Pebble());
    p->dir_ = dir;
    p->port_ = free_loopback_port();
    p->management_port_ = free_loopback_port();
    int dns_port = free_loopback_port();
    int dns_management = free_loopback_port();
    int tls_port = free_loopback_port();
    std::string cfg = R"({"pebble": {"listenAddress": "127.0.0.1:)" + std::to_string(p->port_) +
                      R"(", "managementListenAddress": "127.0.0.1:)" +
                      std::to_string(p->management_port_) + R"(", "certificate": ")" + dir +
                      R"(/pebble-https.pem", "privateKey": ")" + dir +
                      R"(/pebble-https.key", "httpPort": )" + std::to_string(options.http_port) +
                      R"(, "tlsPort": )" + std::to_string(tls_port) +
                      R"(, "ocspResponderURL": "", "externalAccountBindingRequired": false)";
    if (options.validity.count() > 0) {
      cfg += R"(, "certificateValidityPeriod": )" + std::to_string(options.validity.count());
    }
    cfg += "}}\n";
    GC_TRY(write_file_atomic(dir + "/pebble-config.json", cfg));
    // DNS (UDP and TCP) for every name: 127.0.0.1, no AAAA, no challenge servers of its own.
    auto dns = spawn_logged(
        {"pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-http01", "",
         "-https01", "", "-tlsalpn01", "", "-dns01", "127.0.0.1:" + std::to_string(dns_port),
         "-management", "127.0.0.1:" + std::to_string(dns_management)},
        kBaseEnv, dir + "/challtestsrv.log");
    if (!dns) return dns.error();
    p->dns_.emplace(std::move(*dns));
    if (!wait_for_port(dns_management, *p->dns_)) {
      last_error =
          "pebble-challtestsrv did not start: " + read_file(dir + "/challtestsrv.log").value_or("");
      continue;
    }
    std::vector<std::string> env = kBaseEnv;
    env.push_back("PEBBLE_VA_NOSLEEP=1");
    env.push_back("PEBBLE_WFE_NONCEREJECT=" + std::to_string(options.nonce_reject_percent));
    env.push_back("PEBBLE_AUTHZREUSE=" + std::to_string(options.authz_reuse_percent));
    auto peb = spawn_logged({"pebble", "-config", dir + "/pebble-config.json", "-dnsserver",
                             "127.0.0.1:" + std::to_string(dns_port)},
                            env, dir + "/pebble.log");
    if (!peb) return peb.error();
    p->pebble_.emplace(std::move(*peb));
    if (!wait_for_port(p->port_, *p->pebble_) || !wait_for_port(p->management_port_, *p->pebble_)) {
      last_error = "pebble did not start: " + p->log();
      continue;
    }
    return p;
  }
  return make_error(Errc::kUnavailable, last_error);
}

Pebble::~Pebble() {
  for (auto* c : {&pebble_, &dns_}) {
    if (*c && !(*c)->reaped()) (void)(*c)->terminate(SIGTERM, std::chrono::seconds(5));
  }
}

std::string Pebble::directory_url() const {
  return "https://127.0.0.1:" + std::to_string(port_) + "/dir";
}

std::string Pebble::log() const { return read_file(dir_ + "/pebble.log").value_or(""); }

Result<std::string> Pebble::management_get(const std::string& path) const {
  std::string out = dir_ + "/management-get.pem";
  GC_TRY(run({"curl", "-sS", "--fail", "--cacert", ca_bundle(), "-o", out,
              "https://127.0.0.1:" + std::to_string(management_port_) + path},
             dir_ + "/curl.log"));
  return read_file(out);
}

Result<std::string> Pebble::root_pem() const { return management_get("/roots/0"); }
Result<std::string> Pebble::intermediate_pem() const { return management_get("/intermediates/0"); }

}  // namespace gc::testing

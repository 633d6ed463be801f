// SPDX-License-Identifier: MIT
// tests/support/nginx_server.h: a real Nginx (Debian's /usr/sbin/nginx) for one test, running in
// the foreground from a private directory with a config the test writes, stopped by PID.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

namespace gc::testing {

// A loopback TCP port nobody listens on right now (bound, read back, closed). Another process
// may take it before the caller binds it; start() below retries for that reason.
int free_loopback_port();

// True when something accepts TCP connections on 127.0.0.1:port.
bool accepts_connections(int port);

class NginxServer {
 public:
  // Writes DIR/nginx.conf holding `http { <temp paths> <http_body> }` and starts nginx with it
  // in DIR (an existing, test-owned directory). `http_body` holds server blocks; every "@PORTn@"
  // (n = 0, 1, ...) in it is replaced by a free loopback port, chosen here, and nginx is ready
  // once 127.0.0.1 accepts connections on every one of them. `ports` is the number of such
  // placeholders. When a chosen port was taken meanwhile, it retries with new ports. Errors:
  // nginx missing (kNotFound), the config refused or nginx exiting (kUnavailable, with its error
  // log). As root, workers run as root so they can read the test's files.
  static Result<std::unique_ptr<NginxServer>> start(const std::string& dir,
                                                    const std::string& http_body, int ports = 1);
  ~NginxServer();  // SIGQUIT (graceful), then SIGKILL after 5 s.

  int port(int n = 0) const { return ports_.at(static_cast<std::size_t>(n)); }
  const std::string& dir() const { return dir_; }
  std::string error_log() const { return dir_ + "/error.log"; }
  pid_t pid() const { return child_->pid(); }

  // Rewrites nginx.conf with a new `http_body` (the same "@PORTn@" ports) and sends SIGHUP, as
  // `nginx -s reload` does. Returns once the master has started new workers or failed; the old
  // config keeps serving when the new one is refused (read error_log()).
  Status reload(const std::string& http_body);

 private:
  NginxServer(std::string dir, std::vector<int> ports)
      : dir_(std::move(dir)), ports_(std::move(ports)) {}
  std::string render(const std::string& http_body) const;
  std::string dir_;
  std::vector<int> ports_;
  std::optional<ChildProcess> child_;
};

}  // namespace gc::testing

// SPDX-License-Identifier: MIT
#include "support/nginx_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "base/atomic_file.h"
#include "base/unique_fd.h"

namespace gc::testing {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

int free_loopback_port() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return -1;
  socklen_t len = sizeof sa;
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) return -1;
  return ntohs(sa.sin_port);
}

bool accepts_connections(int port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  return s && ::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

std::string NginxServer::render(const std::string& http_body) const {
  std::string body = http_body;
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    replace_all(body, "@PORT" + std::to_string(i) + "@", std::to_string(ports_[i]));
  }
  std::string conf = geteuid() == 0 ? "user root root;\n" : "";
  conf += "worker_processes 1;\nevents { worker_connections 128; }\nhttp {\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    conf += std::string("  ") + t + "_temp_path " + dir_ + "/" + t + ";\n";
  }
  conf += "  access_log " + dir_ + "/access.log;\n" + body + "\n}\n";
  return conf;
}

Result<std::unique_ptr<NginxServer>> NginxServer::start(const std::string& dir,
                                                        const std::string& http_body, int ports) {
  if (::access("/usr/sbin/nginx", X_OK) != 0) {
    return Error{Errc::kNotFound, "/usr/sbin/nginx is not installed (apt-get install nginx)"};
  }
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<int> chosen;
    for (int i = 0; i < ports; ++i) chosen.push_back(free_loopback_port());
    std::unique_ptr<NginxServer> server(new NginxServer(dir, chosen));
    GC_TRY(write_file_atomic(dir + "/nginx.conf", server->render(http_body)));
    (void)::unlink(server->error_log().c_str());
    GC_ASSIGN_OR_RETURN(UniqueFd out,
                        open_fd(dir + "/stderr.txt", O_WRONLY | O_CREAT | O_APPEND, 0644));
    SpawnOptions o;
    // -e: the compiled-in error log (/var/log/nginx) is opened before the config is read.
    o.argv = {"/usr/sbin/nginx",
              "-p",
              dir + "/",
              "-c",
              dir + "/nginx.conf",
              "-e",
              server->error_log(),
              "-g",
              "daemon off; pid " + dir + "/nginx.pid;"};
    o.env = {"PATH=/usr/sbin:/usr/bin:/bin"};
    o.stdout_fd = out.get();
    o.stderr_fd = out.get();
    GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
    server->child_.emplace(std::move(child));
    bool exited = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto st = server->child_->try_wait();
      if (!st || *st) {
        exited = true;
        break;
      }
      bool all = true;
      for (int p : chosen) all = all && accepts_connections(p);
      if (all) return server;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Polling, with a deadline.
    }
    auto log = read_file(server->error_log());
    last_error = log ? *log : "";
    if (!exited) last_error = "not listening after 10 s: " + last_error;
    if (last_error.find("Address already in use") == std::string::npos) break;
  }
  return Error{Errc::kUnavailable, "nginx did not start: " + last_error};
}

Status NginxServer::reload(const std::string& http_body) {
  GC_TRY(write_file_atomic(dir_ + "/nginx.conf", render(http_body)));
  GC_TRY(child_->signal(SIGHUP));
  // The master re-reads the config and logs either new workers or the refusal; give it a moment
  // to do so before the caller looks (a reload takes milliseconds).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return ok();
}

NginxServer::~NginxServer() {
  if (child_ && !child_->reaped()) (void)child_->terminate(SIGQUIT, std::chrono::seconds(5));
}

}  // namespace gc::testing

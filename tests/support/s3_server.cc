// SPDX-License-Identifier: MIT
#include "support/s3_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "base/unique_fd.h"

namespace gc::storage::testing {
namespace {

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string log_tail(const std::string& path) {
  auto text = read_file(path);
  if (!text) return "(no log)";
  return text->size() > 2000 ? text->substr(text->size() - 2000) : *text;
}

}  // namespace

Result<S3Server> S3Server::start(const std::vector<std::string>& buckets) {
  std::string fixture = GC_S3_FIXTURE_DIR;
  if (!exists(fixture + "/node_modules/s3rver")) {
    return make_error(Errc::kNotFound, fixture + "/node_modules/s3rver is missing: run " +
                                           "scripts/install-deps (npm ci in " + fixture + ")");
  }
  const char* path_env = std::getenv("PATH");
  std::string path_var = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  GC_ASSIGN_OR_RETURN(std::string node, find_executable("node", path_var));
  GC_ASSIGN_OR_RETURN(TempDir dir, TempDir::create("gc-s3-"));
  std::string port_file = dir.file("port");
  std::string log = dir.file("server.log");
  GC_ASSIGN_OR_RETURN(UniqueFd log_fd, open_fd(log, O_WRONLY | O_CREAT | O_TRUNC, 0600));

  SpawnOptions o;
  // s3rver's continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider.
  o.argv = {node,
            "--openssl-legacy-provider",
            fixture + "/server.js",
            "--directory",
            dir.file("data"),
            "--port-file",
            port_file};
  for (const auto& b : buckets) {
    o.argv.push_back("--bucket");
    o.argv.push_back(b);
  }
  o.env = {"PATH=" + path_var, "HOME=" + dir.path()};
  o.stdout_fd = log_fd.get();
  o.stderr_fd = log_fd.get();
  // If the test binary dies (an ASan abort), the server goes with it.
  o.parent_death_signal = SIGKILL;
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    if (auto text = read_file(port_file); text && !text->empty()) {
      int port = std::atoi(text->c_str());
      if (port > 0) return S3Server(std::move(dir), std::move(child), port);
    }
    auto exited = child.try_wait();
    if (exited && *exited) {
      return make_error(Errc::kUnavailable,
                        "s3 fixture exited (" + (*exited)->to_string() + "): " + log_tail(log));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(Errc::kTimeout, "s3 fixture did not start within 30s: " + log_tail(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

S3Server::~S3Server() {
  // A moved-from server has no child left to stop.
  if (child_.pid() > 0 && !child_.reaped())
    static_cast<void>(child_.terminate(SIGTERM, std::chrono::seconds(5)));
}

std::string S3Server::object_file(const std::string& bucket, const std::string& key) const {
  // s3rver's FilesystemStore: <dir>/<bucket>/<key dirs>/<last segment>._S3rver_object
  return dir_.file("data") + "/" + bucket + "/" + key + "._S3rver_object";
}

std::string S3Server::metadata_file(const std::string& bucket, const std::string& key) const {
  return dir_.file("data") + "/" + bucket + "/" + key + "._S3rver_metadata.json";
}

Status S3Server::fail_next(int status, int count, const std::string& match) {
  // `match` is a plain word in the tests; no URL encoding needed.
  return control("status=" + std::to_string(status) + "&count=" + std::to_string(count) +
                 "&match=" + match);
}

Status S3Server::truncate_next_gets(int bytes, int count) {
  return control("truncate=" + std::to_string(bytes) + "&count=" + std::to_string(count));
}

Status S3Server::control(const std::string& query) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket", "", errno);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port_));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    return sys_error("connect", endpoint(), errno);
  }
  GC_TRY(write_all(fd.get(), "POST /__fault?" + query +
                                 " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\n\r\n"));
  std::string answer;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  if (answer.rfind("HTTP/1.1 200", 0) != 0) {
    return make_error(Errc::kIo, "s3 fixture control answered: " + answer.substr(0, 100));
  }
  return ok();
}

}  // namespace gc::storage::testing

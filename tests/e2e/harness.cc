// SPDX-License-Identifier: MIT
#include "e2e/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cerrno>
#include <cstdlib>

#include "base/atomic_file.h"
#include "base/unique_fd.h"

namespace gc::e2e {

std::string fixture_dir() { return GC_FIXTURE_DIR; }
std::string groundctl_bin() { return GC_GROUNDCTL_BIN; }

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

bool process_exists(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  // A zombie waiting for its parent counts as gone.
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto close = stat->rfind(')');
  return close == std::string::npos || stat->substr(close + 2, 1) != "Z";
}

json CliResult::parsed() const { return json::parse(out, nullptr, false); }

namespace {

// `with_http`: a kernel-chosen HTTP port, so daemons of parallel tests never compete for 9100
// (left out when the test writes its own [http]).
std::string server_section(const std::string& dir, const std::string& extra, bool with_http) {
  return "[server]\nname = \"e2e\"\nstate_dir = \"" + dir + "/state\"\nlog_dir = \"" + dir +
         "/log\"\nruntime_dir = \"" + dir + "/run\"\n" + extra + "\n\n" +
         (with_http ? "[http]\nlisten = \"127.0.0.1:0\"\n\n" : "");
}

}  // namespace

CliResult run_capture(const std::vector<std::string>& argv, const std::string& dir,
                      std::vector<std::string> env) {
  CliResult r;
  std::string out_path = dir + "/cli.out", err_path = dir + "/cli.err";
  auto out = open_fd(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  auto err = open_fd(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!out || !err) return r;
  SpawnOptions o;
  o.argv = argv;
  o.env = std::move(env);
  o.env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  o.stdout_fd = out->get();
  o.stderr_fd = err->get();
  o.new_session = false;
  auto child = ChildProcess::spawn(o);
  if (!child) return r;
  auto st = child->wait();
  r.exit_code = st->signaled ? 128 + st->signal : st->code;
  r.out = read_file(out_path).value_or("");
  r.err = read_file(err_path).value_or("");
  return r;
}

std::unique_ptr<Daemon> Daemon::start(const std::string& services_toml,
                                      const std::string& server_extra,
                                      std::vector<std::string> argv_prefix) {
  auto dir = TempDir::create("gc-e2e-");
  EXPECT_TRUE(dir);
  // The daemon's children may run as another user (user = "nobody" tests): let them in.
  ::chmod(dir->path().c_str(), 0755);
  std::unique_ptr<Daemon> d(new Daemon(std::move(*dir), server_extra));
  d->argv_prefix_ = std::move(argv_prefix);
  d->write_config(services_toml);
  d->spawn();
  return d;
}

void Daemon::spawn() {
  auto log = open_fd(dir_.file("daemon.log"), O_WRONLY | O_CREAT | O_APPEND, 0600);
  SpawnOptions o;
  o.argv = argv_prefix_;
  for (std::string a : {groundctl_bin(), std::string("daemon"), std::string("-c"), config_path()})
    o.argv.push_back(a);
  o.env = {"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"};
  // If the test process dies, its daemon (and so every child) goes too.
  o.parent_death_signal = SIGTERM;
  o.stdout_fd = log->get();
  o.stderr_fd = log->get();
  auto child = ChildProcess::spawn(o);
  EXPECT_TRUE(child) << child.error().message;
  if (!child) return;
  daemon_.emplace(std::move(*child));
  bool up = eventually([&] { return cli({"status", "--json"}).exit_code == 0; });
  EXPECT_TRUE(up) << "daemon did not come up:\n" << daemon_log();
}

void Daemon::restart() {
  (void)terminate();
  daemon_.reset();
  spawn();
}

Daemon::~Daemon() {
  if (daemon_ && !daemon_->reaped()) (void)daemon_->terminate(SIGTERM, std::chrono::seconds(20));
  if (::testing::Test::HasFailure())
    std::fprintf(stderr, "--- daemon log ---\n%s\n", daemon_log().c_str());
}

std::string Daemon::daemon_log() const { return read_file(dir_.file("daemon.log")).value_or(""); }

void Daemon::write_config(const std::string& services_toml) const {
  ASSERT_TRUE(write_file_atomic(config_path(),
                                server_section(dir_.path(), server_extra_,
                                               services_toml.find("[http]") == std::string::npos) +
                                    services_toml));
}

CliResult Daemon::cli(std::vector<std::string> args) const {
  std::vector<std::string> argv = {groundctl_bin(), "-c", config_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv, dir_.path());
}

json Daemon::ps() const { return cli({"ps", "--json"}).parsed(); }

json Daemon::describe(const std::string& service) const {
  return cli({"describe", service, "--json"}).parsed();
}

std::string Daemon::address(const std::string& service) const {
  json d = describe(service);
  if (!d.is_object() || d["listen_bound"].empty()) return "";
  return d["listen_bound"][0].get<std::string>();
}

std::vector<int> Daemon::pids(const std::string& service) const {
  std::vector<int> out;
  json ps_json = ps();
  if (!ps_json.is_array()) return out;
  for (const auto& i : ps_json) {
    if (i.value("service", "") == service) out.push_back(i.value("pid", 0));
  }
  return out;
}

ExitStatus Daemon::terminate() {
  (void)daemon_->signal(SIGTERM);
  auto st = daemon_->wait();
  return st ? *st : ExitStatus{true, 0, SIGKILL};
}

namespace {

Result<UniqueFd> connect_to(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  int port = std::atoi(host_port.c_str() + colon + 1);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    return sys_error("connect", host_port, errno);
  return fd;
}

Outcome outcome_for(int err) {
  if (err == ECONNREFUSED) return Outcome::kRefused;
  if (err == ECONNRESET || err == EPIPE) return Outcome::kReset;
  if (err == EAGAIN || err == ETIMEDOUT) return Outcome::kTimeout;
  return Outcome::kOther;
}

// Reads one HTTP/1.1 response (Content-Length or close-delimited). Sets `close` when the server
// asked to close. Returns kOk with status and body, or the failure.
HttpReply read_response(int fd, bool& close) {
  HttpReply r;
  std::string buf;
  char chunk[16384];
  size_t header_end = std::string::npos;
  long content_length = -1;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        r.head = buf.substr(0, header_end);
        std::string head = r.head;
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.status = std::atoi(buf.c_str() + 9);
        auto cl = head.find("content-length:");
        if (cl != std::string::npos) content_length = std::atol(head.c_str() + cl + 15);
        close = head.find("connection: close") != std::string::npos;
      }
    }
    if (header_end != std::string::npos && content_length >= 0 &&
        buf.size() >= header_end + 4 + static_cast<size_t>(content_length)) {
      r.body = buf.substr(header_end + 4, static_cast<size_t>(content_length));
      r.outcome = Outcome::kOk;
      return r;
    }
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0) {
      r.outcome = outcome_for(errno);
      return r;
    }
    if (n == 0) {
      if (header_end != std::string::npos && content_length < 0) {
        r.body = buf.substr(header_end + 4);
        r.outcome = Outcome::kOk;
        close = true;
      } else {
        r.outcome = Outcome::kReset;  // Closed before a whole response.
      }
      return r;
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
}

void count(LoadCounts& c, const HttpReply& r) {
  switch (r.outcome) {
    case Outcome::kOk:
      if (r.status >= 200 && r.status < 300) {
        c.ok++;
      } else {
        c.non_2xx++;
      }
      break;
    case Outcome::kRefused:
      c.refused++;
      break;
    case Outcome::kReset:
      c.reset++;
      break;
    case Outcome::kTimeout:
      c.timeout++;
      break;
    case Outcome::kOther:
      c.other++;
      break;
  }
}

}  // namespace

bool can_connect(const std::string& host_port) { return connect_to(host_port).has_value(); }

std::string HttpReply::header(const std::string& name) const {
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string want = lower(name) + ":";
  std::size_t start = head.find("\r\n");
  while (start != std::string::npos) {
    start += 2;
    std::size_t end = head.find("\r\n", start);
    std::string line = head.substr(start, end == std::string::npos ? end : end - start);
    if (lower(line.substr(0, want.size())) == want) {
      std::string value = line.substr(want.size());
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t") + 1);
      return value;
    }
    start = end;
  }
  return "";
}

HttpReply http_get(const std::string& host_port, const std::string& target,
                   const std::string& extra_headers) {
  auto fd = connect_to(host_port);
  if (!fd)
    return HttpReply{fd.error().code == Errc::kUnavailable ? Outcome::kRefused : Outcome::kOther, 0,
                     "", ""};
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host_port +
                    "\r\nConnection: close\r\n" + extra_headers + "\r\n";
  if (::send(fd->get(), req.data(), req.size(), MSG_NOSIGNAL) < 0)
    return HttpReply{outcome_for(errno), 0, "", ""};
  bool close = false;
  return read_response(fd->get(), close);
}

Load::Load(std::string host_port, int threads, bool keep_alive)
    : host_port_(std::move(host_port)),
      keep_alive_(keep_alive),
      counts_(static_cast<size_t>(threads)) {
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this, i] { run(counts_[static_cast<size_t>(i)]); });
}

Load::~Load() { stop(); }

LoadCounts Load::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  LoadCounts total;
  for (const auto& c : counts_) {
    total.ok += c.ok;
    total.refused += c.refused;
    total.reset += c.reset;
    total.timeout += c.timeout;
    total.other += c.other;
    total.non_2xx += c.non_2xx;
  }
  return total;
}

void Load::run(LoadCounts& counts) {
  UniqueFd conn;
  while (!stop_) {
    if (!keep_alive_) {
      count(counts, http_get(host_port_, "/"));
      completed_++;
      continue;
    }
    if (!conn) {
      auto fd = connect_to(host_port_);
      if (!fd) {
        count(counts,
              HttpReply{fd.error().code == Errc::kUnavailable ? Outcome::kRefused : Outcome::kOther,
                        0, "", ""});
        continue;
      }
      conn = std::move(*fd);
    }
    std::string req = "GET / HTTP/1.1\r\nHost: " + host_port_ + "\r\n\r\n";
    HttpReply r;
    bool close = false;
    if (::send(conn.get(), req.data(), req.size(), MSG_NOSIGNAL) < 0) {
      r.outcome = outcome_for(errno);
    } else {
      r = read_response(conn.get(), close);
    }
    count(counts, r);
    completed_++;
    if (close || r.outcome != Outcome::kOk) conn.reset();
  }
}

}  // namespace gc::e2e

// SPDX-License-Identifier: MIT
// The built groundctl binary supervising the real Node fixture app: crashes, reloads under load,
// readiness, memory limits, log capture and shutdown.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

// A [[service]] running the fixture app; each line of `extra` ("key = value") adds a key or
// replaces a default one.
std::string web(const std::string& name, int instances, const std::string& extra = "") {
  std::vector<std::pair<std::string, std::string>> keys = {{"command", "[\"node\", \"server.js\"]"},
                                                           {"cwd", "\"" + fixture_dir() + "\""},
                                                           {"instances", std::to_string(instances)},
                                                           {"listen", "[\"127.0.0.1:0\"]"},
                                                           {"ready", "\"ipc\""},
                                                           {"ready_timeout", "\"10s\""},
                                                           {"stop_timeout", "\"10s\""}};
  std::istringstream lines(extra);
  std::string line;
  while (std::getline(lines, line)) {
    auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 3);
    auto it =
        std::find_if(keys.begin(), keys.end(), [&](const auto& kv) { return kv.first == key; });
    if (it != keys.end()) {
      it->second = value;
    } else {
      keys.emplace_back(key, value);
    }
  }
  std::string out = "[[service]]\nname = \"" + name + "\"\n";
  for (const auto& [k, v] : keys) out += k + " = " + v + "\n";
  return out + "\n";
}

int free_port();

std::string sh_service(const std::string& name, const std::string& script,
                       const std::string& extra = "") {
  return "[[service]]\nname = \"" + name + "\"\ncommand = [\"/bin/sh\", \"-c\", \"" + script +
         "\"]\n" + extra + "\n";
}

TEST(Supervisor, PsAndStatusJsonDescribeRunningInstances) {
  auto d = Daemon::start(web("web", 2));
  ASSERT_TRUE(eventually([&] { return d->describe("web").value("state", "") == "running"; }));
  json ps = d->ps();
  ASSERT_TRUE(ps.is_array());
  ASSERT_EQ(ps.size(), 2u);
  for (const auto& i : ps) {
    EXPECT_EQ(i["service"], "web");
    EXPECT_GT(i["pid"].get<int>(), 0);
    EXPECT_EQ(i["state"], "running");
    EXPECT_GT(i["rss_bytes"].get<std::uint64_t>(), 1u << 20);
  }
  json status = d->cli({"status", "--json"}).parsed();
  EXPECT_EQ(status["services"][0]["running"], 2);
  // Both instances serve the one shared socket.
  std::string addr = d->address("web");
  std::set<std::string> bodies;
  ASSERT_TRUE(eventually([&] {
    bodies.insert(http_get(addr, "/pid").body);
    return bodies.size() == 2;
  }));
  auto human = d->cli({"ps"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("running"), std::string::npos);
}

TEST(Supervisor, KilledInstanceIsReplacedAndNoConnectionIsRefused) {
  // One instance: while it is dead, connections wait in the daemon-owned socket's backlog.
  auto d = Daemon::start(
      web("web", 1, "backoff = { initial = \"10s\", max = \"10s\" }\nmin_uptime = \"100ms\""));
  std::string addr = d->address("web");
  ASSERT_FALSE(addr.empty());
  int old_pid = d->pids("web").at(0);
  // Past min_uptime a crash is restarted at once (no 10s backoff), or this test times out.
  ASSERT_TRUE(eventually([&] { return d->ps()[0].value("uptime_ms", 0) > 200; }));
  Load load(addr, 2, false);
  ASSERT_TRUE(eventually([&] { return load.completed() > 50; }));
  ASSERT_EQ(::kill(old_pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] {
    auto p = d->pids("web");
    return !p.empty() && p[0] != old_pid && p[0] > 0;
  }));
  long before = load.completed();
  ASSERT_TRUE(eventually([&] { return load.completed() > before + 50; }));
  LoadCounts c = load.stop();
  EXPECT_EQ(c.refused, 0);
  // Only requests the dying process had already accepted can fail.
  EXPECT_LE(c.failed(), 4) << "reset " << c.reset << " other " << c.other << " timeout "
                           << c.timeout;
  json desc = d->describe("web");
  EXPECT_EQ(desc["instances"][0]["restarts"], 1);
  EXPECT_NE(desc["recent_exits"].back()["status"].get<std::string>().find("SIGKILL"),
            std::string::npos);
  EXPECT_NE(desc["recent_exits"].back()["reason"].get<std::string>().find("restarting now"),
            std::string::npos)
      << desc["recent_exits"].dump();
}

TEST(Supervisor, CrashLoopBacksOffThenFails) {
  auto d = Daemon::start(sh_service("crasher", "echo boom-$$ >&2; exit 7",
                                    "ready = { delay = \"1s\" }\nmax_restarts = 3\nbackoff = { "
                                    "initial = \"20ms\", max = \"80ms\" }"));
  ASSERT_TRUE(eventually([&] { return d->describe("crasher").value("state", "") == "failed"; }));
  json desc = d->describe("crasher");
  EXPECT_EQ(desc["instances"][0]["restarts"], 3);
  EXPECT_EQ(desc["instances"][0]["state"], "failed");
  auto exits = desc["recent_exits"];
  ASSERT_EQ(exits.size(), 4u);
  EXPECT_EQ(exits[0]["status"], "exit code 7");
  EXPECT_NE(exits[0]["stderr_tail"].get<std::string>().find("boom-"), std::string::npos);
  EXPECT_NE(exits[0]["reason"].get<std::string>().find("restarting in 20ms"), std::string::npos);
  EXPECT_NE(exits[1]["reason"].get<std::string>().find("restarting in 40ms"), std::string::npos);
  EXPECT_NE(exits[3]["reason"].get<std::string>().find("max_restarts"), std::string::npos);
  auto human = d->cli({"describe", "crasher"});
  EXPECT_NE(human.out.find("boom-"), std::string::npos);
  // An explicit start clears the failure and tries again.
  EXPECT_EQ(d->cli({"start", "crasher"}).exit_code, 1);
}

TEST(Supervisor, ReloadUnderLoadFailsNoRequest) {
  auto d = Daemon::start(web("web", 2));
  std::string addr = d->address("web");
  Load fresh(addr, 2, false);
  Load kept(addr, 2, true);
  ASSERT_TRUE(eventually([&] { return fresh.completed() > 50 && kept.completed() > 50; }));
  auto first = d->pids("web");
  for (int i = 0; i < 3; ++i) {
    auto r = d->cli({"reload", "web"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  long before = fresh.completed() + kept.completed();
  ASSERT_TRUE(eventually([&] { return fresh.completed() + kept.completed() > before + 100; }));
  LoadCounts a = fresh.stop();
  LoadCounts b = kept.stop();
  EXPECT_EQ(a.failed(), 0) << "new-connection load: refused " << a.refused << " reset " << a.reset;
  EXPECT_EQ(b.failed(), 0) << "keep-alive load: refused " << b.refused << " reset " << b.reset
                           << " other " << b.other;
  auto now = d->pids("web");
  EXPECT_NE(now, first);
  for (int pid : first) EXPECT_TRUE(eventually([&] { return !process_exists(pid); }));
}

TEST(Supervisor, ReloadWithNeverReadyInstanceKeepsTheOldOneServing) {
  auto d = Daemon::start("");
  std::string env_file = d->dir() + "/app.env";
  ASSERT_TRUE(write_file_atomic(env_file, "GREETING=hello\n"));
  d->write_config(web("web", 2, "env_file = \"" + env_file + "\"\nready_timeout = \"1500ms\""));
  ASSERT_EQ(d->cli({"config", "reload"}).exit_code, 0);
  std::string addr = d->address("web");
  EXPECT_EQ(http_get(addr, "/env?name=GREETING").body, "hello");
  auto old = d->pids("web");
  // env_file is read on every start: the next instances will never become ready.
  ASSERT_TRUE(write_file_atomic(env_file, "GREETING=hello\nFIXTURE_NEVER_READY=1\n"));
  Load load(addr, 2, false);
  auto r = d->cli({"reload", "web", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not ready within 1.5s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("old one keeps serving"), std::string::npos) << r.err;
  EXPECT_EQ(r.parsed()["error"]["code"], "timeout");
  EXPECT_EQ(d->pids("web"), old);
  for (int pid : old) EXPECT_TRUE(process_exists(pid));
  LoadCounts c = load.stop();
  EXPECT_EQ(c.failed(), 0);
  EXPECT_GT(c.ok, 0);
}

TEST(Supervisor, MemoryAboveMaxIsReplacedWithoutDowntime) {
  auto d = Daemon::start(web("web", 1, "max_memory = \"150MiB\""));
  std::string addr = d->address("web");
  int old_pid = d->pids("web").at(0);
  Load load(addr, 1, false);
  EXPECT_EQ(http_get(addr, "/leak?mb=160").status, 200);
  ASSERT_TRUE(eventually(
      [&] {
        auto p = d->pids("web");
        return !p.empty() && p[0] != old_pid && p[0] > 0;
      },
      std::chrono::seconds(30)));
  ASSERT_TRUE(eventually([&] { return !process_exists(old_pid); }));
  LoadCounts c = load.stop();
  EXPECT_EQ(c.failed(), 0);
  // The old process may be gone a moment before the daemon has recorded its exit.
  json exits;
  EXPECT_TRUE(eventually([&] {
    exits = d->describe("web")["recent_exits"];
    return !exits.empty() && exits.back()["reason"].get<std::string>().find(
                                 "above max_memory 150.0MiB") != std::string::npos;
  })) << exits.dump();
}

// Every file of a rotated log, oldest first, decompressed and concatenated.
std::string read_rotated(const std::string& path, int keep) {
  std::string all;
  for (int i = keep; i >= 1; --i) {
    gzFile f = ::gzopen((path + "." + std::to_string(i) + ".gz").c_str(), "rb");
    if (f == nullptr) continue;
    char buf[65536];
    int n;
    while ((n = ::gzread(f, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
    ::gzclose(f);
  }
  return all + read_file(path).value_or("");
}

TEST(Supervisor, LogsRotateGzipAndLoseNoLine) {
  auto d = Daemon::start(web("web", 1, "logs = { max_size = \"256KiB\", keep = 3 }"));
  std::string addr = d->address("web");
  // 3000 lines of ~120 bytes: about 360 KiB, so at least one rotation.
  ASSERT_EQ(http_get(addr, "/flood?lines=3000&bytes=100").body, "done");
  std::string out_log = d->dir() + "/log/web/out.log";
  std::string text;
  // Rotated files are compressed on a separate thread: wait until none is pending.
  auto compressing = [&] {
    for (const auto& e : std::filesystem::directory_iterator(d->dir() + "/log/web")) {
      if (e.path().string().find(".rotating-") != std::string::npos) return true;
    }
    return false;
  };
  ASSERT_TRUE(eventually([&] {
    if (compressing()) return false;
    text = read_rotated(out_log, 3);
    return text.find(" 2999 ") != std::string::npos || text.find(" 3000 ") != std::string::npos;
  }));
  EXPECT_EQ(::access((out_log + ".1.gz").c_str(), F_OK), 0);
  EXPECT_NE(::access((out_log + ".4.gz").c_str(), F_OK), 0);
  std::istringstream lines(text);
  std::string line;
  long expected_seq = -1, flood_lines = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("flood ", 0) != 0) continue;
    std::istringstream fields(line);
    std::string word, pid, payload;
    long seq;
    fields >> word >> pid >> seq >> payload;
    if (expected_seq < 0) expected_seq = seq;
    EXPECT_EQ(seq, expected_seq) << "line lost or out of order";
    EXPECT_EQ(payload.size(), 100u) << "line split: " << line.substr(0, 60);
    expected_seq = seq + 1;
    flood_lines++;
  }
  EXPECT_EQ(flood_lines, 3000);
  auto tail = d->cli({"logs", "web", "-n", "2", "--json"}).parsed();
  ASSERT_EQ(tail["stdout"].size(), 2u);
  EXPECT_EQ(tail["dropped_bytes"], 0);
}

TEST(Supervisor, LogsFollowStreamsNewOutput) {
  auto d = Daemon::start(web("web", 1));
  std::string addr = d->address("web");
  std::string out_path = d->dir() + "/follow.out";
  auto out = open_fd(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  SpawnOptions o;
  o.argv = {groundctl_bin(), "-c", d->config_path(), "logs", "web", "-f", "-n", "0"};
  o.stdout_fd = out->get();
  o.stderr_fd = out->get();
  auto follower = ChildProcess::spawn(o);
  ASSERT_TRUE(follower);
  // The subscription starts once the follower is connected; keep poking until it shows up.
  ASSERT_TRUE(eventually([&] {
    http_get(addr, "/stderr?msg=followed-line");
    return read_file(out_path).value_or("").find("followed-line") != std::string::npos;
  }));
  (void)follower->terminate(SIGTERM, std::chrono::seconds(5));
}

TEST(Supervisor, ConfigReloadAddsRemovesChangesAndRefusesInvalid) {
  auto d = Daemon::start(web("a", 1) + web("b", 1));
  int a_pid = d->pids("a").at(0);
  int b_pid = d->pids("b").at(0);
  d->write_config(web("b", 1, "env = { X = \"2\" }") + web("c", 1));
  auto r = d->cli({"config", "reload", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json diff = r.parsed();
  EXPECT_EQ(diff["added"], json::array({"c"}));
  EXPECT_EQ(diff["removed"], json::array({"a"}));
  EXPECT_EQ(diff["changed"], json::array({"b"}));
  EXPECT_TRUE(eventually([&] { return !process_exists(a_pid); }));
  EXPECT_EQ(d->cli({"describe", "a"}).exit_code, 2);
  EXPECT_NE(d->pids("b").at(0), b_pid);
  EXPECT_EQ(http_get(d->address("b"), "/env?name=X").body, "2");
  EXPECT_GT(d->pids("c").at(0), 0);

  // Unchanged services are untouched by a reload.
  int c_pid = d->pids("c").at(0);
  d->write_config(web("b", 1, "env = { X = \"3\" }") + web("c", 1));
  ASSERT_EQ(d->cli({"config", "reload"}).exit_code, 0);
  EXPECT_EQ(d->pids("c").at(0), c_pid);

  // An invalid config is refused with its errors; the running one stays.
  auto before = std::make_pair(d->pids("b"), d->pids("c"));
  d->write_config(web("b", 1, "instaces = 3"));
  auto bad = d->cli({"config", "reload"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("instaces"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("running config stays"), std::string::npos) << bad.err;
  EXPECT_EQ(std::make_pair(d->pids("b"), d->pids("c")), before);
  // Not even TOML: the CLI still finds the daemon, which shows the syntax error.
  ASSERT_TRUE(
      write_file_atomic(d->config_path(), *read_file(d->config_path()) + "name = \"dup\"\n"));
  auto broken = d->cli({"config", "reload"});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("running config stays"), std::string::npos) << broken.err;
}

TEST(Supervisor, SighupReloadsTheConfig) {
  auto d = Daemon::start(web("a", 1));
  d->write_config(web("a", 1) + sh_service("extra", "exec sleep 600", "ready = { delay = \"0\" }"));
  ASSERT_EQ(::kill(d->pid(), SIGHUP), 0);
  EXPECT_TRUE(eventually([&] {
    auto p = d->pids("extra");
    return !p.empty() && p[0] > 0;
  }));
}

TEST(Supervisor, SigtermStopsEverythingAndLeavesNoProcess) {
  // The forker leaves a grandchild in its process group: it must not outlive the daemon either.
  auto d = Daemon::start(web("web", 2) +
                         sh_service("forker", "sleep 600 & echo grandchild $!; exec sleep 600",
                                    "ready = { delay = \"0\" }"));
  std::vector<int> pids = d->pids("web");
  pids.push_back(d->pids("forker").at(0));
  std::string out_log = d->dir() + "/log/forker/out.log";
  ASSERT_TRUE(eventually(
      [&] { return read_file(out_log).value_or("").find("grandchild ") != std::string::npos; }));
  int grandchild = std::stoi(read_file(out_log)->substr(11));
  ASSERT_TRUE(process_exists(grandchild));
  pids.push_back(grandchild);
  ExitStatus st = d->terminate();
  EXPECT_TRUE(st.success()) << st.to_string();
  for (int pid : pids) EXPECT_TRUE(eventually([&] { return !process_exists(pid); })) << pid;
  EXPECT_NE(d->daemon_log().find("all services stopped"), std::string::npos);
}

TEST(Supervisor, StopTimeoutEndsInSigkill) {
  auto d = Daemon::start(
      web("stubborn", 1, "env = { FIXTURE_IGNORE_SIGTERM = \"1\" }\nstop_timeout = \"300ms\""));
  // Stop only once it is ready: before that, its SIGTERM handler may not be installed yet.
  ASSERT_TRUE(eventually([&] { return d->describe("stubborn").value("state", "") == "running"; }));
  int pid = d->pids("stubborn").at(0);
  ASSERT_EQ(d->cli({"stop", "stubborn"}).exit_code, 0);
  EXPECT_FALSE(process_exists(pid));
  auto exits = d->describe("stubborn")["recent_exits"];
  EXPECT_EQ(exits.back()["status"], "killed by SIGKILL");
  EXPECT_EQ(d->describe("stubborn")["state"], "stopped");
  ASSERT_EQ(d->cli({"start", "stubborn"}).exit_code, 0);
  EXPECT_EQ(d->describe("stubborn")["state"], "running");
}

TEST(Supervisor, ReadyNotifyAndHttp) {
  std::string notify = "[[service]]\nname = \"notifier\"\ncommand = [\"python3\", \"" +
                       fixture_dir() +
                       "/notify-ready.py\"]\nready = \"notify\"\nready_timeout = \"10s\"\n";
  auto d = Daemon::start(notify + web("web", 1));
  auto r = d->cli({"restart", "notifier"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(d->describe("notifier")["state"], "running");
  // ready = { http } on a health port of the app's own (not a shared listen socket).
  int port = free_port();
  d->write_config(notify + web("web", 1) +
                  "[[service]]\nname = \"static\"\ncommand = [\"python3\", \"-m\", "
                  "\"http.server\", \"" +
                  std::to_string(port) + "\", \"--bind\", \"127.0.0.1\"]\ncwd = \"" +
                  fixture_dir() +
                  "\"\nready = { http = \"http://127.0.0.1:" + std::to_string(port) + "/\" }\n");
  auto rr = d->cli({"config", "reload"});
  EXPECT_EQ(rr.exit_code, 0) << rr.err;
  EXPECT_EQ(d->describe("static")["state"], "running");
}

TEST(Supervisor, RunsAsTheConfiguredUserWithACleanEnvironment) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto d = Daemon::start(
      sh_service("who", "id -un; env; exec sleep 600",
                 "user = \"nobody\"\nready = { delay = \"0\" }\nenv = { A = \"1\" }"));
  std::string log = d->dir() + "/log/who/out.log";
  ASSERT_TRUE(eventually(
      [&] { return read_file(log).value_or("").find("GROUNDCTL_INSTANCE") != std::string::npos; }));
  std::string text = *read_file(log);
  EXPECT_EQ(text.rfind("nobody\n", 0), 0u) << text;
  EXPECT_NE(text.find("A=1\n"), std::string::npos);
  EXPECT_NE(text.find("GROUNDCTL_SERVICE=who\n"), std::string::npos);
  EXPECT_NE(text.find("USER=nobody\n"), std::string::npos);
  EXPECT_EQ(text.find("GC_"), std::string::npos);
}

TEST(Cli, ReportsAnUnreachableDaemonWithExitCode3) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(
      write_file_atomic(dir->file("g.toml"), "[server]\nruntime_dir = \"" + dir->path() + "\"\n"));
  auto r = run_capture({groundctl_bin(), "-c", dir->file("g.toml"), "ps"}, dir->path());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("daemon not reachable"), std::string::npos) << r.err;
}

TEST(Cli, CheckListsEveryErrorWithFileLineColumn) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string cfg = dir->file("bad.toml");
  ASSERT_TRUE(write_file_atomic(
      cfg,
      "[[service]]\nname = \"x\"\ncommand = [\"true\"]\nready_timeout = \"3x\"\ninstaces = 2\n"));
  auto r = run_capture({groundctl_bin(), "-c", cfg, "check"}, dir->path());
  EXPECT_EQ(r.exit_code, 2);
  const std::string& text = r.err;
  EXPECT_NE(text.find(cfg + ":4:"), std::string::npos) << text;
  EXPECT_NE(text.find(cfg + ":5:1:"), std::string::npos) << text;
}

}  // namespace
}  // namespace gc::e2e

namespace gc::e2e {
namespace {

// A port that was free a moment ago (bind 0, read it, close).
int free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

TEST(ConfigReload, AddingAListenAddressKeepsTheExistingSocket) {
  auto d = Daemon::start(web("web", 1));
  std::string first = d->address("web");
  Load load(first, 1, false);
  d->write_config(web("web", 1, "listen = [\"127.0.0.1:0\", \"127.0.0.2:0\"]"));
  auto r = d->cli({"config", "reload"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json bound = d->describe("web")["listen_bound"];
  ASSERT_EQ(bound.size(), 2u);
  EXPECT_EQ(bound[0], first);
  LoadCounts c = load.stop();
  EXPECT_EQ(c.failed(), 0);
  // The fixture app serves fd 3 only; the new socket exists and is passed as fd 4.
  EXPECT_TRUE(can_connect(bound[1].get<std::string>()));
}

TEST(ConfigReload, AServiceReplacingAnotherCanTakeItsPort) {
  std::string addr = "127.0.0.1:" + std::to_string(free_port());
  auto d = Daemon::start(web("old", 1, "listen = [\"" + addr + "\"]"));
  ASSERT_EQ(http_get(addr, "/health").status, 200);
  d->write_config(web("new", 1, "listen = [\"" + addr + "\"]"));
  auto r = d->cli({"config", "reload"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(d->describe("new")["state"], "running");
  EXPECT_EQ(http_get(addr, "/health").status, 200);
}

TEST(ConfigReload, ShrinkingInstancesStopsTheExtraOnesAndKeepsRestartCounts) {
  auto d = Daemon::start(web("web", 2, "backoff = { initial = \"10ms\", max = \"1s\" }"));
  ASSERT_TRUE(eventually([&] { return d->describe("web").value("state", "") == "running"; }));
  int killed = d->pids("web").at(0);
  ASSERT_EQ(::kill(killed, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] {
    auto p = d->pids("web");
    return p.at(0) != killed && p.at(0) > 0 && d->describe("web").value("state", "") == "running";
  }));
  int extra = d->pids("web").at(1);
  d->write_config(
      web("web", 1, "backoff = { initial = \"10ms\", max = \"1s\" }\nenv = { V = \"2\" }"));
  auto r = d->cli({"config", "reload"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json ps = d->ps();
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0]["restarts"], 1) << "a config change must not reset the restart count";
  EXPECT_TRUE(eventually([&] { return !process_exists(extra); }));
}

// Runs a groundctl command in the background; its result is read with finish().
class Background {
 public:
  Background(const Daemon& d, std::vector<std::string> args)
      : out_(d.dir() + "/bg-" + args[0] + ".out") {
    std::vector<std::string> argv = {groundctl_bin(), "-c", d.config_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto fd = open_fd(out_, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    SpawnOptions o;
    o.argv = argv;
    o.stdout_fd = fd->get();
    o.stderr_fd = fd->get();
    child_.emplace(std::move(*ChildProcess::spawn(o)));
  }
  std::pair<int, std::string> finish() {
    auto st = child_->wait();
    return {st->code, read_file(out_).value_or("")};
  }
  bool running() { return !child_->try_wait()->has_value(); }

 private:
  std::string out_;
  std::optional<ChildProcess> child_;
};

TEST(Lifecycle, StartDuringAStopStartsAgainAndTheStopReturns) {
  auto d = Daemon::start(sh_service("s", "trap '' TERM; echo up; while :; do sleep 0.05; done",
                                    "ready = { delay = \"0\" }\nstop_timeout = \"2s\""));
  ASSERT_TRUE(
      eventually([&] { return read_file(d->dir() + "/log/s/out.log").value_or("") == "up\n"; }));
  Background stop(*d, {"stop", "s"});
  ASSERT_TRUE(eventually([&] { return d->ps()[0].value("state", "") == "stopping"; }));
  auto start = d->cli({"start", "s"});
  EXPECT_EQ(start.exit_code, 0) << start.err;
  auto [code, text] = stop.finish();
  EXPECT_EQ(code, 1);
  EXPECT_NE(text.find("started again before it stopped"), std::string::npos) << text;
  EXPECT_TRUE(eventually([&] { return d->describe("s").value("state", "") == "running"; }));
}

TEST(Lifecycle, AShuttingDownDaemonRefusesStartsAndStillExits) {
  auto d = Daemon::start(sh_service("s", "trap '' TERM; echo up; while :; do sleep 0.05; done",
                                    "ready = { delay = \"0\" }\nstop_timeout = \"1s\""));
  ASSERT_TRUE(
      eventually([&] { return read_file(d->dir() + "/log/s/out.log").value_or("") == "up\n"; }));
  ASSERT_EQ(::kill(d->pid(), SIGTERM), 0);
  ASSERT_TRUE(eventually(
      [&] { return d->daemon_log().find("stopping every service") != std::string::npos; }));
  auto start = d->cli({"start", "s"});
  if (start.exit_code != 3) {  // 3: it already exited, which is fine too.
    EXPECT_EQ(start.exit_code, 1);
    EXPECT_NE(start.err.find("shutting down"), std::string::npos) << start.err;
  }
  ExitStatus st = d->terminate();
  EXPECT_TRUE(st.success()) << st.to_string();
}

TEST(Lifecycle, ActionsOnAllWithNoServicesReply) {
  auto d = Daemon::start("");
  for (const char* action : {"start", "stop", "restart", "reload"}) {
    auto r = d->cli({action, "all"});
    EXPECT_EQ(r.exit_code, 0) << action << ": " << r.err;
  }
}

TEST(Lifecycle, AConfigChangeDuringAReloadIsAppliedAfterIt) {
  auto d = Daemon::start(web("web", 1, "env = { FIXTURE_READY_DELAY_MS = \"1500\", A = \"1\" }"));
  ASSERT_TRUE(eventually([&] { return d->describe("web").value("state", "") == "running"; }));
  Background reload(*d, {"reload", "web"});
  ASSERT_TRUE(eventually([&] { return d->describe("web").value("state", "") == "reloading"; }));
  d->write_config(web("web", 1, "env = { FIXTURE_READY_DELAY_MS = \"1500\", A = \"2\" }"));
  auto r = d->cli({"config", "reload"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(reload.finish().first, 0);
  EXPECT_EQ(http_get(d->address("web"), "/env?name=A").body, "2");
}

TEST(Daemon, AHalfClosedClientStillGetsTheWholeReply) {
  auto d = Daemon::start(web("web", 1));
  ASSERT_EQ(http_get(d->address("web"), "/flood?lines=3000&bytes=100").body, "done");
  // Captured output reaches the file asynchronously.
  ASSERT_TRUE(eventually([&] {
    return d->cli({"logs", "web", "-n", "3000", "--json"}).parsed()["stdout"].size() >= 3000;
  }));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::string path = d->dir() + "/run/control.sock";
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_TRUE(write_all(fd.get(), "{\"cmd\":\"logs\",\"name\":\"web\",\"lines\":3000}\n"));
  ::shutdown(fd.get(), SHUT_WR);
  std::string reply;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
  json parsed = json::parse(reply, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << reply.size() << " bytes";
  EXPECT_GE(parsed["result"]["stdout"].size(), 3000u);
}

TEST(Lifecycle, AFailedMemoryReplacementKeepsTheOldInstanceAndIsNotRetriedEverySample) {
  auto d = Daemon::start("");
  std::string env_file = d->dir() + "/app.env";
  ASSERT_TRUE(write_file_atomic(env_file, "A=1\n"));
  d->write_config(web("web", 1, "env_file = \"" + env_file + "\"\nmax_memory = \"150MiB\""));
  ASSERT_EQ(d->cli({"config", "reload"}).exit_code, 0);
  std::string addr = d->address("web");
  int pid = d->pids("web").at(0);
  // Replacements will crash on start; then push the old instance over the limit.
  ASSERT_TRUE(write_file_atomic(env_file, "FIXTURE_CRASH_ON_START=1\n"));
  EXPECT_EQ(http_get(addr, "/leak?mb=160").status, 200);
  auto failed_replacements = [&] {
    int n = 0;
    json desc = d->describe("web");
    for (const auto& e : desc["recent_exits"]) {
      n += e.value("reason", "").find("keeps serving") != std::string::npos;
    }
    return n;
  };
  ASSERT_TRUE(eventually([&] { return failed_replacements() >= 1; }, std::chrono::seconds(20)));
  // Samples run every 2 s: several more would have come and gone by now.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(7);
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_EQ(http_get(addr, "/health").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(failed_replacements(), 1);
  EXPECT_EQ(d->pids("web").at(0), pid);
}

}  // namespace
}  // namespace gc::e2e

// SPDX-License-Identifier: MIT
#include "base/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "base/temp_dir.h"
#include "base/unique_fd.h"

namespace gc {
namespace {

SpawnOptions sh(const std::string& script) {
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", script};
  o.env = {"PATH=/usr/bin:/bin"};
  return o;
}

// Reads everything the child writes to `fd` until EOF.
std::string drain(UniqueFd fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// Runs `script` with stdout captured; returns (output, status).
std::pair<std::string, ExitStatus> run(SpawnOptions o) {
  auto p = Pipe::create();
  EXPECT_TRUE(p);
  o.stdout_fd = p->write.get();
  auto child = ChildProcess::spawn(o);
  EXPECT_TRUE(child) << child.error().message;
  p->write.reset();
  std::string out = drain(std::move(p->read));
  auto st = child->wait();
  EXPECT_TRUE(st);
  return {out, *st};
}

bool process_gone(pid_t pid, std::chrono::seconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::access(("/proc/" + std::to_string(pid)).c_str(), F_OK) != 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(ChildProcess, ReportsExitCodeAndSignal) {
  auto [out, st] = run(sh("echo hi; exit 3"));
  EXPECT_EQ(out, "hi\n");
  EXPECT_FALSE(st.signaled);
  EXPECT_EQ(st.code, 3);
  EXPECT_EQ(st.to_string(), "exit code 3");

  auto child = ChildProcess::spawn(sh("exec sleep 30"));
  ASSERT_TRUE(child);
  ASSERT_TRUE(child->signal(SIGKILL));
  auto killed = child->wait();
  ASSERT_TRUE(killed);
  EXPECT_TRUE(killed->signaled);
  EXPECT_EQ(killed->to_string(), "killed by SIGKILL");
}

TEST(ChildProcess, EnvironmentIsExactlyWhatWasGiven) {
  auto o = sh("env | sort");
  o.env.push_back("A=1");
  auto [out, st] = run(o);
  EXPECT_TRUE(st.success());
  EXPECT_NE(out.find("A=1\n"), std::string::npos);
  EXPECT_EQ(out.find("HOME="), std::string::npos) << out;
}

TEST(ChildProcess, BadCwdIsAnErrorNamingIt) {
  auto o = sh("true");
  o.cwd = "/nonexistent/cwd";
  auto child = ChildProcess::spawn(o);
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().code, Errc::kNotFound);
  EXPECT_NE(child.error().message.find("chdir /nonexistent/cwd"), std::string::npos)
      << child.error().message;
}

TEST(ChildProcess, UnknownCommandIsNotFound) {
  SpawnOptions o;
  o.argv = {"no-such-command-gc"};
  o.env = {"PATH=/usr/bin:/bin"};
  auto child = ChildProcess::spawn(o);
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().code, Errc::kNotFound);
  EXPECT_NE(child.error().message.find("no-such-command-gc"), std::string::npos);
}

TEST(ChildProcess, ExtraFdsArrivePlacedFromThreeAndNothingElseLeaks) {
  auto a = Pipe::create();
  ASSERT_TRUE(a);
  // A source that already sits on fd 3 with close-on-exec set must still reach the child.
  UniqueFd hold3;
  if (::fcntl(3, F_GETFD) < 0) {
    int fd = ::fcntl(a->write.get(), F_DUPFD_CLOEXEC, 3);
    ASSERT_EQ(fd, 3);
    hold3.reset(fd);
  }
  int src3 = hold3 ? 3 : a->write.get();
  auto b = Pipe::create();
  ASSERT_TRUE(b);
  auto o = sh("echo three >&3; echo four >&4; ls /proc/self/fd | sort -n | tr '\\n' ' '");
  o.extra_fds = {src3, b->write.get()};
  auto p = Pipe::create();
  ASSERT_TRUE(p);
  o.stdout_fd = p->write.get();
  auto child = ChildProcess::spawn(o);
  ASSERT_TRUE(child) << child.error().message;
  a->write.reset();
  hold3.reset();
  b->write.reset();
  p->write.reset();
  EXPECT_EQ(drain(std::move(a->read)), "three\n");
  EXPECT_EQ(drain(std::move(b->read)), "four\n");
  // ls itself opens one directory fd (the highest number).
  EXPECT_EQ(drain(std::move(p->read)), "0 1 2 3 4 5 ");
  EXPECT_TRUE(child->wait()->success());
}

TEST(ChildProcess, ListenPidIsTheChildsOwnPid) {
  auto o = sh("echo $LISTEN_PID $$");
  o.set_listen_pid = true;
  auto [out, st] = run(o);
  auto space = out.find(' ');
  ASSERT_NE(space, std::string::npos);
  EXPECT_EQ(out.substr(0, space) + "\n", out.substr(space + 1));
}

TEST(ChildProcess, ReapingKillsWhatTheLeaderLeftInItsGroup) {
  auto o = sh("sleep 60 >/dev/null 2>&1 & echo $!; exit 0");
  auto [out, st] = run(o);
  EXPECT_TRUE(st.success());
  pid_t orphan = std::stoi(out);
  EXPECT_TRUE(process_gone(orphan, std::chrono::seconds(10)));
}

TEST(ChildProcess, TerminateEscalatesToKillAfterGrace) {
  auto o = sh("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  auto p = Pipe::create();
  ASSERT_TRUE(p);
  o.stdout_fd = p->write.get();
  auto child = ChildProcess::spawn(o);
  ASSERT_TRUE(child);
  p->write.reset();
  char c;
  ASSERT_EQ(::read(p->read.get(), &c, 1), 1);  // The trap is installed.
  auto st = child->terminate(SIGTERM, std::chrono::milliseconds(200));
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->signaled);
  EXPECT_EQ(st->signal, SIGKILL);
}

TEST(ChildProcess, DestructorKillsAndReaps) {
  pid_t pid;
  {
    auto child = ChildProcess::spawn(sh("exec sleep 60"));
    ASSERT_TRUE(child);
    pid = child->pid();
  }
  EXPECT_TRUE(process_gone(pid, std::chrono::seconds(5)));
}

TEST(ChildProcess, SwitchesUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  struct passwd* pw = ::getpwnam("nobody");
  if (pw == nullptr) GTEST_SKIP() << "no user nobody";
  auto o = sh("id -u; id -G");
  o.credentials = Credentials{pw->pw_uid, pw->pw_gid, {pw->pw_gid}};
  auto [out, st] = run(o);
  EXPECT_EQ(out, std::to_string(pw->pw_uid) + "\n" + std::to_string(pw->pw_gid) + "\n");
}

}  // namespace
}  // namespace gc

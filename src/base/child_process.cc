// SPDX-License-Identifier: MIT
#include "base/child_process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
extern "C" {
#include <sys/pidfd.h>
}

#include <cerrno>
#include <chrono>
#include <cstring>

namespace gc {
namespace {

// P_PIDFD (Linux 5.4): glibc 2.36 has no idtype_t enumerator for it and <linux/wait.h>
// clashes with <sys/wait.h>, so name the value here.
constexpr idtype_t kPidfdIdType = static_cast<idtype_t>(3);

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// What the child reports through the error pipe when a step before exec fails.
struct ChildFailure {
  int step;
  int err;
};

enum Step { kStepDup = 1, kStepChdir, kStepGroups, kStepGid, kStepUid, kStepSetsid, kStepExec };

const char* step_name(int step) {
  switch (step) {
    case kStepDup:
      return "set up file descriptors";
    case kStepChdir:
      return "chdir";
    case kStepGroups:
      return "setgroups";
    case kStepGid:
      return "setgid";
    case kStepUid:
      return "setuid";
    case kStepSetsid:
      return "setsid";
    case kStepExec:
      return "exec";
    default:
      return "start";
  }
}

[[noreturn]] void child_fail(int error_fd, int step) {
  ChildFailure f{step, errno};
  // Best effort: if this write fails the parent sees EOF and an exit status of 127.
  ssize_t n = ::write(error_fd, &f, sizeof f);
  (void)n;
  ::_exit(127);
}

// Async-signal-safe decimal formatting into `out` (at least 21 bytes).
void format_pid(char* out, pid_t pid) {
  char tmp[24];
  int n = 0;
  unsigned long v = static_cast<unsigned long>(pid);
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  out[n] = '\0';
}

// Runs in the forked child: only async-signal-safe calls from here to exec.
[[noreturn]] void run_child(const SpawnOptions& o, const char* exe, char* const* argv,
                            char* const* envp, char* listen_pid_digits, int error_fd,
                            pid_t parent) {
  // Undo the daemon's signal set-up: handlers are reset by exec, but ignored signals and the
  // blocked mask would otherwise be inherited (a child with SIGPIPE ignored misbehaves).
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);

  if (o.new_session && ::setsid() < 0) child_fail(error_fd, kStepSetsid);

  // Move every source fd above the target range first, so a dup2 onto a target never clobbers
  // a source still to be placed, and a source that already sits on its target still gets its
  // close-on-exec flag cleared by a real dup2.
  const int sources[3] = {o.stdin_fd, o.stdout_fd, o.stderr_fd};
  const int count = 3 + static_cast<int>(o.extra_fds.size());
  int moved[64 + 3];
  int devnull = -1;
  for (int i = 0; i < count; ++i) {
    int src = i < 3 ? sources[i] : o.extra_fds[static_cast<size_t>(i - 3)];
    if (src < 0) {
      if (devnull < 0) devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (devnull < 0) child_fail(error_fd, kStepDup);
      src = devnull;
    }
    moved[i] = ::fcntl(src, F_DUPFD_CLOEXEC, count + 1);
    if (moved[i] < 0) child_fail(error_fd, kStepDup);
  }
  // Keep the error pipe above the targets too.
  int err_fd = ::fcntl(error_fd, F_DUPFD_CLOEXEC, count + 1);
  if (err_fd < 0) child_fail(error_fd, kStepDup);
  error_fd = err_fd;
  for (int i = 0; i < count; ++i) {
    if (::dup2(moved[i], i) < 0) child_fail(error_fd, kStepDup);
  }

  if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) child_fail(error_fd, kStepChdir);
  if (o.credentials) {
    const auto& c = *o.credentials;
    if (::setgroups(c.groups.size(), c.groups.data()) != 0) child_fail(error_fd, kStepGroups);
    if (::setgid(c.gid) != 0) child_fail(error_fd, kStepGid);
    if (::setuid(c.uid) != 0) child_fail(error_fd, kStepUid);
  }
  // Set after the credential change, which would clear it.
  if (o.parent_death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, o.parent_death_signal);
    // The parent may have died before prctl: then the signal will never come, so go now.
    if (::getppid() != parent) ::_exit(127);
  }
  if (listen_pid_digits != nullptr) format_pid(listen_pid_digits, ::getpid());

  // Close everything above the targets except the error pipe (close-on-exec closes it).
  if (error_fd > count)
    ::close_range(static_cast<unsigned>(count), static_cast<unsigned>(error_fd) - 1, 0);
  ::close_range(static_cast<unsigned>(error_fd) + 1, ~0U, 0);
  ::execve(exe, argv, envp);
  child_fail(error_fd, kStepExec);
}

ExitStatus from_siginfo(const siginfo_t& info) {
  ExitStatus st;
  if (info.si_code == CLD_EXITED) {
    st.code = info.si_status;
  } else {
    st.signaled = true;
    st.signal = info.si_status;
  }
  return st;
}

}  // namespace

std::string signal_name(int signo) {
  const char* abbrev = ::sigabbrev_np(signo);
  if (abbrev == nullptr) return "signal " + std::to_string(signo);
  return std::string("SIG") + abbrev;
}

std::string ExitStatus::to_string() const {
  if (signaled) return "killed by " + signal_name(signal);
  return "exit code " + std::to_string(code);
}

Result<std::string> find_executable(const std::string& name, const std::string& path_var) {
  if (name.empty()) return make_error(Errc::kInvalidArgument, "empty command");
  if (name.find('/') != std::string::npos) return name;
  std::string_view rest = path_var.empty() ? std::string_view(kDefaultPath) : path_var;
  while (true) {
    auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return make_error(Errc::kNotFound, "command \"" + name + "\" not found in PATH " +
                                         (path_var.empty() ? kDefaultPath : path_var));
}

Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return make_error(Errc::kInvalidArgument, "spawn: empty argv");
  if (o.extra_fds.size() > 64) return make_error(Errc::kInvalidArgument, "spawn: too many fds");
  std::string path_var;
  for (const auto& e : o.env) {
    if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
  }
  GC_ASSIGN_OR_RETURN(std::string exe, find_executable(o.argv[0], path_var));

  // Everything the child needs is prepared here: after fork only async-signal-safe calls run.
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::string listen_pid = "LISTEN_PID=" + std::string(24, '\0');
  std::vector<char*> envp;
  for (const auto& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  char* listen_pid_digits = nullptr;
  if (o.set_listen_pid) {
    envp.push_back(listen_pid.data());
    listen_pid_digits = listen_pid.data() + 11;
  }
  envp.push_back(nullptr);

  GC_ASSIGN_OR_RETURN(Pipe err_pipe, Pipe::create());
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork", o.argv[0], errno);
  if (pid == 0) {
    run_child(o, exe.c_str(), argv.data(), envp.data(), listen_pid_digits, err_pipe.write.get(),
              parent);
  }
  err_pipe.write.reset();
  int pidfd = ::pidfd_open(pid, 0);
  if (pidfd < 0) {
    int err = errno;
    // Cannot watch it safely: kill it while its pid is certainly still ours (unreaped).
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return sys_error("pidfd_open", o.argv[0], err);
  }
  ChildProcess child(pid, UniqueFd(pidfd));
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(err_pipe.read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    auto reaped = child.wait();
    (void)reaped;
    std::string object = failure.step == kStepChdir ? o.cwd : exe;
    if (failure.step == kStepUid || failure.step == kStepGid || failure.step == kStepGroups) {
      object = "for " + o.argv[0];
    }
    return sys_error(step_name(failure.step), object, failure.err);
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_),
      pidfd_(std::move(other.pidfd_)),
      reaped_(other.reaped_),
      status_(other.status_) {
  other.pid_ = -1;
  other.reaped_ = true;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = other.pid_;
    pidfd_ = std::move(other.pidfd_);
    reaped_ = other.reaped_;
    status_ = other.status_;
    other.pid_ = -1;
    other.reaped_ = true;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0 || reaped_) return;
  (void)signal_group(SIGKILL);
  (void)signal(SIGKILL);
  (void)wait();
}

Status ChildProcess::signal(int signo) {
  if (reaped_)
    return make_error(Errc::kNotFound, "process " + std::to_string(pid_) + " already reaped");
  if (::pidfd_send_signal(pidfd_.get(), signo, nullptr, 0) != 0) {
    if (errno == ESRCH) return ok();  // Exited, not yet reaped: nothing to signal.
    return sys_error("signal", "process " + std::to_string(pid_), errno);
  }
  return ok();
}

Status ChildProcess::signal_group(int signo) {
  if (reaped_)
    return make_error(Errc::kNotFound, "process " + std::to_string(pid_) + " already reaped");
  if (::kill(-pid_, signo) != 0 && errno != ESRCH) {
    return sys_error("signal", "process group " + std::to_string(pid_), errno);
  }
  return ok();
}

Result<ExitStatus> ChildProcess::reap() {
  // The leader has exited but is still a zombie, so its pgid cannot have been recycled: kill
  // anything it left behind in its group before letting the pid go.
  (void)signal_group(SIGKILL);
  siginfo_t info{};
  while (::waitid(kPidfdIdType, static_cast<id_t>(pidfd_.get()), &info, WEXITED) != 0) {
    if (errno != EINTR) return sys_error("waitid", "process " + std::to_string(pid_), errno);
  }
  reaped_ = true;
  status_ = from_siginfo(info);
  return status_;
}

Result<std::optional<ExitStatus>> ChildProcess::try_wait() {
  if (reaped_) return std::optional<ExitStatus>(status_);
  siginfo_t info{};
  // WNOWAIT: peek first so the group cleanup in reap() runs while the zombie holds the pgid.
  if (::waitid(kPidfdIdType, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG | WNOWAIT) !=
      0) {
    if (errno == EINTR) return std::optional<ExitStatus>();
    return sys_error("waitid", "process " + std::to_string(pid_), errno);
  }
  if (info.si_pid == 0) return std::optional<ExitStatus>();
  GC_ASSIGN_OR_RETURN(ExitStatus st, reap());
  return std::optional<ExitStatus>(st);
}

Result<ExitStatus> ChildProcess::wait() {
  if (reaped_) return status_;
  siginfo_t info{};
  while (::waitid(kPidfdIdType, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return sys_error("waitid", "process " + std::to_string(pid_), errno);
  }
  return reap();
}

Result<ExitStatus> ChildProcess::terminate(int signo, Duration grace) {
  if (reaped_) return status_;
  GC_TRY(signal_group(signo));
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{pidfd_.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return wait();
    if (rc < 0 && errno != EINTR) return sys_error("poll", "pidfd", errno);
  }
  GC_TRY(signal_group(SIGKILL));
  (void)signal(SIGKILL);
  return wait();
}

}  // namespace gc

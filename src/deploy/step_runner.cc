// SPDX-License-Identifier: MIT
#include "deploy/step_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace gc::deploy {
namespace {

constexpr std::size_t kTailBytes = 1500;
constexpr std::size_t kMaxCapture = 1 << 20;
constexpr auto kStopGrace = std::chrono::seconds(10);

// The last whole lines of `tail`, on one line each separated by " | ".
std::string last_lines(const std::string& tail) {
  std::string t = tail;
  std::size_t nl = t.find('\n');
  if (tail.size() >= kTailBytes && nl != std::string::npos) t = t.substr(nl + 1);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  std::string out;
  for (char c : t) out += c == '\n' ? std::string(" | ") : std::string(1, c);
  return out;
}

// Pumps `from` into `log` until EOF, keeping the tail; stops the child on cancel.
Status pump(int from, ChildProcess& child, DeployLog& log, std::string& tail,
            const std::atomic<bool>* cancel, const std::string& what) {
  char buf[16384];
  while (true) {
    if (cancel && cancel->load()) {
      (void)child.terminate(SIGTERM, kStopGrace);
      return make_error(Errc::kCancelled, what + " interrupted");
    }
    pollfd p{from, POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (r < 0 && errno != EINTR)
      return make_error(Errc::kIo, std::string("poll: ") + std::strerror(errno));
    if (r <= 0) continue;
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return ok();
    std::string_view data(buf, static_cast<std::size_t>(n));
    log.write(data);
    tail.append(data);
    if (tail.size() > kTailBytes) tail.erase(0, tail.size() - kTailBytes);
  }
}

Error failure(const std::string& what, const ExitStatus& st, const std::string& tail) {
  std::string lines = last_lines(tail);
  return make_error(Errc::kIo, what + " failed (" + st.to_string() + ")" +
                                   (lines.empty() ? std::string() : "; its last output: " + lines));
}

Result<ChildProcess> spawn(const Step& step, int out_fd, int err_fd) {
  SpawnOptions o;
  o.argv = step.argv;
  o.env = step.env;
  o.cwd = step.cwd;
  o.credentials = step.credentials;
  o.stdout_fd = out_fd;
  o.stderr_fd = err_fd;
  // Its own process group, so that stopping it stops what it started (npm's children).
  o.new_session = true;
  o.parent_death_signal = SIGTERM;
  auto child = ChildProcess::spawn(o);
  if (!child) return child.error().with_context(step.what);
  return child;
}

// Runs `step` to its end with stderr (and stdout too when `out_fd` is -1) pumped into `log`.
// Fills status and output_tail of the result.
Result<Captured> run_piped(const Step& step, int out_fd, DeployLog& log,
                           const std::atomic<bool>* cancel) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return make_error(Errc::kIo, std::string("pipe: ") + std::strerror(errno));
  }
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  GC_ASSIGN_OR_RETURN(ChildProcess child,
                      spawn(step, out_fd >= 0 ? out_fd : write_end.get(), write_end.get()));
  write_end.reset();  // Only the child holds the write end now: EOF when it (and its group) exit.
  Captured c;
  GC_TRY(pump(read_end.get(), child, log, c.output_tail, cancel, step.what));
  GC_ASSIGN_OR_RETURN(c.status, child.wait());
  return c;
}

}  // namespace

Result<DeployLog> DeployLog::open(const std::string& path, std::FILE* echo) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  return DeployLog(std::move(fd), path, echo);
}

void DeployLog::note(std::string_view line) {
  std::string l = "==> " + std::string(line) + "\n";
  write(l);
}

void DeployLog::write(std::string_view data) {
  // The log is a record, not a control path: a full disk must not fail the deploy here.
  (void)write_all(fd_.get(), data);
  if (echo_) {
    std::fwrite(data.data(), 1, data.size(), echo_);
    std::fflush(echo_);
  }
}

Status run_step(const Step& step, DeployLog& log, const std::atomic<bool>* cancel) {
  GC_ASSIGN_OR_RETURN(Captured c, run_piped(step, -1, log, cancel));
  if (!c.status.success()) return failure(step.what, c.status, c.output_tail);
  return ok();
}

Result<Captured> run_collect(const Step& step, DeployLog& log, const std::atomic<bool>* cancel) {
  int mem = ::memfd_create("groundctl-capture", MFD_CLOEXEC);
  if (mem < 0) return make_error(Errc::kIo, std::string("memfd: ") + std::strerror(errno));
  UniqueFd out(mem);
  GC_ASSIGN_OR_RETURN(Captured c, run_piped(step, out.get(), log, cancel));
  char buf[16384];
  off_t at = 0;
  while (c.out.size() < kMaxCapture) {
    ssize_t n = ::pread(out.get(), buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    c.out.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  return c;
}

Result<std::string> run_capture(const Step& step, DeployLog& log, const std::atomic<bool>* cancel) {
  GC_ASSIGN_OR_RETURN(Captured c, run_collect(step, log, cancel));
  if (!c.status.success()) return failure(step.what, c.status, c.output_tail);
  return std::move(c.out);
}

}  // namespace gc::deploy

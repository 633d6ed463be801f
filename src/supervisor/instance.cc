// SPDX-License-Identifier: MIT
#include "supervisor/instance.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <cerrno>
#include <cstring>

#include "supervisor/http_probe.h"

namespace gc::supervisor {
namespace asio = boost::asio;

namespace {

constexpr size_t kReadChunk = 65536;
constexpr size_t kMaxLine = 64 * 1024;  // A longer "line" is cut into pieces of this size.
constexpr size_t kTailBytes = 4096;

Result<UniqueFd> bind_notify_socket(const std::string& name) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sys_error("socket", "notify", errno);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (name.size() + 1 > sizeof sa.sun_path)
    return make_error(Errc::kInvalidArgument, "notify socket name too long");
  // Abstract namespace (leading NUL): nothing to clean up on disk, gone with the fd.
  std::memcpy(sa.sun_path + 1, name.data(), name.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0)
    return sys_error("bind", "notify socket @" + name, errno);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
  return fd;
}

}  // namespace

const char* phase_name(Instance::Phase phase) {
  switch (phase) {
    case Instance::Phase::kStarting:
      return "starting";
    case Instance::Phase::kReady:
      return "running";
    case Instance::Phase::kStopping:
      return "stopping";
    case Instance::Phase::kExited:
      return "exited";
  }
  return "unknown";
}

Instance::Instance(asio::io_context& io, InstanceSpec spec, InstanceEvents events)
    : io_(io),
      spec_(std::move(spec)),
      events_(std::move(events)),
      pidfd_watch_(io),
      out_{asio::posix::stream_descriptor(io), asio::posix::stream_descriptor(io)},
      ipc_(io),
      notify_(io),
      ready_timer_(io),
      probe_timer_(io),
      kill_timer_(io) {}

Result<std::shared_ptr<Instance>> Instance::start(asio::io_context& io, InstanceSpec spec,
                                                  InstanceEvents events) {
  std::shared_ptr<Instance> self(new Instance(io, std::move(spec), std::move(events)));
  GC_TRY(self->begin());
  return self;
}

Status Instance::begin() {
  GC_ASSIGN_OR_RETURN(Pipe out, Pipe::create());
  GC_ASSIGN_OR_RETURN(Pipe err, Pipe::create());
  // A larger pipe lets a bursty child run on while the loop is busy elsewhere. Best effort:
  // unprivileged daemons are capped by /proc/sys/fs/pipe-max-size.
  ::fcntl(out.write.get(), F_SETPIPE_SZ, 1 << 20);
  ::fcntl(err.write.get(), F_SETPIPE_SZ, 1 << 20);
  SpawnOptions& o = spec_.spawn;
  o.stdout_fd = out.write.get();
  o.stderr_fd = err.write.get();
  UniqueFd ipc_parent, ipc_child, notify_fd;
  if (spec_.ready.kind == config::ReadyKind::kIpc) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return sys_error("socketpair", "ipc", errno);
    ipc_parent.reset(sv[0]);
    ipc_child.reset(sv[1]);
    o.extra_fds.push_back(ipc_child.get());
  }
  if (spec_.ready.kind == config::ReadyKind::kNotify) {
    GC_ASSIGN_OR_RETURN(notify_fd, bind_notify_socket(spec_.notify_name));
  }
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  child_ = std::make_unique<ChildProcess>(std::move(child));
  pid_ = child_->pid();
  started_ = std::chrono::steady_clock::now();
  // The child holds its own copies now; closing ours makes EOF mean "the child's side closed".
  out.write.reset();
  err.write.reset();
  ipc_child.reset();
  o.extra_fds.clear();
  GC_TRY(set_nonblocking(out.read.get(), true));
  GC_TRY(set_nonblocking(err.read.get(), true));
  out_[0].assign(out.read.release());
  out_[1].assign(err.read.release());
  int dup_pidfd = ::fcntl(child_->pidfd(), F_DUPFD_CLOEXEC, 0);
  if (dup_pidfd < 0) return sys_error("dup", "pidfd", errno);
  pidfd_watch_.assign(dup_pidfd);
  if (ipc_parent) {
    GC_TRY(set_nonblocking(ipc_parent.get(), true));
    ipc_.assign(ipc_parent.release());
  }
  if (notify_fd) notify_.assign(notify_fd.release());
  watch_exit();
  read_output(0);
  read_output(1);
  arm_readiness();
  return ok();
}

void Instance::watch_exit() {
  pidfd_watch_.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                            if (!ec) self->on_pidfd_readable();
                          });
}

void Instance::on_pidfd_readable() {
  // Take what the child wrote before dying, so the exit report carries its last stderr lines.
  drain_output_now();
  auto st = child_->try_wait();
  if (!st || !st->has_value()) {
    if (st) {
      watch_exit();
      return;
    }
    finish(ExitStatus{true, 0, SIGKILL});
    return;
  }
  finish(**st);
}

void Instance::finish(const ExitStatus& status) {
  phase_ = Phase::kExited;
  ready_timer_.cancel();
  probe_timer_.cancel();
  kill_timer_.cancel();
  boost::system::error_code ignored;
  ipc_.close(ignored);
  notify_.close(ignored);
  pidfd_watch_.close(ignored);
  if (events_.on_exit) events_.on_exit(*this, status);
}

void Instance::read_output(int index) {
  read_buf_[index].resize(kReadChunk);
  out_[index].async_read_some(
      asio::buffer(read_buf_[index]),
      [self = shared_from_this(), index](const boost::system::error_code& ec, size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
          self->handle_output(index, {}, true);
          return;
        }
        self->handle_output(index, std::string_view(self->read_buf_[index]).substr(0, n), false);
        self->read_output(index);
      });
}

void Instance::drain_output_now() {
  char buf[kReadChunk];
  for (int i = 0; i < 2; ++i) {
    if (!out_[i].is_open()) continue;
    // Bounded: a group member that outlives the leader may keep writing until reap() kills it,
    // and the loop must not spin on it.
    for (int chunk = 0; chunk < 16; ++chunk) {
      ssize_t n = ::read(out_[i].native_handle(), buf, sizeof buf);
      if (n <= 0) break;
      handle_output(i, std::string_view(buf, static_cast<size_t>(n)), false);
    }
  }
}

void Instance::handle_output(int index, std::string_view data, bool eof) {
  auto stream = index == 0 ? OutputStream::kStdout : OutputStream::kStderr;
  std::string& partial = partial_[index];
  auto emit = [&](std::string_view lines) {
    if (lines.empty()) return;
    if (index == 1) {
      stderr_tail_.append(lines);
      if (stderr_tail_.size() > kTailBytes) stderr_tail_.erase(0, stderr_tail_.size() - kTailBytes);
    }
    if (events_.on_output) events_.on_output(*this, stream, lines);
  };
  auto last_nl = data.rfind('\n');
  if (last_nl == std::string_view::npos) {
    partial.append(data);
  } else if (partial.empty()) {
    emit(data.substr(0, last_nl + 1));  // The common case: no copy.
    partial.assign(data.substr(last_nl + 1));
  } else {
    partial.append(data.substr(0, last_nl + 1));
    emit(partial);
    partial.assign(data.substr(last_nl + 1));
  }
  if (partial.size() >= kMaxLine || (eof && !partial.empty())) {
    partial.push_back('\n');
    emit(partial);
    partial.clear();
  }
}

void Instance::mark_ready() {
  if (phase_ != Phase::kStarting) return;
  phase_ = Phase::kReady;
  ready_timer_.cancel();
  probe_timer_.cancel();
  if (events_.on_ready) events_.on_ready(*this);
}

void Instance::arm_readiness() {
  ready_timer_.expires_after(spec_.ready_timeout);
  ready_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->phase_ != Phase::kStarting) return;
    if (self->events_.on_not_ready) {
      self->events_.on_not_ready(
          *self,
          "not ready within " + format_duration(self->spec_.ready_timeout) + " (ready_timeout)");
    }
  });
  switch (spec_.ready.kind) {
    case config::ReadyKind::kIpc:
      read_ipc();
      break;
    case config::ReadyKind::kNotify:
      read_notify();
      break;
    case config::ReadyKind::kHttp:
      probe_http();
      break;
    case config::ReadyKind::kDelay:
      probe_timer_.expires_after(spec_.ready.delay);
      probe_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->mark_ready();
      });
      break;
  }
}

void Instance::read_ipc() {
  ipc_buf_.resize(4096);
  ipc_.async_read_some(asio::buffer(ipc_buf_), [self = shared_from_this()](
                                                   const boost::system::error_code& ec, size_t n) {
    if (ec) return;  // EOF: the child closed its channel; readiness may still time out.
    // Node's IPC channel carries one JSON value per line; process.send('ready') is "ready".
    self->ipc_partial_.append(self->ipc_buf_.data(), n);
    size_t nl;
    while ((nl = self->ipc_partial_.find('\n')) != std::string::npos) {
      std::string line = self->ipc_partial_.substr(0, nl);
      self->ipc_partial_.erase(0, nl + 1);
      if (line == "\"ready\"") self->mark_ready();  // Exactly process.send('ready').
    }
    if (self->ipc_partial_.size() > 65536) self->ipc_partial_.clear();
    self->read_ipc();
  });
}

void Instance::read_notify() {
  notify_.async_wait(
      asio::posix::stream_descriptor::wait_read,
      [self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        for (;;) {
          char data[4096];
          alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
          iovec iov{data, sizeof data - 1};
          msghdr msg{};
          msg.msg_iov = &iov;
          msg.msg_iovlen = 1;
          msg.msg_control = control;
          msg.msg_controllen = sizeof control;
          ssize_t n =
              ::recvmsg(self->notify_.native_handle(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
          if (n < 0) break;
          // Only the instance's own process group may declare it ready: the abstract socket is
          // reachable by any local process.
          pid_t sender = 0;
          for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
              ucred cred{};
              std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
              sender = cred.pid;
            }
          }
          if (sender != self->pid_ && ::getpgid(sender) != self->pid_) continue;
          std::string_view text(data, static_cast<size_t>(n));
          size_t pos = 0;
          while (pos <= text.size()) {
            size_t nl = text.find('\n', pos);
            std::string_view line =
                text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
            if (line == "READY=1") self->mark_ready();
            if (nl == std::string_view::npos) break;
            pos = nl + 1;
          }
        }
        if (self->phase_ != Phase::kExited) self->read_notify();
      });
}

void Instance::probe_http() {
  auto self = shared_from_this();
  start_http_probe(io_, spec_.ready.http_url, std::chrono::seconds(2), [self](bool healthy) {
    if (self->phase_ != Phase::kStarting) return;
    if (healthy) {
      self->mark_ready();
      return;
    }
    self->probe_timer_.expires_after(std::chrono::milliseconds(250));
    self->probe_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec && self->phase_ == Phase::kStarting) self->probe_http();
    });
  });
}

void Instance::stop(int signo, Duration timeout) {
  if (phase_ == Phase::kExited) return;
  stop_requested_ = true;
  phase_ = Phase::kStopping;
  ready_timer_.cancel();
  probe_timer_.cancel();
  (void)child_->signal_group(signo);
  kill_timer_.expires_after(timeout);
  kill_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->phase_ == Phase::kExited) return;
    (void)self->child_->signal_group(SIGKILL);
  });
}

}  // namespace gc::supervisor

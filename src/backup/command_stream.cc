// SPDX-License-Identifier: MIT
#include "backup/command_stream.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace gc::backup {
namespace {

constexpr size_t kChunk = 256 * 1024;

Result<UniqueFd> make_memfd(const char* name) {
  int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return tl::unexpected(sys_error("memfd_create", name, errno));
  return UniqueFd(fd);
}

Error command_failed(const CommandSpec& spec, const ExitStatus& st, int err_fd) {
  std::string tail = stderr_tail(err_fd);
  std::string msg = spec.what + " failed (" + st.to_string() + ")";
  if (!tail.empty()) msg += ": " + tail;
  return Error{Errc::kInternal, msg};
}

}  // namespace

std::string stderr_tail(int fd, size_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) return "";
  size_t size = static_cast<size_t>(st.st_size);
  size_t start = size > max_bytes ? size - max_bytes : 0;
  std::string buf(size - start, '\0');
  ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(start));
  if (n <= 0) return "";
  buf.resize(static_cast<size_t>(n));
  if (start > 0) {
    size_t nl = buf.find('\n');
    if (nl != std::string::npos) buf.erase(0, nl + 1);
  }
  while (!buf.empty() && (buf.back() == '\n' || buf.back() == ' ')) buf.pop_back();
  // One line in error messages: the tool's lines joined.
  for (char& c : buf) {
    if (c == '\n') c = ' ';
  }
  return buf;
}

Status run_into(const CommandSpec& spec, const ByteSink& sink) {
  GC_ASSIGN_OR_RETURN(Pipe out, Pipe::create());
  GC_ASSIGN_OR_RETURN(UniqueFd err, make_memfd("stderr"));
  SpawnOptions o;
  o.argv = spec.argv;
  o.env = spec.env;
  o.credentials = spec.credentials;
  o.stdout_fd = out.write.get();
  o.stderr_fd = err.get();
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  out.write.reset();
  std::vector<std::uint8_t> buf(kChunk);
  while (true) {
    ssize_t n = ::read(out.read.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(sys_error("read", "output of " + spec.what, errno));
    if (n == 0) break;
    // On a sink error the ChildProcess destructor kills the command.
    GC_TRY(sink(std::span<const std::uint8_t>(buf.data(), static_cast<size_t>(n))));
  }
  GC_ASSIGN_OR_RETURN(ExitStatus st, child.wait());
  if (!st.success()) return tl::unexpected(command_failed(spec, st, err.get()));
  return {};
}

Result<CommandSink> CommandSink::start(const CommandSpec& spec) {
  GC_ASSIGN_OR_RETURN(Pipe in, Pipe::create());
  GC_ASSIGN_OR_RETURN(UniqueFd err, make_memfd("stderr"));
  SpawnOptions o;
  o.argv = spec.argv;
  o.env = spec.env;
  o.credentials = spec.credentials;
  o.stdin_fd = in.read.get();
  o.stdout_fd = err.get();
  o.stderr_fd = err.get();
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  in.read.reset();
  return CommandSink(spec, std::move(child), std::move(in.write), std::move(err));
}

Status CommandSink::failed() {
  auto st = child_.wait();
  if (!st) return tl::unexpected(st.error());
  return tl::unexpected(command_failed(spec_, *st, stderr_.get()));
}

Status CommandSink::write(std::span<const std::uint8_t> data) {
  while (!data.empty()) {
    // SIGPIPE is ignored by every groundctl process, so an exited reader gives EPIPE here.
    ssize_t n = ::write(stdin_.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) {
      stdin_.reset();
      Status f = failed();
      if (!f) return f;
      return tl::unexpected(Error{Errc::kInternal, spec_.what + " stopped reading its input"});
    }
    if (n < 0) return tl::unexpected(sys_error("write", "input of " + spec_.what, errno));
    data = data.subspan(static_cast<size_t>(n));
  }
  return {};
}

Status CommandSink::finish() {
  stdin_.reset();
  GC_ASSIGN_OR_RETURN(ExitStatus st, child_.wait());
  if (!st.success()) return tl::unexpected(command_failed(spec_, st, stderr_.get()));
  return {};
}

}  // namespace gc::backup

// SPDX-License-Identifier: MIT
#include "provision/run_command.h"

#include <grp.h>
#include <pwd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"

namespace gc::provision {
namespace {

constexpr std::size_t kKeep = 64 * 1024;
constexpr const char* kPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Anonymous in-memory files: stdin is written before the child starts and the output read
// after it exits, so no pipe can fill up and deadlock either side.
Result<UniqueFd> memfd(const char* name) {
  int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return sys_error("memfd_create", name, errno);
  return UniqueFd(fd);
}

Result<std::string> read_back(int fd) {
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) return sys_error("lseek", "command output", errno);
  off_t from = size > static_cast<off_t>(kKeep) ? size - static_cast<off_t>(kKeep) : 0;
  std::string out(static_cast<std::size_t>(size - from), '\0');
  ssize_t n = ::pread(fd, out.data(), out.size(), from);
  if (n < 0) return sys_error("read", "command output", errno);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

std::string CommandOutcome::tail() const {
  std::string t = output;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ' || t.back() == '\r')) t.pop_back();
  std::size_t pos = t.size();
  for (int lines = 0; lines < 10 && pos != std::string::npos && pos > 0; ++lines) {
    pos = t.rfind('\n', pos - 1);
  }
  if (pos != std::string::npos && pos > 0) t = t.substr(pos + 1);
  std::size_t start = t.find_first_not_of(" \n\r\t");
  return start == std::string::npos ? "" : t.substr(start);
}

std::vector<std::string> substitute_root(const std::vector<std::string>& argv,
                                         const std::string& root) {
  std::vector<std::string> out;
  for (std::string a : argv) {
    for (std::size_t p = a.find("{root}"); p != std::string::npos; p = a.find("{root}", p)) {
      a.replace(p, 6, root);
      p += root.size();
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<CommandOutcome> run_command(const std::vector<std::string>& argv,
                                   const std::string& stdin_text, const std::string& run_as) {
  if (argv.empty()) return make_error(Errc::kInvalidArgument, "empty command");
  SpawnOptions o;
  o.argv = argv;
  o.env = {std::string("PATH=") + kPath, "LC_ALL=C"};
  std::string home = "/root";
  if (!run_as.empty()) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwnam_r(run_as.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 || !found) {
      return make_error(Errc::kNotFound, "user " + run_as + " does not exist");
    }
    Credentials c;
    c.uid = pw.pw_uid;
    c.gid = pw.pw_gid;
    int n = 32;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (::getgrouplist(run_as.c_str(), pw.pw_gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<std::size_t>(n));
      (void)::getgrouplist(run_as.c_str(), pw.pw_gid, groups.data(), &n);
    }
    groups.resize(static_cast<std::size_t>(n > 0 ? n : 0));
    c.groups = std::move(groups);
    o.credentials = std::move(c);
    home = pw.pw_dir;
    o.cwd = "/";  // The caller's cwd may be unreadable for that user (psql complains).
  }
  o.env.push_back("HOME=" + home);
  GC_ASSIGN_OR_RETURN(UniqueFd in, memfd("groundctl-stdin"));
  GC_TRY(write_all(in.get(), stdin_text));
  if (::lseek(in.get(), 0, SEEK_SET) < 0) return sys_error("lseek", "command input", errno);
  GC_ASSIGN_OR_RETURN(UniqueFd out, memfd("groundctl-output"));
  o.stdin_fd = in.get();
  o.stdout_fd = out.get();
  o.stderr_fd = out.get();
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  GC_ASSIGN_OR_RETURN(ExitStatus status, child.wait());
  GC_ASSIGN_OR_RETURN(std::string output, read_back(out.get()));
  return CommandOutcome{status, std::move(output)};
}

}  // namespace gc::provision

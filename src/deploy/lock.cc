// SPDX-License-Identifier: MIT
#include "deploy/lock.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/utc_time.h"

namespace gc::deploy {

Result<DeployLock> DeployLock::acquire(const std::string& state_dir, const std::string& command) {
  GC_TRY(make_directories(state_dir, 0700));
  std::string path = state_dir + "/deploy.lock";
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      return make_error(Errc::kIo, "lock " + path + ": " + std::strerror(errno));
    }
    std::string holder = read_file(path).value_or("");
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    return make_error(Errc::kConflict,
                      "another deploy is running: " +
                          (holder.empty() ? std::string("(holder unknown)") : holder) +
                          "; wait for it to finish (it holds " + path + ")");
  }
  const passwd* pw = ::getpwuid(::geteuid());
  std::string holder = "pid " + std::to_string(::getpid()) + " (user " +
                       (pw ? pw->pw_name : std::to_string(::geteuid())) + ") since " +
                       format_utc(std::chrono::system_clock::now()) + ": " + command + "\n";
  if (::ftruncate(fd.get(), 0) != 0) {
    return make_error(Errc::kIo, "truncate " + path + ": " + std::strerror(errno));
  }
  GC_TRY(write_all(fd.get(), holder));
  return DeployLock(std::move(fd));
}

}  // namespace gc::deploy

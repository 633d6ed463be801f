// SPDX-License-Identifier: MIT
#include "deploy/release_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"
#include "deploy/releases.h"

namespace gc::deploy {
namespace {

Error errno_error(const std::string& what) {
  int e = errno;
  return make_error(e == EACCES || e == EPERM ? Errc::kPermission : Errc::kIo,
                    what + ": " + std::strerror(e));
}

Status sync_dir(const std::string& dir) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (::fsync(fd.get()) != 0) return errno_error("fsync " + dir);
  return ok();
}

// nftw callbacks carry no user pointer; these run on the calling thread only.
thread_local uid_t g_uid;
thread_local gid_t g_gid;
thread_local int g_errno;
thread_local const char* g_failed;

int remove_entry(const char* path, const struct stat*, int type, struct FTW*) {
  int rc = type == FTW_DP ? ::rmdir(path) : ::unlink(path);
  if (rc != 0 && errno != ENOENT) {
    g_errno = errno;
    g_failed = path;
    return 1;
  }
  return 0;
}

int chown_entry(const char* path, const struct stat*, int, struct FTW*) {
  if (::lchown(path, g_uid, g_gid) != 0) {
    g_errno = errno;
    g_failed = path;
    return 1;
  }
  return 0;
}

std::string bare(const std::string& entry) {
  return entry.size() > 1 && entry.back() == '/' ? entry.substr(0, entry.size() - 1) : entry;
}

bool is_dir_entry(const std::string& entry) { return entry.size() > 1 && entry.back() == '/'; }

}  // namespace

Status remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok();
    return errno_error("stat " + path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0) return errno_error("remove " + path);
    return ok();
  }
  if (::nftw(path.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS) != 0) {
    std::string failed = g_failed ? g_failed : path;
    errno = g_errno;
    return errno_error("remove " + failed);
  }
  return ok();
}

Status chown_tree(const std::string& path, uid_t uid, gid_t gid) {
  g_uid = uid;
  g_gid = gid;
  g_failed = nullptr;
  if (::nftw(path.c_str(), chown_entry, 32, FTW_PHYS) != 0) {
    std::string failed = g_failed ? g_failed : path;
    errno = g_errno;
    return errno_error("chown " + failed);
  }
  return ok();
}

Status ReleaseRoot::prepare() const {
  GC_TRY(make_directories(root_, 0755));
  GC_TRY(make_directories(releases_dir(), 0755));
  GC_TRY(make_directories(shared_dir(), 0755));
  return ok();
}

Result<std::optional<std::string>> ReleaseRoot::active() const {
  std::string link = current_link();
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    if (errno == EINVAL) {
      return make_error(Errc::kConflict,
                        link +
                            " exists and is not a symlink: move it away (groundctl manages "
                            "current as a symlink to releases/<id>)");
    }
    return errno_error("readlink " + link);
  }
  std::string target(buf, static_cast<std::size_t>(n));
  for (const std::string& prefix : {std::string("releases/"), releases_dir() + "/"}) {
    if (target.rfind(prefix, 0) == 0 && is_release_id(target.substr(prefix.size()))) {
      return std::optional<std::string>(target.substr(prefix.size()));
    }
  }
  return make_error(Errc::kConflict, link + " points to \"" + target +
                                         "\", not to a groundctl release: point it at "
                                         "releases/<id> or remove it");
}

Status ReleaseRoot::switch_to(const std::string& id) const {
  if (!is_release_id(id)) return make_error(Errc::kInvalidArgument, "not a release id: " + id);
  std::string tmp = root_ + "/.current-" + id;
  ::unlink(tmp.c_str());
  // Relative, so the root can be moved or mounted elsewhere and still resolve.
  if (::symlink(("releases/" + id).c_str(), tmp.c_str()) != 0) {
    return errno_error("symlink " + tmp);
  }
  if (::rename(tmp.c_str(), current_link().c_str()) != 0) {
    Error e = errno_error("rename " + tmp + " to " + current_link());
    ::unlink(tmp.c_str());
    return e;
  }
  return sync_dir(root_);
}

Result<std::vector<std::string>> ReleaseRoot::list() const {
  std::vector<std::string> out;
  DIR* d = ::opendir(releases_dir().c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return errno_error("open " + releases_dir());
  }
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (is_release_id(name)) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

Status ReleaseRoot::remove(const std::string& id) const {
  if (!is_release_id(id)) return make_error(Errc::kInvalidArgument, "not a release id: " + id);
  return remove_tree(release_dir(id));
}

std::string ReleaseRoot::missing_shared(const std::vector<std::string>& shared) const {
  std::string missing;
  for (const auto& entry : shared) {
    if (is_dir_entry(entry)) continue;
    std::string path = shared_dir() + "/" + entry;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) missing += (missing.empty() ? "" : ", ") + path;
  }
  if (missing.empty()) return "";
  return "shared files missing: " + missing +
         " (create them; entries of deploy.shared that end in \"/\" are directories created "
         "automatically)";
}

Status ReleaseRoot::link_shared(const std::string& app_dir, const std::vector<std::string>& shared,
                                const std::optional<Credentials>& owner) const {
  for (const auto& entry : shared) {
    std::string name = bare(entry);
    std::string target = shared_dir() + "/" + name;
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) {
      if (errno != ENOENT || !is_dir_entry(entry)) return errno_error("shared " + target);
      GC_TRY(make_directories(target, 0755));
      if (owner) GC_TRY(chown_tree(target, owner->uid, owner->gid));
    }
    std::string link = app_dir + "/" + name;
    GC_TRY(remove_tree(link));
    std::size_t slash = link.rfind('/');
    GC_TRY(make_directories(link.substr(0, slash), 0755));
    if (::symlink(target.c_str(), link.c_str()) != 0) return errno_error("symlink " + link);
    if (owner && ::lchown(link.c_str(), owner->uid, owner->gid) != 0) {
      return errno_error("chown " + link);
    }
  }
  return ok();
}

}  // namespace gc::deploy

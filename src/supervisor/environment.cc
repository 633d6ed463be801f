// SPDX-License-Identifier: MIT
#include "supervisor/environment.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>

namespace gc::supervisor {

Result<UserInfo> lookup_user(const std::string& name) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = name.empty() ? ::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found)
                        : ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (found == nullptr) {
    if (rc != 0) return sys_error("look up user", name, rc);
    return make_error(Errc::kNotFound, "user \"" + name + "\" does not exist (create it, or " +
                                           "remove user from the service)");
  }
  UserInfo info;
  info.name = pw.pw_name;
  info.home = pw.pw_dir;
  info.shell = pw.pw_shell;
  info.credentials.uid = pw.pw_uid;
  info.credentials.gid = pw.pw_gid;
  int ngroups = 64;
  std::vector<gid_t> groups(static_cast<size_t>(ngroups));
  while (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &ngroups) < 0) {
    groups.resize(static_cast<size_t>(ngroups) * 2);
    ngroups = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<size_t>(ngroups));
  info.credentials.groups = std::move(groups);
  return info;
}

std::vector<std::string> build_environment(const EnvInputs& in) {
  std::map<std::string, std::string> env;
  env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (in.user != nullptr) {
    env["HOME"] = in.user->home;
    env["USER"] = in.user->name;
    env["LOGNAME"] = in.user->name;
    env["SHELL"] = in.user->shell;
  }
  for (const auto& [k, v] : in.inherited) env[k] = v;
  for (const auto& [k, v] : in.env_file) env[k] = v;
  if (in.env != nullptr) {
    for (const auto& [k, v] : *in.env) env[k] = v;
  }
  // Protocol variables describe fds this spawn really passes: never from the config.
  for (const char* k : {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NODE_CHANNEL_FD",
                        "NODE_CHANNEL_SERIALIZATION_MODE", "NOTIFY_SOCKET"}) {
    env.erase(k);
  }
  env["GROUNDCTL_SERVICE"] = in.service;
  env["GROUNDCTL_INSTANCE"] = std::to_string(in.instance);
  if (!in.listen_names.empty()) {
    env["LISTEN_FDS"] = std::to_string(in.listen_names.size());
    // One entry per fd, even an empty one: a receiver maps names to fds by position.
    std::string names;
    for (size_t i = 0; i < in.listen_names.size(); ++i) {
      if (i > 0) names += ':';
      names += in.listen_names[i];
    }
    env["LISTEN_FDNAMES"] = names;
  }
  if (in.ipc_fd >= 0) {
    env["NODE_CHANNEL_FD"] = std::to_string(in.ipc_fd);
    env["NODE_CHANNEL_SERIALIZATION_MODE"] = "json";
  }
  if (!in.notify_socket.empty()) env["NOTIFY_SOCKET"] = in.notify_socket;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace gc::supervisor

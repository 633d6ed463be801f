// SPDX-License-Identifier: MIT
// supervisor/environment.h: the clean environment an instance starts with, and the user it runs
// as. Nothing leaks from the daemon's own environment except LANG/LC_ALL/TZ.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

namespace gc::supervisor {

struct UserInfo {
  std::string name;
  std::string home;
  std::string shell;
  Credentials credentials;
};

// Looks up `name` (empty: the daemon's own user) in the passwd and group databases.
// Errors: kNotFound for an unknown user. Not thread-safe (getgrouplist); call on the loop thread.
Result<UserInfo> lookup_user(const std::string& name);

struct EnvInputs {
  const UserInfo* user = nullptr;
  std::vector<std::pair<std::string, std::string>> inherited;  // LANG, TZ... from the daemon.
  std::vector<std::pair<std::string, std::string>> env_file;   // From env_file, in file order.
  const std::map<std::string, std::string>* env = nullptr;     // The service's env table.
  std::string service;
  int instance = 0;
  std::vector<std::string> listen_names;  // LISTEN_FDS protocol, fds 3...
  int ipc_fd = -1;                        // NODE_CHANNEL_FD, or -1.
  std::string notify_socket;              // NOTIFY_SOCKET, or empty.
};

// Layers, later wins: defaults (PATH, HOME, USER, LOGNAME, SHELL), inherited, env_file, env,
// then groundctl's own variables, which a config cannot override. LISTEN_PID is added by
// ChildProcess in the child. Pure.
std::vector<std::string> build_environment(const EnvInputs& in);

}  // namespace gc::supervisor

// SPDX-License-Identifier: MIT
// Tests for supervisor/environment.h: the layering of an instance's environment, the protocol
// variables only groundctl may set, and user lookup against the real passwd database.
#include "supervisor/environment.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gc::supervisor {
namespace {

// Splits "KEY=VALUE" entries; fails the test on a duplicate key or an entry without '='.
std::map<std::string, std::string> to_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& entry : env) {
    auto eq = entry.find('=');
    EXPECT_NE(eq, std::string::npos) << entry;
    if (eq == std::string::npos) continue;
    bool inserted = out.emplace(entry.substr(0, eq), entry.substr(eq + 1)).second;
    EXPECT_TRUE(inserted) << "duplicate " << entry;
  }
  return out;
}

UserInfo alice() {
  UserInfo u;
  u.name = "alice";
  u.home = "/home/alice";
  u.shell = "/bin/bash";
  return u;
}

TEST(BuildEnvironment, DefaultsComeFromTheUser) {
  UserInfo user = alice();
  EnvInputs in;
  in.user = &user;
  in.service = "web";
  auto env = to_map(build_environment(in));
  EXPECT_EQ(env["HOME"], "/home/alice");
  EXPECT_EQ(env["USER"], "alice");
  EXPECT_EQ(env["LOGNAME"], "alice");
  EXPECT_EQ(env["SHELL"], "/bin/bash");
  EXPECT_NE(env["PATH"].find("/usr/bin"), std::string::npos);
}

TEST(BuildEnvironment, WithoutUserHasOnlyPathAndOwnVariables) {
  EnvInputs in;
  in.service = "web";
  auto env = to_map(build_environment(in));
  EXPECT_EQ(env.count("HOME"), 0u);
  EXPECT_EQ(env.count("USER"), 0u);
  std::vector<std::string> keys;
  keys.reserve(env.size());
  for (const auto& [k, v] : env) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"GROUNDCTL_INSTANCE", "GROUNDCTL_SERVICE", "PATH"}));
}

TEST(BuildEnvironment, LaterLayersWin) {
  UserInfo user = alice();
  std::map<std::string, std::string> table = {
      {"FROM_ENV", "env"}, {"IN_FILE_AND_ENV", "env"}, {"USER", "bob"}};
  EnvInputs in;
  in.user = &user;
  in.inherited = {{"LANG", "C.UTF-8"},
                  {"TZ", "UTC"},
                  {"HOME", "/inherited"},
                  {"IN_INHERITED_AND_FILE", "inherited"}};
  in.env_file = {{"IN_INHERITED_AND_FILE", "file"},
                 {"IN_FILE_AND_ENV", "file"},
                 {"FILE_TWICE", "first"},
                 {"FILE_TWICE", "second"},
                 {"PATH", "/opt/app/bin"}};
  in.env = &table;
  in.service = "web";
  auto env = to_map(build_environment(in));
  EXPECT_EQ(env["LANG"], "C.UTF-8");
  EXPECT_EQ(env["TZ"], "UTC");
  EXPECT_EQ(env["HOME"], "/inherited");             // inherited > defaults
  EXPECT_EQ(env["IN_INHERITED_AND_FILE"], "file");  // env_file > inherited
  EXPECT_EQ(env["FILE_TWICE"], "second");           // file order: the last one wins
  EXPECT_EQ(env["PATH"], "/opt/app/bin");           // env_file > defaults
  EXPECT_EQ(env["IN_FILE_AND_ENV"], "env");         // env > env_file
  EXPECT_EQ(env["USER"], "bob");                    // env > defaults
  EXPECT_EQ(env["FROM_ENV"], "env");
  EXPECT_EQ(env["LOGNAME"], "alice");
}

TEST(BuildEnvironment, GroundctlVariablesCannotBeOverridden) {
  std::map<std::string, std::string> table = {{"GROUNDCTL_SERVICE", "evil"},
                                              {"GROUNDCTL_INSTANCE", "99"}};
  EnvInputs in;
  in.env_file = {{"GROUNDCTL_SERVICE", "evil-file"}};
  in.env = &table;
  in.service = "api";
  in.instance = 3;
  auto env = to_map(build_environment(in));
  EXPECT_EQ(env["GROUNDCTL_SERVICE"], "api");
  EXPECT_EQ(env["GROUNDCTL_INSTANCE"], "3");
}

TEST(BuildEnvironment, ProtocolVariablesFromConfigAreRemoved) {
  std::map<std::string, std::string> table = {{"NODE_CHANNEL_FD", "7"},
                                              {"NODE_CHANNEL_SERIALIZATION_MODE", "advanced"},
                                              {"LISTEN_PID", "1"},
                                              {"KEEP_ME", "yes"}};
  EnvInputs in;
  in.inherited = {{"NOTIFY_SOCKET", "/run/systemd/notify"}};
  in.env_file = {{"LISTEN_FDS", "9"}, {"LISTEN_FDNAMES", "x:y"}, {"NOTIFY_SOCKET", "/tmp/n"}};
  in.env = &table;
  in.service = "web";
  auto env = to_map(build_environment(in));
  for (const char* k : {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NODE_CHANNEL_FD",
                        "NODE_CHANNEL_SERIALIZATION_MODE", "NOTIFY_SOCKET"}) {
    EXPECT_EQ(env.count(k), 0u) << k << "=" << env[k];
  }
  EXPECT_EQ(env["KEEP_ME"], "yes");
}

TEST(BuildEnvironment, ProtocolVariablesDescribeTheRealFds) {
  std::map<std::string, std::string> table = {{"LISTEN_FDS", "9"},
                                              {"NODE_CHANNEL_FD", "8"},
                                              {"NOTIFY_SOCKET", "/tmp/evil"},
                                              {"LISTEN_PID", "1"}};
  EnvInputs in;
  in.env_file = {{"LISTEN_FDNAMES", "evil"}};
  in.env = &table;
  in.service = "web";
  in.listen_names = {"127.0.0.1_3000", "[__1]_3001"};
  in.ipc_fd = 5;
  in.notify_socket = "@groundctl/1/web/0/1";
  auto env = to_map(build_environment(in));
  EXPECT_EQ(env["LISTEN_FDS"], "2");
  EXPECT_EQ(env["LISTEN_FDNAMES"], "127.0.0.1_3000:[__1]_3001");
  EXPECT_EQ(env["NODE_CHANNEL_FD"], "5");
  EXPECT_EQ(env["NODE_CHANNEL_SERIALIZATION_MODE"], "json");
  EXPECT_EQ(env["NOTIFY_SOCKET"], "@groundctl/1/web/0/1");
  // ChildProcess adds LISTEN_PID in the child, where the pid is known.
  EXPECT_EQ(env.count("LISTEN_PID"), 0u);
}

TEST(BuildEnvironment, OneListenNameHasNoSeparator) {
  EnvInputs in;
  in.listen_names = {"127.0.0.1_3000"};
  auto env = to_map(build_environment(in));
  EXPECT_EQ(env["LISTEN_FDS"], "1");
  EXPECT_EQ(env["LISTEN_FDNAMES"], "127.0.0.1_3000");
}

TEST(BuildEnvironment, ListenNamesKeepOneEntryPerFdEvenWhenEmpty) {
  // LISTEN_FDNAMES must hold exactly LISTEN_FDS entries, so an empty name still takes a slot.
  EnvInputs in;
  in.listen_names = {"", "b", "", "d"};
  auto env = to_map(build_environment(in));
  EXPECT_EQ(env["LISTEN_FDS"], "4");
  EXPECT_EQ(env["LISTEN_FDNAMES"], ":b::d");
}

TEST(BuildEnvironment, NoFdsMeansNoProtocolVariables) {
  EnvInputs in;
  in.service = "web";
  auto env = to_map(build_environment(in));
  EXPECT_EQ(env.count("LISTEN_FDS"), 0u);
  EXPECT_EQ(env.count("LISTEN_FDNAMES"), 0u);
  EXPECT_EQ(env.count("NODE_CHANNEL_FD"), 0u);
  EXPECT_EQ(env.count("NOTIFY_SOCKET"), 0u);
}

TEST(BuildEnvironment, ValuesMayHoldEqualsSigns) {
  std::map<std::string, std::string> table = {{"DATABASE_URL", "postgres://h/db?sslmode=require"}};
  EnvInputs in;
  in.env = &table;
  auto entries = build_environment(in);
  EXPECT_NE(
      std::find(entries.begin(), entries.end(), "DATABASE_URL=postgres://h/db?sslmode=require"),
      entries.end());
}

TEST(LookupUser, FindsRoot) {
  auto user = lookup_user("root");
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(user->name, "root");
  EXPECT_EQ(user->credentials.uid, 0u);
  EXPECT_EQ(user->credentials.gid, 0u);
  EXPECT_FALSE(user->home.empty());
  EXPECT_FALSE(user->shell.empty());
  const auto& groups = user->credentials.groups;
  EXPECT_NE(std::find(groups.begin(), groups.end(), 0u), groups.end());
}

TEST(LookupUser, EmptyNameIsTheDaemonsOwnUser) {
  auto user = lookup_user("");
  if (!user && user.error().code == Errc::kNotFound) {
    GTEST_SKIP() << "euid " << ::geteuid() << " has no passwd entry";
  }
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(user->credentials.uid, ::geteuid());
  EXPECT_FALSE(user->name.empty());
}

TEST(LookupUser, UnknownUserIsNotFoundWithAHint) {
  auto user = lookup_user("no-such-user-xyz");
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, Errc::kNotFound);
  EXPECT_NE(user.error().message.find("\"no-such-user-xyz\""), std::string::npos)
      << user.error().message;
  EXPECT_NE(user.error().message.find("does not exist"), std::string::npos) << user.error().message;
}

}  // namespace
}  // namespace gc::supervisor

// SPDX-License-Identifier: MIT
// tests/e2e/provision_e2e_test.cc: `groundctl plan` and `groundctl apply --root` with the real
// renderers: diffs and exit codes, files written under the root only, idempotence, and the
// lock-out guard refusing an [ssh] whose only user has no key.
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

constexpr const char* kKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@laptop\n";

// A target root with the users the guards look at: orbital (in sudo, with `keys`).
void make_root(const std::string& root, const std::string& keys) {
  ASSERT_TRUE(make_directories(root + "/etc"));
  ASSERT_TRUE(make_directories(root + "/home/orbital/.ssh", 0700));
  ASSERT_TRUE(write_file_atomic(root + "/etc/passwd",
                                "root:x:0:0:root:/root:/bin/bash\n"
                                "orbital:x:1000:1000::/home/orbital:/bin/bash\n"));
  ASSERT_TRUE(
      write_file_atomic(root + "/etc/group", "root:x:0:\nsudo:x:27:orbital\norbital:x:1000:\n"));
  if (!keys.empty()) {
    ASSERT_TRUE(write_file_atomic(root + "/home/orbital/.ssh/authorized_keys", keys));
  }
}

std::string write_config(const TempDir& dir) {
  std::string path = dir.file("groundctl.toml");
  std::string toml =
      "[server]\nstate_dir = \"/var/lib/groundctl\"\nlog_dir = \"" + dir.file("log") +
      "\"\nruntime_dir = \"" + dir.file("run") +
      "\"\n\n"
      "[[service]]\nname = \"orbital-backend\"\ncommand = [\"node\", \"server.js\"]\n"
      "listen = [\"127.0.0.1:3000\"]\n\n"
      "[nginx]\ndomain = \"api.example.test\"\nupstream = \"orbital-backend\"\n"
      "websocket = [\"/v1/websocket\"]\n\n"
      "[firewall]\nallow = [\"22/tcp\", \"80/tcp\", \"443/tcp\"]\n\n"
      "[ssh]\nallow_users = [\"orbital\"]\n\n"
      "[fail2ban]\njails = [\"sshd\", \"nginx-limit-req\", \"nginx-botsearch\"]\n";
  EXPECT_TRUE(write_file_atomic(path, toml));
  return path;
}

CliResult groundctl(const TempDir& dir, const std::string& config, std::vector<std::string> args) {
  std::vector<std::string> argv = {groundctl_bin(), "-c", config};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv, dir.path());
}

const char* kManaged[] = {"/etc/nginx/conf.d/groundctl.conf",
                          "/etc/ssh/sshd_config.d/10-groundctl.conf",
                          "/etc/fail2ban/jail.d/groundctl.local", "/etc/ufw/user.rules"};

TEST(ProvisionE2e, PlanApplyPlanUnderARoot) {
  auto dir = TempDir::create("provision-e2e-");
  ASSERT_TRUE(dir);
  std::string root = dir->file("root");
  make_root(root, kKey);
  std::string config = write_config(*dir);

  CliResult plan = groundctl(*dir, config, {"plan", "--root", root});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("--- a/etc/nginx/conf.d/groundctl.conf\n+++ "
                          "b/etc/nginx/conf.d/groundctl.conf\n@@ -0,0 +1,"),
            std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("+PasswordAuthentication no"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("run: placeholder certificate for api.example.test"), std::string::npos);
  EXPECT_NE(plan.out.find("(skipped with --root)"), std::string::npos);
  for (const char* f : kManaged) EXPECT_FALSE(std::filesystem::exists(root + f)) << f;

  CliResult json_plan = groundctl(*dir, config, {"plan", "--root", root, "--json"});
  EXPECT_EQ(json_plan.exit_code, 1);
  json j = json_plan.parsed();
  ASSERT_TRUE(j.is_object()) << json_plan.out;
  EXPECT_EQ(j["changes"], true);
  EXPECT_TRUE(j["guards"].empty());
  std::vector<std::string> names;
  for (const auto& c : j["components"]) names.push_back(c["name"]);
  for (const char* want : {"nginx", "firewall", "ssh", "fail2ban"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }

  CliResult apply = groundctl(*dir, config, {"apply", "--root", root});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  for (const char* f : kManaged) EXPECT_TRUE(std::filesystem::exists(root + f)) << f;
  auto drop_in = read_file(root + "/etc/ssh/sshd_config.d/10-groundctl.conf");
  ASSERT_TRUE(drop_in);
  EXPECT_NE(drop_in->find("AllowUsers orbital"), std::string::npos) << *drop_in;
  struct stat st {};
  ASSERT_EQ(::stat((root + "/var/lib/groundctl/tls/api.example.test/privkey.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  CliResult after = groundctl(*dir, config, {"plan", "--root", root});
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_EQ(after.out.find("--- a/"), std::string::npos) << after.out;
  CliResult again = groundctl(*dir, config, {"apply", "--root", root});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("no changes"), std::string::npos) << again.out;

  // A changed config shows up as a diff of the file, not a rewrite.
  auto text = read_file(config);
  ASSERT_TRUE(text);
  std::string changed = *text;
  changed.replace(changed.find("allow_users = [\"orbital\"]"), 25,
                  "allow_users = [\"orbital\"]\nmax_auth_tries = 4");
  ASSERT_TRUE(write_file_atomic(config, changed));
  CliResult diff = groundctl(*dir, config, {"plan", "--root", root});
  EXPECT_EQ(diff.exit_code, 1) << diff.err;
  EXPECT_NE(diff.out.find("+MaxAuthTries 4"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("-MaxAuthTries 3"), std::string::npos) << diff.out;
}

TEST(ProvisionE2e, PlanAcceptsAServiceUserThatApplyCreates) {
  auto dir = TempDir::create("provision-e2e-");
  ASSERT_TRUE(dir);
  std::string root = dir->file("root");
  make_root(root, kKey);
  std::string config = write_config(*dir);
  auto text = read_file(config);
  ASSERT_TRUE(text);
  std::string with_user = *text;
  with_user.replace(with_user.find("listen = "), 0, "user = \"gc-app-not-yet\"\n");
  ASSERT_TRUE(write_file_atomic(config, with_user));

  // On a fresh server the app user comes from apply's own step: plan, apply and audit load.
  CliResult plan = groundctl(*dir, config, {"plan", "--root", root});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("create user gc-app-not-yet"), std::string::npos) << plan.out;
  CliResult apply = groundctl(*dir, config, {"apply", "--root", root});
  EXPECT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  CliResult audit = groundctl(*dir, config, {"audit", "--root", root, "--json"});
  EXPECT_TRUE(audit.parsed().is_object()) << audit.out << audit.err;
  // What runs the service does not: it cannot start as a user that does not exist.
  CliResult check = groundctl(*dir, config, {"check"});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("user: no such user \"gc-app-not-yet\""), std::string::npos)
      << check.err;
}

TEST(ProvisionE2e, RefusesSshWhenTheOnlyUserHasNoKey) {
  auto dir = TempDir::create("provision-e2e-");
  ASSERT_TRUE(dir);
  std::string root = dir->file("root");
  make_root(root, "# no keys yet\n");
  std::string config = write_config(*dir);

  CliResult plan = groundctl(*dir, config, {"plan", "--root", root});
  EXPECT_EQ(plan.exit_code, 2) << plan.out << plan.err;
  CliResult apply = groundctl(*dir, config, {"apply", "--root", root});
  EXPECT_EQ(apply.exit_code, 2) << apply.out << apply.err;
  EXPECT_NE(apply.err.find("user orbital has no key in /home/orbital/.ssh/authorized_keys"),
            std::string::npos)
      << apply.err;
  for (const char* f : kManaged) EXPECT_FALSE(std::filesystem::exists(root + f)) << f;
  // No backup, state or certificate: only the lock apply held while it read the target.
  EXPECT_FALSE(std::filesystem::exists(root + "/var/lib/groundctl/state.db"));
  EXPECT_FALSE(std::filesystem::exists(root + "/var/lib/groundctl/provision"));
  EXPECT_FALSE(std::filesystem::exists(root + "/var/lib/groundctl/tls"));
  EXPECT_TRUE(std::filesystem::exists(root + "/var/lib/groundctl/provision.lock"));
  CliResult json_apply = groundctl(*dir, config, {"apply", "--root", root, "--json"});
  EXPECT_EQ(json_apply.exit_code, 2);
  json j = json_apply.parsed();
  ASSERT_TRUE(j.is_object()) << json_apply.out;
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["guards"].size(), 1u);
}

}  // namespace
}  // namespace gc::e2e

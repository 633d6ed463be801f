// SPDX-License-Identifier: MIT
// tests/e2e/audit_e2e_test.cc: `groundctl audit --root T --json` on a temp root: a bad sshd
// config and a world-readable env file are named with their remediation (exit 1); the fixed
// root passes those checks.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

json result_of(const json& report, const std::string& id) {
  for (const auto& r : report["results"]) {
    if (r.value("id", "") == id) return r;
  }
  return nullptr;
}

class AuditE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("gc-audit-e2e-");
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
    root_ = dir_->file("root");
    ASSERT_TRUE(make_directories(root_ + "/etc/ssh/sshd_config.d"));
    ASSERT_TRUE(make_directories(root_ + "/srv/app"));
    config_ = dir_->file("groundctl.toml");
    ASSERT_TRUE(write_file_atomic(config_,
                                  "[server]\n"
                                  "state_dir = \"" +
                                      dir_->file("state") +
                                      "\"\n"
                                      "log_dir = \"" +
                                      dir_->file("log") +
                                      "\"\n"
                                      "runtime_dir = \"" +
                                      dir_->file("run") +
                                      "\"\n"
                                      "[[service]]\n"
                                      "name = \"api\"\n"
                                      "command = [\"/bin/true\"]\n"
                                      "user = \"nobody\"\n"
                                      "env_file = \"/srv/app/.env\"\n"
                                      "[ssh]\n"
                                      "allow_users = [\"orbital\"]\n"));
  }

  void write_root(const std::string& sshd, int env_mode) {
    ASSERT_TRUE(write_file_atomic(root_ + "/etc/ssh/sshd_config",
                                  "Include /etc/ssh/sshd_config.d/*.conf\n" + sshd));
    ASSERT_TRUE(write_file_atomic(root_ + "/srv/app/.env", "SECRET=x\n", env_mode));
    ASSERT_EQ(::chmod((root_ + "/srv/app/.env").c_str(), static_cast<mode_t>(env_mode)), 0);
  }

  CliResult audit() {
    return run_capture({groundctl_bin(), "-c", config_, "audit", "--root", root_, "--json"},
                       dir_->path());
  }

  std::optional<TempDir> dir_;
  std::string root_;
  std::string config_;
};

TEST_F(AuditE2e, BadRootFailsNamingEachFindingWithRemediation) {
  write_root("PermitRootLogin yes\nPasswordAuthentication no\n", 0644);
  CliResult r = audit();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  json report = r.parsed();
  ASSERT_TRUE(report.is_object()) << r.out << r.err;
  EXPECT_LT(report.value("score", 100), 100);
  json root_login = result_of(report, "ssh.root_login");
  ASSERT_TRUE(root_login.is_object());
  EXPECT_EQ(root_login["status"], "fail");
  EXPECT_EQ(root_login["severity"], "critical");
  EXPECT_NE(root_login.value("evidence", "").find("permitrootlogin yes"), std::string::npos)
      << root_login.dump();
  EXPECT_NE(root_login.value("remediation", "").find("PermitRootLogin no"), std::string::npos);
  json modes = result_of(report, "files.secret_modes");
  ASSERT_TRUE(modes.is_object());
  EXPECT_EQ(modes["status"], "fail");
  EXPECT_NE(modes.value("evidence", "").find("/srv/app/.env mode 0644"), std::string::npos)
      << modes.dump();
  EXPECT_NE(modes.value("remediation", "").find("chmod 600"), std::string::npos);
  EXPECT_EQ(result_of(report, "ssh.password_auth")["status"], "pass");
  // Live-only facts are not read from this machine under --root.
  EXPECT_EQ(result_of(report, "fail2ban.running")["status"], "skip");
  EXPECT_EQ(result_of(report, "net.exposed_listeners")["status"], "skip");
  // The human form lists the failures first, with their fixes.
  CliResult text =
      run_capture({groundctl_bin(), "-c", config_, "audit", "--root", root_}, dir_->path());
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("FAIL ssh.root_login [critical]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("fix: `chmod 600 FILE`"), std::string::npos) << text.out;
}

TEST_F(AuditE2e, FixedRootPassesThoseChecks) {
  // A drop-in that sorts first wins over the main file's value, as sshd reads it.
  ASSERT_TRUE(write_file_atomic(root_ + "/etc/ssh/sshd_config.d/10-groundctl.conf",
                                "PermitRootLogin no\nPasswordAuthentication no\n"
                                "KbdInteractiveAuthentication no\nMaxAuthTries 3\n"
                                "AllowUsers orbital\n"));
  write_root("PermitRootLogin yes\n", 0600);
  CliResult r = audit();
  json report = r.parsed();
  ASSERT_TRUE(report.is_object()) << r.out << r.err;
  for (const char* id :
       {"ssh.root_login", "ssh.password_auth", "ssh.kbd_interactive", "ssh.max_auth_tries",
        "ssh.allow_users", "files.secret_modes", "services.not_root"}) {
    EXPECT_EQ(result_of(report, id)["status"], "pass") << id << ": " << result_of(report, id);
  }
  // Other checks (no ufw under this root...) still fail: exit 1 stays the "findings" code.
  EXPECT_EQ(r.exit_code, report.value("failed", 0) > 0 ? 1 : 0);
}

TEST_F(AuditE2e, BadConfigExitsTwo) {
  ASSERT_TRUE(write_file_atomic(config_, "[server]\nno_such_key = 1\n"));
  CliResult r = audit();
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

}  // namespace
}  // namespace gc::e2e

// SPDX-License-Identifier: MIT
// tests/provision/planner_test.cc: the unified diff, the lock-out guards and the planner's
// decisions, on hand-built Components and facts.
#include "provision/planner.h"

#include <gtest/gtest.h>

#include "provision/guards.h"
#include "provision/unified_diff.h"

namespace gc::provision {
namespace {

TEST(UnifiedDiff, EqualTextsHaveNoDiff) { EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "/x"), ""); }

TEST(UnifiedDiff, NewFileIsADiffFromEmpty) {
  EXPECT_EQ(unified_diff("", "a\nb\n", "/etc/x.conf"),
            "--- a/etc/x.conf\n+++ b/etc/x.conf\n@@ -0,0 +1,2 @@\n+a\n+b\n");
}

TEST(UnifiedDiff, OneChangedLineWithContext) {
  EXPECT_EQ(unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", "/f"),
            "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiff, DistantChangesMakeTwoHunks) {
  std::string a, b;
  for (int i = 1; i <= 20; ++i) {
    a += std::to_string(i) + "\n";
    b += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
  }
  EXPECT_EQ(unified_diff(a, b, "/f"),
            "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n 1\n-2\n+x\n 3\n 4\n 5\n"
            "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+x\n 19\n 20\n");
}

TEST(UnifiedDiff, MissingFinalNewlineIsMarked) {
  EXPECT_EQ(unified_diff("a\nb", "a\nb\n", "/f"),
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
}

TEST(UnifiedDiff, DeletedFileShowsEveryLine) {
  EXPECT_EQ(unified_diff("a\n", "", "/f"), "--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-a\n");
}

TEST(AuthorizedKeys, CountsKeyLinesOnly) {
  EXPECT_EQ(count_authorized_keys(""), 0);
  EXPECT_EQ(count_authorized_keys("# a comment\n\n   \n"), 0);
  EXPECT_EQ(count_authorized_keys("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@laptop\n"), 1);
  EXPECT_EQ(
      count_authorized_keys("from=\"10.0.0.1,10.0.0.2\",command=\"echo hi there\" ssh-ed25519 "
                            "AAAAC3NzaC1lZDI1NTE5AAAAIG x\n"
                            "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAA y\n"
                            "ssh-rsa notbase64!! z\n"
                            "ssh-ed25519\n"
                            "garbage line here\n"),
      2);
}

config::Config ssh_config(std::vector<std::string> users) {
  config::Config c;
  c.ssh = config::SshConfig{};
  c.ssh->allow_users = std::move(users);
  return c;
}

GuardUser user(std::string name, int keys, std::vector<std::string> groups, bool exists = true) {
  GuardUser u;
  u.name = std::move(name);
  u.exists = exists;
  u.uid = 1000;
  u.home = "/home/" + u.name;
  u.authorized_keys = keys;
  u.groups = std::move(groups);
  return u;
}

TEST(Guards, NoSectionsNoProblems) { EXPECT_TRUE(lockout_problems(config::Config{}, {}).empty()); }

TEST(Guards, AdminWithKeyIsSafe) {
  GuardFacts f{{user("orbital", 1, {"orbital"}), user("ops", 2, {"ops", "sudo"})}};
  EXPECT_TRUE(lockout_problems(ssh_config({"orbital", "ops"}), f).empty());
}

TEST(Guards, RefusesPasswordsOffWithoutAnyKey) {
  GuardFacts f{{user("orbital", 0, {"sudo"}), user("ghost", 0, {}, false)}};
  auto p = lockout_problems(ssh_config({"orbital", "ghost"}), f);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("password"), std::string::npos);
  EXPECT_NE(p[0].find("user orbital has no key in /home/orbital/.ssh/authorized_keys"),
            std::string::npos);
  EXPECT_NE(p[0].find("user ghost does not exist"), std::string::npos);
}

TEST(Guards, RefusesDroppingTheLastAdminPath) {
  GuardFacts f{{user("orbital", 1, {"orbital", "www-data"}), user("ops", 0, {"sudo"})}};
  auto p = lockout_problems(ssh_config({"orbital", "ops"}), f);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("last admin path"), std::string::npos);
  EXPECT_NE(p[0].find("usermod -aG sudo orbital"), std::string::npos);
}

TEST(Guards, AdminGroupsAreSudoAdminWheel) {
  for (const char* g : {"sudo", "admin", "wheel"}) {
    GuardFacts f{{user("a", 1, {g})}};
    EXPECT_TRUE(lockout_problems(ssh_config({"a"}), f).empty()) << g;
  }
}

TEST(Guards, RefusesFirewallWithoutTheSshPort) {
  config::Config c;
  c.firewall = config::FirewallConfig{};
  EXPECT_TRUE(lockout_problems(c, {}).empty());  // The default allows 22/tcp.
  c.firewall->allow = {"80/tcp", "443/tcp", "22/udp"};
  auto p = lockout_problems(c, {});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("\"22/tcp\""), std::string::npos);
  // With [ssh] on another port, that port must be open.
  c = ssh_config({"a"});
  c.ssh->port = 2222;
  c.firewall = config::FirewallConfig{};
  GuardFacts f{{user("a", 1, {"sudo"})}};
  p = lockout_problems(c, f);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("2222/tcp"), std::string::npos);
}

ManagedFile file(std::string path, std::string content, bool secret = false) {
  ManagedFile f;
  f.path = std::move(path);
  f.content = std::move(content);
  f.secret = secret;
  return f;
}

FileFacts present(std::string content, mode_t mode = 0644) {
  FileFacts f;
  f.exists = true;
  f.content = std::move(content);
  f.mode = mode;
  f.owner = "root";
  f.group = "root";
  return f;
}

TEST(Planner, FileActions) {
  EXPECT_EQ(plan_file(file("/a", "x\n"), FileFacts{}).action, FileAction::kCreate);
  EXPECT_EQ(plan_file(file("/a", "x\n"), present("x\n")).action, FileAction::kUnchanged);
  FilePlan m = plan_file(file("/a", "y\n"), present("x\n"));
  EXPECT_EQ(m.action, FileAction::kModify);
  EXPECT_EQ(m.diff, "--- a/a\n+++ b/a\n@@ -1 +1 @@\n-x\n+y\n");
  FilePlan meta = plan_file(file("/a", "x\n"), present("x\n", 0600));
  EXPECT_EQ(meta.action, FileAction::kMetadata);
  EXPECT_EQ(meta.metadata, "mode 0600 -> 0644");
  FileFacts other_owner = present("x\n");
  other_owner.owner = "postgres";
  EXPECT_EQ(plan_file(file("/a", "x\n"), other_owner).metadata, "owner postgres:root -> root:root");
}

TEST(Planner, SecretContentIsNeverInThePlan) {
  FilePlan p = plan_file(file("/etc/secret", "hunter2\n", true), present("old-secret\n"));
  EXPECT_EQ(p.action, FileAction::kModify);
  EXPECT_TRUE(p.secret);
  EXPECT_EQ(p.diff, "");
  EXPECT_EQ(plan_file(file("/etc/secret", "hunter2\n", true), FileFacts{}).diff, "");
}

Component component() {
  Component c;
  c.name = "web";
  c.files = {file("/etc/web.conf", "a\n")};
  c.steps_before = {
      Step{"install web", {"apt-get", "install", "web"}, "", {"dpkg", "-s", "web"}, ""},
      Step{"always with files", {"true"}, "", {}, ""}};
  c.steps_after = {Step{"enable web", {"web", "enable"}, "", {"web", "status"}, ""}};
  c.lifecycle.validate = {"web", "-t"};
  c.lifecycle.reload = {"web", "reload"};
  return c;
}

TEST(Planner, UnchangedComponentWithSatisfiedChecksHasNoChanges) {
  ComponentFacts f{{present("a\n")}, {true, false}, {true}, {}};
  ComponentPlan p = plan_component(component(), f, false);
  EXPECT_FALSE(p.changes());
  EXPECT_TRUE(p.steps_before.empty());  // The check-less step only goes with a file change.
  EXPECT_TRUE(p.lifecycle.empty());
}

TEST(Planner, FailedChecksAndFileChangesListSteps) {
  ComponentFacts f{{present("old\n")}, {false, false}, {false}, {}};
  ComponentPlan p = plan_component(component(), f, false);
  EXPECT_TRUE(p.changes());
  EXPECT_EQ(p.steps_before, (std::vector<std::string>{"install web", "always with files"}));
  EXPECT_EQ(p.lifecycle, (std::vector<std::string>{"validate: web -t", "reload: web reload"}));
  EXPECT_EQ(p.steps_after, (std::vector<std::string>{"enable web"}));
}

TEST(Planner, AFailedCheckAloneIsAChange) {
  ComponentFacts f{{present("a\n")}, {true, false}, {false}, {}};
  ComponentPlan p = plan_component(component(), f, false);
  EXPECT_TRUE(p.changes());
  EXPECT_EQ(p.steps_after, (std::vector<std::string>{"enable web"}));
  EXPECT_TRUE(p.lifecycle.empty());
}

TEST(Planner, RootSkipsCommandsAndTheyAreNotChanges) {
  ComponentFacts f{{present("a\n")}, {}, {}, {}};
  ComponentPlan p = plan_component(component(), f, true);
  EXPECT_FALSE(p.changes());
  EXPECT_EQ(p.skipped.size(), 3u);  // Three steps; no lifecycle without a file change.
  f.files[0] = present("b\n");
  p = plan_component(component(), f, true);
  EXPECT_TRUE(p.changes());
  EXPECT_EQ(p.skipped.size(), 5u);
  EXPECT_EQ(p.skipped[2], "validate: web -t (skipped with --root)");
}

TEST(Planner, BuiltinStepsAreChanges) {
  ComponentFacts f{{present("a\n")}, {true, true}, {true}, {"placeholder certificate for x"}};
  EXPECT_TRUE(plan_component(component(), f, false).changes());
}

TEST(Planner, CommandLineQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(command_line({"sh", "-c", "grep -q good {root}/x", "it's"}),
            "sh -c 'grep -q good {root}/x' 'it'\\''s'");
}

}  // namespace
}  // namespace gc::provision

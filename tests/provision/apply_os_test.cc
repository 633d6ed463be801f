// SPDX-License-Identifier: MIT
// tests/provision/apply_os_test.cc: apply against real files and commands in a temp dir: a
// failing validator restores the previous files exactly, backups, idempotence, steps, secrets,
// the placeholder certificate, guard facts read from a root, and the diff checked against GNU
// diff.
#include "provision/apply.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "provision/guards.h"
#include "provision/run_command.h"
#include "provision/unified_diff.h"

namespace gc::provision {
namespace {

std::string me() { return ::getpwuid(::geteuid())->pw_name; }
std::string my_group() { return ::getgrgid(::getegid())->gr_name; }

std::string slurp(const std::string& path) {
  auto r = read_file(path);
  return r ? *r : "<" + r.error().message + ">";
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("provision-apply-");
    ASSERT_TRUE(d) << d.error().message;
    dir_.emplace(std::move(*d));
    cfg_.server.state_dir = dir_->file("state");
    ASSERT_TRUE(make_directories(dir_->file("etc")));
  }
  std::string path(const std::string& name) const { return dir_->file(name); }

  ManagedFile file(const std::string& name, std::string content, mode_t mode = 0644) const {
    ManagedFile f;
    f.path = path(name);
    f.content = std::move(content);
    f.mode = mode;
    f.owner = me();
    f.group = my_group();
    return f;
  }

  // A component whose validator wants "good" in etc/x.conf and whose reload counts itself.
  Component validated(std::string content) const {
    Component c;
    c.name = "x";
    c.files = {file("etc/x.conf", std::move(content)), file("etc/x.d/extra.conf", "extra\n")};
    std::string conf = path("etc/x.conf");
    c.lifecycle.validate = {
        "sh", "-c", "grep -q good " + conf + " || { echo \"x.conf: no good line\" >&2; exit 1; }"};
    c.lifecycle.reload = {"sh", "-c", "echo reload >> " + path("reloads")};
    return c;
  }

  std::optional<TempDir> dir_;
  config::Config cfg_;
};

TEST_F(ApplyTest, FailedValidationRestoresThePreviousFilesExactly) {
  std::string conf = path("etc/x.conf");
  std::string old = "old good\nno newline at end";
  ASSERT_TRUE(write_file_atomic(conf, old, 0640));
  ASSERT_EQ(::chmod(conf.c_str(), 0640), 0);
  Component first;
  first.name = "first";
  first.files = {file("etc/first.conf", "first\n")};
  Component third;
  third.name = "third";
  third.files = {file("etc/third.conf", "third\n")};

  auto r = apply(cfg_, {first, validated("bad\n"), third}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->applied, (std::vector<std::string>{"first"}));
  EXPECT_EQ(r->failed, "x");
  EXPECT_NE(r->error.find("x.conf: no good line"), std::string::npos) << r->error;
  EXPECT_EQ(r->not_run, (std::vector<std::string>{"third"}));
  // Byte for byte, with its mode; the file that was absent is gone again.
  EXPECT_EQ(slurp(conf), old);
  EXPECT_EQ(mode_of(conf), 0640u);
  EXPECT_FALSE(std::filesystem::exists(path("etc/x.d/extra.conf")));
  EXPECT_FALSE(std::filesystem::exists(path("reloads")));  // No reload after a failed validate.
  EXPECT_EQ(slurp(path("etc/first.conf")), "first\n");     // Earlier components stay.
  EXPECT_FALSE(std::filesystem::exists(path("etc/third.conf")));

  // The backup holds the previous version and the manifest says what was absent.
  ASSERT_FALSE(r->backup_dir.empty());
  EXPECT_EQ(mode_of(r->backup_dir), 0700u);
  EXPECT_EQ(slurp(r->backup_dir + "/files" + conf), old);
  EXPECT_EQ(mode_of(r->backup_dir + "/files" + conf), 0600u);
  auto manifest = nlohmann::json::parse(slurp(r->backup_dir + "/manifest.json"));
  bool saw_absent = false, saw_conf = false;
  for (const auto& e : manifest) {
    if (e["path"] == path("etc/x.d/extra.conf")) saw_absent = e["absent"].get<bool>();
    if (e["path"] == conf) saw_conf = e["mode"] == "0640" && e["owner"] == me();
  }
  EXPECT_TRUE(saw_absent);
  EXPECT_TRUE(saw_conf);

  auto history = apply_history(cfg_, "", 5);
  ASSERT_TRUE(history) << history.error().message;
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].result, "failed");
  EXPECT_EQ((*history)[0].components, "first,x");
}

TEST_F(ApplyTest, SecondApplyChangesNothing) {
  auto r = apply(cfg_, {validated("good\n")}, {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(r->applied, (std::vector<std::string>{"x"}));
  EXPECT_EQ(slurp(path("etc/x.conf")), "good\n");
  EXPECT_EQ(slurp(path("reloads")), "reload\n");

  auto plan = make_plan(cfg_, {validated("good\n")}, {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_FALSE(plan->changes());
  EXPECT_EQ(format_plan(*plan), "no changes\n");
  auto again = apply(cfg_, {validated("good\n")}, {});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->ok());
  EXPECT_TRUE(again->applied.empty());
  EXPECT_TRUE(again->backup_dir.empty());
  EXPECT_EQ(slurp(path("reloads")), "reload\n");  // Not reloaded again.

  // A mode change alone is a change, applied without touching the content.
  ASSERT_EQ(::chmod(path("etc/x.conf").c_str(), 0600), 0);
  plan = make_plan(cfg_, {validated("good\n")}, {});
  ASSERT_TRUE(plan);
  ASSERT_TRUE(plan->changes());
  EXPECT_EQ(plan->components[0].files[0].action, FileAction::kMetadata);
  ASSERT_TRUE(apply(cfg_, {validated("good\n")}, {}));
  EXPECT_EQ(mode_of(path("etc/x.conf")), 0644u);
}

TEST_F(ApplyTest, StepsRunWhenTheirCheckFailsAndGetTheirInput) {
  std::string marker = path("installed");
  Component c;
  c.name = "steps";
  c.files = {file("etc/s.conf", "s\n")};
  c.steps_before = {
      Step{"install thing", {"touch", marker}, "", {"test", "-e", marker}, ""},
      Step{
          "already done", {"sh", "-c", "echo ran >> " + path("should-not-run")}, "", {"true"}, ""}};
  c.steps_after = {Step{"store secret",
                        {"sh", "-c", "cat > " + path("got")},
                        "s3cret-value",
                        {"test", "-e", path("got")},
                        ""}};
  auto plan = make_plan(cfg_, {c}, {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->components[0].steps_before, (std::vector<std::string>{"install thing"}));
  EXPECT_EQ(plan->components[0].steps_after, (std::vector<std::string>{"store secret"}));
  auto r = apply(cfg_, {c}, {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_TRUE(std::filesystem::exists(marker));
  EXPECT_FALSE(std::filesystem::exists(path("should-not-run")));
  EXPECT_EQ(slurp(path("got")), "s3cret-value");
  for (const auto& line : r->log) EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
  plan = make_plan(cfg_, {c}, {});
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->changes());
}

TEST_F(ApplyTest, FailingStepStopsTheComponentBeforeItsFiles) {
  Component c;
  c.name = "broken";
  c.files = {file("etc/b.conf", "b\n")};
  c.steps_before = {
      Step{"fail loudly", {"sh", "-c", "echo 'E: no such package' >&2; exit 100"}, "", {}, ""}};
  auto r = apply(cfg_, {c}, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->failed, "broken");
  EXPECT_NE(r->error.find("E: no such package"), std::string::npos) << r->error;
  EXPECT_NE(r->error.find("exit code 100"), std::string::npos) << r->error;
  EXPECT_FALSE(std::filesystem::exists(path("etc/b.conf")));
}

TEST_F(ApplyTest, AnotherApplyHoldingTheLockIsRefusedAtOnce) {
  // Another process's apply, as far as the lock can tell: a second open file description.
  ASSERT_TRUE(make_directories(cfg_.server.state_dir, 0700));
  std::string lock_path = cfg_.server.state_dir + "/provision.lock";
  auto held = open_fd(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_TRUE(held) << held.error().message;
  ASSERT_EQ(::flock(held->get(), LOCK_EX | LOCK_NB), 0);
  ASSERT_TRUE(write_all(held->get(), "4242\n"));
  auto refused = apply(cfg_, {validated("good\n")}, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kConflict);
  EXPECT_NE(refused.error().message.find("another groundctl apply is running (pid 4242)"),
            std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(std::filesystem::exists(path("etc/x.conf")));

  held = open_fd("/dev/null", O_RDONLY);  // Closes the lock file: released.
  auto r = apply(cfg_, {validated("good\n")}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(mode_of(lock_path), 0600u);
}

TEST_F(ApplyTest, TheLockIsHeldWhileStepsAndReloadsRun) {
  // A step (another process) tries the lock while apply runs: it is taken, by apply's pid.
  std::string lock_path = cfg_.server.state_dir + "/provision.lock";
  Component c = validated("good\n");
  c.steps_after = {Step{"probe the lock",
                        {"sh", "-c", "flock -n \"$1\" true; echo \"$? $(cat \"$1\")\" > \"$2\"",
                         "probe", lock_path, path("probe")},
                        "",
                        {},
                        ""}};
  auto r = apply(cfg_, {c}, {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(slurp(path("probe")), "1 " + std::to_string(::getpid()) + "\n");
}

TEST_F(ApplyTest, ChecksRunBeforeAnythingChanges) {
  // The check of a step after the files looks for one of those files: it was absent when the
  // checks ran (before apply wrote anything), so the step runs, as the plan said.
  Component c = validated("good\n");
  c.steps_after = {Step{
      "after the files", {"touch", path("after-ran")}, "", {"test", "-e", path("etc/x.conf")}, ""}};
  auto plan = make_plan(cfg_, {c}, {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->components[0].steps_after, (std::vector<std::string>{"after the files"}));
  auto r = apply(cfg_, {c}, {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_TRUE(std::filesystem::exists(path("after-ran")));
  // Now satisfied: even a change of the files no longer runs it.
  c.files[1].content = "extra 2\n";
  plan = make_plan(cfg_, {c}, {});
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->components[0].files_change());
  EXPECT_TRUE(plan->components[0].steps_after.empty());
}

TEST_F(ApplyTest, RunAsRunsTheCommandAsThatUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  auto r = run_command({"id", "-un"}, "", "nobody");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->status.success());
  EXPECT_EQ(r->output, "nobody\n");
  EXPECT_FALSE(run_command({"true"}, "", "no-such-user-xyz"));
}

TEST_F(ApplyTest, SecretsNeverReachThePlanOutput) {
  Component c;
  c.name = "secret";
  ManagedFile f = file("etc/userlist.txt", "\"app\" \"SCRAM-hunter2\"\n", 0600);
  f.secret = true;
  c.files = {f};
  ASSERT_TRUE(write_file_atomic(path("etc/userlist.txt"), "\"app\" \"old-password\"\n", 0600));
  auto plan = make_plan(cfg_, {c}, {});
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_TRUE(plan->changes());
  std::string text = format_plan(*plan);
  std::string json = plan_to_json(*plan).dump();
  EXPECT_NE(text.find("(secret, changed)"), std::string::npos) << text;
  for (const std::string& out : {text, json}) {
    EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
    EXPECT_EQ(out.find("old-password"), std::string::npos) << out;
  }
  auto r = apply(cfg_, {c}, {});
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ(slurp(path("etc/userlist.txt")), f.content);
  EXPECT_EQ(mode_of(path("etc/userlist.txt")), 0600u);
}

TEST_F(ApplyTest, KeepsTheLastTenBackups) {
  for (int i = 0; i < 12; ++i) {
    Component c;
    c.name = "n";
    c.files = {file("etc/n.conf", std::to_string(i) + "\n")};
    auto r = apply(cfg_, {c}, {});
    ASSERT_TRUE(r && r->ok());
  }
  int dirs = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(cfg_.server.state_dir + "/provision/backups")) {
    dirs += e.is_directory() ? 1 : 0;
  }
  EXPECT_EQ(dirs, 10);
}

TEST_F(ApplyTest, RootModeWritesUnderTheRootAndRunsNothing) {
  std::string root = path("root");
  ASSERT_TRUE(make_directories(root + "/etc"));
  ASSERT_TRUE(write_file_atomic(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"));
  ASSERT_TRUE(write_file_atomic(root + "/etc/group", "root:x:0:\n"));
  config::Config cfg;
  cfg.server.state_dir = "/var/lib/groundctl";
  cfg.nginx = config::NginxConfig{};
  cfg.nginx->domain = "api.example.test";
  Component c;
  c.name = "nginx";
  ManagedFile f;
  f.path = "/etc/nginx/conf.d/site.conf";
  f.content = "server {}\n";
  c.files = {f};
  c.steps_before = {Step{"touch marker", {"touch", path("marker")}, "", {}, ""}};
  c.lifecycle.validate = {"false"};
  auto plan = make_plan(cfg, {c}, {root});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->components[0].builtin_steps,
            (std::vector<std::string>{"placeholder certificate for api.example.test"}));
  auto r = apply(cfg, {c}, {root});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(slurp(root + "/etc/nginx/conf.d/site.conf"), "server {}\n");
  EXPECT_FALSE(std::filesystem::exists(path("marker")));
  std::string tls = root + "/var/lib/groundctl/tls/api.example.test";
  EXPECT_EQ(mode_of(tls + "/privkey.pem"), 0600u);
  auto subject = run_command({"openssl", "x509", "-in", tls + "/fullchain.pem", "-noout",
                              "-subject", "-ext", "subjectAltName"},
                             "", "");
  ASSERT_TRUE(subject);
  EXPECT_NE(subject->output.find("CN = api.example.test"), std::string::npos) << subject->output;
  EXPECT_NE(subject->output.find("DNS:api.example.test"), std::string::npos) << subject->output;
  auto match = run_command({"bash", "-c",
                            "openssl x509 -in " + tls +
                                "/fullchain.pem -noout -pubkey"
                                " | cmp - <(openssl pkey -in " +
                                tls + "/privkey.pem -pubout)"},
                           "", "");
  ASSERT_TRUE(match);
  EXPECT_TRUE(match->status.success()) << "the certificate is not for the key: " << match->output;
  plan = make_plan(cfg, {c}, {root});
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->changes()) << format_plan(*plan);
}

TEST_F(ApplyTest, GuardFactsComeFromTheRootAndRefuseWithoutWriting) {
  std::string root = path("root");
  ASSERT_TRUE(make_directories(root + "/etc"));
  ASSERT_TRUE(make_directories(root + "/home/orbital/.ssh"));
  ASSERT_TRUE(write_file_atomic(root + "/etc/passwd",
                                "root:x:0:0:root:/root:/bin/bash\n"
                                "orbital:x:1000:1000::/home/orbital:/bin/bash\n"
                                "ops:x:1001:1001::/home/ops:/bin/bash\n"));
  ASSERT_TRUE(write_file_atomic(root + "/etc/group",
                                "root:x:0:\nsudo:x:27:ops\norbital:x:1000:\nops:x:1001:\n"));
  config::Config cfg;
  cfg.server.state_dir = "/var/lib/groundctl";
  cfg.ssh = config::SshConfig{};
  cfg.ssh->allow_users = {"orbital", "ops", "ghost"};
  auto facts = read_guard_facts(cfg, root);
  ASSERT_TRUE(facts) << facts.error().message;
  ASSERT_EQ(facts->users.size(), 3u);
  EXPECT_TRUE(facts->users[0].exists);
  EXPECT_EQ(facts->users[0].authorized_keys, 0);
  EXPECT_EQ(facts->users[1].groups, (std::vector<std::string>{"ops", "sudo"}));
  EXPECT_FALSE(facts->users[2].exists);

  Component c;
  c.name = "ssh";
  ManagedFile f;
  f.path = "/etc/ssh/sshd_config.d/10-groundctl.conf";
  f.content = "PasswordAuthentication no\n";
  c.files = {f};
  auto r = apply(cfg, {c}, {root});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->refused());
  EXPECT_FALSE(std::filesystem::exists(root + f.path));
  // No backup, no state store: only the lock apply held while it read the target.
  std::vector<std::string> state;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root + "/var", ec)) {
    state.push_back(e.path().string().substr(root.size()));
  }
  EXPECT_EQ(state, (std::vector<std::string>{"/var/lib", "/var/lib/groundctl",
                                             "/var/lib/groundctl/provision.lock"}));

  // orbital gets a key but is no admin: still refused; ops with a key is the admin path.
  ASSERT_TRUE(write_file_atomic(root + "/home/orbital/.ssh/authorized_keys",
                                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey orbital@laptop\n"));
  r = apply(cfg, {c}, {root});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->plan.guards.size(), 1u);
  EXPECT_NE(r->plan.guards[0].find("last admin path"), std::string::npos);
  ASSERT_TRUE(make_directories(root + "/home/ops/.ssh"));
  ASSERT_TRUE(write_file_atomic(root + "/home/ops/.ssh/authorized_keys",
                                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey ops@laptop\n"));
  r = apply(cfg, {c}, {root});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok()) << (r->plan.guards.empty() ? r->error : r->plan.guards[0]);
  EXPECT_EQ(slurp(root + f.path), f.content);
}

// GNU diff is the reference for the hunk headers and bodies.
std::string gnu_diff(const TempDir& dir, const std::string& a, const std::string& b) {
  EXPECT_TRUE(write_file_atomic(dir.file("old"), a));
  EXPECT_TRUE(write_file_atomic(dir.file("new"), b));
  auto r = run_command({"diff", "-u", "--label", "a/etc/f.conf", "--label", "b/etc/f.conf",
                        dir.file("old"), dir.file("new")},
                       "", "");
  EXPECT_TRUE(r);
  return r ? r->output : "";
}

TEST(UnifiedDiffVsGnu, MatchesDiffU) {
  auto dir = TempDir::create("provision-diff-");
  ASSERT_TRUE(dir);
  std::string lines;
  for (int i = 1; i <= 30; ++i) lines += "line " + std::to_string(i) + "\n";
  auto edit = [&](std::initializer_list<std::pair<int, const char*>> changes) {
    std::string out;
    for (int i = 1; i <= 30; ++i) {
      std::string line = "line " + std::to_string(i) + "\n";
      for (const auto& [n, text] : changes) {
        if (n == i) line = text;
      }
      out += line;
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> cases = {
      {"", "a\nb\nc\n"},
      {"a\nb\nc\n", ""},
      {lines, edit({{1, "first\n"}})},
      {lines, edit({{30, "last\n"}})},
      {lines, edit({{5, "five\n"}, {12, "twelve\n"}})},    // Gap of 6: one hunk.
      {lines, edit({{5, "five\n"}, {13, "thirteen\n"}})},  // Gap of 7: two hunks.
      {lines, edit({{10, ""}, {11, ""}})},                 // Deletions.
      {lines, edit({{10, "a\nb\nc\nline 10\n"}})},         // Insertions.
      {lines, edit({{3, "x\n"}, {20, "y\n"}, {21, ""}, {28, "z\nw\n"}})},
      {"a\nb\nc", "a\nb\nc\n"},  // Newline added at the end.
      {"a\nb\nc\n", "a\nb\nc"},  // Newline removed.
      {"a\nb", "a\nc"},          // Both without one.
      {"only\n", "different\n"},
  };
  for (const auto& [a, b] : cases) {
    EXPECT_EQ(unified_diff(a, b, "/etc/f.conf"), gnu_diff(*dir, a, b)) << "old:\n"
                                                                       << a << "\nnew:\n"
                                                                       << b;
  }
}

}  // namespace
}  // namespace gc::provision

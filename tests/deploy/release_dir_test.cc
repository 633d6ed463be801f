// SPDX-License-Identifier: MIT
// The deploy root on a real filesystem, the deploy lock and the step runner with real processes.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "deploy/lock.h"
#include "deploy/release_dir.h"
#include "deploy/step_runner.h"

namespace gc::deploy {
namespace {

constexpr const char* kA = "20261127-184501-1a2b3c4";
constexpr const char* kB = "20261127-190000-abcdef0";

class ReleaseDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("gc-release-dir-");
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
  }
  std::string path(const std::string& rel) const { return dir_->file(rel); }
  std::optional<TempDir> dir_;
};

TEST_F(ReleaseDirTest, SwitchesCurrentAtomicallyBetweenReleases) {
  ReleaseRoot root(path("app"));
  ASSERT_TRUE(root.prepare());
  EXPECT_FALSE(root.active()->has_value());
  for (const char* id : {kA, kB}) ASSERT_TRUE(make_directories(root.release_dir(id)));
  ASSERT_TRUE(write_file_atomic(root.release_dir(kA) + "/v", "a"));
  ASSERT_TRUE(write_file_atomic(root.release_dir(kB) + "/v", "b"));
  ASSERT_TRUE(root.switch_to(kA));
  EXPECT_EQ(root.active()->value(), kA);
  EXPECT_EQ(*read_file(path("app/current/v")), "a");
  ASSERT_TRUE(root.switch_to(kB));
  EXPECT_EQ(root.active()->value(), kB);
  EXPECT_EQ(*read_file(path("app/current/v")), "b");
  char target[256] = {0};
  ASSERT_GT(::readlink(path("app/current").c_str(), target, sizeof target - 1), 0);
  EXPECT_EQ(std::string(target), std::string("releases/") + kB);  // Relative.
  auto list = root.list();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  EXPECT_FALSE(root.switch_to("../../etc"));
}

TEST_F(ReleaseDirTest, NeverTakesOverACurrentItDidNotMake) {
  ReleaseRoot root(path("app"));
  ASSERT_TRUE(root.prepare());
  ASSERT_TRUE(make_directories(path("app/current")));
  auto a = root.active();
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("is not a symlink"), std::string::npos) << a.error().message;
  ASSERT_EQ(::rmdir(path("app/current").c_str()), 0);
  ASSERT_EQ(::symlink("/srv/elsewhere", path("app/current").c_str()), 0);
  a = root.active();
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("not to a groundctl release"), std::string::npos);
}

TEST_F(ReleaseDirTest, LinksSharedEntriesAndCreatesOnlyDirectories) {
  ReleaseRoot root(path("app"));
  ASSERT_TRUE(root.prepare());
  std::string app = root.release_dir(kA) + "/web";
  ASSERT_TRUE(make_directories(app + "/uploads"));
  ASSERT_TRUE(write_file_atomic(app + "/uploads/from-git.txt", "x"));
  std::vector<std::string> shared = {".env", "uploads/", "var/logs/"};
  std::string missing = root.missing_shared(shared);
  EXPECT_NE(missing.find("/shared/.env"), std::string::npos) << missing;
  EXPECT_FALSE(root.link_shared(app, shared, std::nullopt));
  ASSERT_TRUE(write_file_atomic(path("app/shared/.env"), "SECRET=1\n", 0600));
  EXPECT_EQ(root.missing_shared(shared), "");
  ASSERT_TRUE(root.link_shared(app, shared, std::nullopt));
  EXPECT_EQ(*read_file(app + "/.env"), "SECRET=1\n");
  struct stat st {};
  ASSERT_EQ(::lstat((app + "/uploads").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));  // The checkout's directory was replaced by the link.
  ASSERT_EQ(::stat(path("app/shared/var/logs").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  // Writing through the link lands in shared/.
  ASSERT_TRUE(write_file_atomic(app + "/var/logs/x.log", "line\n"));
  EXPECT_EQ(*read_file(path("app/shared/var/logs/x.log")), "line\n");
}

TEST_F(ReleaseDirTest, RemovesOnlyReleasesAndNeverFollowsLinks) {
  ReleaseRoot root(path("app"));
  ASSERT_TRUE(root.prepare());
  ASSERT_TRUE(make_directories(path("precious")));
  ASSERT_TRUE(write_file_atomic(path("precious/keep"), "k"));
  ASSERT_TRUE(make_directories(root.release_dir(kA) + "/a/b"));
  ASSERT_EQ(::symlink(path("precious").c_str(), (root.release_dir(kA) + "/a/link").c_str()), 0);
  EXPECT_FALSE(root.remove("../precious"));
  ASSERT_TRUE(root.remove(kA));
  EXPECT_NE(::access(root.release_dir(kA).c_str(), F_OK), 0);
  EXPECT_EQ(*read_file(path("precious/keep")), "k");
}

TEST_F(ReleaseDirTest, OneDeployAtATimeNamesTheHolder) {
  auto first = DeployLock::acquire(path("state"), "deploy v2");
  ASSERT_TRUE(first);
  auto second = DeployLock::acquire(path("state"), "deploy v3");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kConflict);
  const std::string& m = second.error().message;
  EXPECT_NE(m.find("another deploy is running"), std::string::npos) << m;
  EXPECT_NE(m.find("pid " + std::to_string(::getpid())), std::string::npos) << m;
  EXPECT_NE(m.find("deploy v2"), std::string::npos) << m;
  { DeployLock released = std::move(*first); }
  EXPECT_TRUE(DeployLock::acquire(path("state"), "deploy v3"));
}

std::vector<std::string> env() { return {"PATH=/usr/bin:/bin"}; }

TEST_F(ReleaseDirTest, StepsStreamIntoTheLogAndFailuresQuoteTheirEnd) {
  auto log = DeployLog::open(path("deploy.log"), nullptr);
  ASSERT_TRUE(log);
  Step ok_step{{"sh", "-c", "echo out; echo err >&2; pwd"},
               env(),
               dir_->path(),
               std::nullopt,
               "build step 1/2 (sh)"};
  ASSERT_TRUE(run_step(ok_step, *log, nullptr));
  Step bad{{"sh", "-c", "echo npm ERR! missing script >&2; exit 3"},
           env(),
           "",
           std::nullopt,
           "build step 2/2 (npm run nope)"};
  Status st = run_step(bad, *log, nullptr);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("build step 2/2 (npm run nope) failed (exit code 3)"),
            std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("npm ERR! missing script"), std::string::npos);
  std::string text = *read_file(path("deploy.log"));
  EXPECT_NE(text.find("out\n"), std::string::npos);
  EXPECT_NE(text.find("err\n"), std::string::npos);
  EXPECT_NE(text.find(dir_->path()), std::string::npos);
  auto captured =
      run_capture({{"sh", "-c", "echo abc; echo noise >&2"}, env(), "", std::nullopt, "capture"},
                  *log, nullptr);
  ASSERT_TRUE(captured);
  EXPECT_EQ(*captured, "abc\n");
}

TEST_F(ReleaseDirTest, ACancelledStepStopsItsWholeProcessGroup) {
  auto log = DeployLog::open(path("deploy.log"), nullptr);
  ASSERT_TRUE(log);
  std::atomic<bool> cancel{false};
  std::string pidfile = path("child.pid");
  // The step starts a grandchild (as npm does) and waits on it.
  Step s{{"sh", "-c", "sleep 300 & echo $! > " + pidfile + "; wait"},
         env(),
         "",
         std::nullopt,
         "build step 1/1 (slow)"};
  std::thread stopper([&] {
    for (int i = 0; i < 500 && ::access(pidfile.c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    cancel = true;
  });
  Status st = run_step(s, *log, &cancel);
  stopper.join();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kCancelled);
  auto text = read_file(pidfile);
  ASSERT_TRUE(text);
  std::string stat = "/proc/" + std::to_string(std::stoi(*text)) + "/stat";
  // Gone, or a zombie waiting for init to reap it.
  auto dead = [&] {
    auto text_now = read_file(stat);
    return !text_now || text_now->find(") Z ") != std::string::npos;
  };
  for (int i = 0; i < 500 && !dead(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(dead()) << "the step's child outlived the cancel";
}

}  // namespace
}  // namespace gc::deploy

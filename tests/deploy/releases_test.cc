// SPDX-License-Identifier: MIT
// The pure decisions of deploys: release ids, pruning, rollback targets, the health verdict and
// the alerts a deploy raises.
#include <gtest/gtest.h>

#include "deploy/alerts.h"
#include "deploy/git_source.h"
#include "deploy/health_watch.h"
#include "deploy/releases.h"

namespace gc::deploy {
namespace {

using std::chrono::system_clock;

system_clock::time_point at(std::int64_t unix_seconds) {
  return system_clock::time_point(std::chrono::seconds(unix_seconds));
}

TEST(ReleaseId, SortsByTimeAndNamesTheCommit) {
  std::string a = make_release_id(at(1795805101), "1a2b3c4d5e6f");
  EXPECT_EQ(a, "20261127-184501-1a2b3c4");
  EXPECT_TRUE(is_release_id(a));
  EXPECT_TRUE(is_release_id(a + "-2"));
  EXPECT_LT(make_release_id(at(1795805101), "ffffffff"),
            make_release_id(at(1795805102), "0000000"));
  for (const char* bad : {"", "current", "20261127-184501", "20261127-184501-XYZ1234",
                          "20261127-184501-1a2b3c4-", "20261127-184501-1a2b3c4.partial",
                          "../20261127-184501-1a2b3c4", "20261127x184501-1a2b3c4"}) {
    EXPECT_FALSE(is_release_id(bad)) << bad;
  }
}

TEST(Prune, KeepsTheNewestAndAlwaysActiveAndPrevious) {
  std::vector<std::string> disk = {"3", "5", "1", "4", "2"};
  std::vector<std::string> live = disk;
  EXPECT_EQ(releases_to_prune(disk, "5", "4", 3, live), (std::vector<std::string>{"2", "1"}));
  // After a rollback to an old release, it and the one rolled back from both stay.
  EXPECT_EQ(releases_to_prune(disk, "1", "5", 3, live), (std::vector<std::string>{"3", "2"}));
  EXPECT_EQ(releases_to_prune(disk, "2", "1", 2, live), (std::vector<std::string>{"5", "4", "3"}));
  EXPECT_TRUE(releases_to_prune(disk, "5", "4", 5, live).empty());
  EXPECT_TRUE(releases_to_prune({}, "", "", 2, {}).empty());
  // No active release (nothing deployed yet): only the count applies.
  EXPECT_EQ(releases_to_prune(disk, "", "", 2, live), (std::vector<std::string>{"3", "2", "1"}));
}

TEST(Prune, ReleasesThatNeverWentLiveGoFirstAndDoNotCount) {
  // 4 was rolled back (never live), 2 was a build left by an interrupted deploy.
  std::vector<std::string> disk = {"1", "2", "3", "4", "5"};
  std::vector<std::string> live = {"1", "3", "5"};
  EXPECT_EQ(releases_to_prune(disk, "5", "3", 3, live), (std::vector<std::string>{"4", "2"}));
  EXPECT_EQ(releases_to_prune(disk, "5", "3", 2, live), (std::vector<std::string>{"4", "2", "1"}));
}

TEST(RollbackTarget, GoesToWhatWasActiveBeforeAndTogglesBack) {
  std::vector<std::string> disk = {"a1", "a2", "a3"};
  std::vector<Switch> s = {{"a1", ""}, {"a2", "a1"}, {"a3", "a2"}};
  EXPECT_EQ(rollback_target(s, "a3", disk), "a2");
  s.push_back({"a2", "a3"});  // `groundctl rollback` ran.
  EXPECT_EQ(rollback_target(s, "a2", disk), "a3");
  // The previous one was pruned: fall back to the newest older release that was ever live.
  EXPECT_EQ(rollback_target({{"a1", ""}, {"a2", "a1"}, {"a3", "a9"}}, "a3", disk), "a2");
  // A release that never went live (its deploy failed) is never a target.
  EXPECT_EQ(rollback_target({{"a1", ""}, {"a3", "a1"}}, "a3", disk), "a1");
  EXPECT_FALSE(rollback_target({{"a1", ""}}, "a1", disk).has_value());
}

TEST(RefProblem, RefusesOptionsAndRanges) {
  for (const char* good : {"main", "v2.1.0", "release/2026-11", "1a2b3c4", "feature_x+y"}) {
    EXPECT_EQ(ref_problem(good), "") << good;
  }
  for (const char* bad : {"", "-c", "--upload-pack=evil", "main..dev", "HEAD@{1}", "a b", "a;b",
                          "/main", "main/", "a//b", "x$(id)"}) {
    EXPECT_NE(ref_problem(bad), "") << bad;
  }
}

ServiceView healthy() {
  return {"running", {"127.0.0.1:3000"}, {{0, 100, "running", 0}, {1, 101, "running", 0}}};
}

TEST(HealthVerdict, PassesOnlyWhenNothingChangedAndTheProbeAnswered) {
  EXPECT_FALSE(health_verdict(healthy(), healthy(), "").has_value());
  ServiceView v = healthy();
  v.instances[1].pid = 150;
  v.instances[1].restarts = 1;
  auto r = health_verdict(healthy(), v, "");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("instance 1 exited"), std::string::npos) << *r;
  v = healthy();
  v.instances[0].state = "backoff";
  v.instances[0].pid = 0;
  EXPECT_TRUE(health_verdict(healthy(), v, ""));
  v = healthy();
  v.instances.pop_back();
  EXPECT_TRUE(health_verdict(healthy(), v, ""));
  v = healthy();
  v.state = "degraded";
  EXPECT_TRUE(health_verdict(healthy(), v, ""));
  r = health_verdict(healthy(), healthy(), "GET x did not answer 2xx");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("health check failed"), std::string::npos);
}

TEST(HealthUrl, UsesTheBoundAddressForAPath) {
  config::DeployHealth h;
  EXPECT_EQ(*health_url(h, healthy()), "");
  h.path = "/health";
  EXPECT_EQ(*health_url(h, healthy()), "http://127.0.0.1:3000/health");
  ServiceView any = healthy();
  any.listen = {"0.0.0.0:8080"};
  EXPECT_EQ(*health_url(h, any), "http://127.0.0.1:8080/health");
  any.listen = {"[::]:8080"};
  EXPECT_EQ(*health_url(h, any), "http://[::1]:8080/health");
  any.listen.clear();
  EXPECT_FALSE(health_url(h, any));
  h.path.clear();
  h.http = "http://127.0.0.1:9/h";
  EXPECT_EQ(*health_url(h, any), "http://127.0.0.1:9/h");
}

TEST(DeployAlerts, FireOnFailureAndResolveOnTheNextSuccess) {
  DeployOutcome rolled;
  rolled.result = "rolled_back";
  rolled.release = "20261127-184501-1a2b3c4";
  rolled.ref = "v4";
  rolled.error = "health check failed";
  auto fired = deploy_alerts(rolled, std::nullopt, "api", "box", at(1000));
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].name, "DeployRolledBack");
  EXPECT_TRUE(fired[0].firing());
  EXPECT_EQ(fired[0].labels.at("severity"), "critical");
  EXPECT_EQ(fired[0].annotations.at("description"), "health check failed");

  DeployOutcome good;
  good.result = "ok";
  good.release = "20261127-190000-abcdef0";
  DeployRecord last;
  last.result = "rolled_back";
  last.finished_at = "2026-11-27T18:46:00Z";
  auto resolved = deploy_alerts(good, last, "api", "box", at(2000));
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_FALSE(resolved[0].firing());
  // Same labels, so a receiver pairs the resolution with the alert.
  EXPECT_EQ(resolved[0].labels, fired[0].labels);
  EXPECT_EQ(monitor::fingerprint(resolved[0]), monitor::fingerprint(fired[0]));

  last.result = "ok";
  EXPECT_TRUE(deploy_alerts(good, last, "api", "box", at(2000)).empty());
  EXPECT_TRUE(deploy_alerts(good, std::nullopt, "api", "box", at(2000)).empty());
  DeployOutcome failed;
  failed.result = "failed";
  auto f = deploy_alerts(failed, std::nullopt, "api", "box", at(1000));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].name, "DeployFailed");
  EXPECT_EQ(f[0].labels.at("severity"), "warning");
}

}  // namespace
}  // namespace gc::deploy

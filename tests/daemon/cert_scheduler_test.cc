// SPDX-License-Identifier: MIT
// What the daemon makes of `groundctl cert renew --json` output, and the metrics it gives.
#include "daemon/cert_scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace gc::daemon {
namespace {

TEST(RenewalOutcome, ParsesEveryField) {
  auto o = parse_renewal_outcome(
      R"({"name":"api.orbitl.org","outcome":"failed","error":"urn:ietf:params:acme:error:rateLimited: too many certificates","rate_limited":true,"not_after":1790000000,"renew_at":1785000000})",
      42);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->name, "api.orbitl.org");
  EXPECT_EQ(o->outcome, "failed");
  EXPECT_TRUE(o->rate_limited);
  EXPECT_EQ(o->not_after, 1790000000);
  EXPECT_EQ(o->renew_at, 1785000000);
  EXPECT_EQ(o->time, 42);
  EXPECT_NE(o->error.find("rateLimited"), std::string::npos);
}

TEST(RenewalOutcome, RefusesWhatIsNotAnOutcome) {
  EXPECT_EQ(parse_renewal_outcome("", 1).error().code, Errc::kCorrupt);
  EXPECT_EQ(parse_renewal_outcome("error: no [tls] section\n", 1).error().code, Errc::kCorrupt);
  EXPECT_EQ(parse_renewal_outcome(R"({"name":"x"})", 1).error().code, Errc::kCorrupt);
  auto bad = parse_renewal_outcome(R"({"outcome":"maybe"})", 1);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("maybe"), std::string::npos);
  // Missing optional fields keep their zero values.
  auto minimal = parse_renewal_outcome(R"({"outcome":"not_due"})", 7);
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->not_after, 0);
  EXPECT_FALSE(minimal->rate_limited);
}

TEST(GradeOutcome, ReadsTheGradeOrKeepsWhyThereIsNone) {
  GradeOutcome g =
      parse_grade_outcome(R"({"grade":"A+","score":93,"reasons":[]})", "", "127.0.0.1:443", 5);
  EXPECT_EQ(g.grade, "A+");
  EXPECT_EQ(g.score, 93);
  EXPECT_TRUE(g.good());
  EXPECT_FALSE(parse_grade_outcome(R"({"grade":"B","score":70})", "", "e", 5).good());
  GradeOutcome none =
      parse_grade_outcome("", "error: 127.0.0.1:443: connection refused", "127.0.0.1:443", 5);
  EXPECT_FALSE(none.good());
  EXPECT_TRUE(none.grade.empty());
  EXPECT_EQ(none.error, "error: 127.0.0.1:443: connection refused");
}

// A daemon binary that is not groundctl: the child prints nothing usable, and the scheduler
// reports the run as failed (renewal_success 0) instead of going quiet.
TEST(CertScheduler, ReportsAChildThatPrintsNoOutcomeAsFailed) {
  config::Config cfg;
  config::TlsConfig tls;
  tls.domains = {"api.orbitl.org"};
  tls.check_interval = std::chrono::seconds(1);
  cfg.tls = tls;
  CertScheduler s("/bin/echo", "/nonexistent.toml", cfg);
  nlohmann::json status;
  for (int i = 0; i < 100 && status.is_null(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Polling, with a bound.
    status = s.status_json();
  }
  ASSERT_FALSE(status.is_null());
  EXPECT_EQ(status["outcome"], "failed");
  EXPECT_EQ(status["name"], "api.orbitl.org");
  EXPECT_NE(status["error"].get<std::string>().find("no JSON"), std::string::npos) << status.dump();
  monitor::MetricSet set;
  s.add_metrics(set);
  std::string text = monitor::render(set);
  EXPECT_NE(text.find("groundctl_cert_renewal_success{name=\"api.orbitl.org\"} 0"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace gc::daemon

// SPDX-License-Identifier: MIT
// Unit tests of tls/renewal.h: when a certificate is renewed.
#include "tls/renewal.h"

#include <gtest/gtest.h>

#include <set>

namespace gc::tls {
namespace {

using std::chrono::days;
using std::chrono::hours;

const SysSeconds kIssued = SysSeconds(std::chrono::sys_days(std::chrono::year(2026) / 11 / 1));

InstalledCert cert(days lifetime, std::string serial = "0A1B2C") {
  return InstalledCert{
      kIssued, kIssued + lifetime, {"api.example.com", "www.example.com"}, std::move(serial)};
}

const std::vector<std::string> kDomains = {"www.example.com", "api.example.com"};

TEST(Renewal, RenewsWhenAThirdOfTheLifetimeIsLeft) {
  InstalledCert c = cert(days(90));
  SysSeconds due = renewal_time(c, std::nullopt);
  // Day 60 at the latest; the jitter moves it at most 2 % of 90 days (43.2 h) earlier.
  EXPECT_LE(due, kIssued + days(60));
  EXPECT_GE(due, kIssued + days(60) - hours(44));
  EXPECT_EQ(decide_renewal(c, kDomains, std::nullopt, false, due - hours(1)).action,
            RenewalAction::kNone);
  RenewalDecision d = decide_renewal(c, kDomains, std::nullopt, false, due);
  EXPECT_EQ(d.action, RenewalAction::kRenew);
  EXPECT_EQ(d.renew_at, due);
}

TEST(Renewal, ScalesToShortLifetimes) {
  // 45-day certificates (and pebble's short test ones) renew with 15 days left.
  InstalledCert c = cert(days(45));
  SysSeconds due = renewal_time(c, std::nullopt);
  EXPECT_LE(due, kIssued + days(30));
  EXPECT_GE(due, kIssued + days(30) - hours(22));
}

TEST(Renewal, JitterIsDeterministicPerCertificate) {
  std::set<std::int64_t> distinct;
  for (std::string serial : {"01", "02", "03", "FF00", "ABCDEF", "123456789A"}) {
    SysSeconds a = renewal_time(cert(days(90), serial), std::nullopt);
    EXPECT_EQ(a, renewal_time(cert(days(90), serial), std::nullopt));
    distinct.insert(a.time_since_epoch().count());
  }
  EXPECT_GT(distinct.size(), 3u);
}

TEST(Renewal, FollowsTheAriWindowWhenKnown) {
  InstalledCert c = cert(days(90));
  RenewalWindow w{kIssued + days(10), kIssued + days(11), ""};
  SysSeconds due = renewal_time(c, w);
  EXPECT_GE(due, w.start);
  EXPECT_LE(due, w.end);
  // Long before the local rule, the CA asks for renewal (a revocation, say).
  RenewalDecision d = decide_renewal(c, kDomains, w, false, w.end);
  EXPECT_EQ(d.action, RenewalAction::kRenew);
  EXPECT_NE(d.reason.find("window"), std::string::npos);
  EXPECT_EQ(decide_renewal(c, kDomains, w, false, w.start - hours(1)).action, RenewalAction::kNone);
}

TEST(Renewal, ForceAlwaysRenews) {
  InstalledCert c = cert(days(90));
  EXPECT_EQ(decide_renewal(c, kDomains, std::nullopt, true, kIssued + days(1)).action,
            RenewalAction::kRenew);
}

TEST(Renewal, MissingExpiredOrOtherNamesIssue) {
  EXPECT_EQ(decide_renewal(std::nullopt, kDomains, std::nullopt, false, kIssued).action,
            RenewalAction::kIssue);
  InstalledCert c = cert(days(90));
  EXPECT_EQ(decide_renewal(c, {"api.example.com"}, std::nullopt, false, kIssued + days(1)).action,
            RenewalAction::kIssue);
  EXPECT_EQ(decide_renewal(c, kDomains, std::nullopt, false, kIssued + days(91)).action,
            RenewalAction::kIssue);
}

TEST(Renewal, ReplacesASelfSignedPlaceholder) {
  InstalledCert c = cert(days(30));
  c.self_signed = true;
  RenewalDecision d = decide_renewal(c, kDomains, std::nullopt, false, kIssued + days(1));
  EXPECT_EQ(d.action, RenewalAction::kIssue);
  EXPECT_EQ(d.reason, "a self-signed placeholder");
}

}  // namespace
}  // namespace gc::tls

// SPDX-License-Identifier: MIT
// Unit tests of tls/acme_protocol.h: parsing the server's messages and deciding on answers.
#include "tls/acme_protocol.h"

#include <gtest/gtest.h>

namespace gc::tls {
namespace {

using std::chrono::seconds;

SysSeconds at(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days(std::chrono::year(y) / mo / d) + std::chrono::hours(h) +
         std::chrono::minutes(mi) + seconds(s);
}

TEST(AcmeToken, AcceptsBase64urlOnly) {
  EXPECT_TRUE(is_valid_token("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"));
  EXPECT_TRUE(is_valid_token("abcdefghijklmnop-_"));
  EXPECT_FALSE(is_valid_token(""));
  EXPECT_FALSE(is_valid_token("short"));
  EXPECT_FALSE(is_valid_token("../../../../etc/passwd-aaaaaaaa"));
  EXPECT_FALSE(is_valid_token("abcdefghijklmnop/q"));
  EXPECT_FALSE(is_valid_token("abcdefghijklmnop.q"));
  EXPECT_FALSE(is_valid_token("abcdefghijklmnop q"));
  EXPECT_FALSE(is_valid_token("abcdefghijklmnop%2f"));
  EXPECT_FALSE(is_valid_token(std::string(257, 'a')));
  EXPECT_TRUE(is_valid_token(std::string(256, 'a')));
}

TEST(RetryAfter, ParsesSecondsAndHttpDates) {
  SysSeconds now = at(2026, 11, 28, 12, 0, 0);
  EXPECT_EQ(parse_retry_after("120", now), seconds(120));
  EXPECT_EQ(parse_retry_after(" 0 ", now), seconds(0));
  EXPECT_EQ(parse_retry_after("Sat, 28 Nov 2026 12:01:30 GMT", now), seconds(90));
  // A date in the past means "now", never a negative wait.
  EXPECT_EQ(parse_retry_after("Fri, 27 Nov 2026 12:00:00 GMT", now), seconds(0));
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sat, 28 Foo 2026 12:01:30 GMT", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sat, 28 Nov 2026 12:01:30 CET", now), std::nullopt);
}

TEST(LinkHeader, FindsTargetsByRel) {
  std::vector<std::string> headers = {
      R"(<https://ca.example/dir>;rel="index")",
      R"(<https://ca.example/issuer/1>;rel="up", <https://ca.example/cert/2>; rel="alternate")",
      R"(<https://ca.example/cert/3>;rel=alternate)"};
  EXPECT_EQ(parse_links(headers, "up"), std::vector<std::string>{"https://ca.example/issuer/1"});
  EXPECT_EQ(parse_links(headers, "alternate"),
            (std::vector<std::string>{"https://ca.example/cert/2", "https://ca.example/cert/3"}));
  EXPECT_TRUE(parse_links(headers, "next").empty());
}

TEST(AcmeProblem, ParsesTypeDetailAndSubproblems) {
  auto p = parse_problem(R"({
    "type": "urn:ietf:params:acme:error:malformed",
    "detail": "Some of the identifiers requested were rejected", "status": 400,
    "subproblems": [{"type": "urn:ietf:params:acme:error:rejectedIdentifier",
                     "detail": "This CA will not issue for \"example.net\"",
                     "identifier": {"type": "dns", "value": "example.net"}}]})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->is("malformed"));
  EXPECT_FALSE(p->is("badNonce"));
  EXPECT_EQ(p->status, 400);
  ASSERT_EQ(p->subproblems.size(), 1u);
  EXPECT_NE(p->describe().find("example.net: urn:ietf:params:acme:error:rejectedIdentifier"),
            std::string::npos);
  EXPECT_FALSE(parse_problem("not json"));
  EXPECT_FALSE(parse_problem(R"({"status": "valid"})"));
}

TEST(ClassifyResponse, RetriesBadNonceABoundedNumberOfTimes) {
  std::string bad = R"({"type": "urn:ietf:params:acme:error:badNonce", "detail": "stale"})";
  EXPECT_EQ(classify_response(400, bad, 1, 3, "new order").next, AcmeNext::kRetry);
  EXPECT_EQ(classify_response(400, bad, 2, 3, "new order").next, AcmeNext::kRetry);
  AcmeVerdict last = classify_response(400, bad, 3, 3, "new order");
  EXPECT_EQ(last.next, AcmeNext::kFail);
  EXPECT_FALSE(last.rate_limited);
  EXPECT_NE(last.error.message.find("after 3 tries"), std::string::npos);
  EXPECT_EQ(classify_response(201, "{}", 1, 3, "new order").next, AcmeNext::kOk);
}

TEST(ClassifyResponse, RateLimitedStopsWithAFlag) {
  AcmeVerdict v = classify_response(
      429,
      R"({"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many certificates"})", 1,
      10, "new order for api.example.com");
  EXPECT_EQ(v.next, AcmeNext::kFail);
  EXPECT_TRUE(v.rate_limited);
  EXPECT_NE(v.error.message.find("api.example.com"), std::string::npos);
  EXPECT_NE(v.error.message.find("too many certificates"), std::string::npos);
}

TEST(ClassifyResponse, OtherProblemsNameTypeDetailAndObject) {
  AcmeVerdict v = classify_response(
      403, R"({"type": "urn:ietf:params:acme:error:unauthorized", "detail": "no way"})", 1, 10,
      "new order for api.example.com");
  EXPECT_EQ(v.next, AcmeNext::kFail);
  EXPECT_FALSE(v.rate_limited);
  EXPECT_EQ(v.error.code, Errc::kInvalidArgument);
  EXPECT_EQ(v.error.message,
            "new order for api.example.com: urn:ietf:params:acme:error:unauthorized: no way");
  AcmeVerdict server = classify_response(503, "<html>", 1, 10, "directory");
  EXPECT_EQ(server.error.code, Errc::kUnavailable);
  EXPECT_EQ(server.error.message, "directory: HTTP status 503");
}

TEST(AcmeMessages, ParsesDirectoryOrderAndAuthorization) {
  auto dir = parse_directory(R"({"newNonce": "https://ca/nonce", "newAccount": "https://ca/acct",
    "newOrder": "https://ca/order", "renewalInfo": "https://ca/ari",
    "meta": {"termsOfService": "https://ca/tos"}})");
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(dir->new_order, "https://ca/order");
  EXPECT_EQ(dir->renewal_info, "https://ca/ari");
  EXPECT_EQ(dir->terms_of_service, "https://ca/tos");
  auto no_nonce = parse_directory(R"({"newAccount": "a", "newOrder": "b"})");
  ASSERT_FALSE(no_nonce);
  EXPECT_NE(no_nonce.error().message.find("newNonce"), std::string::npos);
  EXPECT_FALSE(parse_directory("[1, 2]"));

  auto order = parse_order(R"({"status": "invalid", "finalize": "https://ca/fin",
    "authorizations": ["https://ca/authz/1", "https://ca/authz/2"],
    "error": {"type": "urn:ietf:params:acme:error:connection", "detail": "refused"}})");
  ASSERT_TRUE(order) << order.error().message;
  EXPECT_EQ(order->authorizations.size(), 2u);
  ASSERT_TRUE(order->error);
  EXPECT_TRUE(order->error->is("connection"));

  auto authz = parse_authorization(R"({"status": "pending",
    "identifier": {"type": "dns", "value": "api.example.com"},
    "challenges": [{"type": "dns-01", "url": "https://ca/c/1", "token": "t1", "status": "pending"},
                   {"type": "http-01", "url": "https://ca/c/2", "token": "t2", "status": "invalid",
                    "error": {"type": "urn:ietf:params:acme:error:connection", "detail": "x"}}]})");
  ASSERT_TRUE(authz) << authz.error().message;
  EXPECT_EQ(authz->identifier, "api.example.com");
  const AcmeChallenge* http = authz->find("http-01");
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->token, "t2");
  ASSERT_TRUE(http->error);
  EXPECT_EQ(authz->find("tls-alpn-01"), nullptr);
  EXPECT_FALSE(parse_authorization(R"({"status": "valid"})"));
}

TEST(RenewalInfo, ParsesTheSuggestedWindow) {
  // RFC 9773 section 4.2's example.
  auto w = parse_renewal_info(R"({
    "suggestedWindow": {"start": "2025-01-02T04:00:00Z", "end": "2025-01-03T04:00:00Z"},
    "explanationURL": "https://acme.example.com/docs/ari"})");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->start, at(2025, 1, 2, 4));
  EXPECT_EQ(w->end, at(2025, 1, 3, 4));
  EXPECT_EQ(w->explanation_url, "https://acme.example.com/docs/ari");
  // Fractions and offsets are RFC 3339 too.
  auto f = parse_renewal_info(R"({"suggestedWindow": {"start": "2025-01-02T05:00:00.123+01:00",
    "end": "2025-01-02T04:30:00Z"}})");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->start, at(2025, 1, 2, 4));
  EXPECT_FALSE(parse_renewal_info(R"({"suggestedWindow": {"start": "2025-01-03T04:00:00Z",
    "end": "2025-01-02T04:00:00Z"}})"));
  EXPECT_FALSE(parse_renewal_info(R"({"suggestedWindow": {"start": "yesterday", "end": "x"}})"));
  EXPECT_FALSE(parse_renewal_info(R"({"explanationURL": "x"})"));
}

TEST(RenewalInfo, BuildsTheCertId) {
  // RFC 9773 appendix A: AKI keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:
  // C8:D4 and serial 00:87:65:43:21 give "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE".
  const std::uint8_t aki[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                              0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
  const std::uint8_t serial[] = {0x00, 0x87, 0x65, 0x43, 0x21};
  EXPECT_EQ(ari_cert_id(aki, serial), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

}  // namespace
}  // namespace gc::tls

// SPDX-License-Identifier: MIT
// The pure parts of the TLS probe: HOST:PORT, the HSTS header (RFC 6797) and the response head.
#include <gtest/gtest.h>

#include "tls/probe.h"

namespace gc::tls {
namespace {

TEST(ParseHostPort, AcceptsNamesIpv4AndBracketedIpv6) {
  auto a = parse_host_port("example.org:443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, "example.org");
  EXPECT_EQ(a->second, 443);
  auto b = parse_host_port("127.0.0.1:8443");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, "127.0.0.1");
  auto c = parse_host_port("[::1]:9443");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->first, "::1");
  EXPECT_EQ(c->second, 9443);
}

TEST(ParseHostPort, RejectsMissingOrBadPorts) {
  for (const char* bad : {"example.org", "example.org:", ":443", "::1:443", "[::1]443",
                          "[::1]:", "host:0", "host:65536", "host:44x", "host:123456"}) {
    auto r = parse_host_port(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
      EXPECT_NE(r.error().message.find("HOST:PORT"), std::string::npos);
    }
  }
}

TEST(ParseHsts, ReadsDirectivesCaseInsensitively) {
  auto h = parse_hsts("max-age=63072000; includeSubDomains; preload");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->present);
  EXPECT_EQ(h->max_age, 63072000);
  EXPECT_TRUE(h->include_subdomains);
  EXPECT_TRUE(h->preload);
  auto q = parse_hsts("INCLUDESUBDOMAINS ;  Max-Age=\"31536000\"");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->max_age, 31536000);
  EXPECT_TRUE(q->include_subdomains);
  EXPECT_FALSE(q->preload);
  auto zero = parse_hsts("max-age=0");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->max_age, 0);
}

TEST(ParseHsts, IgnoresHeadersRfc6797SaysToIgnore) {
  EXPECT_FALSE(parse_hsts(""));
  EXPECT_FALSE(parse_hsts("includeSubDomains"));
  EXPECT_FALSE(parse_hsts("max-age=abc"));
  EXPECT_FALSE(parse_hsts("max-age=-5"));
  EXPECT_FALSE(parse_hsts("max-age=10; max-age=20"));
  EXPECT_FALSE(parse_hsts("max-age="));
}

TEST(ParseHsts, ClampsHugeMaxAge) {
  auto h = parse_hsts("max-age=99999999999999999999999");
  ASSERT_TRUE(h);
  EXPECT_GT(h->max_age, 15552000);
}

TEST(ParseHstsResponse, FindsTheFirstHeader) {
  HstsProbe h = parse_hsts_response(
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nstrict-transport-security: max-age=63072000\r\n"
      "Strict-Transport-Security: max-age=5\r\n\r\nbody");
  EXPECT_TRUE(h.requested);
  EXPECT_EQ(h.http_status, 200);
  EXPECT_TRUE(h.present);
  EXPECT_EQ(h.max_age, 63072000);
}

TEST(ParseHstsResponse, NoHeaderOrInvalidHeader) {
  HstsProbe none = parse_hsts_response("HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n");
  EXPECT_TRUE(none.requested);
  EXPECT_EQ(none.http_status, 404);
  EXPECT_FALSE(none.present);
  EXPECT_TRUE(none.error.empty());
  HstsProbe bad = parse_hsts_response(
      "HTTP/1.1 200 OK\r\nStrict-Transport-Security: includeSubDomains\r\n\r\n");
  EXPECT_FALSE(bad.present);
  EXPECT_NE(bad.error.find("ignored"), std::string::npos);
  // A header after the head's end is body, not a header.
  HstsProbe body =
      parse_hsts_response("HTTP/1.1 200 OK\r\n\r\nStrict-Transport-Security: max-age=63072000\r\n");
  EXPECT_FALSE(body.present);
}

TEST(ParseHstsResponse, RejectsWhatIsNotHttp) {
  HstsProbe h = parse_hsts_response("SSH-2.0-OpenSSH_9.2\r\n");
  EXPECT_FALSE(h.requested);
  EXPECT_FALSE(h.present);
  EXPECT_FALSE(h.error.empty());
}

TEST(VersionName, MatchesOpenSslSpelling) {
  EXPECT_STREQ(version_name(TlsVersion::kTls10), "TLSv1.0");
  EXPECT_STREQ(version_name(TlsVersion::kTls13), "TLSv1.3");
}

}  // namespace
}  // namespace gc::tls

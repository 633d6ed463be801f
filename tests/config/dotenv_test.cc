// SPDX-License-Identifier: MIT
#include "config/dotenv.h"

#include <gtest/gtest.h>

namespace gc::config {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs parse_ok(std::string_view text) {
  auto r = parse_dotenv(text, ".env");
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : Pairs{};
}

std::string parse_error(std::string_view text) {
  auto r = parse_dotenv(text, "/srv/app/.env");
  EXPECT_FALSE(r);
  if (r) return "";
  EXPECT_EQ(r.error().code, Errc::kInvalidConfig);
  return r.error().message;
}

TEST(Dotenv, ParsesPlainAssignmentsCommentsAndBlankLines) {
  EXPECT_EQ(parse_ok("# comment\n\nA=1\n  B = two words  \n   # indented comment\nC=\n"),
            (Pairs{{"A", "1"}, {"B", "two words"}, {"C", ""}}));
}

TEST(Dotenv, AcceptsTheExportPrefix) {
  EXPECT_EQ(parse_ok("export A=1\nexport\tB=2\nexport=3\n"),
            (Pairs{{"A", "1"}, {"B", "2"}, {"export", "3"}}));
}

TEST(Dotenv, RemovesInlineCommentsFromUnquotedValuesOnly) {
  EXPECT_EQ(parse_ok("A=value # note\nB=a#b\nC='x # y' # note\nD=\"p # q\"\n"),
            (Pairs{{"A", "value"}, {"B", "a#b"}, {"C", "x # y"}, {"D", "p # q"}}));
}

TEST(Dotenv, TakesSingleQuotedValuesLiterally) {
  EXPECT_EQ(parse_ok("A='a\\nb \"c\" $D'\n"), (Pairs{{"A", "a\\nb \"c\" $D"}}));
}

TEST(Dotenv, UnescapesDoubleQuotedValues) {
  EXPECT_EQ(parse_ok(R"(A="line1\nline2\ttab \"q\" back\\slash \d")"),
            (Pairs{{"A", "line1\nline2\ttab \"q\" back\\slash \\d"}}));
}

TEST(Dotenv, LetsQuotedValuesSpanLines) {
  Pairs pairs = parse_ok("KEY=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\nNEXT=1\n");
  EXPECT_EQ(pairs, (Pairs{{"KEY", "-----BEGIN KEY-----\nabc\n-----END KEY-----"}, {"NEXT", "1"}}));
}

TEST(Dotenv, HandlesCrlfLineEndings) {
  EXPECT_EQ(parse_ok("A=1\r\nB='2'\r\n"), (Pairs{{"A", "1"}, {"B", "2"}}));
}

TEST(Dotenv, LetsLaterDuplicatesWin) {
  EXPECT_EQ(parse_ok("A=1\nB=2\nA=3\n"), (Pairs{{"A", "3"}, {"B", "2"}}));
}

TEST(Dotenv, ReportsFileAndLineForBadLines) {
  EXPECT_EQ(parse_error("A=1\nnot an assignment\n"), "/srv/app/.env:2: expected KEY=VALUE");
  EXPECT_EQ(parse_error("\n\n1A=x\n"),
            "/srv/app/.env:3: invalid key \"1A\": use letters, digits and \"_\", not starting "
            "with a digit");
  EXPECT_NE(parse_error("MY-KEY=x\n").find(".env:1: invalid key \"MY-KEY\""), std::string::npos);
  EXPECT_NE(parse_error("=x\n").find(".env:1: invalid key \"\""), std::string::npos);
}

TEST(Dotenv, ReportsUnterminatedQuotesAtTheirStartLine) {
  EXPECT_EQ(parse_error("A=1\nB=\"open\nstill\n"),
            "/srv/app/.env:2: unterminated double-quoted value for \"B\"");
  EXPECT_EQ(parse_error("C='x\n"), "/srv/app/.env:1: unterminated single-quoted value for \"C\"");
}

TEST(Dotenv, ReportsTextAfterAClosingQuoteOnItsLine) {
  EXPECT_EQ(parse_error("A=1\nB=\"x\ny\" junk\n"),
            "/srv/app/.env:3: unexpected text after the closing quote of \"B\"");
}

TEST(Dotenv, NeverQuotesAValueInAnError) {
  for (const char* text : {"PASSWORD=\"hunter2secret", "PASSWORD='hunter2secret' trailing",
                           "PASSWORD hunter2secret"}) {
    std::string message = parse_error(text);
    EXPECT_EQ(message.find("hunter2secret"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace gc::config

// SPDX-License-Identifier: MIT
// The PostgreSQL protocol code without a server: SCRAM-SHA-256 against RFC 7677's example, MD5
// against RFC 1321's vectors, framing of broken streams, authentication decisions.
#include "backup/pg_wire.h"
#include "backup/pg_auth.h"

#include <gtest/gtest.h>

namespace gc::backup::wire {
namespace {

// RFC 7677 section 3.
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string message(char type, const std::string& body) {
  return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

TEST(ScramClient, MatchesTheRfc7677Example) {
  ScramClient c("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  auto final_msg = c.client_final(kServerFirst);
  ASSERT_TRUE(final_msg) << final_msg.error().message;
  EXPECT_EQ(*final_msg, kClientFinal);
  auto ok = c.verify_server_final(kServerFinal);
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST(ScramClient, RejectsATamperedServerSignature) {
  ScramClient c("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  ASSERT_TRUE(c.client_final(kServerFirst));
  std::string tampered(kServerFinal);
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  auto st = c.verify_server_final(tampered);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kPermission);
  // The right signature for another password is just as wrong.
  ScramClient other("user", "pencil2", "rOprNGfwEbeRWgbNEkqO");
  ASSERT_TRUE(other.client_final(kServerFirst));
  EXPECT_FALSE(other.verify_server_final(kServerFinal));
  // A server-side error and garbage are errors too.
  EXPECT_EQ(c.verify_server_final("e=invalid-proof").error().code, Errc::kPermission);
  EXPECT_EQ(c.verify_server_final("v=###").error().code, Errc::kCorrupt);
  EXPECT_EQ(c.verify_server_final("").error().code, Errc::kCorrupt);
}

TEST(ScramClient, RefusesServerFinalBeforeServerFirst) {
  ScramClient c("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(c.verify_server_final(kServerFinal).error().code, Errc::kCorrupt);
}

TEST(ScramClient, RejectsMalformedServerFirstMessages) {
  const std::string nonce = "rOprNGfwEbeRWgbNEkqO";
  const std::string r = "r=" + nonce + "XYZ", s = "s=W22ZaJ0SNY7soEsUEjb6gQ==";
  for (const std::string& bad : std::vector<std::string>{
           s + ",i=4096",                       // No r=.
           r + ",i=4096",                       // No s=.
           r + "," + s,                         // No i=.
           std::string(),                       // Nothing.
           "r=someoneelse," + s + ",i=4096",    // Not our nonce.
           "r=" + nonce + "," + s + ",i=4096",  // Our nonce, not extended.
           r + ",s=!!!,i=4096",                 // Salt not base64.
           r + "," + s + ",i=12x",              // Iterations not a number.
           "m=ext," + r + "," + s + ",i=4096",  // A mandatory extension.
       }) {
    ScramClient c("", "pencil", nonce);
    auto f = c.client_final(bad);
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().code, Errc::kCorrupt) << bad;
    EXPECT_EQ(f.error().message.find("pencil"), std::string::npos);
  }
  for (const char* count : {"0", "-1", "1000001", "99999999999"}) {
    ScramClient c("", "pencil", nonce);
    auto f = c.client_final(r + "," + s + ",i=" + count);
    ASSERT_FALSE(f) << count;
    EXPECT_NE(f.error().code, Errc::kInternal) << count;
  }
}

TEST(Md5, MatchesRfc1321Vectors) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5_hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(md5_hex("1234567890123456789012345678901234567890123456789012345678901234567890123"
                    "4567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, HashesPasswordsAsPostgresql) {
  // Computed once with Python's hashlib:
  //   inner = md5(b"s3cret!groundctl").hexdigest()   (also `printf 's3cret!groundctl' | openssl
  //   md5`) "md5" + md5(inner.encode() + bytes([0x93, 0x01, 0xfe, 0x7a])).hexdigest()
  EXPECT_EQ(md5_hex("s3cret!groundctl"), "59b88f8fbe9ec2ab0fd8abc0cbd52179");
  EXPECT_EQ(md5_password("groundctl", "s3cret!", {0x93, 0x01, 0xfe, 0x7a}),
            "md56c7d233a76e3ac30e6a9cfaace8ac33a");
}

TEST(MessageReader, SplitsMessagesAcrossFeeds) {
  MessageReader r;
  std::string stream = message('Z', "I") + message('S', std::string("a\0b\0", 4));
  std::vector<Message> got;
  for (char c : stream) {
    r.feed(std::string_view(&c, 1));
    auto m = r.next();
    ASSERT_TRUE(m);
    if (*m) got.push_back(std::move(**m));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, 'Z');
  EXPECT_EQ(got[0].body, "I");
  auto param = parse_parameter_status(got[1].body);
  ASSERT_TRUE(param);
  EXPECT_EQ(param->first, "a");
  EXPECT_EQ(param->second, "b");
  auto end = r.next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(MessageReader, KeepsATruncatedMessageAsBufferedBytes) {
  MessageReader r;
  std::string m = message('D', std::string(100, 'x'));
  r.feed(std::string_view(m).substr(0, 50));
  auto none = r.next();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_EQ(r.buffered(), 50u);
}

TEST(MessageReader, RejectsBadLengthsAndUnknownTypes) {
  for (std::uint32_t len : {0u, 3u, 0x80000000u, 0xffffffffu, (1u << 30) + 1}) {
    MessageReader r;
    r.feed("D" + be32(len));
    auto m = r.next();
    ASSERT_FALSE(m) << len;
    EXPECT_EQ(m.error().code, Errc::kCorrupt);
  }
  MessageReader r;
  r.feed("\x7f" + be32(4));
  auto m = r.next();
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("unknown message type 0x7f"), std::string::npos);
}

TEST(ParseDataRow, ReadsValuesAndNulls) {
  std::string body = std::string("\0\3", 2) + be32(2) + "hi" + be32(0xffffffff) + be32(0);
  auto row = parse_data_row(body);
  ASSERT_TRUE(row);
  EXPECT_EQ(*row, (std::vector<std::string>{"hi", "", ""}));
  // A value longer than the message, and a missing column.
  EXPECT_FALSE(parse_data_row(std::string("\0\1", 2) + be32(10) + "short"));
  EXPECT_FALSE(parse_data_row(std::string("\0\2", 2) + be32(1) + "a"));
  EXPECT_FALSE(parse_data_row(std::string("\0", 1)));
}

TEST(ParseError, FormatsAsLibpqOnOneLine) {
  std::string body = std::string("SERROR\0VERROR\0C42P01\0Mrelation \"x\" does not exist\0", 50) +
                     std::string("Dline one\nline two\0Htry this\0\0", 29);
  ServerError e = parse_error(body);
  EXPECT_EQ(e.code, "42P01");
  EXPECT_EQ(e.text,
            "ERROR:  relation \"x\" does not exist; DETAIL:  line one; line two; HINT:  try this");
  EXPECT_EQ(parse_error(std::string("SFATAL\0Mgone\0\0", 14)).text, "FATAL:  gone");
}

TEST(ParseAuth, ReadsEachRequest) {
  auto md5 = parse_auth(be32(5) + "\x01\x02\x03\x04");
  ASSERT_TRUE(md5);
  EXPECT_EQ(md5->kind, AuthRequest::Kind::kMd5);
  EXPECT_EQ(md5->salt[3], 4);
  auto sasl = parse_auth(be32(10) + std::string("SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0", 34));
  ASSERT_TRUE(sasl);
  EXPECT_EQ(sasl->mechanisms, (std::vector<std::string>{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}));
  EXPECT_EQ(parse_auth(be32(7))->method, "GSSAPI");
  EXPECT_FALSE(parse_auth(be32(5) + "\x01"));
  EXPECT_FALSE(parse_auth(be32(42)));
  EXPECT_FALSE(parse_auth("ab"));
}

TEST(ParseServerVersion, FollowsPqServerVersion) {
  EXPECT_EQ(parse_server_version("15.18 (Debian 15.18-0+deb12u1)"), 150018);
  EXPECT_EQ(parse_server_version("16beta1"), 160000);
  EXPECT_EQ(parse_server_version("17devel"), 170000);
  EXPECT_EQ(parse_server_version("9.6.24"), 90624);
  EXPECT_EQ(parse_server_version("10.1"), 100001);
  EXPECT_EQ(parse_server_version("garbage"), 0);
  EXPECT_EQ(parse_server_version(""), 0);
}

TEST(Frontend, FramesMessages) {
  EXPECT_EQ(ssl_request(), be32(8) + be32(80877103));
  EXPECT_EQ(query_message("SELECT 1"), message('Q', std::string("SELECT 1\0", 9)));
  EXPECT_EQ(terminate_message(), message('X', ""));
  std::string startup = startup_message({{"user", "u"}});
  EXPECT_EQ(startup, be32(16) + be32(196608) + std::string("user\0u\0\0", 8));
  EXPECT_EQ(sasl_initial_response("M", "abc"),
            message('p', std::string("M\0", 2) + be32(3) + "abc"));
}

TEST(Authenticator, AsksForAPasswordFileWhenNoneIsGiven) {
  Authenticator a("orbital", "", "nonce");
  AuthRequest req;
  req.kind = AuthRequest::Kind::kMd5;
  auto r = a.reply(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kPermission);
  EXPECT_NE(r.error().message.find("the server asks for a password for role orbital"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("password_file"), std::string::npos);
}

TEST(Authenticator, NamesUnsupportedMethodsAndTheFix) {
  Authenticator a("orbital", "pw-not-shown", "nonce");
  AuthRequest gss;
  gss.kind = AuthRequest::Kind::kUnsupported;
  gss.method = "GSSAPI";
  auto r = a.reply(gss);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("GSSAPI"), std::string::npos);
  EXPECT_NE(r.error().message.find("pg_hba.conf"), std::string::npos);
  AuthRequest plus;
  plus.kind = AuthRequest::Kind::kSasl;
  plus.mechanisms = {"SCRAM-SHA-256-PLUS"};
  r = a.reply(plus);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("SCRAM-SHA-256-PLUS"), std::string::npos);
  EXPECT_EQ(r.error().message.find("pw-not-shown"), std::string::npos);
}

TEST(Authenticator, RefusesOkBeforeTheServerProvedItself) {
  Authenticator a("orbital", "pencil", "rOprNGfwEbeRWgbNEkqO");
  AuthRequest sasl;
  sasl.kind = AuthRequest::Kind::kSasl;
  sasl.mechanisms = {"SCRAM-SHA-256"};
  auto first = a.reply(sasl);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, sasl_initial_response("SCRAM-SHA-256", "n,,n=,r=rOprNGfwEbeRWgbNEkqO"));
  AuthRequest ok;
  ok.kind = AuthRequest::Kind::kOk;
  auto r = a.reply(ok);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kPermission);
}

TEST(Authenticator, AnswersCleartextAndMd5) {
  Authenticator a("groundctl", "s3cret!", "n");
  AuthRequest clear;
  clear.kind = AuthRequest::Kind::kCleartext;
  EXPECT_EQ(*a.reply(clear), password_message("s3cret!"));
  AuthRequest md5;
  md5.kind = AuthRequest::Kind::kMd5;
  md5.salt = {0x93, 0x01, 0xfe, 0x7a};
  EXPECT_EQ(*a.reply(md5), password_message("md56c7d233a76e3ac30e6a9cfaace8ac33a"));
}

}  // namespace
}  // namespace gc::backup::wire

// SPDX-License-Identifier: MIT
// The SSL Labs rating from probe facts: the guide's tables, the caps and the T/M grades. Pure.
#include "tls/grade.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace gc::tls {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kNow = system_clock::time_point(seconds(1'800'000'000));
constexpr int64_t kDay = 86400;

CipherSuite suite(std::string name, int bits, std::string kx, bool aead, std::string group = "",
                  int kx_bits = 0) {
  CipherSuite s;
  s.name = std::move(name);
  s.bits = bits;
  s.kx = std::move(kx);
  s.auth = s.kx == "ANY" ? "ANY" : "ECDSA";
  s.forward_secrecy = s.kx == "ECDHE" || s.kx == "DHE" || s.kx == "ANY";
  s.aead = aead;
  s.kx_group = std::move(group);
  s.kx_bits = kx_bits;
  return s;
}

// What the provisioned site offers with an ECDSA P-256 certificate and HSTS of two years: the
// Mozilla intermediate profile without DHE.
ProbeResult intermediate_site() {
  ProbeResult p;
  p.host = "localhost";
  p.port = 443;
  p.sni = "localhost";
  for (TlsVersion v : kAllTlsVersions) {
    ProtocolProbe pp;
    pp.version = v;
    p.protocols.push_back(pp);
  }
  ProtocolProbe& t12 = p.protocols[2];
  t12.offered = true;
  t12.suites = {suite("ECDHE-ECDSA-AES128-GCM-SHA256", 128, "ECDHE", true, "X25519", 253),
                suite("ECDHE-ECDSA-AES256-GCM-SHA384", 256, "ECDHE", true, "X25519", 253),
                suite("ECDHE-ECDSA-CHACHA20-POLY1305", 256, "ECDHE", true, "X25519", 253)};
  ProtocolProbe& t13 = p.protocols[3];
  t13.offered = true;
  t13.suites = {suite("TLS_AES_256_GCM_SHA384", 256, "ANY", true, "X25519", 253),
                suite("TLS_CHACHA20_POLY1305_SHA256", 256, "ANY", true, "X25519", 253),
                suite("TLS_AES_128_GCM_SHA256", 128, "ANY", true, "X25519", 253)};
  CertificateProbe& c = p.certificate;
  c.present = true;
  c.key_type = "EC";
  c.key_bits = 256;
  c.key_curve = "prime256v1";
  c.signature_algorithm = "ecdsa-with-SHA256";
  c.not_before = 1'800'000'000 - 10 * kDay;
  c.not_after = 1'800'000'000 + 80 * kDay;
  c.chain_length = 1;
  c.trusted = true;
  c.chain_complete = true;
  c.checked_name = "localhost";
  c.name_matches = true;
  p.hsts.requested = true;
  p.hsts.present = true;
  p.hsts.max_age = 63072000;
  p.secure_renegotiation = true;
  return p;
}

bool has_reason(const GradeReport& r, const std::string& id) {
  return std::any_of(r.reasons.begin(), r.reasons.end(),
                     [&](const GradeReason& x) { return x.id == id; });
}

std::string ids(const GradeReport& r) {
  std::string out;
  for (const GradeReason& x : r.reasons) out += x.id + "(" + grade_name(x.cap) + ") ";
  return out;
}

TEST(GradeTables, FollowTheRatingGuide) {
  EXPECT_EQ(protocol_rating(TlsVersion::kTls10), 90);
  EXPECT_EQ(protocol_rating(TlsVersion::kTls11), 95);
  EXPECT_EQ(protocol_rating(TlsVersion::kTls12), 100);
  EXPECT_EQ(protocol_rating(TlsVersion::kTls13), 100);
  EXPECT_EQ(key_exchange_rating(0), 0);
  EXPECT_EQ(key_exchange_rating(511), 20);
  EXPECT_EQ(key_exchange_rating(512), 40);
  EXPECT_EQ(key_exchange_rating(1024), 80);
  EXPECT_EQ(key_exchange_rating(2048), 90);
  EXPECT_EQ(key_exchange_rating(3072), 90);
  EXPECT_EQ(key_exchange_rating(4096), 100);
  EXPECT_EQ(cipher_rating(0), 0);
  EXPECT_EQ(cipher_rating(56), 20);
  EXPECT_EQ(cipher_rating(112), 20);
  EXPECT_EQ(cipher_rating(128), 80);
  EXPECT_EQ(cipher_rating(256), 100);
  EXPECT_EQ(grade_for_score(80), Grade::kA);
  EXPECT_EQ(grade_for_score(79), Grade::kB);
  EXPECT_EQ(grade_for_score(65), Grade::kB);
  EXPECT_EQ(grade_for_score(64), Grade::kC);
  EXPECT_EQ(grade_for_score(50), Grade::kC);
  EXPECT_EQ(grade_for_score(35), Grade::kD);
  EXPECT_EQ(grade_for_score(20), Grade::kE);
  EXPECT_EQ(grade_for_score(19), Grade::kF);
  EXPECT_EQ(ec_to_rsa_bits(253), 3072);  // X25519.
  EXPECT_EQ(ec_to_rsa_bits(256), 3072);
  EXPECT_EQ(ec_to_rsa_bits(384), 7680);
  EXPECT_EQ(ec_to_rsa_bits(224), 2048);
  EXPECT_EQ(ec_to_rsa_bits(192), 1024);
}

TEST(GradeServer, IntermediateProfileWithLongHstsIsAPlus) {
  GradeReport r = grade_server(intermediate_site(), kNow);
  EXPECT_EQ(r.grade, Grade::kAPlus) << ids(r);
  EXPECT_EQ(r.grade_ignoring_trust, Grade::kAPlus);
  EXPECT_EQ(r.protocol_score, 100);
  EXPECT_EQ(r.key_exchange_score, 90);  // P-256 and X25519 ≈ RSA 3072.
  EXPECT_EQ(r.key_exchange_bits, 3072);
  EXPECT_EQ(r.cipher_score, 90);  // (128-bit 80 + 256-bit 100) / 2.
  EXPECT_EQ(r.score, 93);         // 30 + 27 + 36.
  EXPECT_TRUE(r.is_good());
  // Only the honest note about SSLv2/v3 remains.
  ASSERT_EQ(r.reasons.size(), 1u) << ids(r);
  EXPECT_EQ(r.reasons[0].id, "ssl2-ssl3-not-tested");
}

TEST(GradeServer, WithoutHstsIsA) {
  ProbeResult p = intermediate_site();
  p.hsts = HstsProbe{};
  p.hsts.requested = true;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kA) << ids(r);
  EXPECT_TRUE(has_reason(r, "no-hsts"));
  EXPECT_TRUE(r.is_good());
}

TEST(GradeServer, ShortHstsIsA) {
  ProbeResult p = intermediate_site();
  p.hsts.max_age = kHstsMinMaxAge - 1;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kA);
  EXPECT_TRUE(has_reason(r, "hsts-short"));
  p.hsts.max_age = kHstsMinMaxAge;
  EXPECT_EQ(grade_server(p, kNow).grade, Grade::kAPlus);
}

TEST(GradeServer, Tls10OrTls11CapsAtB) {
  for (int i : {0, 1}) {
    ProbeResult p = intermediate_site();
    p.protocols[i].offered = true;
    p.protocols[i].suites = {suite("ECDHE-ECDSA-AES128-SHA", 128, "ECDHE", false, "X25519", 253)};
    GradeReport r = grade_server(p, kNow);
    EXPECT_EQ(r.grade, Grade::kB) << ids(r);
    EXPECT_TRUE(has_reason(r, i == 0 ? "tls10" : "tls11"));
    EXPECT_FALSE(r.is_good());
  }
}

TEST(GradeServer, NoTls12OrLaterCapsAtC) {
  ProbeResult p = intermediate_site();
  p.protocols[2].offered = false;
  p.protocols[3].offered = false;
  p.protocols[0].offered = true;
  p.protocols[0].suites = {suite("ECDHE-ECDSA-AES128-SHA", 128, "ECDHE", false, "X25519", 253)};
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kC) << ids(r);
  EXPECT_TRUE(has_reason(r, "no-tls12"));
  EXPECT_TRUE(has_reason(r, "no-aead"));
}

TEST(GradeServer, NoForwardSecrecyCapsAtB) {
  ProbeResult p = intermediate_site();
  p.protocols[3].offered = false;
  p.protocols[2].suites = {suite("AES128-GCM-SHA256", 128, "RSA", true)};
  p.certificate.key_type = "RSA";
  p.certificate.key_bits = 2048;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kB) << ids(r);
  EXPECT_TRUE(has_reason(r, "no-forward-secrecy"));
  EXPECT_FALSE(has_reason(r, "no-aead"));
}

TEST(GradeServer, NonFsSuiteNeverChosenByModernClientsIsNotPenalised) {
  // [2018]: only when a client that can do better does not get forward secrecy.
  ProbeResult p = intermediate_site();
  p.protocols[2].suites.push_back(suite("AES128-GCM-SHA256", 128, "RSA", true));
  p.certificate.key_type = "RSA";
  p.certificate.key_bits = 2048;
  GradeReport r = grade_server(p, kNow);
  EXPECT_FALSE(has_reason(r, "no-forward-secrecy")) << ids(r);
  EXPECT_EQ(r.grade, Grade::kAPlus);
}

TEST(GradeServer, ModernClientGettingCbcCapsAtB) {
  ProbeResult p = intermediate_site();
  p.protocols[3].offered = false;
  p.protocols[2].suites.insert(
      p.protocols[2].suites.begin(),
      suite("ECDHE-ECDSA-AES128-SHA256", 128, "ECDHE", false, "X25519", 253));
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kB) << ids(r);
  EXPECT_TRUE(has_reason(r, "no-aead"));
}

TEST(GradeServer, WeakDhCapsAtBAndVeryWeakDhIsF) {
  ProbeResult p = intermediate_site();
  p.protocols[2].suites.push_back(suite("DHE-RSA-AES128-GCM-SHA256", 128, "DHE", true, "DH", 1024));
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kB) << ids(r);
  EXPECT_TRUE(has_reason(r, "weak-dh"));
  EXPECT_EQ(r.key_exchange_bits, 1024);
  EXPECT_EQ(r.key_exchange_score, 80);
  p.protocols[2].suites.back().kx_bits = 512;
  EXPECT_EQ(grade_server(p, kNow).grade, Grade::kF);
  p.protocols[2].suites.back().kx_bits = 2048;
  EXPECT_EQ(grade_server(p, kNow).grade, Grade::kAPlus);
}

TEST(GradeServer, Rsa1024CertificateIsF) {
  ProbeResult p = intermediate_site();
  p.certificate.key_type = "RSA";
  p.certificate.key_bits = 1024;
  p.certificate.signature_algorithm = "RSA-SHA256";
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kF) << ids(r);
  EXPECT_EQ(r.reasons[0].id, "cert-key-insecure");
  EXPECT_EQ(r.key_exchange_score, 80);
  p.certificate.key_bits = 2048;
  EXPECT_EQ(grade_server(p, kNow).grade, Grade::kAPlus);
}

TEST(GradeServer, Md5SignatureIsF) {
  ProbeResult p = intermediate_site();
  p.certificate.signature_algorithm = "RSA-MD5";
  EXPECT_EQ(grade_server(p, kNow).grade, Grade::kF);
}

TEST(GradeServer, UntrustedIsTAndKeepsTheUnderlyingGrade) {
  ProbeResult p = intermediate_site();
  p.certificate.trusted = false;
  p.certificate.self_signed = true;
  p.certificate.verify_error = "self-signed certificate";
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kT) << ids(r);
  EXPECT_EQ(r.grade_ignoring_trust, Grade::kAPlus);
  EXPECT_EQ(r.reasons[0].id, "untrusted");
  EXPECT_NE(r.reasons[0].message.find("self-signed"), std::string::npos);
  EXPECT_FALSE(r.is_good());
}

TEST(GradeServer, NameMismatchIsM) {
  ProbeResult p = intermediate_site();
  p.certificate.name_matches = false;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kM) << ids(r);
  EXPECT_TRUE(has_reason(r, "name-mismatch"));
  EXPECT_NE(r.reasons[0].message.find("localhost"), std::string::npos);
}

TEST(GradeServer, UntrustedWinsOverMismatch) {
  ProbeResult p = intermediate_site();
  p.certificate.name_matches = false;
  p.certificate.trusted = false;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kT);
  EXPECT_TRUE(has_reason(r, "name-mismatch"));
  EXPECT_TRUE(has_reason(r, "untrusted"));
}

TEST(GradeServer, ExpiredIsT) {
  ProbeResult p = intermediate_site();
  p.certificate.not_after = 1'800'000'000 - 1;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kT) << ids(r);
  EXPECT_TRUE(has_reason(r, "cert-expired"));
  p.certificate.not_after = 1'800'000'000 + 1;
  p.certificate.not_before = 1'800'000'000 + 60;
  EXPECT_TRUE(has_reason(grade_server(p, kNow), "cert-not-yet-valid"));
}

TEST(GradeServer, WarningGivesAMinusAndBlocksAPlus) {
  ProbeResult p = intermediate_site();
  p.secure_renegotiation = false;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kAMinus) << ids(r);
  EXPECT_TRUE(has_reason(r, "no-secure-renegotiation"));
  EXPECT_FALSE(r.is_good());
}

TEST(GradeServer, Rc4CapsAtC) {
  ProbeResult p = intermediate_site();
  p.protocols[2].suites.push_back(suite("RC4-SHA", 128, "RSA", false));
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kC) << ids(r);
  EXPECT_TRUE(has_reason(r, "rc4"));
}

TEST(GradeServer, NullCipherScoresZeroAndIsF) {
  ProbeResult p = intermediate_site();
  p.protocols[2].suites.push_back(suite("ECDHE-ECDSA-NULL-SHA", 0, "ECDHE", false, "X25519", 253));
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.cipher_score, 50);  // (100 + 0) / 2: the guide averages best and worst.
  EXPECT_EQ(r.score, 77);
  EXPECT_EQ(r.grade, Grade::kB) << ids(r);
  EXPECT_TRUE(has_reason(r, "score"));
}

TEST(GradeServer, AnonymousKeyExchangeZeroesTheScore) {
  ProbeResult p = intermediate_site();
  CipherSuite anon = suite("AECDH-AES128-SHA", 128, "ECDHE", false, "X25519", 253);
  anon.auth = "NONE";
  p.protocols[2].suites.push_back(anon);
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.key_exchange_score, 0);
  EXPECT_EQ(r.score, 0);
  EXPECT_EQ(r.grade, Grade::kF) << ids(r);
}

TEST(GradeServer, NothingOfferedIsF) {
  ProbeResult p = intermediate_site();
  for (ProtocolProbe& pp : p.protocols) pp.offered = false;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kF);
  EXPECT_TRUE(has_reason(r, "no-tls"));
}

TEST(GradeServer, ReasonsComeWorstFirstAndEveryCapIsListed) {
  ProbeResult p = intermediate_site();
  p.protocols[0].offered = true;
  p.protocols[0].suites = {suite("ECDHE-ECDSA-AES128-SHA", 128, "ECDHE", false, "X25519", 253)};
  p.certificate.name_matches = false;
  p.hsts.present = false;
  GradeReport r = grade_server(p, kNow);
  EXPECT_EQ(r.grade, Grade::kM);
  EXPECT_EQ(r.grade_ignoring_trust, Grade::kB);
  ASSERT_GE(r.reasons.size(), 3u);
  EXPECT_EQ(r.reasons[0].id, "name-mismatch");
  EXPECT_TRUE(has_reason(r, "tls10"));
  EXPECT_TRUE(has_reason(r, "no-hsts"));
  for (std::size_t i = 1; i < r.reasons.size(); ++i) {
    EXPECT_GE(static_cast<int>(r.reasons[i - 1].cap), static_cast<int>(r.reasons[i].cap));
  }
}

TEST(GradeNames, AreSslLabsLetters) {
  EXPECT_STREQ(grade_name(Grade::kAPlus), "A+");
  EXPECT_STREQ(grade_name(Grade::kAMinus), "A-");
  EXPECT_STREQ(grade_name(Grade::kT), "T");
  EXPECT_STREQ(grade_name(Grade::kM), "M");
}

}  // namespace
}  // namespace gc::tls

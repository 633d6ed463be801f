// SPDX-License-Identifier: MIT
// Tests of tls/acme_key.h: base64url, RFC 7638 thumbprints, and JWS signatures and CSRs checked
// by the openssl command (an independent implementation).
#include "tls/acme_key.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "tls/acme_protocol.h"

namespace gc::tls {
namespace {

// Runs argv; returns its exit code and fills `out` with stdout and stderr.
int run(const std::vector<std::string>& argv, const TempDir& dir, std::string& out) {
  auto fd = open_fd(dir.file("out.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd) return -1;
  SpawnOptions o;
  o.argv = argv;
  o.env = {"PATH=/usr/bin:/bin"};
  o.stdout_fd = fd->get();
  o.stderr_fd = fd->get();
  auto child = ChildProcess::spawn(o);
  if (!child) return -1;
  auto st = child->wait();
  out = read_file(dir.file("out.txt")).value_or("");
  return st && !st->signaled ? st->code : -1;
}

// JWS r||s back to the DER ECDSA-Sig-Value that `openssl dgst` verifies.
std::string der_signature(const std::string& raw) {
  auto integer = [](std::string v) {
    std::size_t i = 0;
    while (i + 1 < v.size() && v[i] == '\0') ++i;
    v = v.substr(i);
    if (static_cast<unsigned char>(v[0]) & 0x80) v.insert(v.begin(), '\0');
    return std::string{'\x02', static_cast<char>(v.size())} + v;
  };
  std::string body = integer(raw.substr(0, 32)) + integer(raw.substr(32));
  return std::string{'\x30', static_cast<char>(body.size())} + body;
}

TEST(Base64url, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64url(""), "");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(base64url("foo"), "Zm9v");
  EXPECT_EQ(base64url("foob"), "Zm9vYg");
  EXPECT_EQ(base64url("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
  EXPECT_EQ(base64url_decode("Zm9vYmE="), std::string("fooba"));
  EXPECT_EQ(base64url_decode("Zm+v"), std::nullopt);
}

TEST(JwkThumbprint, MatchesRfc7638Example) {
  // RFC 7638 section 3.1.
  nlohmann::json jwk = {
      {"kty", "RSA"},
      {"e", "AQAB"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
       "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
       "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
       "kEgU8awapJzKnqDKgw"}};
  EXPECT_EQ(jwk_thumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(key_authorization("tok", "thumb"), "tok.thumb");
}

TEST(PrivateKey, SavesPemWithMode0600AndLoadsItBack) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto key = PrivateKey::generate(KeyType::kEcP256);
  ASSERT_TRUE(key) << key.error().message;
  std::string path = dir->path() + "/accounts/x/account.key";
  ASSERT_TRUE(key->save(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = PrivateKey::load(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded->public_jwk(), *key->public_jwk());
  EXPECT_TRUE(loaded->is_ec_p256());
  EXPECT_FALSE(PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"));
  EXPECT_EQ(PrivateKey::load(dir->path() + "/missing.key").error().code, Errc::kNotFound);
}

TEST(PrivateKey, RsaKeysHaveRsaJwks) {
  auto key = PrivateKey::generate(KeyType::kRsa2048);
  ASSERT_TRUE(key) << key.error().message;
  auto jwk = key->public_jwk();
  ASSERT_TRUE(jwk);
  EXPECT_EQ((*jwk)["kty"], "RSA");
  EXPECT_EQ((*jwk)["e"], "AQAB");
  EXPECT_EQ(base64url_decode((*jwk)["n"].get<std::string>())->size(), 256u);
  EXPECT_FALSE(key->sign_es256("x"));  // ES256 only with P-256.
}

TEST(Jws, VerifiesWithOpenssl) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto key = PrivateKey::generate(KeyType::kEcP256);
  ASSERT_TRUE(key);
  ASSERT_TRUE(key->save(dir->file("key.pem")));
  auto jws_text = sign_jws(*key, "https://ca/new-order", "nonce-1", "",
                           nlohmann::json{{"identifiers", nlohmann::json::array()}});
  ASSERT_TRUE(jws_text) << jws_text.error().message;
  auto jws = nlohmann::json::parse(*jws_text);
  std::string protected_b64 = jws["protected"];
  std::string payload_b64 = jws["payload"];
  auto header = nlohmann::json::parse(*base64url_decode(protected_b64));
  EXPECT_EQ(header["alg"], "ES256");
  EXPECT_EQ(header["nonce"], "nonce-1");
  EXPECT_EQ(header["url"], "https://ca/new-order");
  EXPECT_EQ(header["jwk"], *key->public_jwk());
  EXPECT_FALSE(header.contains("kid"));
  auto sig = base64url_decode(jws["signature"].get<std::string>());
  ASSERT_TRUE(sig);
  ASSERT_EQ(sig->size(), 64u);

  // The JWK's x and y are the key's public point (the last 64 bytes of its SPKI DER).
  std::string out;
  ASSERT_EQ(
      run({"openssl", "pkey", "-in", dir->file("key.pem"), "-pubout", "-out", dir->file("pub.pem")},
          *dir, out),
      0)
      << out;
  ASSERT_EQ(run({"openssl", "pkey", "-pubin", "-in", dir->file("pub.pem"), "-outform", "DER",
                 "-out", dir->file("pub.der")},
                *dir, out),
            0);
  std::string spki = read_file(dir->file("pub.der")).value_or("");
  ASSERT_GE(spki.size(), 64u);
  EXPECT_EQ(base64url(spki.substr(spki.size() - 64, 32)), header["jwk"]["x"]);
  EXPECT_EQ(base64url(spki.substr(spki.size() - 32)), header["jwk"]["y"]);

  ASSERT_TRUE(write_file_atomic(dir->file("input"), protected_b64 + "." + payload_b64));
  ASSERT_TRUE(write_file_atomic(dir->file("sig.der"), der_signature(*sig)));
  EXPECT_EQ(run({"openssl", "dgst", "-sha256", "-verify", dir->file("pub.pem"), "-signature",
                 dir->file("sig.der"), dir->file("input")},
                *dir, out),
            0)
      << out;
  // A changed payload does not verify: the check above is a real one.
  ASSERT_TRUE(write_file_atomic(dir->file("input"), protected_b64 + "." + payload_b64 + "x"));
  EXPECT_NE(run({"openssl", "dgst", "-sha256", "-verify", dir->file("pub.pem"), "-signature",
                 dir->file("sig.der"), dir->file("input")},
                *dir, out),
            0);
}

TEST(Jws, UsesKidAfterRegistrationAndEmptyPayloadForPostAsGet) {
  auto key = PrivateKey::generate(KeyType::kEcP256);
  ASSERT_TRUE(key);
  auto jws = nlohmann::json::parse(
      *sign_jws(*key, "https://ca/order/1", "n2", "https://ca/acct/7", std::nullopt));
  auto header = nlohmann::json::parse(*base64url_decode(jws["protected"].get<std::string>()));
  EXPECT_EQ(header["kid"], "https://ca/acct/7");
  EXPECT_FALSE(header.contains("jwk"));
  EXPECT_EQ(jws["payload"], "");
}

TEST(Csr, HasEveryDomainAsSubjectAltName) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  for (KeyType type : {KeyType::kEcP256, KeyType::kRsa2048}) {
    auto key = PrivateKey::generate(type);
    ASSERT_TRUE(key);
    auto der = make_csr_der(*key, {"api.example.com", "www.example.com"});
    ASSERT_TRUE(der) << der.error().message;
    ASSERT_TRUE(write_file_atomic(dir->file("csr.der"), *der));
    std::string out;
    ASSERT_EQ(run({"openssl", "req", "-inform", "DER", "-in", dir->file("csr.der"), "-verify",
                   "-noout", "-text"},
                  *dir, out),
              0)
        << out;
    EXPECT_NE(out.find("DNS:api.example.com, DNS:www.example.com"), std::string::npos) << out;
    EXPECT_NE(out.find("CN = api.example.com"), std::string::npos) << out;
    // "ecdsa-with-SHA256" or "sha256WithRSAEncryption".
    EXPECT_TRUE(out.find("ecdsa-with-SHA256") != std::string::npos ||
                out.find("sha256WithRSAEncryption") != std::string::npos)
        << out;
  }
  EXPECT_FALSE(make_csr_der(*PrivateKey::generate(KeyType::kEcP256), {}));
}

}  // namespace
}  // namespace gc::tls

// SPDX-License-Identifier: MIT
// Tests for crypto/age_keys.h: the spec's X25519 example key, parse errors that explain without
// leaking, identity files in age-keygen's layout, and recipient fingerprints. Interop with the
// real age-keygen is in age_interop_test.cc.
#include "crypto/age_keys.h"

#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "crypto/bech32.h"
#include "crypto/sha256.h"

namespace gc::crypto {
namespace {

// c2sp.org/age, "The X25519 recipient type".
constexpr std::string_view kSpecIdentity =
    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
constexpr std::string_view kSpecRecipient =
    "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

// The Bech32 data part of a key: what must never appear in an error message.
std::string data_part(std::string_view key) { return std::string(key.substr(key.rfind('1') + 1)); }

TEST(AgeKeys, SpecIdentityGivesSpecRecipient) {
  auto identity = parse_identity(kSpecIdentity);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->recipient().to_string(), kSpecRecipient);
  EXPECT_EQ(identity->to_string_unsafe(), kSpecIdentity);
  auto recipient = parse_recipient(kSpecRecipient);
  ASSERT_TRUE(recipient) << recipient.error().message;
  EXPECT_EQ(*recipient, identity->recipient());
}

TEST(AgeKeys, GeneratedIdentitiesRoundTripAndDiffer) {
  auto a = generate_identity();
  auto b = generate_identity();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->recipient(), b->recipient());
  std::string text = a->to_string_unsafe();
  EXPECT_TRUE(text.starts_with("AGE-SECRET-KEY-1"));
  auto parsed = parse_identity(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->secret_bytes_unsafe(), a->secret_bytes_unsafe());
  EXPECT_EQ(parsed->recipient(), a->recipient());
  std::string recipient = a->recipient().to_string();
  EXPECT_TRUE(recipient.starts_with("age1"));
  EXPECT_EQ(recipient.size(), kSpecRecipient.size());
}

TEST(AgeKeys, AcceptsEitherCaseButNotMixed) {
  std::string lower(kSpecIdentity);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_TRUE(parse_identity(lower));
  std::string upper(kSpecRecipient);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(parse_recipient(upper));
  std::string mixed(kSpecIdentity);
  mixed[20] = static_cast<char>(std::tolower(static_cast<unsigned char>(mixed[20])));
  auto bad = parse_identity(mixed);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("mixed case"), std::string::npos);
  EXPECT_EQ(bad.error().message.find(data_part(kSpecIdentity).substr(10, 8)), std::string::npos);
}

TEST(AgeKeys, SecretKeyGivenAsRecipientIsExplainedWithoutLeaking) {
  auto r = parse_recipient(kSpecIdentity);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(r.error().message, "invalid age recipient: this is an age secret key (identity)");

  auto i = parse_identity(kSpecRecipient);
  ASSERT_FALSE(i);
  EXPECT_EQ(i.error().message, "invalid age identity: this is an age recipient (public key)");

  auto ssh = parse_recipient("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9");
  ASSERT_FALSE(ssh);
  EXPECT_EQ(ssh.error().message, "invalid age recipient: this is an SSH public key");

  auto plugin = parse_identity("AGE-PLUGIN-YUBIKEY-1QQQQQQ");
  ASSERT_FALSE(plugin);
  EXPECT_EQ(plugin.error().message, "invalid age identity: this is an age plugin identity");
}

TEST(AgeKeys, CorruptKeysFailWithoutQuotingThem) {
  std::string typo(kSpecIdentity);
  typo[30] = typo[30] == 'Q' ? 'P' : 'Q';
  auto identity = parse_identity(typo);
  ASSERT_FALSE(identity);
  EXPECT_EQ(identity.error().message, "invalid age identity: bech32: checksum mismatch");

  std::string truncated(kSpecIdentity.substr(0, kSpecIdentity.size() - 1));
  EXPECT_FALSE(parse_identity(truncated));
  EXPECT_FALSE(parse_identity(""));
  EXPECT_FALSE(parse_recipient("age1"));

  // Valid Bech32 under the right HRP, but 31 bytes.
  std::vector<std::uint8_t> short_bytes(31, 7);
  auto short_text = bech32_encode("age", short_bytes);
  ASSERT_TRUE(short_text);
  auto short_key = parse_recipient(*short_text);
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().message, "invalid age recipient: the key is not 32 bytes");
}

TEST(AgeKeys, IdentityFileSkipsCommentsAndBlankLines) {
  auto a = generate_identity();
  auto b = generate_identity();
  ASSERT_TRUE(a && b);
  std::string text = "# created: 2024-01-01T00:00:00Z\r\n# public key: age1whatever\n\n" +
                     a->to_string_unsafe() + "\r\n   \n\t" + b->to_string_unsafe();
  auto identities = parse_identity_file(text);
  ASSERT_TRUE(identities) << identities.error().message;
  ASSERT_EQ(identities->size(), 2u);
  EXPECT_EQ((*identities)[0].recipient(), a->recipient());
  EXPECT_EQ((*identities)[1].recipient(), b->recipient());
}

TEST(AgeKeys, IdentityFileErrorsNameTheLineNotTheKey) {
  std::string bad(kSpecIdentity);
  bad[40] = bad[40] == 'Z' ? 'Y' : 'Z';
  auto result = parse_identity_file("# comment\n" + std::string(kSpecIdentity) + "\n" + bad + "\n");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(result.error().message, "line 3: invalid age identity: bech32: checksum mismatch");

  auto empty = parse_identity_file("# nothing here\n\n");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "no AGE-SECRET-KEY-1 identity in the file");
}

TEST(AgeKeys, FormatsIdentityFileLikeAgeKeygen) {
  auto identity = parse_identity(kSpecIdentity);
  ASSERT_TRUE(identity);
  // 2006-01-02T15:04:05Z, Go's reference time.
  auto created = std::chrono::system_clock::from_time_t(1136214245);
  EXPECT_EQ(format_identity_file(*identity, created),
            "# created: 2006-01-02T15:04:05Z\n"
            "# public key: " +
                std::string(kSpecRecipient) + "\n" + std::string(kSpecIdentity) + "\n");
  auto back = parse_identity_file(format_identity_file(*identity, created));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].recipient(), identity->recipient());
}

TEST(AgeKeys, LoadsIdentityFileAndNamesItInErrors) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto identity = generate_identity();
  ASSERT_TRUE(identity);
  ASSERT_TRUE(write_file_atomic(dir->file("key.txt"),
                                format_identity_file(*identity, std::chrono::system_clock::now()),
                                0600));
  auto loaded = load_identity_file(dir->file("key.txt"));
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)[0].recipient(), identity->recipient());

  ASSERT_TRUE(write_file_atomic(dir->file("bad.txt"), "nonsense\n"));
  auto bad = load_identity_file(dir->file("bad.txt"));
  ASSERT_FALSE(bad);
  EXPECT_TRUE(
      bad.error().message.starts_with("identity file " + dir->file("bad.txt") + ": line 1:"))
      << bad.error().message;
  auto missing = load_identity_file(dir->file("missing.txt"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
}

TEST(AgeKeys, FingerprintIsTruncatedSha256OfTheRecipientString) {
  auto recipient = parse_recipient(kSpecRecipient);
  ASSERT_TRUE(recipient);
  std::string fp = recipient_fingerprint(*recipient);
  EXPECT_EQ(fp.size(), 16u);
  EXPECT_EQ(fp, to_hex(sha256(kSpecRecipient)).substr(0, 16));
  auto other = generate_identity();
  ASSERT_TRUE(other);
  EXPECT_NE(recipient_fingerprint(other->recipient()), fp);
}

}  // namespace
}  // namespace gc::crypto

// SPDX-License-Identifier: MIT
// Tests for crypto/bech32.h: the BIP-173 test vectors, the case rule, strict padding, and the
// absent length limit that age needs.
#include "crypto/bech32.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gc::crypto {
namespace {

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// BIP-173, "Test vectors": strings with a valid Bech32 checksum.
const char* const kValid[] = {
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
};

TEST(Bech32, AcceptsBip173ValidVectorsAndReencodesThem) {
  for (const char* text : kValid) {
    auto decoded = bech32_decode_5bit(text);
    ASSERT_TRUE(decoded) << text << ": " << decoded.error().message;
    // The HRP comes back lowercase; re-encoding under the original case reproduces the input.
    std::string original_hrp = std::string(text).substr(0, std::string(text).rfind('1'));
    EXPECT_EQ(decoded->hrp, lower(original_hrp));
    auto encoded = bech32_encode_5bit(original_hrp, decoded->data);
    ASSERT_TRUE(encoded) << text;
    EXPECT_EQ(*encoded, text);
  }
}

TEST(Bech32, RejectsBip173InvalidVectors) {
  const std::vector<std::string> invalid = {
      std::string("\x20") + "1nwldj5",   // HRP character out of range.
      std::string("\x7f") + "1axkwrx",   // HRP character out of range.
      std::string("\x80") + "1eym55h",   // HRP character out of range.
      "pzry9x0s0muk",                    // No separator character.
      "1pzry9x0s0muk",                   // Empty HRP.
      "x1b4n0q5v",                       // Invalid data character.
      "li1dgmt3",                        // Too short checksum.
      std::string("de1lg7wt") + "\xff",  // Invalid character in checksum.
      "A1G7SGD8",                        // Checksum calculated with the uppercase HRP.
      "10a06t8",                         // Empty HRP.
      "1qzzfhee",                        // Empty HRP.
  };
  for (const std::string& text : invalid) {
    auto decoded = bech32_decode_5bit(text);
    EXPECT_FALSE(decoded) << "accepted: " << text;
    if (!decoded) {
      EXPECT_EQ(decoded.error().code, Errc::kInvalidArgument);
    }
  }
}

TEST(Bech32, HasNoLengthLimit) {
  // BIP-173 rejects this 91-character string only for its length ("overall max length
  // exceeded"); age drops that limit because its identities are longer.
  auto decoded = bech32_decode_5bit(
      "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pv"
      "x");
  EXPECT_TRUE(decoded) << decoded.error().message;

  std::vector<std::uint8_t> big(1000, 0xab);
  auto encoded = bech32_encode("long", big);
  ASSERT_TRUE(encoded);
  auto back = bech32_decode(*encoded);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->data, big);
}

TEST(Bech32, RejectsMixedCase) {
  auto decoded = bech32_decode_5bit("A12uEL5L");
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message.find("mixed case"), std::string::npos);
  EXPECT_FALSE(bech32_encode_5bit("Ab", {}));
}

TEST(Bech32, UppercaseHrpGivesUppercaseOutput) {
  std::vector<std::uint8_t> bytes = {1, 2, 3, 250};
  auto upper = bech32_encode("ABC", bytes);
  auto low = bech32_encode("abc", bytes);
  ASSERT_TRUE(upper && low);
  EXPECT_EQ(lower(*upper), *low);
  EXPECT_NE(*upper, *low);
  auto back = bech32_decode(*upper);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->hrp, "abc");
  EXPECT_EQ(back->data, bytes);
}

TEST(Bech32, ByteRoundTripForEveryLength) {
  for (std::size_t n = 0; n < 70; ++n) {
    std::vector<std::uint8_t> bytes(n);
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 37 + n);
    auto encoded = bech32_encode("test", bytes);
    ASSERT_TRUE(encoded);
    auto decoded = bech32_decode(*encoded);
    ASSERT_TRUE(decoded) << n << ": " << decoded.error().message;
    EXPECT_EQ(decoded->data, bytes);
  }
}

TEST(Bech32, ByteDecodingRejectsBadPadding) {
  // One 5-bit value holds no whole byte: 5 bits of padding is more than BIP-173 allows.
  auto one = bech32_encode_5bit("a", std::vector<std::uint8_t>{0});
  ASSERT_TRUE(one);
  EXPECT_FALSE(bech32_decode(*one));
  // Two values carry one byte plus 2 padding bits, which must be zero.
  auto nonzero = bech32_encode_5bit("a", std::vector<std::uint8_t>{0, 1});
  ASSERT_TRUE(nonzero);
  auto decoded = bech32_decode(*nonzero);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message.find("padding"), std::string::npos);
  auto zero = bech32_encode_5bit("a", std::vector<std::uint8_t>{0, 4});
  ASSERT_TRUE(zero);
  EXPECT_TRUE(bech32_decode(*zero));
}

TEST(Bech32, EncodeRejectsBadInput) {
  EXPECT_FALSE(bech32_encode_5bit("", {}));
  EXPECT_FALSE(bech32_encode_5bit("a b", {}));
  EXPECT_FALSE(bech32_encode_5bit("a", std::vector<std::uint8_t>{32}));
}

}  // namespace
}  // namespace gc::crypto

// SPDX-License-Identifier: MIT
// Tests for crypto/sha256.h: FIPS 180-2 vectors, streaming in pieces, and files.
#include "crypto/sha256.h"

#include <string>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"

namespace gc::crypto {
namespace {

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(to_hex(sha256(std::string_view())),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256(std::string_view("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      to_hex(sha256(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, StreamingInPiecesEqualsOneShot) {
  std::string data(1000000, 'a');
  Sha256 hash;
  for (std::size_t i = 0; i < data.size(); i += 4099) {
    hash.update(std::string_view(data).substr(i, 4099));
  }
  Sha256Digest digest = hash.finish();
  EXPECT_EQ(to_hex(digest), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // finish() starts over.
  hash.update(std::string_view("abc"));
  EXPECT_EQ(hash.finish(), sha256(std::string_view("abc")));
}

TEST(Sha256, MovedHashKeepsItsState) {
  Sha256 a;
  a.update(std::string_view("ab"));
  Sha256 b = std::move(a);
  b.update(std::string_view("c"));
  EXPECT_EQ(b.finish(), sha256(std::string_view("abc")));
}

TEST(Sha256, HashesFiles) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string data(200000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(write_file_atomic(dir->file("f"), data));
  auto hex = sha256_file(dir->file("f"));
  ASSERT_TRUE(hex) << hex.error().message;
  EXPECT_EQ(*hex, to_hex(sha256(data)));

  auto missing = sha256_file(dir->file("missing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_NE(missing.error().message.find(dir->file("missing")), std::string::npos);
}

}  // namespace
}  // namespace gc::crypto

// SPDX-License-Identifier: MIT
// base64_encode against the test vectors of RFC 4648 section 10, and bytes above 0x7f.
#include "base/base64.h"

#include <gtest/gtest.h>

namespace gc {
namespace {

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, HighBytesAndNul) {
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
  EXPECT_EQ(base64_encode("\xc3\xa9"), "w6k=");  // "é" in UTF-8.
}

}  // namespace
}  // namespace gc

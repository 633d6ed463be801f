// SPDX-License-Identifier: MIT
#include "base/units.h"

#include <gtest/gtest.h>

namespace gc {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEveryUnitAndCompounds) {
  EXPECT_EQ(*parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(*parse_duration("30s"), milliseconds(30000));
  EXPECT_EQ(*parse_duration("5m"), milliseconds(300000));
  EXPECT_EQ(*parse_duration("1h30m"), milliseconds(5400000));
  EXPECT_EQ(*parse_duration("2d"), milliseconds(172800000));
  EXPECT_EQ(*parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parse_duration("0"), milliseconds(0));
}

TEST(ParseDuration, RejectsMissingUnitsAndGarbageWithAHint) {
  for (const char* bad : {"", "30", "s", "3x", "1.2.3s", "-5s", "5 s", ".5s", "1e3s", "99999d"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_NE(r.error().message.find("\"30s\""), std::string::npos) << r.error().message;
  }
}

TEST(FormatDuration, IsReadable) {
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration(milliseconds(30000)), "30s");
  EXPECT_EQ(format_duration(milliseconds(5400000)), "1h30m");
  EXPECT_EQ(format_duration(milliseconds(90000000)), "1d1h");
}

TEST(ParseSize, BinaryAndDecimalUnits) {
  EXPECT_EQ(*parse_size("512"), 512u);
  EXPECT_EQ(*parse_size("400MiB"), 400ull * 1024 * 1024);
  EXPECT_EQ(*parse_size("400M"), 400ull * 1024 * 1024);
  EXPECT_EQ(*parse_size("1GB"), 1000000000ull);
  EXPECT_EQ(*parse_size("1.5KiB"), 1536u);
  EXPECT_EQ(*parse_size("2GiB"), 2ull << 30);
}

TEST(ParseSize, RejectsUnknownUnits) {
  for (const char* bad : {"", "MiB", "12XB", "1 MiB", "-1K", "5MiBs"}) {
    auto r = parse_size(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("400MiB"), std::string::npos);
  }
}

TEST(FormatSize, UsesBinaryUnits) {
  EXPECT_EQ(format_size(512), "512B");
  EXPECT_EQ(format_size(400ull * 1024 * 1024), "400.0MiB");
}

}  // namespace
}  // namespace gc

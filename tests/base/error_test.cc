// SPDX-License-Identifier: MIT
#include "base/error.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "base/result.h"

namespace gc {
namespace {

Result<int> half(int v) {
  if (v % 2 != 0) return make_error(Errc::kInvalidArgument, "odd value " + std::to_string(v));
  return v / 2;
}

Result<int> quarter(int v) {
  GC_ASSIGN_OR_RETURN(int h, half(v));
  GC_ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

TEST(Result, PropagatesTheFirstError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "odd value 3");
}

TEST(SysError, MapsErrnoToCodeAndNamesTheObject) {
  Error e = sys_error("open", "/etc/x", ENOENT);
  EXPECT_EQ(e.code, Errc::kNotFound);
  EXPECT_EQ(e.message, "open /etc/x: No such file or directory");
  EXPECT_EQ(sys_error("bind", "", EADDRINUSE).code, Errc::kConflict);
  EXPECT_EQ(sys_error("open", "f", EACCES).code, Errc::kPermission);
}

TEST(Errc, NamesRoundTrip) {
  for (Errc c : {Errc::kNotFound, Errc::kTimeout, Errc::kCorrupt, Errc::kInternal}) {
    EXPECT_EQ(errc_from_name(errc_name(c)), c);
  }
  EXPECT_EQ(errc_from_name("nonsense"), Errc::kInternal);
}

}  // namespace
}  // namespace gc

// SPDX-License-Identifier: MIT
#include "base/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/atomic_file.h"

namespace gc {
namespace {

TEST(TempDir, IsPrivateAndRemovedRecursively) {
  std::string path;
  {
    auto dir = TempDir::create("tdtest-");
    ASSERT_TRUE(dir) << dir.error().message;
    path = dir->path();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::mkdir(dir->file("sub").c_str(), 0700), 0);
    ASSERT_TRUE(write_file_atomic(dir->file("sub/f"), "x"));
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(TempDir, MissingParentIsAnError) {
  auto dir = TempDir::create("x-", "/nonexistent/dir");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace gc

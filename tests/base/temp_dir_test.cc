// SPDX-License-Identifier: MIT
#include "base/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/unique_fd.h"

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

TEST(TempDir, MoveAssignmentRemovesTheOldTreeAndKeepsTheNewOne) {
  auto a = TempDir::create();
  auto b = TempDir::create();
  ASSERT_TRUE(a && b);
  std::string old_path = a->path(), new_path = b->path();
  *a = std::move(*b);
  EXPECT_NE(::access(old_path.c_str(), F_OK), 0);
  EXPECT_EQ(a->path(), new_path);
  EXPECT_EQ(::access(new_path.c_str(), F_OK), 0);
}

TEST(TempDir, MissingParentIsAnError) {
  auto dir = TempDir::create("x-", "/nonexistent/dir");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace gc

namespace gc {
namespace {

TEST(MakeDirectories, CreatesParentsAndAcceptsExisting) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string deep = dir->file("a/b/c");
  ASSERT_TRUE(make_directories(deep, 0750));
  struct stat st {};
  ASSERT_EQ(::stat(deep.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_TRUE(make_directories(deep));
  ASSERT_TRUE(write_file_atomic(dir->file("file"), "x"));
  auto bad = make_directories(dir->file("file/sub"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("file/sub"), std::string::npos);
}

}  // namespace
}  // namespace gc

// SPDX-License-Identifier: MIT
#include "base/atomic_file.h"

#include <dirent.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "base/temp_dir.h"

namespace gc {
namespace {

int count_entries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (auto* e = ::readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
  }
  ::closedir(d);
  return n;
}

TEST(AtomicFile, CommitReplacesWithMode) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->file("state");
  ASSERT_TRUE(write_file_atomic(path, "old"));
  ASSERT_TRUE(write_file_atomic(path, "new", 0600));
  EXPECT_EQ(*read_file(path), "new");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(count_entries(dir->path()), 1);
}

TEST(AtomicFile, WithoutCommitTheOldFileSurvivesAndNoTempIsLeft) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->file("config");
  ASSERT_TRUE(write_file_atomic(path, "good"));
  {
    auto f = AtomicFile::create(path);
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write("half-writ"));
  }
  EXPECT_EQ(*read_file(path), "good");
  EXPECT_EQ(count_entries(dir->path()), 1);
}

TEST(AtomicFile, MissingDirectoryIsNotFound) {
  auto f = AtomicFile::create("/nonexistent-dir/x");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, Errc::kNotFound);
  EXPECT_NE(f.error().message.find("/nonexistent-dir/x"), std::string::npos);
}

}  // namespace
}  // namespace gc

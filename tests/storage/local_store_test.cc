// SPDX-License-Identifier: MIT
// LocalStore specifics; the shared contract is in object_store_test.cc.
#include "storage/local_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "storage/detail/sha256.h"

namespace gc::storage {
namespace {

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("gc-local-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto store = LocalStore::open(dir_->file("repo/nested"));
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::make_unique<LocalStore>(std::move(*store));
  }
  Status put(const std::string& key, const std::string& data) {
    std::string path = dir_->file("src");
    GC_TRY(write_file_atomic(path, data));
    return store_->put_file(key, path, {});
  }
  int mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return static_cast<int>(st.st_mode & 07777);
  }
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, ObjectIsAPlainFileWithASha256sumSidecar) {
  ASSERT_TRUE(put("db/x.age", "content"));
  EXPECT_EQ(*read_file(store_->root() + "/db/x.age"), "content");
  EXPECT_EQ(*read_file(store_->root() + "/db/x.age.sha256"),
            *detail::sha256_hex("content") + "  x.age\n");
}

TEST_F(LocalStoreTest, FilesAndDirectoriesArePrivate) {
  ASSERT_TRUE(put("db/x.age", "content"));
  EXPECT_EQ(mode_of(store_->root()), 0700);
  EXPECT_EQ(mode_of(store_->root() + "/db"), 0700);
  EXPECT_EQ(mode_of(store_->root() + "/db/x.age"), 0600);
  EXPECT_EQ(mode_of(store_->root() + "/db/x.age.sha256"), 0600);
}

TEST_F(LocalStoreTest, ReservedNamesAreRefused) {
  for (const char* key : {"x.sha256", "db/y.tmp-Ab12Cd"}) {
    auto st = put(key, "data");
    ASSERT_FALSE(st) << key;
    EXPECT_EQ(st.error().code, Errc::kInvalidArgument) << key;
  }
  EXPECT_TRUE(put("x.sha256.age", "data"));
}

TEST_F(LocalStoreTest, LeftoverTempFilesAndSymlinksAreNotObjects) {
  ASSERT_TRUE(put("db/a", "a"));
  ASSERT_TRUE(write_file_atomic(store_->root() + "/db/b.tmp-XyZ123", "partial"));
  ASSERT_EQ(::symlink("/etc/passwd", (store_->root() + "/db/link").c_str()), 0);
  auto listed = store_->list("");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "db/a");
}

TEST_F(LocalStoreTest, ObjectWithoutSidecarIsReadUnverified) {
  ASSERT_TRUE(put("k", "data"));
  ASSERT_EQ(::unlink((store_->root() + "/k.sha256").c_str()), 0);
  auto info = store_->head("k");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->sha256, "");
  std::string out;
  ASSERT_TRUE(store_->get("k", [&](std::span<const std::uint8_t> c) {
    out.append(reinterpret_cast<const char*>(c.data()), c.size());
    return ok();
  }));
  EXPECT_EQ(out, "data");
}

TEST_F(LocalStoreTest, MalformedSidecarIsCorrupt) {
  ASSERT_TRUE(put("k", "data"));
  ASSERT_TRUE(write_file_atomic(store_->root() + "/k.sha256", "not a hash\n"));
  auto info = store_->head("k");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Errc::kCorrupt) << info.error().message;
}

TEST_F(LocalStoreTest, RemovePrunesEmptyDirectoriesButNotTheRoot) {
  ASSERT_TRUE(put("a/b/c/k", "data"));
  ASSERT_TRUE(put("a/keep", "data"));
  ASSERT_TRUE(store_->remove("a/b/c/k"));
  EXPECT_NE(::access((store_->root() + "/a/b").c_str(), F_OK), 0);
  EXPECT_EQ(::access((store_->root() + "/a/keep").c_str(), F_OK), 0);
  ASSERT_TRUE(store_->remove("a/keep"));
  EXPECT_NE(::access((store_->root() + "/a").c_str(), F_OK), 0);
  EXPECT_EQ(::access(store_->root().c_str(), F_OK), 0);
}

TEST_F(LocalStoreTest, KeyBelowAnObjectIsAConflict) {
  ASSERT_TRUE(put("a", "data"));
  auto st = put("a/b", "data");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("local " + store_->root() + ": put \"a/b\""), std::string::npos)
      << st.error().message;
}

TEST_F(LocalStoreTest, RootThatIsAFileIsRefused) {
  ASSERT_TRUE(write_file_atomic(dir_->file("file"), "x"));
  auto store = LocalStore::open(dir_->file("file"));
  ASSERT_FALSE(store);
}

}  // namespace
}  // namespace gc::storage

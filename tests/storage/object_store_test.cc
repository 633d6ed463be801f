// SPDX-License-Identifier: MIT
// The ObjectStore contract, run against both implementations: LocalStore in a TempDir and
// S3Store against a real S3 server (s3rver on loopback, one per suite, a key prefix per test).
#include "storage/object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "storage/detail/sha256.h"
#include "storage/local_store.h"
#include "storage/s3_store.h"
#include "support/s3_server.h"

namespace gc::storage {
namespace {

using testing::S3Server;

constexpr const char* kBucket = "contract";

// Deterministic bytes that differ from one offset to the next.
std::string pattern(std::size_t size, unsigned seed = 1) {
  std::string out(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

std::string sha_of(const std::string& data) { return *detail::sha256_hex(data); }

std::vector<std::string> keys_of(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const auto& o : objects) keys.push_back(o.key);
  return keys;
}

// Flips one byte of a file in place, keeping its size and path.
void flip_byte(const std::string& path, off_t at) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(fd) << path;
  char c = 0;
  ASSERT_EQ(::pread(fd.get(), &c, 1, at), 1);
  c = static_cast<char>(c ^ 0x5a);
  ASSERT_EQ(::pwrite(fd.get(), &c, 1, at), 1);
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  // One server for the suite, started by the first S3 test: ctest runs each test in its own
  // process, and the local ones need no server.
  static S3Server* server() {
    if (!server_ && server_error_.empty()) {
      auto started = S3Server::start({kBucket});
      if (started) {
        server_ = std::make_unique<S3Server>(std::move(*started));
      } else {
        server_error_ = started.error().message;
      }
    }
    return server_.get();
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    auto dir = TempDir::create("gc-store-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    if (GetParam() == "local") {
      auto store = LocalStore::open(dir_->file("repo"));
      ASSERT_TRUE(store) << store.error().message;
      local_ = std::make_unique<LocalStore>(std::move(*store));
      store_ = local_.get();
      return;
    }
    ASSERT_NE(server(), nullptr) << server_error_;
    // A prefix per test keeps the tests apart on the one server.
    prefix_ = std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    prefix_ = prefix_.substr(0, prefix_.find('/')) + "/";
    S3Config config;
    config.endpoint = server_->endpoint();
    config.bucket = kBucket;
    config.prefix = prefix_;
    config.credentials = {testing::kAccessKey, testing::kSecretKey};
    // Small enough that modest files take the multipart path and lists take several pages.
    config.multipart_threshold_bytes = 256 << 10;
    config.part_size_bytes = 100 << 10;
    config.list_page_size = 2;
    config.initial_backoff = std::chrono::milliseconds(10);
    auto store = S3Store::create(config);
    ASSERT_TRUE(store) << store.error().message;
    s3_ = std::make_unique<S3Store>(std::move(*store));
    store_ = s3_.get();
  }

  // Writes `data` to a file and stores it under `key`.
  Status put(const std::string& key, const std::string& data, std::string sha256 = "") {
    std::string path = dir_->file("upload");
    GC_TRY(write_file_atomic(path, data));
    return store_->put_file(key, path, ObjectMetadata{std::move(sha256)});
  }

  Result<std::string> get(const std::string& key) {
    std::string out;
    GC_TRY(store_->get(key, [&](std::span<const std::uint8_t> chunk) {
      out.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      return ok();
    }));
    return out;
  }

  std::string stored_file(const std::string& key) const {
    if (local_) return local_->object_path(key);
    return server_->object_file(kBucket, prefix_ + key);
  }

  inline static std::unique_ptr<S3Server> server_;
  inline static std::string server_error_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<LocalStore> local_;
  std::unique_ptr<S3Store> s3_;
  ObjectStore* store_ = nullptr;
  std::string prefix_;
};

TEST_P(StoreContract, RoundTripsASmallObject) {
  std::string data = pattern(1000);
  ASSERT_TRUE(put("db/small.bin", data, sha_of(data)));
  auto back = get("db/small.bin");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, data);
  auto info = store_->head("db/small.bin");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->key, "db/small.bin");
  EXPECT_EQ(info->size_bytes, 1000u);
  EXPECT_EQ(info->sha256, sha_of(data));
  auto age = std::chrono::system_clock::now() - info->last_modified;
  EXPECT_LT(std::chrono::abs(age), std::chrono::minutes(5));
}

TEST_P(StoreContract, RoundTripsAnEmptyObject) {
  ASSERT_TRUE(put("empty", ""));
  auto back = get("empty");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, "");
  auto info = store_->head("empty");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->size_bytes, 0u);
  EXPECT_EQ(info->sha256, sha_of(""));
}

// 1 MiB + 17: for S3 that is 11 parts of 100 KiB, the last one short.
TEST_P(StoreContract, RoundTripsALargerObject) {
  std::string data = pattern((1 << 20) + 17, 7);
  auto st = put("media/big.tar", data, sha_of(data));
  ASSERT_TRUE(st) << st.error().message;
  auto back = get("media/big.tar");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(*back == data) << "content differs";
  auto info = store_->head("media/big.tar");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->size_bytes, data.size());
  EXPECT_EQ(info->sha256, sha_of(data));
}

TEST_P(StoreContract, ComputesTheSha256WhenNotGiven) {
  std::string data = pattern(5000, 3);
  ASSERT_TRUE(put("k", data));
  auto info = store_->head("k");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->sha256, sha_of(data));
}

TEST_P(StoreContract, RefusesContentThatDoesNotMatchTheGivenSha256) {
  auto st = put("k", pattern(3000), sha_of("something else"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kCorrupt) << st.error().message;
  EXPECT_NE(st.error().message.find("\"k\""), std::string::npos) << st.error().message;
  // Nothing half-right is left behind under the key.
  EXPECT_EQ(store_->head("k").error().code, Errc::kNotFound);
}

TEST_P(StoreContract, RefusesMalformedSha256Text) {
  auto st = put("k", "x", "ABC");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kInvalidArgument);
}

TEST_P(StoreContract, OverwriteReplacesContentAndSha256) {
  ASSERT_TRUE(put("k", "first"));
  ASSERT_TRUE(put("k", "second version"));
  EXPECT_EQ(*get("k"), "second version");
  EXPECT_EQ(store_->head("k")->sha256, sha_of("second version"));
}

TEST_P(StoreContract, MissingObjectsAreNotFound) {
  auto info = store_->head("nope");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Errc::kNotFound) << info.error().message;
  EXPECT_NE(info.error().message.find("\"nope\""), std::string::npos);
  auto back = get("nope");
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, Errc::kNotFound) << back.error().message;
}

TEST_P(StoreContract, ListsByPrefixInKeyOrder) {
  for (const char* key : {"b/4", "a/2", "ab/3", "a/1", "a/sub/5"}) ASSERT_TRUE(put(key, key));
  auto all = store_->list("");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(keys_of(*all), (std::vector<std::string>{"a/1", "a/2", "a/sub/5", "ab/3", "b/4"}));
  auto dir = store_->list("a/");
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(keys_of(*dir), (std::vector<std::string>{"a/1", "a/2", "a/sub/5"}));
  auto partial = store_->list("a");
  ASSERT_TRUE(partial) << partial.error().message;
  EXPECT_EQ(keys_of(*partial), (std::vector<std::string>{"a/1", "a/2", "a/sub/5", "ab/3"}));
  auto none = store_->list("zzz");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
  EXPECT_EQ((*all)[3].size_bytes, 4u);
  EXPECT_GT((*all)[3].last_modified.time_since_epoch().count(), 0);
}

TEST_P(StoreContract, ListRefusesAPrefixThatEscapes) {
  for (const char* prefix : {"../", "a/../", "/abs", "a//"}) {
    auto listed = store_->list(prefix);
    ASSERT_FALSE(listed) << prefix;
    EXPECT_EQ(listed.error().code, Errc::kInvalidArgument) << prefix;
  }
}

// Seven keys at two per page: four ListObjectsV2 pages for S3.
TEST_P(StoreContract, ListFollowsEveryPage) {
  std::vector<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    std::string key = "set/" + std::to_string(i);
    ASSERT_TRUE(put(key, std::string(static_cast<std::size_t>(i), 'x')));
    expected.push_back(key);
  }
  auto all = store_->list("set/");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(keys_of(*all), expected);
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ((*all)[static_cast<std::size_t>(i)].size_bytes, static_cast<std::uint64_t>(i));
}

TEST_P(StoreContract, RemoveDeletesAndIsIdempotent) {
  ASSERT_TRUE(put("dir/k", "data"));
  ASSERT_TRUE(put("dir/other", "data"));
  auto st = store_->remove("dir/k");
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(store_->head("dir/k").error().code, Errc::kNotFound);
  EXPECT_EQ(keys_of(*store_->list("")), std::vector<std::string>{"dir/other"});
  st = store_->remove("dir/k");
  EXPECT_TRUE(st) << st.error().message;
}

TEST_P(StoreContract, DetectsACorruptedObjectOnGet) {
  std::string data = pattern(4096, 9);
  ASSERT_TRUE(put("db/dump.age", data, sha_of(data)));
  flip_byte(stored_file("db/dump.age"), 1234);
  std::string seen;
  auto st = store_->get("db/dump.age", [&](std::span<const std::uint8_t> chunk) {
    seen.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return ok();
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kCorrupt) << st.error().message;
  EXPECT_NE(st.error().message.find("\"db/dump.age\""), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("corrupt"), std::string::npos) << st.error().message;
  EXPECT_EQ(seen.size(), data.size());
}

TEST_P(StoreContract, SinkErrorStopsTheTransfer) {
  ASSERT_TRUE(put("k", pattern(300 << 10)));
  int calls = 0;
  auto st = store_->get("k", [&](std::span<const std::uint8_t>) -> Status {
    ++calls;
    return make_error(Errc::kCancelled, "sink full");
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kCancelled);
  EXPECT_NE(st.error().message.find("sink full"), std::string::npos);
  EXPECT_EQ(calls, 1);
}

TEST_P(StoreContract, RefusesBadKeys) {
  for (const char* key : {"", "/abs", "a//b", "../up", "a/./b", "trailing/", "tab\tkey"}) {
    auto st = put(key, "x");
    ASSERT_FALSE(st) << key;
    EXPECT_EQ(st.error().code, Errc::kInvalidArgument) << key;
    EXPECT_EQ(store_->head(key).error().code, Errc::kInvalidArgument) << key;
  }
}

TEST_P(StoreContract, KeysMayHoldSpacesAndUnicode) {
  std::string key = "media/photo 1 (copy)+é.jpg";
  ASSERT_TRUE(put(key, "jpeg"));
  EXPECT_EQ(*get(key), "jpeg");
  EXPECT_EQ(keys_of(*store_->list("media/")), std::vector<std::string>{key});
}

TEST_P(StoreContract, MissingSourceFileIsNotFound) {
  auto st = store_->put_file("k", dir_->file("no-such-file"), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kNotFound) << st.error().message;
}

TEST_P(StoreContract, DescribeNamesTheStore) {
  std::string d = store_->describe();
  if (GetParam() == "local") {
    EXPECT_EQ(d, "local " + dir_->file("repo"));
  } else {
    EXPECT_EQ(d, "s3 " + server_->endpoint() + " bucket contract prefix " + prefix_);
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, ::testing::Values("local", "s3"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace gc::storage

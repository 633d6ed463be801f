// SPDX-License-Identifier: MIT
// S3Store against a real S3 server (s3rver behind tests/fixtures/s3/server.js, which checks
// SigV4 signatures and injects faults), and against endpoints that are down or silent.
#include "storage/s3_store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "storage/detail/sha256.h"
#include "support/os_probe.h"
#include "support/s3_server.h"

namespace gc::storage {
namespace {

using testing::S3Server;

constexpr const char* kBucket = "backups";

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string pattern(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return out;
}

// A loopback socket bound to a port: with `listen_on` false nothing accepts connections there
// (connect is refused); with true the kernel completes connections that nobody ever serves.
class LoopbackPort {
 public:
  explicit LoopbackPort(bool listen_on) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 ||
        (listen_on && ::listen(fd_.get(), 8) != 0) ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      ADD_FAILURE() << "cannot bind a loopback port";
      return;
    }
    port_ = ntohs(sa.sin_port);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  UniqueFd fd_;
  int port_ = 0;
};

class S3StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = S3Server::start({kBucket});
    if (!server) {
      server_error_ = server.error().message;
      return;
    }
    server_ = std::make_unique<S3Server>(std::move(*server));
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << server_error_;
    auto dir = TempDir::create("gc-s3-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }
  void TearDown() override {
    // Leave no armed fault behind for the next test.
    if (server_) {
      ASSERT_TRUE(server_->fail_next(0, 0));
    }
  }

  S3Config config() const {
    S3Config c;
    c.endpoint = server_->endpoint();
    c.bucket = kBucket;
    c.prefix = std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/";
    c.credentials = {testing::kAccessKey, testing::kSecretKey};
    c.initial_backoff = std::chrono::milliseconds(10);
    c.max_backoff = std::chrono::milliseconds(50);
    return c;
  }

  S3Store store(const S3Config& c) {
    auto s = S3Store::create(c);
    EXPECT_TRUE(s) << s.error().message;
    return std::move(*s);
  }

  std::string file_with(const std::string& data) {
    std::string path = dir_->file("upload-" + std::to_string(++files_));
    EXPECT_TRUE(write_file_atomic(path, data));
    return path;
  }

  Result<std::string> get(S3Store& s, const std::string& key) {
    std::string out;
    GC_TRY(s.get(key, [&](std::span<const std::uint8_t> chunk) {
      out.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      return ok();
    }));
    return out;
  }

  inline static std::unique_ptr<S3Server> server_;
  inline static std::string server_error_;
  std::unique_ptr<TempDir> dir_;
  int files_ = 0;
};

TEST_F(S3StoreTest, MultipartUploadSendsPartsAndVerifies) {
  S3Config c = config();
  c.multipart_threshold_bytes = 64 << 10;
  c.part_size_bytes = 64 << 10;
  S3Store s = store(c);
  std::string data = pattern((256 << 10) + 5);  // 5 parts: 4 of 64 KiB, 1 of 5 bytes.
  ASSERT_TRUE(s.put_file("db/big.age", file_with(data), {}));
  // initiate + 5 parts + complete + HEAD.
  EXPECT_EQ(s.requests_sent_for_test(), 8u);
  auto info = s.head("db/big.age");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->size_bytes, data.size());
  EXPECT_EQ(info->sha256, *detail::sha256_hex(data));
  auto back = get(s, "db/big.age");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(*back == data);
}

TEST_F(S3StoreTest, SinglePutIsOneRequestPlusVerification) {
  S3Store s = store(config());
  ASSERT_TRUE(s.put_file("k", file_with("hello"), {}));
  EXPECT_EQ(s.requests_sent_for_test(), 2u);  // PUT, HEAD.
}

TEST_F(S3StoreTest, StoresSha256InObjectMetadata) {
  S3Store s = store(config());
  std::string sha = *detail::sha256_hex("payload");
  ASSERT_TRUE(s.put_file("k", file_with("payload"), {sha}));
  auto meta = read_file(server_->metadata_file(kBucket, config().prefix + "k"));
  ASSERT_TRUE(meta) << meta.error().message;
  EXPECT_TRUE(contains(*meta, "\"x-amz-meta-sha256\": \"" + sha + "\"")) << *meta;
}

TEST_F(S3StoreTest, ClosedPortFailsAfterBoundedRetries) {
  LoopbackPort closed(false);
  S3Config c = config();
  c.endpoint = closed.endpoint();
  c.max_attempts = 3;
  S3Store s = store(c);
  auto st = s.put_file("k", file_with("x"), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kUnavailable) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, closed.endpoint() + " bucket backups"))
      << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "after 3 attempts")) << st.error().message;
  EXPECT_EQ(s.requests_sent_for_test(), 3u);
}

TEST_F(S3StoreTest, SilentEndpointTimesOut) {
  LoopbackPort silent(true);
  S3Config c = config();
  c.endpoint = silent.endpoint();
  c.max_attempts = 1;
  c.low_speed_time = std::chrono::seconds(1);
  S3Store s = store(c);
  auto info = s.head("k");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Errc::kTimeout) << info.error().message;
}

TEST_F(S3StoreTest, WrongSecretIsASignatureErrorAndNotRetried) {
  const std::string secret = "wrong-secret-never-print-me";
  S3Config c = config();
  c.credentials.secret_access_key = secret;
  S3Store s = store(c);
  auto st = s.put_file("k", file_with("x"), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kPermission) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "HTTP 403 SignatureDoesNotMatch: The request signature"))
      << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "put \"k\"")) << st.error().message;
  EXPECT_FALSE(contains(st.error().message, secret));
  EXPECT_EQ(s.requests_sent_for_test(), 1u);
  auto listed = s.list("");
  ASSERT_FALSE(listed);
  EXPECT_FALSE(contains(listed.error().message, secret));
  EXPECT_FALSE(contains(s.describe(), secret));
}

TEST_F(S3StoreTest, UnknownAccessKeyIsNamed) {
  S3Config c = config();
  c.credentials.access_key_id = "AKIAUNKNOWN";
  S3Store s = store(c);
  auto info = s.head("k");
  ASSERT_FALSE(info);
  // HEAD answers carry no body, so only the status is known.
  EXPECT_EQ(info.error().code, Errc::kPermission) << info.error().message;
  auto st = s.put_file("k", file_with("x"), {});
  ASSERT_FALSE(st);
  EXPECT_TRUE(contains(st.error().message, "InvalidAccessKeyId")) << st.error().message;
}

TEST_F(S3StoreTest, RetriesServiceUnavailableThenSucceeds) {
  S3Store s = store(config());
  ASSERT_TRUE(server_->fail_next(503, 2));
  auto st = s.put_file("k", file_with("retry me"), {});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(s.requests_sent_for_test(), 4u);  // 503, 503, PUT, HEAD.
  EXPECT_EQ(*get(s, "k"), "retry me");
}

TEST_F(S3StoreTest, RetriesSlowDown) {
  S3Store s = store(config());
  ASSERT_TRUE(s.put_file("k", file_with("x"), {}));
  ASSERT_TRUE(server_->fail_next(429, 1));
  auto listed = s.list("");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(S3StoreTest, GivesUpAfterMaxAttempts) {
  S3Config c = config();
  c.max_attempts = 3;
  S3Store s = store(c);
  ASSERT_TRUE(server_->fail_next(503, 100));
  auto st = s.put_file("k", file_with("x"), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kUnavailable);
  EXPECT_TRUE(contains(st.error().message, "HTTP 503 ServiceUnavailable")) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "(after 3 attempts)")) << st.error().message;
  EXPECT_EQ(s.requests_sent_for_test(), 3u);
}

TEST_F(S3StoreTest, FailedMultipartUploadIsAbortedAndNamed) {
  S3Config c = config();
  c.multipart_threshold_bytes = 10 << 10;
  c.part_size_bytes = 10 << 10;
  c.max_attempts = 2;
  S3Store s = store(c);
  // Initiate goes through; part 1 meets 503 on both of its attempts.
  ASSERT_TRUE(server_->fail_next(503, 2, "partNumber"));
  auto st = s.put_file("big", file_with(pattern(50 << 10)), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kUnavailable) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "put \"big\": part 1: HTTP 503")) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "(after 2 attempts)")) << st.error().message;
  // s3rver cannot abort uploads (405): the message says what is left behind.
  EXPECT_TRUE(contains(st.error().message, "aborting upload")) << st.error().message;
  // initiate, part 1 twice, abort.
  EXPECT_EQ(s.requests_sent_for_test(), 4u);
  EXPECT_EQ(s.head("big").error().code, Errc::kNotFound);
}

// S3 may answer CompleteMultipartUpload with 200 and an <Error> body; that is a failure to retry.
TEST_F(S3StoreTest, RetriesAnErrorHiddenInA200Complete) {
  S3Config c = config();
  c.multipart_threshold_bytes = 10 << 10;
  c.part_size_bytes = 10 << 10;
  S3Store s = store(c);
  // Only the complete request's URL starts its query with uploadId (parts have partNumber).
  ASSERT_TRUE(server_->fail_next(200, 1, "?uploadId="));
  std::string data = pattern(25 << 10);
  auto st = s.put_file("big", file_with(data), {});
  ASSERT_TRUE(st) << st.error().message;
  // initiate, 3 parts, complete twice, HEAD.
  EXPECT_EQ(s.requests_sent_for_test(), 7u);
  EXPECT_TRUE(*get(s, "big") == data);
}

TEST_F(S3StoreTest, ResumesADownloadCutOffMidway) {
  S3Store s = store(config());
  std::string data = pattern(200 << 10);
  ASSERT_TRUE(s.put_file("k", file_with(data), {}));
  ASSERT_TRUE(server_->truncate_next_gets(70000, 1));
  std::uint64_t before = s.requests_sent_for_test();
  auto back = get(s, "k");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->size(), data.size());
  EXPECT_TRUE(*back == data);
  EXPECT_EQ(s.requests_sent_for_test() - before, 2u);
}

TEST_F(S3StoreTest, MissingBucketIsNotFound) {
  S3Config c = config();
  c.bucket = "no-such-bucket";
  S3Store s = store(c);
  auto st = s.put_file("k", file_with("x"), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kNotFound) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "NoSuchBucket")) << st.error().message;
  auto removed = s.remove("k");
  ASSERT_FALSE(removed);
  EXPECT_TRUE(contains(removed.error().message, "NoSuchBucket")) << removed.error().message;
}

TEST_F(S3StoreTest, LeaksNoFileDescriptors) {
  std::string path = file_with(pattern(30 << 10));
  int before = gc::testing::open_fd_count();
  {
    S3Config c = config();
    c.multipart_threshold_bytes = 10 << 10;
    c.part_size_bytes = 10 << 10;
    S3Store s = store(c);
    ASSERT_TRUE(s.put_file("a", path, {}));
    ASSERT_TRUE(get(s, "a"));
    ASSERT_TRUE(s.list(""));
    ASSERT_TRUE(s.remove("a"));
  }
  EXPECT_EQ(gc::testing::open_fd_count(), before);
}

TEST(S3StoreConfig, RefusesBadSettingsWithoutEchoingSecrets) {
  S3Config base;
  base.endpoint = "https://nyc3.digitaloceanspaces.com";
  base.bucket = "b";
  base.credentials = {"AKIA", "topsecret"};
  ASSERT_TRUE(S3Store::create(base));

  auto refused = [&](auto mutate, std::string_view needle) {
    S3Config c = base;
    mutate(c);
    auto s = S3Store::create(c);
    ASSERT_FALSE(s) << needle;
    EXPECT_EQ(s.error().code, Errc::kInvalidConfig);
    EXPECT_TRUE(contains(s.error().message, needle)) << s.error().message;
    EXPECT_FALSE(contains(s.error().message, "topsecret"));
    EXPECT_FALSE(contains(s.error().message, "hunter2"));
  };
  refused([](S3Config& c) { c.endpoint = "ftp://x"; }, "http:// or https://");
  refused([](S3Config& c) { c.endpoint = "https://user:hunter2@host"; }, "user:password@");
  refused([](S3Config& c) { c.endpoint = "https://host/path"; }, "no path");
  refused([](S3Config& c) { c.bucket = ""; }, "bucket");
  refused([](S3Config& c) { c.region = ""; }, "region");
  refused([](S3Config& c) { c.prefix = "/abs/"; }, "prefix");
  refused([](S3Config& c) { c.prefix = "a/../"; }, "prefix");
  refused([](S3Config& c) { c.credentials.secret_access_key = ""; }, "secret access key");
  refused([](S3Config& c) { c.max_attempts = 0; }, "max_attempts");
  refused([](S3Config& c) { c.list_page_size = 1001; }, "list_page_size");
}

TEST(S3StoreConfig, DescribeNamesEndpointAndBucket) {
  S3Config c;
  c.endpoint = "https://nyc3.digitaloceanspaces.com/";
  c.bucket = "orbital-backups";
  c.prefix = "prod/";
  c.credentials = {"AKIA", "topsecret"};
  auto s = S3Store::create(c);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->describe(),
            "s3 https://nyc3.digitaloceanspaces.com bucket orbital-backups prefix prod/");
}

}  // namespace
}  // namespace gc::storage

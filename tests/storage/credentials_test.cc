// SPDX-License-Identifier: MIT
// Tests for storage/credentials.h: the AWS shared-credentials format and the 0600 rule.
#include "storage/credentials.h"

#include <sys/stat.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"

namespace gc::storage {
namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ParseCredentials, ReadsTheDefaultSection) {
  auto c = parse_credentials(
      "# comment\n[other]\naws_access_key_id = OTHER\naws_secret_access_key = nope\n\n"
      "[default]\r\naws_access_key_id=AKIAEXAMPLE\r\n  aws_secret_access_key =  s3cr3t/Key+  \r\n"
      "region = nyc3\n",
      "creds");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(c->secret_access_key, "s3cr3t/Key+");
}

TEST(ParseCredentials, AcceptsKeysWithoutASection) {
  auto c = parse_credentials("aws_access_key_id = A\naws_secret_access_key = B\n", "creds");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->access_key_id, "A");
  EXPECT_EQ(c->secret_access_key, "B");
}

TEST(ParseCredentials, PicksANamedProfile) {
  std::string text =
      "[default]\naws_access_key_id = D\naws_secret_access_key = d\n"
      "[profile spaces]\naws_access_key_id = S\naws_secret_access_key = s\n";
  auto c = parse_credentials(text, "creds", "spaces");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->access_key_id, "S");
  auto missing = parse_credentials(text, "creds", "r2");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(contains(missing.error().message, "no [r2] section")) << missing.error().message;
}

TEST(ParseCredentials, MissingSecretIsNamedWithoutValues) {
  auto c = parse_credentials("[default]\naws_access_key_id = AKIAVISIBLE\n", "/etc/gc/creds");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kInvalidConfig);
  EXPECT_EQ(c.error().message,
            "/etc/gc/creds: aws_secret_access_key is missing or empty in [default]");
}

TEST(ParseCredentials, MalformedLineNamesTheLineNotItsText) {
  auto c = parse_credentials("[default]\naws_access_key_id = A\nwJalrXUtnFEMIsecretLINE\n", "f");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "f:3: expected \"key = value\"");
}

class CredentialsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("gc-creds-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    path_ = dir_->file("credentials");
  }
  void write(int mode) {
    ASSERT_TRUE(write_file_atomic(
        path_, "[default]\naws_access_key_id = AK\naws_secret_access_key = SECRET123\n", mode));
  }
  std::unique_ptr<TempDir> dir_;
  std::string path_;
};

TEST_F(CredentialsFile, LoadsAPrivateFile) {
  write(0600);
  auto c = load_credentials_file(path_);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->access_key_id, "AK");
  EXPECT_EQ(c->secret_access_key, "SECRET123");
  write(0400);
  EXPECT_TRUE(load_credentials_file(path_));
}

TEST_F(CredentialsFile, RefusesAFileOthersCanRead) {
  for (int mode : {0644, 0640, 0604, 0660}) {
    write(mode);
    auto c = load_credentials_file(path_);
    ASSERT_FALSE(c) << std::oct << mode;
    EXPECT_EQ(c.error().code, Errc::kPermission);
    EXPECT_TRUE(contains(c.error().message, "chmod 600 " + path_)) << c.error().message;
    EXPECT_FALSE(contains(c.error().message, "SECRET123"));
  }
}

TEST_F(CredentialsFile, MissingFileIsNotFound) {
  auto c = load_credentials_file(path_);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace gc::storage

// SPDX-License-Identifier: MIT
// Interop between our age implementation and the real `age` and `age-keygen` CLIs (Debian's age
// package, a test-only dependency in design.md): files encrypted by either side are decrypted by
// the other, byte for byte, and key files go both ways.
#include <fcntl.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "crypto/age.h"

namespace gc::crypto {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr const char* kPath = "/usr/local/bin:/usr/bin:/bin";

std::string random_text(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

struct CliRun {
  ExitStatus status;
  std::string out;
  std::string err;
};

// Runs a CLI to completion with stdout and stderr captured in files of `dir`.
CliRun run(const std::vector<std::string>& argv, const TempDir& dir) {
  CliRun r;
  auto out = open_fd(dir.file("cmd.out"), O_WRONLY | O_CREAT | O_TRUNC);
  auto err = open_fd(dir.file("cmd.err"), O_WRONLY | O_CREAT | O_TRUNC);
  EXPECT_TRUE(out && err);
  if (!out || !err) return r;
  SpawnOptions o;
  o.argv = argv;
  o.env = {std::string("PATH=") + kPath, "HOME=" + dir.path()};
  o.stdout_fd = out->get();
  o.stderr_fd = err->get();
  auto child = ChildProcess::spawn(o);
  EXPECT_TRUE(child) << argv[0] << ": " << child.error().message;
  if (!child) return r;
  auto status = child->wait();
  EXPECT_TRUE(status);
  if (status) r.status = *status;
  r.out = read_file(dir.file("cmd.out")).value_or("");
  r.err = read_file(dir.file("cmd.err")).value_or("");
  return r;
}

std::string trim_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class AgeInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    // The real CLIs are a declared test dependency: fail loudly rather than skip, so a missing
    // package cannot silently turn the interop guarantee off.
    ASSERT_TRUE(find_executable("age", kPath)) << "install Debian's age package";
    ASSERT_TRUE(find_executable("age-keygen", kPath)) << "install Debian's age package";
    auto dir = TempDir::create("gc-age-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
  }
  std::string file(std::string_view name) const { return dir_->file(name); }

  // Our identity, stored in age-keygen's layout.
  X25519Identity our_identity(const std::string& key_file) {
    auto identity = generate_identity();
    EXPECT_TRUE(identity);
    EXPECT_TRUE(write_file_atomic(
        key_file, format_identity_file(*identity, std::chrono::system_clock::now()), 0600));
    return *identity;
  }

  std::optional<TempDir> dir_;
};

const std::vector<std::size_t> kSizes = {0, 1, kChunk - 1, kChunk, kChunk + 1, 10 * 1024 * 1024};

TEST_F(AgeInterop, AgeDecryptsWhatWeEncrypt) {
  X25519Identity id = our_identity(file("key.txt"));
  std::vector<X25519Recipient> recipients = {id.recipient()};
  for (std::size_t size : kSizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::string plain = random_text(size, size + 1);
    ASSERT_TRUE(write_file_atomic(file("plain"), plain));
    auto enc = encrypt_file(file("plain"), file("f.age"), recipients);
    ASSERT_TRUE(enc) << enc.error().message;
    // To stdout (a file here), because `age -o` creates no file at all for an empty plaintext.
    CliRun r = run({"age", "-d", "-i", file("key.txt"), file("f.age")}, *dir_);
    ASSERT_TRUE(r.status.success()) << r.status.to_string() << ": " << r.err;
    EXPECT_TRUE(r.out == plain) << "age's plaintext differs (" << r.out.size() << " bytes)";
  }
}

TEST_F(AgeInterop, WeDecryptWhatAgeEncrypts) {
  X25519Identity id = our_identity(file("key.txt"));
  std::vector<X25519Identity> identities = {id};
  for (std::size_t size : kSizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::string plain = random_text(size, size + 2);
    ASSERT_TRUE(write_file_atomic(file("plain"), plain));
    CliRun r = run(
        {"age", "-e", "-r", id.recipient().to_string(), "-o", file("f.age"), file("plain")}, *dir_);
    ASSERT_TRUE(r.status.success()) << r.status.to_string() << ": " << r.err;
    auto dec = decrypt_file(file("f.age"), file("out"), identities);
    ASSERT_TRUE(dec) << dec.error().message;
    EXPECT_EQ(dec->plaintext_bytes, size);
    auto out = read_file(file("out"));
    ASSERT_TRUE(out);
    EXPECT_TRUE(*out == plain) << "our plaintext differs (" << out->size() << " bytes)";

    if (size <= kChunk + 1) {
      // The streaming reader fed one byte at a time gives the same plaintext.
      auto cipher = read_file(file("f.age"));
      ASSERT_TRUE(cipher);
      std::string bytewise;
      auto reader = AgeReader::create(identities, [&](std::span<const std::uint8_t> b) {
        bytewise.append(reinterpret_cast<const char*>(b.data()), b.size());
        return ok();
      });
      ASSERT_TRUE(reader);
      for (char c : *cipher) {
        auto byte = static_cast<std::uint8_t>(c);
        ASSERT_TRUE(reader->write(std::span(&byte, 1)));
      }
      ASSERT_TRUE(reader->finish());
      EXPECT_TRUE(bytewise == plain);
    }
  }
}

TEST_F(AgeInterop, SeveralRecipientsEachDecryptAloneBothWays) {
  std::vector<X25519Identity> ids;
  std::vector<X25519Recipient> recipients;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(our_identity(file("key" + std::to_string(i))));
    recipients.push_back(ids.back().recipient());
  }
  std::string plain = random_text(3 * kChunk + 5, 42);
  ASSERT_TRUE(write_file_atomic(file("plain"), plain));

  ASSERT_TRUE(encrypt_file(file("plain"), file("ours.age"), recipients));
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("identity " + std::to_string(i));
    CliRun r = run(
        {"age", "-d", "-i", file("key" + std::to_string(i)), "-o", file("out"), file("ours.age")},
        *dir_);
    ASSERT_TRUE(r.status.success()) << r.err;
    EXPECT_TRUE(read_file(file("out")).value_or("") == plain);
  }

  CliRun e = run({"age", "-e", "-r", recipients[0].to_string(), "-r", recipients[1].to_string(),
                  "-r", recipients[2].to_string(), "-o", file("theirs.age"), file("plain")},
                 *dir_);
  ASSERT_TRUE(e.status.success()) << e.err;
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("identity " + std::to_string(i));
    std::vector<X25519Identity> one = {ids[static_cast<std::size_t>(i)]};
    auto dec = decrypt_file(file("theirs.age"), file("out"), one);
    ASSERT_TRUE(dec) << dec.error().message;
    EXPECT_TRUE(read_file(file("out")).value_or("") == plain);
  }

  // And a stranger's key is refused by both.
  X25519Identity stranger = our_identity(file("stranger"));
  std::vector<X25519Identity> wrong = {stranger};
  auto refused = decrypt_file(file("theirs.age"), file("out2"), wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kPermission);
  CliRun r =
      run({"age", "-d", "-i", file("stranger"), "-o", file("out2"), file("ours.age")}, *dir_);
  EXPECT_FALSE(r.status.success());
}

TEST_F(AgeInterop, KeyFilesGoBothWays) {
  // age-keygen's file, parsed by us: same public key as the one it prints.
  CliRun k = run({"age-keygen", "-o", file("theirs.txt")}, *dir_);
  ASSERT_TRUE(k.status.success()) << k.err;
  auto theirs = load_identity_file(file("theirs.txt"));
  ASSERT_TRUE(theirs) << theirs.error().message;
  ASSERT_EQ(theirs->size(), 1u);
  auto text = read_file(file("theirs.txt"));
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("# public key: " + (*theirs)[0].recipient().to_string() + "\n"),
            std::string::npos)
      << *text;
  CliRun y = run({"age-keygen", "-y", file("theirs.txt")}, *dir_);
  ASSERT_TRUE(y.status.success()) << y.err;
  EXPECT_EQ(trim_newline(y.out), (*theirs)[0].recipient().to_string());

  // Our file, read by age-keygen -y: the same public key we derive.
  X25519Identity ours = our_identity(file("ours.txt"));
  CliRun y2 = run({"age-keygen", "-y", file("ours.txt")}, *dir_);
  ASSERT_TRUE(y2.status.success()) << y2.err;
  EXPECT_EQ(trim_newline(y2.out), ours.recipient().to_string());
  // age-keygen's own layout: comment lines first, then the key. Compare the shape line by line.
  auto our_text = read_file(file("ours.txt"));
  ASSERT_TRUE(our_text);
  auto shape = [](const std::string& t) {
    std::string s;
    for (std::size_t start = 0; start < t.size();) {
      std::size_t nl = t.find('\n', start);
      std::string line = t.substr(start, nl - start);
      s += line.substr(0, line.find(':') == std::string::npos ? 16 : line.find(':')) + "|";
      start = nl + 1;
    }
    return s;
  };
  EXPECT_EQ(shape(*our_text), shape(*text));

  // Several keys in one file (two age-keygen outputs concatenated), as `age -i` accepts.
  CliRun k2 = run({"age-keygen", "-o", file("second.txt")}, *dir_);
  ASSERT_TRUE(k2.status.success()) << k2.err;
  ASSERT_TRUE(write_file_atomic(file("both.txt"),
                                *text + "\n" + read_file(file("second.txt")).value_or("")));
  auto both = load_identity_file(file("both.txt"));
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ(both->size(), 2u);

  // A file age encrypts to age-keygen's key, decrypted by us with the parsed identity.
  ASSERT_TRUE(write_file_atomic(file("plain"), "hello from age\n"));
  CliRun e =
      run({"age", "-e", "-i", file("second.txt"), "-o", file("f.age"), file("plain")}, *dir_);
  ASSERT_TRUE(e.status.success()) << e.err;
  auto dec = decrypt_file(file("f.age"), file("out"), *both);
  ASSERT_TRUE(dec) << dec.error().message;
  EXPECT_EQ(read_file(file("out")).value_or(""), "hello from age\n");
}

TEST_F(AgeInterop, AgeRejectsOurTruncatedFile) {
  // Sanity check that the truncation we refuse is also refused by the reference reader.
  X25519Identity id = our_identity(file("key.txt"));
  std::vector<X25519Recipient> recipients = {id.recipient()};
  std::string plain = random_text(2 * kChunk, 3);
  ASSERT_TRUE(write_file_atomic(file("plain"), plain));
  ASSERT_TRUE(encrypt_file(file("plain"), file("f.age"), recipients));
  auto cipher = read_file(file("f.age"));
  ASSERT_TRUE(cipher);
  ASSERT_TRUE(write_file_atomic(file("cut.age"), cipher->substr(0, cipher->size() - kChunk - 16)));
  CliRun r = run({"age", "-d", "-i", file("key.txt"), "-o", file("out"), file("cut.age")}, *dir_);
  EXPECT_FALSE(r.status.success());
  std::vector<X25519Identity> identities = {id};
  auto ours = decrypt_file(file("cut.age"), file("out"), identities);
  ASSERT_FALSE(ours);
  EXPECT_NE(ours.error().message.find("truncated: the final chunk is missing"), std::string::npos);
}

}  // namespace
}  // namespace gc::crypto

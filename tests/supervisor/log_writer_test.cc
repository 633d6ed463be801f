// SPDX-License-Identifier: MIT
// Tests for supervisor/log_writer.h: size-based rotation into gzip files, and the writer thread
// with its bounded queue. Real files in a TempDir, real zlib.
#include "supervisor/log_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "support/os_probe.h"

namespace gc::supervisor {
namespace {

using gc::testing::have_ipv6_loopback;
using gc::testing::open_fd_count;

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

std::string read_plain(const std::string& path) {
  auto text = read_file(path);
  EXPECT_TRUE(text) << text.error().message;
  return text ? *text : std::string();
}

// Decompresses a whole .gz file; fails the test if it is not valid gzip.
std::string read_gzip(const std::string& path) {
  gzFile in = ::gzopen(path.c_str(), "rb");
  EXPECT_NE(in, nullptr) << path;
  if (in == nullptr) return {};
  std::string out;
  char buf[4096];
  int n;
  while ((n = ::gzread(in, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int errnum = 0;
  const char* msg = ::gzerror(in, &errnum);
  EXPECT_GE(n, 0) << path << ": " << msg;
  EXPECT_EQ(errnum, Z_OK) << path << ": " << msg;
  EXPECT_EQ(::gzclose(in), Z_OK) << path;
  return out;
}

std::string numbered_line(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "line %05d\n", i);
  return buf;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));  // An unterminated, split line.
      break;
    }
    lines.push_back(text.substr(start, nl + 1 - start));
    start = nl + 1;
  }
  return lines;
}

TEST(LogFile, RotatesIntoAtMostKeepGzipFiles) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->file("out.log");
  LogFile log(path, 100, 2);
  const int kLines = 200;
  for (int i = 1; i <= kLines; ++i) ASSERT_TRUE(log.write(numbered_line(i)));

  EXPECT_TRUE(exists(path));
  EXPECT_TRUE(exists(path + ".1.gz"));
  EXPECT_TRUE(exists(path + ".2.gz"));
  EXPECT_FALSE(exists(path + ".3.gz"));
  EXPECT_FALSE(exists(path + ".1"));         // The uncompressed copy is gone.
  EXPECT_FALSE(exists(path + ".1.gz.tmp"));  // And so is gzip's temp file.
  EXPECT_LE(file_size(path), 100u);

  const std::string older = read_gzip(path + ".2.gz");
  const std::string newer = read_gzip(path + ".1.gz");
  const std::string current = read_plain(path);
  for (const std::string* part : {&older, &newer, &current}) {
    EXPECT_FALSE(part->empty());
    EXPECT_LE(part->size(), 100u);
    EXPECT_EQ(part->back(), '\n') << "a line was split: " << *part;
  }

  // Every surviving line exactly once, in order, none split, ending with the last one written.
  std::vector<std::string> lines = split_lines(older + newer + current);
  ASSERT_FALSE(lines.empty());
  const int first = kLines - static_cast<int>(lines.size()) + 1;
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i], numbered_line(first + static_cast<int>(i))) << "at line " << i;
  }
  // 100 bytes hold 9 lines of 11 bytes: two full rotated files plus the current one.
  EXPECT_EQ(older.size(), 99u);
  EXPECT_EQ(newer.size(), 99u);
}

TEST(LogFile, KeepOneLeavesOnlyTheNewestRotation) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->file("out.log");
  LogFile log(path, 30, 1);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(log.write(numbered_line(i)));
  EXPECT_TRUE(exists(path + ".1.gz"));
  EXPECT_FALSE(exists(path + ".2.gz"));
  std::vector<std::string> lines = split_lines(read_gzip(path + ".1.gz") + read_plain(path));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), numbered_line(20));
}

TEST(LogFile, KeepZeroTruncatesInPlace) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->file("out.log");
  LogFile log(path, 100, 0);
  for (int i = 1; i <= 50; ++i) ASSERT_TRUE(log.write(numbered_line(i)));
  EXPECT_FALSE(exists(path + ".1.gz"));
  EXPECT_FALSE(exists(path + ".1"));
  std::string current = read_plain(path);
  EXPECT_LE(current.size(), 100u);
  // 50 = 5 * 9 + 5: the file was truncated after line 45.
  std::string want;
  for (int i = 46; i <= 50; ++i) want += numbered_line(i);
  EXPECT_EQ(current, want);
}

TEST(LogFile, ExplicitRotateStartsAnEmptyFile) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->file("out.log");
  LogFile log(path, 1 << 20, 3);
  ASSERT_TRUE(log.write("first\n"));
  ASSERT_TRUE(log.rotate());
  EXPECT_TRUE(exists(path));
  EXPECT_EQ(file_size(path), 0u);
  EXPECT_EQ(read_gzip(path + ".1.gz"), "first\n");
  ASSERT_TRUE(log.write("second\n"));
  ASSERT_TRUE(log.rotate());
  EXPECT_EQ(read_gzip(path + ".2.gz"), "first\n");
  EXPECT_EQ(read_gzip(path + ".1.gz"), "second\n");
}

TEST(LogFile, AppendsToAnExistingFileAndCountsItsSize) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->file("out.log");
  ASSERT_TRUE(write_file_atomic(path, std::string(90, 'x') + "\n"));
  LogFile log(path, 100, 2);
  ASSERT_TRUE(log.write(numbered_line(1)));  // 91 + 11 > 100: the old content rotates first.
  EXPECT_EQ(read_gzip(path + ".1.gz"), std::string(90, 'x') + "\n");
  EXPECT_EQ(read_plain(path), numbered_line(1));
}

TEST(LogFile, AWriteLargerThanMaxSizeIsKeptWhole) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->file("out.log");
  LogFile log(path, 10, 2);
  const std::string big = std::string(50, 'b') + "\n";
  ASSERT_TRUE(log.write("a\n"));
  ASSERT_TRUE(log.write(big));
  EXPECT_EQ(read_plain(path), big);
  EXPECT_EQ(read_gzip(path + ".1.gz"), "a\n");
}

TEST(LogFile, RotationLeaksNoFds) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const int before = open_fd_count();
  {
    LogFile log(dir->file("out.log"), 50, 3);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(log.write(numbered_line(i)));
    EXPECT_EQ(open_fd_count(), before + 1);  // Only the live file.
  }
  EXPECT_EQ(open_fd_count(), before);
}

TEST(LogFile, RotationAfterTheFileWasDeletedKeepsWriting) {
  // An operator clears the log with `rm out.log`; the open fd still points at the deleted file.
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->file("out.log");
  LogFile log(path, 100, 2);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(log.write(numbered_line(i)));
  ASSERT_EQ(::unlink(path.c_str()), 0);
  // Lines 6..9 go to the deleted file; line 10 is due to rotate, with nothing left to compress.
  for (int i = 6; i <= 20; ++i) {
    Status written = log.write(numbered_line(i));
    ASSERT_TRUE(written) << "line " << i << ": " << written.error().message;
  }
  EXPECT_FALSE(exists(path + ".1"));
  EXPECT_FALSE(exists(path + ".2.gz"));
  std::string want;
  for (int i = 10; i <= 20; ++i) want += numbered_line(i);
  EXPECT_EQ(read_gzip(path + ".1.gz") + read_plain(path), want);
}

TEST(LogWriter, FlushWritesEverythingAppended) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  LogWriter writer;
  auto stream = writer.open_stream(dir->file("out.log"), 1ull << 30, 2);
  EXPECT_EQ(stream->path(), dir->file("out.log"));
  std::string want;
  for (int i = 0; i < 5000; ++i) {
    std::string line = numbered_line(i);
    ASSERT_TRUE(stream->append(line));
    want += line;
  }
  writer.flush();
  EXPECT_EQ(read_plain(dir->file("out.log")), want);
  EXPECT_EQ(stream->stats().written_bytes, want.size());
  EXPECT_EQ(stream->stats().dropped_bytes, 0u);
  EXPECT_EQ(stream->stats().write_errors, 0u);
}

TEST(LogWriter, KeepsStreamsApart) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  LogWriter writer;
  auto out = writer.open_stream(dir->file("out.log"), 1ull << 30, 2);
  auto err = writer.open_stream(dir->file("err.log"), 1ull << 30, 2);
  std::string want_out, want_err;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(out->append("out " + numbered_line(i)));
    ASSERT_TRUE(err->append("err " + numbered_line(i)));
    want_out += "out " + numbered_line(i);
    want_err += "err " + numbered_line(i);
  }
  writer.flush();
  EXPECT_EQ(read_plain(dir->file("out.log")), want_out);
  EXPECT_EQ(read_plain(dir->file("err.log")), want_err);
}

TEST(LogWriter, RotatesThroughTheWriterThread) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string path = dir->file("out.log");
  LogWriter writer;
  auto stream = writer.open_stream(path, 1000, 3);
  std::string want;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(stream->append(numbered_line(i)));
    want += numbered_line(i);
    if (i % 50 == 49) writer.flush();  // Separate batches, so that rotation really happens.
  }
  writer.flush();
  EXPECT_TRUE(exists(path + ".1.gz"));
  std::string all = read_gzip(path + ".3.gz") + read_gzip(path + ".2.gz") +
                    read_gzip(path + ".1.gz") + read_plain(path);
  ASSERT_LE(all.size(), want.size());
  EXPECT_EQ(all, want.substr(want.size() - all.size()));
}

TEST(LogWriter, DropsAndCountsWhatDoesNotFitTheQueue) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  LogWriter writer(10);
  auto stream = writer.open_stream(dir->file("out.log"), 1ull << 30, 2);
  EXPECT_FALSE(stream->append("0123456789abcdefghi\n"));  // 20 bytes > 10.
  EXPECT_EQ(stream->stats().dropped_bytes, 20u);
  EXPECT_TRUE(stream->append("fits\n"));
  writer.flush();
  EXPECT_EQ(read_plain(dir->file("out.log")), "fits\n");
  EXPECT_EQ(stream->stats().written_bytes, 5u);
  EXPECT_EQ(stream->stats().dropped_bytes, 20u);
}

TEST(LogWriter, WriteErrorsAreCountedAndTheNextWriteRetries) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string sub = dir->file("gone");
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  ASSERT_EQ(::rmdir(sub.c_str()), 0);
  LogWriter writer;
  auto stream = writer.open_stream(sub + "/out.log", 1ull << 30, 2);
  EXPECT_TRUE(stream->append("lost\n"));  // Queued fine; the write itself fails.
  writer.flush();
  EXPECT_EQ(stream->stats().write_errors, 1u);
  EXPECT_EQ(stream->stats().dropped_bytes, 5u);
  EXPECT_EQ(stream->stats().written_bytes, 0u);

  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  EXPECT_TRUE(stream->append("kept\n"));
  writer.flush();
  EXPECT_EQ(stream->stats().write_errors, 1u);
  EXPECT_EQ(read_plain(sub + "/out.log"), "kept\n");
}

TEST(LogWriter, DestructorWritesWhatIsQueued) {
  auto dir = TempDir::create("gc-log-writer-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  std::string want;
  std::shared_ptr<LogStream> stream;
  {
    LogWriter writer;
    stream = writer.open_stream(dir->file("out.log"), 1ull << 30, 2);
    for (int i = 0; i < 2000; ++i) {
      ASSERT_TRUE(stream->append(numbered_line(i)));
      want += numbered_line(i);
    }
  }
  EXPECT_EQ(read_plain(dir->file("out.log")), want);
  EXPECT_EQ(stream->stats().written_bytes, want.size());
}

TEST(LogWriter, FlushWithNothingQueuedReturns) {
  LogWriter writer;
  writer.flush();
  writer.flush();
}

}  // namespace
}  // namespace gc::supervisor

namespace gc::supervisor {
namespace {

// The writer thread must never wait for gzip: at 50 MiB per rotation that took long enough for a
// fast app to overflow the queue, and lines were dropped (bench/logs found it).
TEST(LogFile, WithAHandlerRotationOnlyMovesTheFileAside) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->file("out.log");
  LogFile file(path, 10, 3);
  std::vector<RotatedFile> handed;
  file.set_rotation_handler([&](RotatedFile r) { handed.push_back(std::move(r)); });
  ASSERT_TRUE(file.write("first line\n"));
  ASSERT_TRUE(file.write("second line\n"));
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_FALSE(exists(path + ".1.gz"));
  EXPECT_EQ(read_plain(handed[0].plain), "first line\n");
  EXPECT_EQ(read_plain(path), "second line\n");
  ASSERT_TRUE(finish_rotation(handed[0]));
  EXPECT_FALSE(exists(handed[0].plain));
  EXPECT_EQ(read_gzip(path + ".1.gz"), "first line\n");
}

TEST(LogWriter, RotatedFilesAreCompressedInOrderOffTheWriterThread) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->file("out.log");
  std::string expected;
  {
    LogWriter writer;
    auto stream = writer.open_stream(path, 100, 3);
    for (int i = 0; i < 50; ++i) {
      std::string line = "line " + std::to_string(i) + " " + std::string(40, 'x') + "\n";
      ASSERT_TRUE(stream->append(line));
      expected += line;
      if (i % 2 == 1) writer.flush();  // Separate writes, so the file rotates every 2 lines.
    }
    writer.flush();
  }
  std::string all = read_gzip(path + ".3.gz") + read_gzip(path + ".2.gz") +
                    read_gzip(path + ".1.gz") + read_plain(path);
  // Older lines went with the archives past keep; what is left is the newest, whole and in order.
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), 'l');
  EXPECT_TRUE(expected.ends_with(all)) << all;
  EXPECT_TRUE(exists(path + ".3.gz"));
  EXPECT_FALSE(exists(path + ".4.gz"));
  for (const auto& entry : std::filesystem::directory_iterator(dir->path())) {
    EXPECT_EQ(entry.path().string().find("rotating"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace gc::supervisor

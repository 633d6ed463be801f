// SPDX-License-Identifier: MIT
// LogTail on real files in a temp dir: appends, partial lines, both logrotate styles, a file that
// appears late, and the per-call byte bound.
#include "monitor/log_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>

#include "base/temp_dir.h"
#include "base/unique_fd.h"

namespace gc::monitor {
namespace {

using Lines = std::vector<std::string>;

// A writer that keeps its file open, as a logging process does.
UniqueFd open_log(const std::string& path) {
  auto fd = open_fd(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  EXPECT_TRUE(fd) << fd.error().message;
  return fd ? std::move(*fd) : UniqueFd();
}

void append(const std::string& path, std::string_view text) {
  UniqueFd fd = open_log(path);
  ASSERT_TRUE(write_all(fd.get(), text));
}

Lines read(LogTail& tail, std::size_t max_bytes = 1 << 20) {
  auto lines = tail.read_lines(max_bytes);
  EXPECT_TRUE(lines) << lines.error().message;
  return lines ? *lines : Lines{};
}

class LogTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("log-tail-");
    ASSERT_TRUE(d) << d.error().message;
    dir_.emplace(std::move(*d));
    path_ = dir_->file("app.log");
  }
  std::optional<TempDir> dir_;
  std::string path_;
};

TEST_F(LogTailTest, ReadsAppendedLines) {
  append(path_, "");
  LogTail tail = LogTail::follow(path_);
  EXPECT_EQ(read(tail), Lines{});
  append(path_, "one\ntwo\n");
  EXPECT_EQ(read(tail), (Lines{"one", "two"}));
  EXPECT_EQ(read(tail), Lines{});
  append(path_, "three\n\n");
  EXPECT_EQ(read(tail), (Lines{"three", ""}));
}

TEST_F(LogTailTest, FromEndSkipsWhatIsThereFromStartReadsIt) {
  append(path_, "old 1\nold 2\n");
  LogTail from_end = LogTail::follow(path_, true);
  LogTail from_start = LogTail::follow(path_, false);
  append(path_, "new\n");
  EXPECT_EQ(read(from_end), Lines{"new"});
  EXPECT_EQ(read(from_start), (Lines{"old 1", "old 2", "new"}));
}

TEST_F(LogTailTest, FromEndSkipsTheRestOfAPartialLastLine) {
  append(path_, "old 1\nold 2 cut");
  LogTail tail = LogTail::follow(path_, true);
  append(path_, " short\nnew\n");
  EXPECT_EQ(read(tail), Lines{"new"});
}

TEST_F(LogTailTest, KeepsAPartialLineUntilItsNewline) {
  LogTail tail = LogTail::follow(path_, false);
  append(path_, "{\"level\":\"er");
  EXPECT_EQ(read(tail), Lines{});
  append(path_, "ror\"}\nnext");
  EXPECT_EQ(read(tail), Lines{"{\"level\":\"error\"}"});
  append(path_, "\n");
  EXPECT_EQ(read(tail), Lines{"next"});
}

TEST_F(LogTailTest, FollowsRotationByRenameReadingTheOldFileFirst) {
  UniqueFd writer = open_log(path_);
  ASSERT_TRUE(write_all(writer.get(), "a\n"));
  LogTail tail = LogTail::follow(path_, false);
  EXPECT_EQ(read(tail), Lines{"a"});
  // logrotate renames; the app writes on to the old file until it reopens.
  ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  ASSERT_TRUE(write_all(writer.get(), "b\n"));
  EXPECT_EQ(read(tail), Lines{"b"});  // No new file yet: the old one is still followed.
  ASSERT_TRUE(write_all(writer.get(), "c\nunfinished"));
  writer = open_log(path_);  // The app reopens: a new file.
  ASSERT_TRUE(write_all(writer.get(), "d\n"));
  EXPECT_EQ(read(tail), (Lines{"c", "unfinished", "d"}));
  ASSERT_TRUE(write_all(writer.get(), "e\n"));
  EXPECT_EQ(read(tail), Lines{"e"});
}

TEST_F(LogTailTest, RestartsAtZeroAfterCopytruncate) {
  UniqueFd writer = open_log(path_);
  ASSERT_TRUE(write_all(writer.get(), "first line\nsecond line\npartial"));
  LogTail tail = LogTail::follow(path_, false);
  EXPECT_EQ(read(tail), (Lines{"first line", "second line"}));
  // logrotate's copytruncate: copy away, then truncate in place; O_APPEND writes restart at 0.
  ASSERT_EQ(::ftruncate(writer.get(), 0), 0);
  ASSERT_TRUE(write_all(writer.get(), "after\n"));
  EXPECT_EQ(read(tail), Lines{"after"});
}

TEST_F(LogTailTest, AMissingFileIsReadFromItsStartWhenItAppears) {
  LogTail tail = LogTail::follow(path_, true);
  auto none = tail.read_lines();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
  append(path_, "born\nsecond\n");
  EXPECT_EQ(read(tail), (Lines{"born", "second"}));
}

TEST_F(LogTailTest, ReadsAtMostMaxBytesPerCall) {
  LogTail tail = LogTail::follow(path_, false);
  std::string text;
  for (int i = 0; i < 10; ++i) {
    char line[16];
    std::snprintf(line, sizeof line, "line %04d\n", i);  // 10 bytes.
    text += line;
  }
  append(path_, text);
  EXPECT_EQ(read(tail, 25), (Lines{"line 0000", "line 0001"}));
  EXPECT_EQ(read(tail, 25), (Lines{"line 0002", "line 0003", "line 0004"}));
  Lines rest = read(tail);
  ASSERT_EQ(rest.size(), 5u);
  EXPECT_EQ(rest.back(), "line 0009");
}

TEST_F(LogTailTest, CutsOverlongLines) {
  LogTail tail = LogTail::follow(path_, false);
  append(path_, std::string(100 * 1024, 'x'));
  Lines first = read(tail);
  ASSERT_EQ(first.size(), 1u);  // Handed out at the cap, without waiting for the newline.
  EXPECT_EQ(first[0].size(), LogTail::kMaxLineBytes);
  append(path_, "yyy\nshort\n");
  EXPECT_EQ(read(tail), Lines{"short"});  // The rest of the long line is dropped.
}

TEST_F(LogTailTest, AReadFailureIsAnError) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0755), 0);  // Opens, but read() gives EISDIR.
  LogTail tail = LogTail::follow(path_, false);
  auto lines = tail.read_lines();
  ASSERT_FALSE(lines);
  EXPECT_NE(lines.error().message.find(path_), std::string::npos) << lines.error().message;
}

}  // namespace
}  // namespace gc::monitor

// SPDX-License-Identifier: MIT
// Tests for supervisor/proc_stats.h: the /proc/PID/stat parser (whose comm field may hold
// anything), the reader against this very process, and the CPU percentage.
#include "supervisor/proc_stats.h"

#include <unistd.h>

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "base/child_process.h"

namespace gc::supervisor {
namespace {

// A real /proc/PID/stat line (from a Debian 12 kernel) with utime 250 and stime 125.
std::string stat_line(const std::string& comm) {
  return "1234 (" + comm +
         ") S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 125 0 0 20 0 1 0 12345 123456789 2500 "
         "18446744073709551615 94000000000000 94000000100000 140700000000000 0 0 0 0 4096 "
         "16384 0 0 0 17 3 0 0 0 0 0 94000000200000 94000000300000 94000000400000 "
         "140700000100000 140700000200000 140700000200000 140700000300000 0\n";
}

const std::string kStatm = "30000 2500 1000 100 0 5000 0\n";

TEST(ParseProcStats, ReadsTicksAndResidentPages) {
  auto stats = parse_proc_stats(stat_line("node"), kStatm, 4096);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->cpu_ticks, 375u);
  EXPECT_EQ(stats->rss_bytes, 2500u * 4096u);
}

TEST(ParseProcStats, CommMayHoldSpacesAndParentheses) {
  auto stats = parse_proc_stats(stat_line("we)ird name"), kStatm, 4096);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->cpu_ticks, 375u);
}

TEST(ParseProcStats, CommThatLooksLikeFieldsIsSkipped) {
  // A hostile comm that mimics the fields after it: only the last ')' ends it.
  auto stats = parse_proc_stats(stat_line("x) R 1 1 1 0 -1 0 0 0 0 0 999 999 ( "), kStatm, 4096);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->cpu_ticks, 375u);
}

TEST(ParseProcStats, StatmWithoutTrailingNewline) {
  auto stats = parse_proc_stats(stat_line("sh"), "30000 7", 1000);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->rss_bytes, 7000u);
}

TEST(ParseProcStats, CorruptInputIsRejected) {
  const std::string good = stat_line("sh");
  struct Case {
    std::string stat;
    std::string statm;
  };
  const Case cases[] = {
      {"", kStatm},
      {"garbage", kStatm},
      {"1234 (sh", kStatm},    // No ')'.
      {"1234 (sh)", kStatm},   // Nothing after comm.
      {"1234 (sh) ", kStatm},  // Nothing after comm but a space.
      {"1234 (sh) S 1 1234 1234 0 -1 4194560 1000 0 0 0\n", kStatm},      // Cut before utime.
      {"1234 (sh) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250\n", kStatm},  // Cut before stime.
      {"1234 (sh) S 1 1234 1234 0 -1 4194560 1000 0 0 0 -250 125 0\n", kStatm},
      {"1234 (sh) S 1 1234 1234 0 -1 4194560 1000 0 0 0 25x 125 0\n", kStatm},
      {good, ""},
      {good, "30000"},
      {good, "30000 \n"},
      {good, "30000 abc 1\n"},
  };
  for (const auto& c : cases) {
    auto stats = parse_proc_stats(c.stat, c.statm, 4096);
    ASSERT_FALSE(stats) << "stat=\"" << c.stat << "\" statm=\"" << c.statm << "\"";
    EXPECT_EQ(stats.error().code, Errc::kCorrupt);
  }
}

TEST(ReadProcStats, ThisProcessHasResidentMemory) {
  auto stats = read_proc_stats(::getpid());
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_GT(stats->rss_bytes, 0u);
}

TEST(ReadProcStats, ReapedChildIsNotFound) {
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "exit 0"};
  o.env = {"PATH=/usr/bin:/bin"};
  auto child = ChildProcess::spawn(o);
  ASSERT_TRUE(child) << child.error().message;
  pid_t pid = child->pid();
  auto status = child->wait();
  ASSERT_TRUE(status) << status.error().message;
  auto stats = read_proc_stats(pid);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, Errc::kNotFound) << stats.error().message;
}

TEST(ReadProcStats, ImpossiblePidIsNotFound) {
  auto stats = read_proc_stats(std::numeric_limits<pid_t>::max());
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, Errc::kNotFound) << stats.error().message;
}

TEST(CpuPercent, OneCoreForTheWholeIntervalIsOneHundred) {
  const auto tck = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
  ProcStats before{1000, 0};
  EXPECT_DOUBLE_EQ(cpu_percent(before, ProcStats{1000 + tck, 0}, 1.0), 100.0);
  EXPECT_DOUBLE_EQ(cpu_percent(before, ProcStats{1000 + 2 * tck, 0}, 4.0), 50.0);
  EXPECT_DOUBLE_EQ(cpu_percent(before, ProcStats{1000 + 4 * tck, 0}, 2.0), 200.0);  // Two cores.
  EXPECT_DOUBLE_EQ(cpu_percent(before, before, 5.0), 0.0);
}

TEST(CpuPercent, NoTimeOrACounterGoingBackwardsIsZero) {
  EXPECT_DOUBLE_EQ(cpu_percent(ProcStats{100, 0}, ProcStats{200, 0}, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(cpu_percent(ProcStats{100, 0}, ProcStats{200, 0}, -1.0), 0.0);
  // A new process behind the same slot starts from zero ticks.
  EXPECT_DOUBLE_EQ(cpu_percent(ProcStats{500, 0}, ProcStats{10, 0}, 1.0), 0.0);
}

}  // namespace
}  // namespace gc::supervisor

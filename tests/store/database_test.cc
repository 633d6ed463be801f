// SPDX-License-Identifier: MIT
#include "store/database.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <array>
#include <cstdio>
#include <cstdlib>

#include "base/atomic_file.h"
#include "base/temp_dir.h"

namespace gc::store {
namespace {

TEST(Database, CreatesAPrivateFileAndRoundTripsValues) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto db = Database::open(dir->file("state.db"));
  ASSERT_TRUE(db) << db.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(dir->file("state.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(db->exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT)"));
  auto ins = db->prepare("INSERT INTO t VALUES (?, ?, ?)");
  ASSERT_TRUE(ins);
  ASSERT_TRUE(ins->bind(1, std::int64_t{1} << 40).bind(2, 2.5).bind(3, "it's \"quoted\"").run());
  ASSERT_TRUE(
      ins->reset().bind(1, std::int64_t{-1}).bind_null(2).bind(3, std::string_view()).run());
  auto q = db->prepare("SELECT i, d, s FROM t ORDER BY i");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->step().value_or(false), true);
  EXPECT_EQ(q->column_int(0), -1);
  EXPECT_TRUE(q->column_is_null(1));
  EXPECT_EQ(q->column_text(2), "");
  ASSERT_EQ(q->step().value_or(false), true);
  EXPECT_EQ(q->column_int(0), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(q->column_double(1), 2.5);
  EXPECT_EQ(q->column_text(2), "it's \"quoted\"");
  EXPECT_EQ(q->step().value_or(true), false);
}

TEST(Database, MigrationsRunOnceEachAndFailAtomically) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->file("state.db");
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db);
    std::array<std::string_view, 1> v1 = {"CREATE TABLE a (x INTEGER)"};
    ASSERT_TRUE(db->migrate("mod", v1));
    ASSERT_TRUE(db->migrate("mod", v1));  // Already there: nothing runs again.
    // A failing step leaves version and tables as they were.
    std::array<std::string_view, 2> bad = {"CREATE TABLE a (x INTEGER)",
                                           "CREATE TABLE b (y INTEGER); CREATE TABLE a (z)"};
    auto st = db->migrate("mod", bad);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("already exists"), std::string::npos) << st.error().message;
    EXPECT_FALSE(db->exec("SELECT * FROM b"));
  }
  auto db = Database::open(path);
  ASSERT_TRUE(db);
  std::array<std::string_view, 2> v2 = {"CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD y TEXT"};
  ASSERT_TRUE(db->migrate("mod", v2));
  EXPECT_TRUE(db->exec("INSERT INTO a (x, y) VALUES (1, 'y')"));
  // A database from a newer groundctl is refused, not mangled.
  std::array<std::string_view, 1> older = {"CREATE TABLE a (x INTEGER)"};
  auto st = db->migrate("mod", older);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kConflict);
}

// Run as a separate process by the test below (a fork would share this process's SQLite state):
// opens the database, sets t.v, closes. Like a CLI command next to the daemon.
int write_from_another_process(const std::string& path, int value) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string v = std::to_string(value);
    ::setenv("GC_STORE_TEST_WRITE", (path + "=" + v).c_str(), 1);
    ::execl("/proc/self/exe", "store_test",
            "--gtest_filter=Database.ASecondConnectionKeepsTheFirstOneCurrent", nullptr);
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The daemon holds several connections to state.db while CLI commands, other processes, open
// and close their own. Opening a second connection must not drop the first one's locks (closing
// any descriptor of the file would): else the other process's close takes itself for the last
// user, removes the WAL, and the first connection reads a frozen snapshot from then on.
TEST(Database, ASecondConnectionKeepsTheFirstOneCurrent) {
  if (const char* w = std::getenv("GC_STORE_TEST_WRITE")) {
    std::string spec = w;
    auto other = Database::open(spec.substr(0, spec.find('=')));
    bool ok = other && other->exec("UPDATE t SET v = " + spec.substr(spec.find('=') + 1));
    std::fflush(nullptr);
    ::_exit(ok ? 0 : 1);
  }
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string path = dir->file("state.db");
  auto first = Database::open(path);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)"));
  auto read = [&] {
    auto q = first->prepare("SELECT v FROM t");
    EXPECT_TRUE(q);
    EXPECT_TRUE(q->step().value_or(false));
    return q->column_int(0);
  };
  EXPECT_EQ(read(), 1);
  auto second = Database::open(path);  // As the daemon opens its next store.
  ASSERT_TRUE(second);
  ASSERT_EQ(write_from_another_process(path, 2), 0);
  EXPECT_EQ(read(), 2);
  auto third = Database::open(path);
  ASSERT_TRUE(third);
  ASSERT_EQ(write_from_another_process(path, 3), 0);
  EXPECT_EQ(read(), 3);
  ASSERT_EQ(write_from_another_process(path, 4), 0);
  EXPECT_EQ(read(), 4);
}

TEST(Database, ErrorsNameTheFile) {
  auto missing = Database::open("/nonexistent-dir/state.db");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent-dir/state.db"), std::string::npos);
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_file_atomic(dir->file("junk.db"), std::string(8192, 'x')));
  auto junk = Database::open(dir->file("junk.db"));
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code, Errc::kCorrupt) << junk.error().message;
}

}  // namespace
}  // namespace gc::store

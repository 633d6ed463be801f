// SPDX-License-Identifier: MIT
#include "store/database.h"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <array>

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

// SPDX-License-Identifier: MIT
// Backups against a real PostgreSQL 15 (started per suite as an unprivileged user) and the real
// stock tools: what groundctl writes must restore with `age -d | zstd -d | pg_restore` alone.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>

#include "backup/manifest.h"
#include "backup/repository.h"
#include "backup/run.h"
#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "crypto/age_keys.h"
#include "crypto/sha256.h"
#include "support/postgres.h"

namespace gc::backup {
namespace {

using testing::PostgresServer;

// Runs `script` with sh; returns stdout, or the failure with stderr.
Result<std::string> sh(const std::string& script, const std::string& dir) {
  std::string out_path = dir + "/sh.out", err_path = dir + "/sh.err";
  GC_ASSIGN_OR_RETURN(UniqueFd out, open_fd(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  GC_ASSIGN_OR_RETURN(UniqueFd err, open_fd(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  SpawnOptions o;
  o.argv = {"/bin/sh", "-ec", script};
  o.env = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"};
  o.stdout_fd = out.get();
  o.stderr_fd = err.get();
  GC_ASSIGN_OR_RETURN(ChildProcess c, ChildProcess::spawn(o));
  GC_ASSIGN_OR_RETURN(ExitStatus st, c.wait());
  if (!st.success()) {
    return tl::unexpected(Error{Errc::kInternal, "sh failed (" + st.to_string() +
                                                     "): " + read_file(err_path).value_or("")});
  }
  return read_file(out_path).value_or("");
}

class BackupPg : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = PostgresServer::start();
    ASSERT_TRUE(pg) << pg.error().message;
    server_ = pg->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    auto dir = TempDir::create("gc-backup-test-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    auto id = crypto::generate_identity();
    ASSERT_TRUE(id);
    identity_file_ = dir_->file("key.txt");
    ASSERT_TRUE(write_file_atomic(
        identity_file_, crypto::format_identity_file(*id, std::chrono::system_clock::now()), 0600));
    options_.repo = dir_->file("repo");
    options_.recipients = {id->recipient()};
    options_.postgres.host = server_->socket_dir();
    options_.postgres.port = server_->port();
    options_.postgres.user = "postgres";
    options_.zstd_workers = 2;
  }

  // A database with realistic content: several schemas, a partitioned table, text, NULLs.
  void make_orbital(const std::string& db, int users = 2000) {
    ASSERT_TRUE(server_->create_database(db));
    auto r = server_->psql(
        db, R"(
      CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL, bio text,
                          created timestamptz DEFAULT now());
      INSERT INTO users (email, bio)
        SELECT 'user' || g || '@example.org', CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text) END
        FROM generate_series(1, )" +
                std::to_string(users) + R"() g;
      CREATE SCHEMA media;
      CREATE TABLE media.files (id bigserial PRIMARY KEY, user_id int REFERENCES users(id),
                                path text, size bigint);
      INSERT INTO media.files (user_id, path, size)
        SELECT 1 + g % LEAST(100, )" +
                std::to_string(users) +
                R"(), '/uploads/' || g || '.jpg', g * 13 FROM generate_series(1, 500) g;
      CREATE TABLE events (id int, at date NOT NULL, kind text) PARTITION BY RANGE (at);
      CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
      INSERT INTO events SELECT g, DATE '2026-06-01' + (g % 400), 'k' || (g % 5)
        FROM generate_series(1, 3000) g;
      CREATE TABLE empty_table (x int);
    )");
    ASSERT_TRUE(r) << r.error().message;
  }

  std::string fingerprint(const std::string& db) {
    auto r = server_->psql(
        db,
        "SELECT (SELECT md5(string_agg(email || coalesce(bio, '-'), ',' ORDER BY id)) "
        "FROM users) || (SELECT count(*) FROM media.files)::text || "
        "(SELECT count(*) FROM events)::text");
    return r ? *r : r.error().message;
  }

  std::string stock_pipeline(const std::string& file) {
    return "age -d -i " + identity_file_ + " " + file + " | zstd -d -q";
  }

  static PostgresServer* server_;
  std::optional<TempDir> dir_;
  std::string identity_file_;
  RunOptions options_;
};

PostgresServer* BackupPg::server_ = nullptr;

TEST_F(BackupPg, ASetRestoresWithStockToolsAlone) {
  make_orbital("orbital");
  std::string media = dir_->file("uploads");
  ASSERT_TRUE(make_directories(media + "/2026/11"));
  ASSERT_TRUE(write_file_atomic(media + "/2026/11/a.jpg", std::string(100000, 'a')));
  ASSERT_TRUE(write_file_atomic(media + "/readme.txt", "hello\n"));
  ASSERT_EQ(::symlink("readme.txt", (media + "/link").c_str()), 0);
  options_.databases = {"orbital"};
  options_.media_paths = {media};

  auto result = run_backup(options_);
  ASSERT_TRUE(result) << result.error().message;
  const Manifest& m = result->manifest;
  EXPECT_EQ(m.verification.result, VerifyResult::kPassed) << m.verification.detail;
  ASSERT_EQ(m.artifacts.size(), 3u);
  EXPECT_EQ(m.artifacts[0].name, "orbital.dump.zst.age");
  EXPECT_EQ(m.artifacts[1].name, "globals.sql.zst.age");
  EXPECT_EQ(m.artifacts[2].name, "media.tar.zst.age");
  EXPECT_EQ(m.postgres_version.substr(0, 3), "15.");
  // Exact counts from the snapshot, leaf partitions counted once.
  std::map<std::string, std::int64_t> counts;
  for (const auto& t : m.artifacts[0].tables) counts[t.schema + "." + t.table] = t.rows;
  EXPECT_EQ(counts["public.users"], 2000);
  EXPECT_EQ(counts["media.files"], 500);
  EXPECT_EQ(counts["public.events_2026"] + counts["public.events_2027"], 3000);
  EXPECT_EQ(counts.count("public.events"), 0u);
  EXPECT_EQ(counts["public.empty_table"], 0);

  // The manifest on disk matches, and every checksum is the file's.
  auto listed = find_local_set(options_.repo, m.id);
  ASSERT_TRUE(listed) << listed.error().message;
  for (const auto& a : listed->manifest->artifacts) {
    auto sum = crypto::sha256_file(result->set_dir + "/" + a.name);
    ASSERT_TRUE(sum);
    EXPECT_EQ(*sum, a.sha256) << a.name;
    struct stat st {};
    ASSERT_EQ(::stat((result->set_dir + "/" + a.name).c_str(), &st), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), a.ciphertext_bytes);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }

  // Stock tools only: restore into a new database and compare content.
  ASSERT_TRUE(server_->create_database("restored"));
  auto restored =
      sh(stock_pipeline(result->set_dir + "/orbital.dump.zst.age") +
             " | pg_restore --no-owner -h " + server_->socket_dir() + " -U postgres -d restored",
         dir_->path());
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(fingerprint("restored"), fingerprint("orbital"));

  auto globals = sh(stock_pipeline(result->set_dir + "/globals.sql.zst.age"), dir_->path());
  ASSERT_TRUE(globals) << globals.error().message;
  EXPECT_NE(globals->find("CREATE ROLE postgres"), std::string::npos);

  std::string out = dir_->file("media-out");
  ASSERT_TRUE(make_directories(out));
  auto untar = sh(stock_pipeline(result->set_dir + "/media.tar.zst.age") + " | tar -x -C " + out,
                  dir_->path());
  ASSERT_TRUE(untar) << untar.error().message;
  std::string restored_media = out + media;  // Names keep the absolute path minus '/'.
  EXPECT_EQ(read_file(restored_media + "/2026/11/a.jpg").value_or(""), std::string(100000, 'a'));
  EXPECT_EQ(read_file(restored_media + "/readme.txt").value_or(""), "hello\n");
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_symlink(restored_media + "/link", ec));

  // No scratch database is left behind.
  EXPECT_EQ(
      server_->psql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'gc_verify%'")
          .value_or("?"),
      "0\n");
}

TEST_F(BackupPg, StreamVerificationCatchesADumpThatDoesNotRestore) {
  ASSERT_TRUE(server_->create_database("fragile"));
  // A real-world restore failure: a CHECK calls a function whose body names a table without its
  // schema. pg_restore runs with an empty search_path, so loading the data fails.
  auto r = server_->psql("fragile", R"(
    CREATE TABLE limits (n int);
    INSERT INTO limits VALUES (100);
    CREATE FUNCTION under_limit(v int) RETURNS boolean LANGUAGE sql
      AS 'SELECT v < (SELECT max(n) FROM limits)';
    CREATE TABLE orders (id int CHECK (under_limit(id)));
    INSERT INTO orders SELECT g FROM generate_series(1, 50) g;
  )");
  ASSERT_TRUE(r) << r.error().message;
  options_.databases = {"fragile"};
  auto result = run_backup(options_);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->manifest.verification.result, VerifyResult::kFailed);
  EXPECT_NE(result->manifest.verification.detail.find("limits"), std::string::npos)
      << result->manifest.verification.detail;
  // The set is kept (the dump itself is complete) and says so.
  auto listed = find_local_set(options_.repo, result->manifest.id);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->manifest->verification.result, VerifyResult::kFailed);
  EXPECT_EQ(
      server_->psql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'gc_verify%'")
          .value_or("?"),
      "0\n");
}

TEST_F(BackupPg, AFailedRunLeavesEarlierSetsAndNoPartialFiles) {
  make_orbital("steady", 100);
  options_.databases = {"steady"};
  auto first = run_backup(options_);
  ASSERT_TRUE(first) << first.error().message;

  // pg_dump dies half way (killed): a wrapper around the real one.
  std::string bindir = dir_->file("bin");
  ASSERT_TRUE(make_directories(bindir));
  std::string real = testing::postgres_bindir();
  ASSERT_TRUE(write_file_atomic(bindir + "/pg_dump",
                                "#!/bin/sh\n[ \"$1\" = --version ] && exec " + real +
                                    "/pg_dump --version\n" + real +
                                    "/pg_dump \"$@\" | head -c 3000\nexit 137\n",
                                0755));
  for (const char* t : {"pg_dumpall", "pg_restore"}) {
    ASSERT_EQ(::symlink((real + "/" + t).c_str(), (bindir + "/" + t).c_str()), 0);
  }
  options_.pg_bindir = bindir;
  auto broken = run_backup(options_);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("pg_dump of steady failed (exit code 137)"),
            std::string::npos)
      << broken.error().message;

  // A database that does not exist: named in the error.
  options_.pg_bindir.clear();
  options_.databases = {"steady", "nonexistent"};
  auto missing = run_backup(options_);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nonexistent"), std::string::npos);

  auto sets = list_local_sets(options_.repo);
  ASSERT_TRUE(sets);
  ASSERT_EQ(sets->size(), 1u);
  EXPECT_EQ(sets->front().id, first->manifest.id);
  for (const auto& e : std::filesystem::directory_iterator(options_.repo)) {
    std::string name = e.path().filename();
    EXPECT_TRUE(name == ".lock" || name == first->manifest.id) << "left behind: " << name;
  }
  for (const auto& a : sets->front().manifest->artifacts) {
    EXPECT_EQ(crypto::sha256_file(sets->front().dir + "/" + a.name).value_or(""), a.sha256);
  }
}

TEST_F(BackupPg, OnlyOneRunAtATime) {
  make_orbital("single", 10);
  options_.databases = {"single"};
  ASSERT_TRUE(make_directories(options_.repo, 0700));
  auto fd = open_fd(options_.repo + "/.lock", O_RDWR | O_CREAT, 0600);
  ASSERT_TRUE(fd);
  ASSERT_EQ(::flock(fd->get(), LOCK_EX | LOCK_NB), 0);
  auto refused = run_backup(options_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kConflict);
  EXPECT_NE(refused.error().message.find("another backup is running"), std::string::npos);
  ::flock(fd->get(), LOCK_UN);
  auto ok = run_backup(options_);
  EXPECT_TRUE(ok) << ok.error().message;
}

}  // namespace
}  // namespace gc::backup

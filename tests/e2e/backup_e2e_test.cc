// SPDX-License-Identifier: MIT
// `groundctl backup ...` end to end: the built binary, a real PostgreSQL 15, the real `age`.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"
#include "support/postgres.h"
#include "support/s3_server.h"

namespace gc::e2e {
namespace {

class BackupCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = gc::testing::PostgresServer::start();
    ASSERT_TRUE(pg) << pg.error().message;
    server_ = pg->release();
    ASSERT_TRUE(server_->create_database("orbital"));
    auto r = server_->psql("orbital", R"(
      CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
      INSERT INTO users (email) SELECT 'u' || g || '@example.org' FROM generate_series(1, 1500) g;
      CREATE TABLE sessions (token text, user_id int);
      INSERT INTO sessions SELECT md5(g::text), g FROM generate_series(1, 700) g;
    )");
    ASSERT_TRUE(r) << r.error().message;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    auto d = TempDir::create("gc-backup-e2e-");
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
    auto key = run({"backup", "keygen", "-o", dir_->file("key.txt")});
    ASSERT_EQ(key.exit_code, 0) << key.err;
    recipient_ = key.out.substr(0, key.out.find('\n'));
    ASSERT_TRUE(make_directories(dir_->file("uploads/a")));
    ASSERT_TRUE(write_file_atomic(dir_->file("uploads/a/photo.jpg"), std::string(50000, 'p')));
    write_config(dir_->file("repo"));
  }

  void write_config(const std::string& repo, const std::string& extra = "") {
    std::string text =
        "[server]\nstate_dir = \"state\"\nlog_dir = \"log\"\nruntime_dir = \"run\"\n"
        "[postgres]\nhost = \"" +
        server_->socket_dir() +
        "\"\ndatabases = [\"orbital\"]\n"
        "[backup]\nrepo = \"" +
        repo + "\"\nrecipients = [\"" + recipient_ + "\"]\npaths = [\"uploads\"]\n" + extra;
    ASSERT_TRUE(write_file_atomic(dir_->file("groundctl.toml"), text));
  }

  CliResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {groundctl_bin(), "-c", dir_->file("groundctl.toml")});
    return run_capture(args, dir_->path());
  }

  static gc::testing::PostgresServer* server_;
  std::optional<TempDir> dir_;
  std::string recipient_;
};

gc::testing::PostgresServer* BackupCli::server_ = nullptr;

TEST_F(BackupCli, KeygenWritesAPrivateIdentityThatAgeReads) {
  struct stat st {};
  ASSERT_EQ(::stat(dir_->file("key.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(recipient_.starts_with("age1")) << recipient_;
  auto again = run({"backup", "keygen", "-o", dir_->file("key.txt")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("never overwritten"), std::string::npos) << again.err;
  // The stock age CLI derives the same recipient from our identity file.
  auto y = run_capture({"/usr/bin/age-keygen", "-y", dir_->file("key.txt")}, dir_->path());
  EXPECT_EQ(y.exit_code, 0) << y.err;
  EXPECT_EQ(y.out, recipient_ + "\n");
}

TEST_F(BackupCli, RunListVerifyRestore) {
  auto backup = run({"backup", "run", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err << backup.out;
  json b = backup.parsed();
  ASSERT_TRUE(b.is_object()) << backup.out;
  EXPECT_EQ(b["ok"], true);
  EXPECT_EQ(b["verification"]["result"], "passed");
  std::string id = b["id"];
  ASSERT_EQ(b["artifacts"].size(), 3u);
  EXPECT_EQ(b["artifacts"][0]["rows"], 2200);

  auto list = run({"backup", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  json sets = list.parsed()["sets"];
  ASSERT_EQ(sets.size(), 1u) << list.out;
  EXPECT_EQ(sets[0]["id"], id);
  EXPECT_EQ(sets[0]["complete"], true);
  EXPECT_EQ(sets[0]["upload"], "none");
  auto human = run({"backup", "list"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("AGE"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find(id + "  local"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("passed"), std::string::npos) << human.out;

  auto drill = run({"backup", "verify", "--identity", dir_->file("key.txt"), "--json"});
  ASSERT_EQ(drill.exit_code, 0) << drill.err << drill.out;
  EXPECT_EQ(drill.parsed()["sets"][0]["drill"]["ok"], true) << drill.out;
  EXPECT_GT(drill.parsed()["sets"][0]["drill"]["restore_seconds"].get<double>(), 0.0);

  auto restore =
      run({"backup", "restore", id, "--identity", dir_->file("key.txt"), "--db", "orbital", "--to",
           "orbital_copy", "--media-to", dir_->file("media-out"), "--json"});
  ASSERT_EQ(restore.exit_code, 0) << restore.err << restore.out;
  EXPECT_EQ(restore.parsed()["databases"][0]["rows_match"], true);
  EXPECT_EQ(server_->psql("orbital_copy", "SELECT count(*) FROM users").value_or("?"), "1500\n");
  std::string photo = dir_->file("media-out") + dir_->file("uploads/a/photo.jpg");
  EXPECT_EQ(read_file(photo).value_or(""), std::string(50000, 'p'));

  // The same target again: refused, the copy untouched.
  auto again = run({"backup", "restore", id, "--identity", dir_->file("key.txt"), "--db", "orbital",
                    "--to", "orbital_copy"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(server_->psql("orbital_copy", "SELECT count(*) FROM users").value_or("?"), "1500\n");
  ASSERT_TRUE(server_->psql("postgres", "DROP DATABASE orbital_copy"));

  // Another key cannot open the set: named, nothing created.
  auto other = run_capture({"/usr/bin/age-keygen", "-o", dir_->file("other.txt")}, dir_->path());
  ASSERT_EQ(other.exit_code, 0);
  auto wrong = run({"backup", "restore", id, "--identity", dir_->file("other.txt"), "--db",
                    "orbital", "--to", "orbital_wrong"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("no identity matches"), std::string::npos) << wrong.err;
  EXPECT_EQ(
      server_->psql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'orbital_wrong'")
          .value_or("?"),
      "0\n");
}

TEST_F(BackupCli, ACorruptedArtifactIsNamed) {
  auto backup = run({"backup", "run", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  std::string id = backup.parsed()["id"];
  std::string victim = dir_->file("repo/" + id + "/orbital.dump.zst.age");
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x5a');
  }
  auto verify = run({"backup", "verify", id});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.out.find("orbital.dump.zst.age does not match its SHA-256"), std::string::npos)
      << verify.out;
  auto restore = run({"backup", "restore", id, "--identity", dir_->file("key.txt"), "--to", "never",
                      "--db", "orbital"});
  EXPECT_EQ(restore.exit_code, 1);
  EXPECT_NE(restore.err.find("orbital.dump.zst.age"), std::string::npos) << restore.err;
  EXPECT_EQ(server_->psql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'never'")
                .value_or("?"),
            "0\n");
}

// ENOSPC: the repository on a 2 MiB tmpfs in a private mount namespace. The first set fits; the
// second, with 6 MiB of incompressible media, does not: it fails, names the disk, and the first
// set stays intact with no partial files.
TEST_F(BackupCli, AFullDiskFailsCleanlyAndKeepsTheLastGoodSet) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private tmpfs";
  std::string repo = dir_->file("small");
  ASSERT_TRUE(make_directories(repo));
  write_config(repo);
  std::string cfg = dir_->file("groundctl.toml");
  std::string gc = groundctl_bin();
  std::string script = "set -e; mount -t tmpfs -o size=2m tmpfs " + repo + "\n" + gc + " -c " +
                       cfg + " backup run --json > " + dir_->file("first.json") + "\n" +
                       "head -c 6000000 /dev/urandom > " + dir_->file("uploads/a/big.bin") + "\n" +
                       "if " + gc + " -c " + cfg + " backup run 2> " + dir_->file("second.err") +
                       "; then echo second-succeeded; fi\n" + gc + " -c " + cfg +
                       " backup verify --all --json > " + dir_->file("verify.json") + "\nls -A " +
                       repo + " > " + dir_->file("ls.txt") + "\n";
  auto r = run_capture({"/usr/bin/unshare", "-m", "/bin/sh", "-c", script}, dir_->path());
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(r.out.find("second-succeeded"), std::string::npos);
  std::string err = read_file(dir_->file("second.err")).value_or("");
  EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
  json first = json::parse(read_file(dir_->file("first.json")).value_or("null"), nullptr, false);
  json verify = json::parse(read_file(dir_->file("verify.json")).value_or("null"), nullptr, false);
  ASSERT_TRUE(first.is_object());
  ASSERT_TRUE(verify.is_object());
  EXPECT_EQ(verify["ok"], true);
  ASSERT_EQ(verify["sets"].size(), 1u);
  EXPECT_EQ(verify["sets"][0]["id"], first["id"]);
  std::string ls = read_file(dir_->file("ls.txt")).value_or("");
  EXPECT_EQ(ls, ".lock\n" + first["id"].get<std::string>() + "\n");
}

// The daemon runs the backup on schedule, as a child process, and reports it in `status`.
TEST_F(BackupCli, TheDaemonRunsScheduledBackups) {
  std::string sections = "[postgres]\nhost = \"" + server_->socket_dir() +
                         "\"\ndatabases = [\"orbital\"]\n[backup]\nrepo = \"" +
                         dir_->file("sched-repo") + "\"\nrecipients = [\"" + recipient_ +
                         "\"]\nschedule = \"* * * * *\"\nverify = \"off\"\n";
  auto daemon = Daemon::start(sections);
  ASSERT_TRUE(daemon);
  json status = daemon->cli({"status", "--json"}).parsed();
  ASSERT_TRUE(status.contains("backup")) << status.dump();
  EXPECT_EQ(status["backup"]["enabled"], true);
  EXPECT_FALSE(status["backup"]["next_run"].get<std::string>().empty());
  // Every minute: the first run starts at the next minute boundary.
  bool done = eventually(
      [&] {
        json s = daemon->cli({"status", "--json"}).parsed();
        return s.contains("backup") && s["backup"]["last_exit"] == "ok";
      },
      std::chrono::seconds(150));
  std::string log = read_file(daemon->dir() + "/log/backup.log").value_or("");
  ASSERT_TRUE(done) << daemon->daemon_log() << log;
  EXPECT_NE(log.find("\"verification\""), std::string::npos) << log;
  auto sets = run_capture(
      {groundctl_bin(), "-c", daemon->config_path(), "backup", "list", "--json"}, daemon->dir());
  ASSERT_EQ(sets.exit_code, 0) << sets.err;
  ASSERT_GE(sets.parsed()["sets"].size(), 1u);
  EXPECT_NE(daemon->daemon_log().find("scheduled backup finished"), std::string::npos);
  // The outcome as monitoring reads it from the daemon.
  json b = daemon->cli({"status", "--json"}).parsed()["backup"];
  EXPECT_EQ(b["last_success"]["set_id"], sets.parsed()["sets"][0]["id"]) << b.dump();
  EXPECT_EQ(b["last_run"]["ok"], true);
  EXPECT_EQ(b["last_set"]["verify_result"], "not_run");
  EXPECT_EQ(b["last_set"]["upload"], "none");
}

// verify = "stream" needs room for a scratch copy of the database on the server's disk: a
// PostgreSQL whose data directory is on a small tmpfs (own mount namespace) is refused up front,
// with the fix in the message, and no set is written.
TEST_F(BackupCli, StreamVerificationRefusesWhenTheServerDiskIsTooSmall) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private tmpfs";
  std::string bin = gc::testing::postgres_bindir();
  std::string disk = dir_->file("pgdisk"), sock = dir_->file("pgdisk/run");
  ASSERT_TRUE(make_directories(disk));
  std::string as_nobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";
  std::string cfg = dir_->file("small.toml");
  ASSERT_TRUE(write_file_atomic(
      cfg,
      "[server]\nstate_dir = \"state\"\nlog_dir = \"log\"\nruntime_dir = \"run\"\n"
      "[postgres]\nhost = \"" +
          sock + "\"\ndatabases = [\"big\"]\n[backup]\nrepo = \"" + dir_->file("repo") +
          "\"\nrecipients = [\"" + recipient_ + "\"]\n"));
  std::string script =
      "set -e; chmod 755 " + dir_->path() + "\nmount -t tmpfs -o size=160m tmpfs " + disk +
      "\nmkdir " + sock + " && chown nobody " + disk + " " + sock + "\n" + as_nobody + bin +
      "/initdb -D " + disk + "/data -U postgres -A trust --no-sync > /dev/null\n" + as_nobody +
      bin + "/postgres -D " + disk + "/data -k " + sock +
      " -c listen_addresses= -c wal_level=minimal -c max_wal_senders=0 -c fsync=off"
      " > " +
      dir_->file("pg.log") +
      " 2>&1 &\nPG=$!\n"
      "for i in $(seq 100); do psql -h " +
      sock +
      " -U postgres -c 'select 1' postgres >/dev/null "
      "2>&1 && break; sleep 0.1; done\n"
      "psql -q -h " +
      sock +
      " -U postgres -c 'CREATE DATABASE big' postgres\n"
      "psql -q -h " +
      sock +
      " -U postgres -c \"BEGIN; CREATE TABLE t AS SELECT g, md5(g::text) "
      "|| md5((g+1)::text) AS v FROM generate_series(1, 300000) g; COMMIT;\" big\n"
      "if " +
      groundctl_bin() + " -c " + cfg + " backup run 2> " + dir_->file("refused.err") +
      "; then echo backup-ran; fi\nls -A " + dir_->file("repo") + " > " + dir_->file("ls.txt") +
      "\nkill -INT $PG; wait $PG || true\n";
  auto r =
      run_capture({"/usr/bin/unshare", "-m", "/bin/sh", "-c", script}, dir_->path(), {"PGTZ=UTC"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out << read_file(dir_->file("pg.log")).value_or("");
  EXPECT_EQ(r.out.find("backup-ran"), std::string::npos);
  std::string err = read_file(dir_->file("refused.err")).value_or("");
  EXPECT_NE(err.find("not enough free disk for the verification copy"), std::string::npos) << err;
  EXPECT_NE(err.find("verify = \"off\""), std::string::npos) << err;
  EXPECT_EQ(read_file(dir_->file("ls.txt")).value_or("?"), ".lock\n");
}

// docs/runbooks/restore.md's stock-tools block, run exactly as written.
TEST_F(BackupCli, RunbookStockRestoreWorksAsWritten) {
  auto doc = read_file(fixture_dir() + "/../../../docs/runbooks/restore.md");
  ASSERT_TRUE(doc) << doc.error().message;
  const std::string begin = "<!-- runbook-test: stock-restore -->", end = "<!-- /runbook-test -->";
  auto b = doc->find(begin), e = doc->find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  std::string block = doc->substr(b + begin.size(), e - b - begin.size());
  auto fence = block.find("```sh\n");
  ASSERT_NE(fence, std::string::npos);
  block = block.substr(fence + 6, block.rfind("```") - fence - 6);

  auto backup = run({"backup", "run", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  std::string set = dir_->file("repo/" + backup.parsed()["id"].get<std::string>());
  ASSERT_TRUE(make_directories(dir_->file("restore")));
  auto r = run_capture(
      {"/bin/sh", "-ec", block}, dir_->path(),
      {"KEY=" + dir_->file("key.txt"), "SET=" + set, "DB=orbital", "NEW=runbook_db",
       "OUT=" + dir_->file("restore"), "PGHOST=" + server_->socket_dir(), "PGUSER=postgres"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("orbital.dump.zst.age"), std::string::npos) << r.out;
  EXPECT_EQ(server_->psql("runbook_db", "SELECT count(*) FROM users").value_or("?"), "1500\n");
  EXPECT_EQ(read_file(dir_->file("restore/media") + dir_->file("uploads/a/photo.jpg")).value_or(""),
            std::string(50000, 'p'));
  EXPECT_NE(read_file(dir_->file("restore/globals.sql")).value_or("").find("CREATE ROLE"),
            std::string::npos);
  ASSERT_TRUE(server_->psql("postgres", "DROP DATABASE runbook_db"));
}

// The offsite copy on a real S3 server (s3rver checking SigV4): uploads, a dead endpoint that
// leaves the upload pending and a later run that catches up, corruption found offsite, prune on
// both sides, and a restore on a server that lost its local repository.
TEST_F(BackupCli, OffsiteCopyOnS3) {
  auto s3 = gc::storage::testing::S3Server::start({"orbital-backups"});
  ASSERT_TRUE(s3) << s3.error().message;
  ASSERT_TRUE(write_file_atomic(dir_->file("s3.credentials"),
                                "[default]\naws_access_key_id = S3RVER\n"
                                "aws_secret_access_key = S3RVER\n",
                                0600));
  auto s3_section = [&](const std::string& endpoint) {
    return "retention = { daily = 1, weekly = 0, monthly = 0 }\n[backup.s3]\nendpoint = \"" +
           endpoint +
           "\"\nregion = \"us-east-1\"\nbucket = \"orbital-backups\"\nprefix = \"prod-1/\"\n"
           "credentials_file = \"s3.credentials\"\n";
  };
  write_config(dir_->file("repo"), s3_section(s3->endpoint()));
  auto first = run({"backup", "run", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  EXPECT_EQ(first.parsed()["upload"], "uploaded");
  std::string id1 = first.parsed()["id"];
  auto manifest_object = s3->object_file("orbital-backups", "prod-1/" + id1 + "/manifest.json");
  EXPECT_TRUE(read_file(manifest_object).has_value()) << manifest_object;

  // The endpoint is down: the local set completes, its upload waits.
  write_config(dir_->file("repo"), s3_section("http://127.0.0.1:1"));
  auto down = run({"backup", "run", "--json"});
  EXPECT_EQ(down.exit_code, 1) << down.err;
  EXPECT_NE(down.err.find("complete locally, but its offsite copy is pending"), std::string::npos)
      << down.err;
  std::string id2 = down.parsed()["id"];
  EXPECT_EQ(down.parsed()["upload"], "pending");
  EXPECT_EQ(down.parsed()["complete"], true);

  // Back up again: the next run uploads both.
  write_config(dir_->file("repo"), s3_section(s3->endpoint()));
  auto third = run({"backup", "run", "--json"});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  std::string id3 = third.parsed()["id"];
  auto list = run({"backup", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  json sets = list.parsed()["sets"];
  ASSERT_EQ(sets.size(), 3u) << list.out;
  for (const auto& s : sets) {
    EXPECT_EQ(s["offsite"], true) << s.dump();
    EXPECT_EQ(s["upload"], "uploaded") << s.dump();
  }

  // One flipped byte offsite is found and named.
  std::string object =
      s3->object_file("orbital-backups", "prod-1/" + id2 + "/orbital.dump.zst.age");
  auto bytes = read_file(object);
  ASSERT_TRUE(bytes);
  std::string flipped = *bytes;
  flipped[flipped.size() / 2] ^= 0x01;
  ASSERT_TRUE(write_file_atomic(object, flipped));
  auto verify = run({"backup", "verify", "--all", "--json"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.out.find(id2 + "/orbital.dump.zst.age"), std::string::npos) << verify.out;

  // Retention keeps one set a day: the newest. Dry run first: nothing goes.
  auto dry = run({"backup", "prune", "--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(run({"backup", "list", "--json"}).parsed()["sets"].size(), 3u);
  auto prune = run({"backup", "prune", "--json"});
  ASSERT_EQ(prune.exit_code, 0) << prune.err << prune.out;
  json after = run({"backup", "list", "--json"}).parsed()["sets"];
  ASSERT_EQ(after.size(), 1u) << after.dump();
  EXPECT_EQ(after[0]["id"], id3);
  EXPECT_EQ(after[0]["offsite"], true);

  // The server loses its repository: restore straight from the offsite copy.
  std::error_code ec;
  std::filesystem::remove_all(dir_->file("repo"), ec);
  auto restore = run({"backup", "restore", id3, "--identity", dir_->file("key.txt"), "--db",
                      "orbital", "--to", "from_offsite", "--json"});
  ASSERT_EQ(restore.exit_code, 0) << restore.err << restore.out;
  EXPECT_EQ(restore.parsed()["databases"][0]["rows_match"], true);
  EXPECT_EQ(server_->psql("from_offsite", "SELECT count(*) FROM sessions").value_or("?"), "700\n");
  ASSERT_TRUE(server_->psql("postgres", "DROP DATABASE from_offsite"));
}

}  // namespace
}  // namespace gc::e2e

// SPDX-License-Identifier: MIT
// The [postgres] and [backup] sections of the loader.
#include <gtest/gtest.h>

#include <string>

#include "config/diff.h"
#include "config/loader.h"

namespace gc::config {
namespace {

constexpr const char* kPath = "/etc/groundctl/groundctl.toml";
// Two real age X25519 recipients (public keys from age-keygen).
constexpr const char* kR1 = "age1qdlc6lmyz8cstd39kyh9dmynvl60zzwdmva4rw5amzhnf4vxw3yq3068rc";
constexpr const char* kR2 = "age1deh5dp6j3fg7se8nw5v82nhtu67ctah64wzm4q2pu7d4rpmyaceqmcmhvv";

LoadOutcome load(const std::string& text) { return load_config_from_string(text, kPath); }

std::string dump(const LoadOutcome& outcome) {
  std::string out;
  for (const auto& d : outcome.diagnostics) out += d.to_string() + "\n";
  return out;
}

// Exactly one diagnostic, at line:column, whose message contains `fragment`.
::testing::AssertionResult HasOneError(const std::string& text, int line, int column,
                                       const std::string& fragment) {
  LoadOutcome outcome = load(text);
  if (outcome.diagnostics.size() != 1) {
    return ::testing::AssertionFailure()
           << "expected 1 diagnostic, got " << outcome.diagnostics.size() << ":\n"
           << dump(outcome);
  }
  const Diagnostic& d = outcome.diagnostics[0];
  if (d.line != line || d.column != column || d.message.find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure() << "expected " << line << ":" << column << " with \""
                                         << fragment << "\", got " << d.to_string();
  }
  if (outcome.config) return ::testing::AssertionFailure() << "config set despite an error";
  return ::testing::AssertionSuccess();
}

// [postgres] on lines 1-2; tests append keys after it.
const std::string kPostgres = "[postgres]\ndatabases = [\"orbital\"]\n";
// A valid [backup] on lines 1-3; tests append keys on line 4 and after.
const std::string kBackup =
    "[backup]\nrepo = \"/var/backups/groundctl\"\nrecipients = [\"" + std::string(kR1) + "\"]\n";
// kBackup after kPostgres: the appended keys start on line 6.
const std::string kBoth = kPostgres + kBackup;

TEST(BackupConfig, LoadsTheIssueExample) {
  std::string text = R"([postgres]
host = "/var/run/postgresql"      # socket dir or host name
port = 5432
user = "postgres"                 # role for dumps; peer auth, or password_file (0600)
databases = ["orbital"]
# password_file = "/etc/groundctl/pg.password"

[backup]
repo = "/var/backups/groundctl"   # local repository, always written first
recipients = ["R1", "R2"]         # age public keys; the server needs no private key to back up
schedule = "03:15"                # daily at local time, or a 5-field cron expression
paths = ["/home/orbital/apps/orbital/shared/uploads"]   # media, archived as tar
retention = { daily = 7, weekly = 4, monthly = 6 }
verify = "stream"                 # "stream" | "off"
[backup.s3]                       # offsite copy, optional
endpoint = "https://nyc3.digitaloceanspaces.com"
region = "nyc3"
bucket = "orbital-backups"
prefix = "prod-1/"
credentials_file = "/etc/groundctl/s3.credentials"   # access key + secret, 0600
)";
  text.replace(text.find("R1"), 2, kR1);
  text.replace(text.find("R2"), 2, kR2);
  LoadOutcome outcome = load(text);
  ASSERT_TRUE(outcome.config) << dump(outcome);
  const Config& c = *outcome.config;
  ASSERT_TRUE(c.postgres);
  EXPECT_EQ(c.postgres->host, "/var/run/postgresql");
  EXPECT_EQ(c.postgres->port, 5432);
  EXPECT_EQ(c.postgres->user, "postgres");
  EXPECT_EQ(c.postgres->databases, std::vector<std::string>{"orbital"});
  EXPECT_EQ(c.postgres->password_file, "");
  ASSERT_TRUE(c.backup);
  const BackupConfig& b = *c.backup;
  EXPECT_EQ(b.repo, "/var/backups/groundctl");
  EXPECT_EQ(b.recipients, (std::vector<std::string>{kR1, kR2}));
  EXPECT_EQ(b.schedule, daily_schedule(3, 15));
  EXPECT_EQ(b.paths, std::vector<std::string>{"/home/orbital/apps/orbital/shared/uploads"});
  EXPECT_EQ(b.retention, (RetentionConfig{7, 4, 6}));
  EXPECT_EQ(b.verify, VerifyMode::kStream);
  ASSERT_TRUE(b.s3);
  EXPECT_EQ(b.s3->endpoint, "https://nyc3.digitaloceanspaces.com");
  EXPECT_EQ(b.s3->region, "nyc3");
  EXPECT_EQ(b.s3->bucket, "orbital-backups");
  EXPECT_EQ(b.s3->prefix, "prod-1/");
  EXPECT_EQ(b.s3->credentials_file, "/etc/groundctl/s3.credentials");
}

TEST(BackupConfig, AppliesDefaults) {
  LoadOutcome outcome = load(kBoth);
  ASSERT_TRUE(outcome.config) << dump(outcome);
  const Config& c = *outcome.config;
  PostgresConfig pg;
  pg.databases = {"orbital"};
  EXPECT_EQ(c.postgres, pg);
  ASSERT_TRUE(c.backup);
  EXPECT_EQ(c.backup->schedule.text, "03:15");
  EXPECT_EQ(c.backup->schedule, daily_schedule(3, 15));
  EXPECT_EQ(c.backup->retention, (RetentionConfig{7, 4, 6}));
  EXPECT_EQ(c.backup->verify, VerifyMode::kStream);
  EXPECT_TRUE(c.backup->paths.empty());
  EXPECT_FALSE(c.backup->s3);
  // Neither section: neither is set.
  LoadOutcome none = load("");
  ASSERT_TRUE(none.config);
  EXPECT_FALSE(none.config->postgres);
  EXPECT_FALSE(none.config->backup);
}

TEST(BackupConfig, AcceptsPostgresAloneAndMediaOnlyBackups) {
  LoadOutcome pg_only = load(kPostgres);
  ASSERT_TRUE(pg_only.config) << dump(pg_only);
  EXPECT_FALSE(pg_only.config->backup);
  LoadOutcome media = load(kBackup + "paths = [\"/srv/media\"]\n");
  ASSERT_TRUE(media.config) << dump(media);
  EXPECT_FALSE(media.config->postgres);
  EXPECT_EQ(media.config->backup->paths, std::vector<std::string>{"/srv/media"});
}

TEST(BackupConfig, RefusesABackupOfNothing) {
  EXPECT_TRUE(HasOneError(kBackup, 1, 1,
                          "backup: nothing to back up: add [postgres] with databases, or "
                          "backup.paths"));
  EXPECT_TRUE(HasOneError(kBackup + "paths = []\n", 1, 1, "nothing to back up"));
}

TEST(BackupConfig, ReportsUnknownKeysWithSuggestions) {
  EXPECT_TRUE(HasOneError(kPostgres + "prot = 5432\n", 3, 1,
                          "unknown key \"prot\" in [postgres] (did you mean \"port\"?)"));
  EXPECT_TRUE(HasOneError(kBoth + "schedul = \"04:00\"\n", 6, 1,
                          "unknown key \"schedul\" in [backup] (did you mean \"schedule\"?)"));
  EXPECT_TRUE(HasOneError(kBoth + "retention = { dialy = 3 }\n", 6, 15,
                          "unknown key \"dialy\" in backup.retention (did you mean \"daily\"?)"));
  EXPECT_TRUE(HasOneError(kBoth + "[backup.s3]\nendpoint = \"https://s3.example.com\"\n"
                                  "region = \"r\"\nbucket = \"bkt\"\ncredentials_file = \"c\"\n"
                                  "prefx = \"p/\"\n",
                          11, 1,
                          "unknown key \"prefx\" in [backup.s3] (did you mean \"prefix\"?)"));
  // The sections are no longer reserved: anything unknown in them is an error.
  EXPECT_TRUE(HasOneError(kPostgres + "anything = 1\n", 3, 1, "unknown key \"anything\""));
}

TEST(BackupConfig, ReportsWrongTypes) {
  EXPECT_TRUE(HasOneError("postgres = 1\n", 1, 12, "postgres: expected a table ([postgres])"));
  EXPECT_TRUE(HasOneError("backup = \"x\"\n", 1, 10, "backup: expected a table ([backup])"));
  EXPECT_TRUE(HasOneError(kPostgres + "port = \"5432\"\n", 3, 8,
                          "postgres.port: expected an integer (1..65535), got string"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = \"orbital\"\n", 2, 13,
                          "postgres.databases: expected an array of strings"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"a\", 2]\n", 2, 19,
                          "postgres.databases: expected a string, got integer"));
  EXPECT_TRUE(HasOneError(kBoth + "schedule = 315\n", 6, 12,
                          "backup.schedule: expected a string, got integer"));
  EXPECT_TRUE(HasOneError(kBoth + "retention = 7\n", 6, 13, "backup.retention: expected a table"));
  EXPECT_TRUE(HasOneError(kBoth + "retention = { daily = \"7\" }\n", 6, 23,
                          "backup.retention.daily: expected an integer (0..10000), got string"));
  EXPECT_TRUE(HasOneError(kBoth + "verify = true\n", 6, 10,
                          "backup.verify: expected a string, got boolean"));
  EXPECT_TRUE(HasOneError(kBoth + "s3 = \"x\"\n", 6, 6, "backup.s3: expected a table"));
  EXPECT_TRUE(HasOneError(kBoth + "paths = \"/srv\"\n", 6, 9,
                          "backup.paths: expected an array of strings"));
}

TEST(BackupConfig, ChecksPostgresPortHostAndUser) {
  EXPECT_TRUE(
      HasOneError(kPostgres + "port = 0\n", 3, 8, "postgres.port: must be 1..65535, got 0"));
  EXPECT_TRUE(HasOneError(kPostgres + "port = 65536\n", 3, 8, "must be 1..65535, got 65536"));
  EXPECT_TRUE(
      HasOneError(kPostgres + "host = \"\"\n", 3, 8, "postgres.host: expected a socket directory"));
  EXPECT_TRUE(HasOneError(kPostgres + "host = \"run/postgresql\"\n", 3, 8,
                          "an absolute path such as \"/var/run/postgresql\""));
  EXPECT_TRUE(HasOneError(kPostgres + "host = \"db_1.internal\"\n", 3, 8, "expected a socket"));
  EXPECT_TRUE(HasOneError(kPostgres + "user = \"\"\n", 3, 8,
                          "postgres.user: must be a role name of 1 to 63 printable characters"));
  for (const char* host : {"db.internal", "localhost", "127.0.0.1", "::1"}) {
    LoadOutcome outcome = load(kPostgres + "host = \"" + host + "\"\n");
    ASSERT_TRUE(outcome.config) << host << dump(outcome);
    EXPECT_EQ(outcome.config->postgres->host, host);
  }
  LoadOutcome socket = load(kPostgres + "host = \"/run/postgresql/\"\nuser = \"backup-role\"\n");
  ASSERT_TRUE(socket.config) << dump(socket);
  EXPECT_EQ(socket.config->postgres->host, "/run/postgresql");
  EXPECT_EQ(socket.config->postgres->user, "backup-role");
}

TEST(BackupConfig, ChecksDatabaseNames) {
  EXPECT_TRUE(HasOneError("[postgres]\nport = 5432\n", 1, 1,
                          "missing required key \"postgres.databases\" (e.g. databases = "
                          "[\"orbital\"])"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = []\n", 2, 13,
                          "postgres.databases: must name at least one database"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"orbital-prod\"]\n", 2, 14,
                          "postgres.databases: \"orbital-prod\" is not a plain identifier: use 1 "
                          "to 63 letters, digits and \"_\", not starting with a digit"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"a\", \"1db\"]\n", 2, 19,
                          "\"1db\" is not a plain identifier"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"" + std::string(64, 'a') + "\"]\n", 2, 14,
                          "is not a plain identifier"));
  EXPECT_TRUE(
      HasOneError("[postgres]\ndatabases = [\"x; drop\"]\n", 2, 14, "is not a plain identifier"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"app\", \"app\"]\n", 2, 21,
                          "postgres.databases: \"app\" is listed twice (first on line 2)"));
  LoadOutcome ok =
      load("[postgres]\ndatabases = [\"_a\", \"Orbital_2\", \"" + std::string(63, 'z') + "\"]\n");
  ASSERT_TRUE(ok.config) << dump(ok);
  EXPECT_EQ(ok.config->postgres->databases.size(), 3u);
}

TEST(BackupConfig, ChecksRecipients) {
  const std::string head = kPostgres + "[backup]\nrepo = \"/var/backups/gc\"\n";  // Lines 1-4.
  auto with = [&](const std::string& list) { return head + "recipients = " + list + "\n"; };
  EXPECT_TRUE(HasOneError(head, 3, 1,
                          "missing required key \"backup.recipients\" (e.g. recipients = "
                          "[\"age1...\"])"));
  EXPECT_TRUE(
      HasOneError(with("[]"), 5, 14, "backup.recipients: must hold at least one age public key"));
  EXPECT_TRUE(HasOneError(with("\"" + std::string(kR1) + "\""), 5, 14,
                          "backup.recipients: expected an array of strings"));
  const std::string shape =
      "backup.recipients: not an age X25519 recipient: expected \"age1\" followed by 58 "
      "lowercase letters and digits";
  std::string r1(kR1);
  EXPECT_TRUE(HasOneError(with("[\"" + r1.substr(0, 61) + "\"]"), 5, 15, shape));
  EXPECT_TRUE(HasOneError(with("[\"" + r1 + "q\"]"), 5, 15, shape));
  EXPECT_TRUE(HasOneError(with("[\"agex" + r1.substr(4) + "\"]"), 5, 15, shape));
  EXPECT_TRUE(HasOneError(with("[\"" + r1.substr(0, 10) + "b" + r1.substr(11) + "\"]"), 5, 15,
                          "(as printed by age-keygen); \"b\" is not in the bech32 alphabet"));
  std::string upper = r1;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(HasOneError(with("[\"" + upper + "\"]"), 5, 15, "write the recipient in lowercase"));
  EXPECT_TRUE(HasOneError(with("[\"ssh-ed25519 AAAAC3Nza user@host\"]"), 5, 15,
                          "SSH keys are not supported as recipients"));
  EXPECT_TRUE(HasOneError(with("[\"" + r1 + "\", \"" + r1 + "\"]"), 5, 81,
                          "backup.recipients: duplicate recipient (first on line 5)"));
  EXPECT_TRUE(load(with("[\"" + r1 + "\", \"" + kR2 + "\"]")).config);
}

TEST(BackupConfig, NeverEchoesAPrivateKeyGivenAsARecipient) {
  const std::string secret =
      "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
      "QQQQQQQQQQQ";
  LoadOutcome outcome =
      load(kPostgres + "[backup]\nrepo = \"/r\"\nrecipients = [\"" + secret + "\"]\n");
  ASSERT_EQ(outcome.diagnostics.size(), 1u) << dump(outcome);
  EXPECT_EQ(outcome.diagnostics[0].line, 5);
  EXPECT_NE(outcome.diagnostics[0].message.find("this is an age private key, not a recipient"),
            std::string::npos);
  EXPECT_EQ(outcome.diagnostics[0].message.find("QQQQ"), std::string::npos);
}

TEST(BackupConfig, ParsesTheSchedule) {
  LoadOutcome cron = load(kBoth + "schedule = \"30 2 * * mon-fri\"\n");
  ASSERT_TRUE(cron.config) << dump(cron);
  EXPECT_EQ(cron.config->backup->schedule.text, "30 2 * * mon-fri");
  EXPECT_EQ(cron.config->backup->schedule.days_of_week, 0x3e);
  EXPECT_EQ(load(kBoth + "schedule = \"04:45\"\n").config->backup->schedule, daily_schedule(4, 45));
  EXPECT_TRUE(HasOneError(kBoth + "schedule = \"25:00\"\n", 6, 12,
                          "backup.schedule: invalid schedule \"25:00\": the hour must be 0..23"));
  EXPECT_TRUE(HasOneError(kBoth + "schedule = \"0 3 * *\"\n", 6, 12,
                          "backup.schedule: invalid schedule \"0 3 * *\": expected 5 fields"));
  EXPECT_TRUE(HasOneError(kBoth + "schedule = \"0 3 30 feb *\"\n", 6, 12, "never fires"));
}

TEST(BackupConfig, ChecksRetention) {
  LoadOutcome partial = load(kBoth + "retention = { daily = 14 }\n");
  ASSERT_TRUE(partial.config) << dump(partial);
  EXPECT_EQ(partial.config->backup->retention, (RetentionConfig{14, 4, 6}));
  LoadOutcome section = load(kBoth + "[backup.retention]\ndaily = 0\nweekly = 0\nmonthly = 12\n");
  ASSERT_TRUE(section.config) << dump(section);
  EXPECT_EQ(section.config->backup->retention, (RetentionConfig{0, 0, 12}));
  EXPECT_TRUE(HasOneError(kBoth + "retention = { weekly = -1 }\n", 6, 24,
                          "backup.retention.weekly: must be 0..10000, got -1"));
  EXPECT_TRUE(HasOneError(kBoth + "retention = { daily = 0, weekly = 0, monthly = 0 }\n", 6, 13,
                          "backup.retention: keeps nothing: set at least one of daily, weekly, "
                          "monthly above 0"));
}

TEST(BackupConfig, ChecksVerify) {
  LoadOutcome off = load(kBoth + "verify = \"off\"\n");
  ASSERT_TRUE(off.config) << dump(off);
  EXPECT_EQ(off.config->backup->verify, VerifyMode::kOff);
  EXPECT_TRUE(HasOneError(kBoth + "verify = \"restore\"\n", 6, 10,
                          "backup.verify: expected \"stream\" or \"off\", got \"restore\""));
}

TEST(BackupConfig, RequiresTheRepository) {
  EXPECT_TRUE(HasOneError(kPostgres + "[backup]\nrecipients = [\"" + kR1 + "\"]\n", 3, 1,
                          "missing required key \"backup.repo\" (e.g. repo = "
                          "\"/var/backups/groundctl\")"));
  EXPECT_TRUE(HasOneError(kPostgres + "[backup]\nrepo = \"\"\nrecipients = [\"" + kR1 + "\"]\n", 4,
                          8, "backup.repo: must not be empty"));
}

TEST(BackupConfig, ResolvesRelativePathsAgainstTheConfigDirectory) {
  std::string text = R"([postgres]
databases = ["orbital"]
password_file = "pg.password"
[backup]
repo = "../backups/"
recipients = ["R1"]
paths = ["media", "/srv/app/./uploads"]
[backup.s3]
endpoint = "https://s3.example.com"
region = "us-east-1"
bucket = "b.example"
credentials_file = "secrets/s3.credentials"
)";
  text.replace(text.find("R1"), 2, kR1);
  LoadOutcome outcome = load(text);
  ASSERT_TRUE(outcome.config) << dump(outcome);
  const Config& c = *outcome.config;
  // None of these files exists: they are resolved, never read.
  EXPECT_EQ(c.postgres->password_file, "/etc/groundctl/pg.password");
  EXPECT_EQ(c.backup->repo, "/etc/backups");
  EXPECT_EQ(c.backup->paths,
            (std::vector<std::string>{"/etc/groundctl/media", "/srv/app/uploads"}));
  EXPECT_EQ(c.backup->s3->credentials_file, "/etc/groundctl/secrets/s3.credentials");
  EXPECT_EQ(c.backup->s3->prefix, "");
}

TEST(BackupConfig, ChecksMediaPaths) {
  EXPECT_TRUE(HasOneError(kBoth + "paths = [\"/srv/a\", \"/srv/b\", \"/srv/a/\"]\n", 6, 30,
                          "backup.paths: \"/srv/a\" is listed twice (first on line 6)"));
  EXPECT_TRUE(
      HasOneError(kBoth + "paths = [\"\"]\n", 6, 10, "backup.paths: must not hold an empty path"));
  EXPECT_TRUE(HasOneError(kBoth + "paths = [\"~/media\"]\n", 6, 10, "\"~\" is not expanded"));
  EXPECT_TRUE(HasOneError(kBoth + "paths = [\"/var/backups\"]\n", 6, 10,
                          "backup.paths: \"/var/backups\" contains the repository "
                          "\"/var/backups/groundctl\": each archive would include the earlier "
                          "backups"));
  EXPECT_TRUE(HasOneError(kBoth + "paths = [\"/\"]\n", 6, 10, "contains the repository"));
  EXPECT_TRUE(HasOneError(kBoth + "paths = [\"/var/backups/groundctl/x\"]\n", 6, 10,
                          "\"/var/backups/groundctl/x\" is inside the repository"));
  EXPECT_TRUE(load(kBoth + "paths = [\"/var/backups/groundctl2\"]\n").config);
}

// [backup.s3] with every required key on lines 6-10; tests replace or append lines.
std::string s3_with(const std::string& endpoint, const std::string& bucket,
                    const std::string& extra = "") {
  return kBoth + "[backup.s3]\nendpoint = \"" + endpoint + "\"\nregion = \"nyc3\"\nbucket = \"" +
         bucket + "\"\ncredentials_file = \"/etc/groundctl/s3.credentials\"\n" + extra;
}

TEST(BackupConfig, RequiresTheS3Keys) {
  LoadOutcome outcome = load(kBoth + "[backup.s3]\nprefix = \"p/\"\n");
  ASSERT_EQ(outcome.diagnostics.size(), 4u) << dump(outcome);
  for (const auto& d : outcome.diagnostics) {
    EXPECT_EQ(d.line, 6);
    EXPECT_EQ(d.column, 1);
  }
  EXPECT_NE(outcome.diagnostics[0].message.find(
                "missing required key \"backup.s3.endpoint\" (e.g. endpoint = "
                "\"https://nyc3.digitaloceanspaces.com\")"),
            std::string::npos);
  EXPECT_NE(outcome.diagnostics[3].message.find("\"backup.s3.credentials_file\""),
            std::string::npos);
  LoadOutcome ok = load(s3_with("http://127.0.0.1:4568", "test-bucket"));
  ASSERT_TRUE(ok.config) << dump(ok);
  EXPECT_EQ(ok.config->backup->s3->endpoint, "http://127.0.0.1:4568");
}

TEST(BackupConfig, ChecksTheS3Endpoint) {
  const std::string shape = "backup.s3.endpoint: expected an http(s) URL such as";
  EXPECT_TRUE(HasOneError(s3_with("nyc3.digitaloceanspaces.com", "b-1"), 7, 12, shape));
  EXPECT_TRUE(HasOneError(s3_with("ftp://s3.example.com", "b-1"), 7, 12, shape));
  EXPECT_TRUE(HasOneError(s3_with("https://", "b-1"), 7, 12, "missing host"));
  EXPECT_TRUE(
      HasOneError(s3_with("https://s3.example.com:0", "b-1"), 7, 12, "the port must be 1..65535"));
  EXPECT_TRUE(
      HasOneError(s3_with("https://s3.example.com:", "b-1"), 7, 12, "the port must be 1..65535"));
  EXPECT_TRUE(HasOneError(s3_with("https://s3 example.com", "b-1"), 7, 12, "invalid host"));
  EXPECT_TRUE(HasOneError(s3_with("https://s3.example.com/?x=1", "b-1"), 7, 12,
                          "must not have a query or fragment"));
  EXPECT_TRUE(HasOneError(s3_with("http://[::1:9000", "b-1"), 7, 12, "missing \"]\""));
  for (const char* ok : {"https://s3.example.com:8443/", "http://[::1]:9000", "http://localhost"}) {
    LoadOutcome outcome = load(s3_with(ok, "b-1"));
    EXPECT_TRUE(outcome.config) << ok << dump(outcome);
  }
}

TEST(BackupConfig, NeverEchoesCredentialsInTheEndpoint) {
  LoadOutcome outcome = load(s3_with("https://AKIAEXAMPLE:s3cr3t@s3.example.com", "b-1"));
  ASSERT_EQ(outcome.diagnostics.size(), 1u) << dump(outcome);
  EXPECT_EQ(outcome.diagnostics[0].to_string(),
            std::string(kPath) +
                ":7:12: backup.s3.endpoint: must not hold credentials: put them in "
                "backup.s3.credentials_file");
}

TEST(BackupConfig, ChecksBucketNames) {
  const std::string rule = "backup.s3.bucket: must be 3 to 63 lowercase letters, digits";
  for (const std::string& bad :
       std::vector<std::string>{"ab", std::string(64, 'a'), "Orbital", "orbital_backups",
                                "-orbital", "orbital.", "a b c"}) {
    EXPECT_TRUE(HasOneError(s3_with("https://s3.example.com", bad), 9, 10, rule)) << bad;
  }
  EXPECT_TRUE(HasOneError(s3_with("https://s3.example.com", "a..b"), 9, 10,
                          "backup.s3.bucket: must not contain \"..\""));
  EXPECT_TRUE(HasOneError(s3_with("https://s3.example.com", "192.168.1.1"), 9, 10,
                          "must not look like an IP address"));
  for (const std::string& ok :
       std::vector<std::string>{"abc", std::string(63, 'a'), "orbital-backups", "a.b-c.9"}) {
    EXPECT_TRUE(load(s3_with("https://s3.example.com", ok)).config) << ok;
  }
}

TEST(BackupConfig, ChecksPrefixAndRegion) {
  EXPECT_TRUE(HasOneError(s3_with("https://s3.example.com", "b-1", "prefix = \"/prod/\"\n"), 11, 10,
                          "backup.s3.prefix: must not start with \"/\""));
  EXPECT_TRUE(HasOneError(s3_with("https://s3.example.com", "b-1", "prefix = \"a\\nb\"\n"), 11, 10,
                          "must not contain control characters"));
  EXPECT_TRUE(load(s3_with("https://s3.example.com", "b-1", "prefix = \"prod-1/db\"\n")).config);
  std::string text = s3_with("https://s3.example.com", "b-1");
  text.replace(text.find("\"nyc3\""), 6, "\"nyc 3\"");
  EXPECT_TRUE(HasOneError(text, 8, 10, "backup.s3.region: must be letters, digits"));
}

TEST(BackupConfig, ReportsEveryProblemInOnePass) {
  std::string text = R"([postgres]
port = 0
databases = []
[backup]
recipients = ["age1nope"]
schedule = "3am"
verify = "always"
[backup.s3]
endpoint = "s3.example.com"
region = "r"
bucket = "B"
credentials_file = "c"
)";
  LoadOutcome outcome = load(text);
  EXPECT_FALSE(outcome.config);
  std::vector<std::pair<int, int>> where;
  for (const auto& d : outcome.diagnostics) where.emplace_back(d.line, d.column);
  EXPECT_EQ(where, (std::vector<std::pair<int, int>>{
                       {2, 8}, {3, 13}, {4, 1}, {5, 15}, {6, 12}, {7, 10}, {9, 12}, {11, 10}}))
      << dump(outcome);
}

TEST(ConfigDiff, ReportsBackupAndPostgresChanges) {
  LoadOutcome before = load(kBoth);
  ASSERT_TRUE(before.config) << dump(before);
  EXPECT_FALSE(diff_configs(*before.config, *before.config).backup_changed);
  Config after = *before.config;
  after.backup->schedule = daily_schedule(4, 0);
  ConfigDiff diff = diff_configs(*before.config, after);
  EXPECT_TRUE(diff.backup_changed);
  EXPECT_FALSE(diff.server_changed);
  EXPECT_FALSE(diff.empty());
  after = *before.config;
  after.postgres->port = 5433;
  EXPECT_TRUE(diff_configs(*before.config, after).backup_changed);
  after = *before.config;
  after.backup.reset();
  EXPECT_TRUE(diff_configs(*before.config, after).backup_changed);
  after = *before.config;
  after.backup->s3 = S3Config{};
  EXPECT_TRUE(diff_configs(*before.config, after).backup_changed);
}

}  // namespace
}  // namespace gc::config

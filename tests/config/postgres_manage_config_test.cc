// SPDX-License-Identifier: MIT
// tests/config/postgres_manage_config_test.cc: the provisioning keys of [postgres] (manage = true)
// and [postgres.pool].
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "config/loader.h"

namespace gc::config {
namespace {

constexpr const char* kPath = "/etc/groundctl/groundctl.toml";

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

// A managed [postgres] on lines 1-4; tests append keys on line 5 and after.
const std::string kManaged =
    "[postgres]\ndatabases = [\"orbital\"]\nmanage = true\napp_role = \"orbital_user\"\n";

TEST(PostgresManageConfig, LoadsTheIssueExample) {
  LoadOutcome outcome = load(R"([postgres]
databases = ["orbital"]
manage = true
app_role = "orbital_user"                    # owns the app database, not a superuser
pool = { port = 6432, default_pool_size = 20, max_client_conn = 200 }   # PgBouncer
)");
  ASSERT_TRUE(outcome.config) << dump(outcome);
  ASSERT_TRUE(outcome.config->postgres);
  const auto& m = outcome.config->postgres->manage;
  ASSERT_TRUE(m);
  EXPECT_EQ(m->app_role, "orbital_user");
  EXPECT_EQ(m->app_password_file, "");
  EXPECT_EQ(m->monitor_role, "groundctl_monitor");
  EXPECT_EQ(m->config_dir, "/etc/postgresql/15/main");
  EXPECT_EQ(m->slow_query, std::chrono::milliseconds(500));
  ASSERT_TRUE(m->pool);
  EXPECT_EQ(*m->pool, (PgPoolConfig{6432, 20, 200, "/etc/pgbouncer"}));
}

TEST(PostgresManageConfig, ReadsEveryKeyAndThePoolAsASection) {
  LoadOutcome outcome = load(kManaged + R"(app_password_file = "secrets/app.password"
monitor_role = "watcher"
config_dir = "/srv/pg/conf/"
slow_query = "2s"
[postgres.pool]
port = 7000
default_pool_size = 5
max_client_conn = 50
config_dir = "/srv/pgbouncer"
)");
  ASSERT_TRUE(outcome.config) << dump(outcome);
  const auto& m = outcome.config->postgres->manage;
  ASSERT_TRUE(m);
  EXPECT_EQ(m->app_password_file, "/etc/groundctl/secrets/app.password");
  EXPECT_EQ(m->monitor_role, "watcher");
  EXPECT_EQ(m->config_dir, "/srv/pg/conf");
  EXPECT_EQ(m->slow_query, std::chrono::seconds(2));
  ASSERT_TRUE(m->pool);
  EXPECT_EQ(*m->pool, (PgPoolConfig{7000, 5, 50, "/srv/pgbouncer"}));
}

TEST(PostgresManageConfig, ManageFalseOrAbsentLeavesItUnset) {
  for (const std::string& text :
       {std::string("[postgres]\ndatabases = [\"a\"]\n"),
        std::string("[postgres]\ndatabases = [\"a\"]\nmanage = false\n")}) {
    LoadOutcome outcome = load(text);
    ASSERT_TRUE(outcome.config) << dump(outcome);
    EXPECT_FALSE(outcome.config->postgres->manage);
  }
}

TEST(PostgresManageConfig, RefusesManageOnlyKeysWithoutManage) {
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"a\"]\napp_role = \"app\"\n", 3, 12,
                          "postgres.app_role: only applies when groundctl manages PostgreSQL: "
                          "set manage = true or remove it"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"a\"]\nmanage = false\npool = { port = 1 }\n",
                          4, 8, "postgres.pool: only applies when groundctl manages PostgreSQL"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"a\"]\n[postgres.pool]\nport = 6000\n", 3, 1,
                          "set manage = true or remove it"));
}

TEST(PostgresManageConfig, RequiresAValidAppRole) {
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"a\"]\nmanage = true\n", 1, 1,
                          "missing required key \"postgres.app_role\""));
  EXPECT_TRUE(
      HasOneError("[postgres]\ndatabases = [\"a\"]\nmanage = true\napp_role = \"postgres\"\n", 4,
                  12, "postgres.app_role: must not be the superuser \"postgres\""));
  EXPECT_TRUE(
      HasOneError("[postgres]\ndatabases = [\"a\"]\nmanage = true\napp_role = \"app-user\"\n", 4,
                  12, "\"app-user\" is not a plain identifier"));
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"a\"]\nmanage = true\napp_role = \"pg_app\"\n",
                          4, 12, "must not start with \"pg_\""));
  EXPECT_TRUE(HasOneError(kManaged + "monitor_role = \"orbital_user\"\n", 5, 16,
                          "postgres.monitor_role: must differ from app_role"));
  EXPECT_TRUE(HasOneError(
      "[postgres]\ndatabases = [\"a\"]\nmanage = true\napp_role = \"groundctl_monitor\"\n", 4, 12,
      "postgres.app_role: must differ from monitor_role (default \"groundctl_monitor\")"));
  EXPECT_TRUE(HasOneError(kManaged + "monitor_role = \"x;drop\"\n", 5, 16,
                          "postgres.monitor_role: \"x;drop\" is not a plain identifier"));
}

TEST(PostgresManageConfig, ChecksTypesDirsAndDurations) {
  EXPECT_TRUE(HasOneError("[postgres]\ndatabases = [\"a\"]\nmanage = \"yes\"\n", 3, 10,
                          "postgres.manage: expected a boolean"));
  EXPECT_TRUE(HasOneError(kManaged + "config_dir = \"etc/postgresql\"\n", 5, 14,
                          "postgres.config_dir: must be an absolute directory"));
  EXPECT_TRUE(HasOneError(kManaged + "slow_query = \"fast\"\n", 5, 14, "postgres.slow_query"));
  EXPECT_TRUE(HasOneError(kManaged + "pool = 6432\n", 5, 8, "postgres.pool: expected a table"));
  EXPECT_TRUE(HasOneError(kManaged + "pool = { config_dir = \"pgbouncer\" }\n", 5, 23,
                          "postgres.pool.config_dir: must be an absolute directory"));
  EXPECT_TRUE(HasOneError(kManaged + "pool = { prot = 1 }\n", 5, 10,
                          "unknown key \"prot\" in [postgres.pool] (did you mean \"port\"?)"));
  // Peer authentication needs the server's socket.
  EXPECT_TRUE(HasOneError(kManaged + "host = \"db.internal\"\n", 5, 8,
                          "postgres.host: must be the server's socket directory when manage"));
}

TEST(PostgresManageConfig, ChecksPoolPortAndSizes) {
  EXPECT_TRUE(HasOneError(kManaged + "pool = { port = 5432 }\n", 5, 17,
                          "postgres.pool.port: must differ from postgres.port (5432)"));
  EXPECT_TRUE(HasOneError(kManaged + "port = 6432\npool = {}\n", 6, 8,
                          "postgres.pool.port: must differ from postgres.port (6432)"));
  EXPECT_TRUE(HasOneError(kManaged + "pool = { port = 0 }\n", 5, 17, "must be 1..65535, got 0"));
  EXPECT_TRUE(HasOneError(kManaged + "pool = { default_pool_size = 0 }\n", 5, 30,
                          "postgres.pool.default_pool_size: must be 1..10000, got 0"));
  EXPECT_TRUE(HasOneError(kManaged + "pool = { max_client_conn = 100001 }\n", 5, 28,
                          "postgres.pool.max_client_conn: must be 1..100000"));
  EXPECT_TRUE(HasOneError(kManaged + "pool = { default_pool_size = 30, max_client_conn = 20 }\n", 5,
                          30, "must not exceed max_client_conn (30 > 20)"));
}

}  // namespace
}  // namespace gc::config

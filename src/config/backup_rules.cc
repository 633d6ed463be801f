// SPDX-License-Identifier: MIT
// config/backup_rules.cc: the rules of [postgres] (with [postgres.pool]) and [backup] (with
// [backup.s3]).
#include <arpa/inet.h>

#include <cctype>
#include <map>
#include <optional>
#include <string>

#include "config/detail/validate.h"
#include "config/schedule.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kPostgresKeys[] = {
    "host",          "port",       "user",       "databases",
    "password_file", "manage",     "app_role",   "app_password_file",
    "monitor_role",  "config_dir", "slow_query", "pool"};
// The keys that only mean something with manage = true.
constexpr std::string_view kManageKeys[] = {"app_role",   "app_password_file", "monitor_role",
                                            "config_dir", "slow_query",        "pool"};
constexpr std::string_view kPoolKeys[] = {"port", "default_pool_size", "max_client_conn",
                                          "config_dir"};
constexpr std::string_view kBackupKeys[] = {"repo",      "recipients", "schedule", "paths",
                                            "retention", "verify",     "s3"};
constexpr std::string_view kRetentionKeys[] = {"daily", "weekly", "monthly"};
constexpr std::string_view kS3Keys[] = {"endpoint", "region", "bucket", "prefix",
                                        "credentials_file"};

// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes.
constexpr std::size_t kMaxIdentifier = 63;
// An age X25519 recipient: "age" + "1" + 52 data characters (32 bytes) + 6 checksum.
constexpr std::size_t kAgeRecipientSize = 62;
constexpr std::string_view kBech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

bool has_control_char(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// "a" contains "b" (or is it), for absolute, normalised paths.
bool path_contains(std::string_view a, std::string_view b) {
  if (a == b || a == "/") return true;
  return b.size() > a.size() && b.substr(0, a.size()) == a && b[a.size()] == '/';
}

// Decimal 1..65535, digits only.
bool is_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  unsigned long n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned long>(c - '0');
  }
  return n >= 1 && n <= 65535;
}

// ---- [postgres] ----

// A plain SQL identifier, so that a name never needs quoting on pg_dump's command line or in
// a file name of the repository.
bool is_plain_identifier(std::string_view name) {
  if (name.empty() || name.size() > kMaxIdentifier) return false;
  if (!std::isalpha(static_cast<unsigned char>(name.front())) && name.front() != '_') return false;
  for (char c : name) {
    if (!is_alnum(c) && c != '_') return false;
  }
  return true;
}

bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  unsigned char addr[16];
  if (::inet_pton(AF_INET6, std::string(host).c_str(), addr) == 1) return true;
  std::size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (is_alnum(c) || c == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0 && host.front() != '-' && host.back() != '-';
}

void read_pg_host(TableReader& r, PostgresConfig& pg) {
  std::string host;
  if (!r.read_string("host", host)) return;
  const Node& v = *r.get("host");
  if (!host.empty() && host.front() == '/') {
    r.path_value(v, "host", pg.host);  // A leading '/' is a socket directory (backup/pg_client.h).
  } else if (is_host_name(host)) {
    pg.host = host;
  } else {
    r.error(v.pos, "host",
            "expected a socket directory (an absolute path such as \"/var/run/postgresql\") or "
            "a host name, got " +
                in_quotes(host));
  }
}

void read_pg_user(TableReader& r, PostgresConfig& pg) {
  std::string user;
  if (!r.read_string("user", user)) return;
  if (user.empty() || user.size() > kMaxIdentifier || has_control_char(user)) {
    r.error(r.get("user")->pos, "user", "must be a role name of 1 to 63 printable characters");
    return;
  }
  pg.user = user;
}

void read_pg_databases(TableReader& r, PostgresConfig& pg) {
  constexpr std::string_view kExample = "databases = [\"orbital\"]";
  std::vector<const Node*> items;
  if (!r.has("databases")) {
    missing(r, "databases", kExample);
    return;
  }
  if (!string_items(r, "databases", kExample, items)) return;
  const Node& v = *r.get("databases");
  if (v.items.empty()) {
    r.error(v.pos, "databases",
            "must name at least one database (e.g. " + std::string(kExample) + ")");
    return;
  }
  std::map<std::string, int> first_line;
  for (const Node* item : items) {
    if (!is_plain_identifier(item->string)) {
      r.error(item->pos, "databases",
              in_quotes(item->string) +
                  " is not a plain identifier: use 1 to 63 letters, digits and \"_\", not "
                  "starting with a digit");
      continue;
    }
    auto [it, inserted] = first_line.emplace(item->string, item->pos.line);
    if (!inserted) {
      r.error(item->pos, "databases",
              in_quotes(item->string) + " is listed twice (first on line " +
                  std::to_string(it->second) + ")");
      continue;
    }
    pg.databases.push_back(item->string);
  }
}

// A role groundctl creates: a plain identifier (it is written into SQL and pg_hba.conf), not
// "postgres" (the superuser) and not "pg_*" (reserved by PostgreSQL).
bool read_role(TableReader& r, std::string_view key, std::string& out) {
  std::string role;
  if (!r.read_string(key, role)) return false;
  const Position pos = r.get(key)->pos;
  if (!is_plain_identifier(role)) {
    r.error(pos, key,
            in_quotes(role) +
                " is not a plain identifier: use 1 to 63 letters, digits and \"_\", not "
                "starting with a digit");
    return false;
  }
  if (role == "postgres") {
    r.error(pos, key, "must not be the superuser \"postgres\": name a role of its own");
    return false;
  }
  if (role.rfind("pg_", 0) == 0) {
    r.error(pos, key, "must not start with \"pg_\" (reserved by PostgreSQL)");
    return false;
  }
  out = role;
  return true;
}

// An absolute directory of the server's own files: never resolved against the config file.
bool read_system_dir(TableReader& r, std::string_view key, std::string& out) {
  std::string dir;
  if (!r.read_string(key, dir)) return false;
  if (dir.empty() || dir.front() != '/') {
    r.error(
        r.get(key)->pos, key,
        "must be an absolute directory such as \"/etc/postgresql/15/main\", got " + in_quotes(dir));
    return false;
  }
  return r.read_path(key, out);  // Normalises it.
}

std::optional<PgPoolConfig> read_pool(TableReader& r, const PostgresConfig& pg) {
  const Node* v = r.get("pool");
  if (!v) return std::nullopt;
  if (v->kind != Node::Kind::kTable) {
    r.type_error(*v, "pool",
                 "table such as pool = { port = 6432, default_pool_size = 20, max_client_conn "
                 "= 200 } ([postgres.pool])");
    return std::nullopt;
  }
  TableReader t(r.checker(), *v, "", "postgres.pool.", "in [postgres.pool]");
  t.reject_unknown(kPoolKeys);
  PgPoolConfig pool;
  bool port_ok = !t.has("port") || t.read_int("port", pool.port, 1, 65535);
  if (port_ok && pool.port == pg.port) {
    const Node* at = t.get("port");
    t.error(at ? at->pos : v->pos, "port",
            "must differ from postgres.port (" + std::to_string(pg.port) +
                "): PgBouncer listens beside the server");
  }
  bool size_ok = !t.has("default_pool_size") ||
                 t.read_int("default_pool_size", pool.default_pool_size, 1, 10000);
  bool max_ok =
      !t.has("max_client_conn") || t.read_int("max_client_conn", pool.max_client_conn, 1, 100000);
  if (size_ok && max_ok && pool.default_pool_size > pool.max_client_conn) {
    const Node* at = t.get("default_pool_size");
    t.error(at ? at->pos : v->pos, "default_pool_size",
            "must not exceed max_client_conn (" + std::to_string(pool.default_pool_size) + " > " +
                std::to_string(pool.max_client_conn) + ")");
  }
  read_system_dir(t, "config_dir", pool.config_dir);
  return pool;
}

// The provisioning keys of [postgres]; `pg` holds the keys read before.
void read_pg_manage(TableReader& r, PostgresConfig& pg) {
  bool manage = false;
  if (const Node* m = r.get("manage")) {
    if (m->kind != Node::Kind::kBoolean) {
      r.type_error(*m, "manage", "boolean (true or false)");
      return;  // Which keys are allowed is unknown: say nothing more.
    }
    manage = m->boolean;
  }
  if (!manage) {
    for (std::string_view key : kManageKeys) {
      if (const Node* v = r.get(key)) {
        r.error(v->pos, key,
                "only applies when groundctl manages PostgreSQL: set manage = true or remove it");
      }
    }
    return;
  }
  PostgresManageConfig m;
  if (!r.has("app_role")) missing(r, "app_role", "app_role = \"orbital_user\"");
  bool app_ok = read_role(r, "app_role", m.app_role);
  r.read_path("app_password_file", m.app_password_file);
  bool monitor_ok = !r.has("monitor_role") || read_role(r, "monitor_role", m.monitor_role);
  if (monitor_ok && app_ok && m.monitor_role == m.app_role) {
    if (const Node* at = r.get("monitor_role")) {
      r.error(at->pos, "monitor_role", "must differ from app_role");
    } else {
      r.error(r.get("app_role")->pos, "app_role",
              "must differ from monitor_role (default " + in_quotes(m.monitor_role) + ")");
    }
  }
  read_system_dir(r, "config_dir", m.config_dir);
  r.read_duration("slow_query", m.slow_query, /*positive=*/false);
  m.pool = read_pool(r, pg);
  // Roles and databases are created by psql run as the OS user postgres, which authenticates by
  // peer: that needs the server's Unix socket.
  if (pg.host.empty() || pg.host.front() != '/') {
    const Node* h = r.get("host");
    r.error(h ? h->pos : r.table().pos, "host",
            "must be the server's socket directory when manage = true, got " + in_quotes(pg.host));
  }
  pg.manage = std::move(m);
}

std::optional<PostgresConfig> read_postgres(Checker& checker, const Node& root) {
  const Node* table = section(checker, root, "postgres");
  if (!table) return std::nullopt;
  TableReader r(checker, *table, "", "postgres.", "in [postgres]");
  r.reject_unknown(kPostgresKeys);
  PostgresConfig pg;
  read_pg_host(r, pg);
  r.read_int("port", pg.port, 1, 65535);
  read_pg_user(r, pg);
  read_pg_databases(r, pg);
  r.read_path("password_file", pg.password_file);
  read_pg_manage(r, pg);
  return pg;
}

// ---- [backup] ----

// Why `text` is not an age X25519 recipient, or empty if it looks like one. Syntax only: the
// bech32 checksum is left to src/crypto's parser, which the backup job runs before it encrypts.
// Never echoes the text, which may be a pasted private key.
// TODO(config): check the bech32 checksum here too once src/crypto's parser lands. #3
std::string recipient_problem(std::string_view text) {
  if (starts_with_nocase(text, "age-secret-key-")) {
    return "this is an age private key, not a recipient: put its public key here (age-keygen "
           "-y prints it) and keep the private key off this server";
  }
  if (text.rfind("ssh-", 0) == 0 || text.rfind("ecdsa-", 0) == 0) {
    return "SSH keys are not supported as recipients: use an age X25519 recipient (\"age1...\")";
  }
  constexpr std::string_view kShape =
      "not an age X25519 recipient: expected \"age1\" followed by 58 lowercase letters and "
      "digits (as printed by age-keygen)";
  if (starts_with_nocase(text, "age1") && text.rfind("age1", 0) != 0) {
    return "write the recipient in lowercase";
  }
  if (text.size() != kAgeRecipientSize || text.rfind("age1", 0) != 0) return std::string(kShape);
  for (char c : text.substr(4)) {
    if (kBech32Charset.find(c) == std::string_view::npos) {
      if (std::isupper(static_cast<unsigned char>(c))) return "write the recipient in lowercase";
      return std::string(kShape) + "; " + in_quotes(std::string(1, c)) +
             " is not in the bech32 alphabet";
    }
  }
  return "";
}

void read_recipients(TableReader& r, BackupConfig& backup) {
  constexpr std::string_view kExample = "recipients = [\"age1...\"]";
  std::vector<const Node*> items;
  if (!r.has("recipients")) {
    missing(r, "recipients", kExample);
    return;
  }
  if (!string_items(r, "recipients", kExample, items)) return;
  const Node& v = *r.get("recipients");
  if (v.items.empty()) {
    r.error(v.pos, "recipients",
            "must hold at least one age public key, or nobody could decrypt the backups");
    return;
  }
  std::map<std::string, int> first_line;
  for (const Node* item : items) {
    std::string problem = recipient_problem(item->string);
    if (!problem.empty()) {
      r.error(item->pos, "recipients", problem);
      continue;
    }
    auto [it, inserted] = first_line.emplace(item->string, item->pos.line);
    if (!inserted) {
      r.error(item->pos, "recipients",
              "duplicate recipient (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    backup.recipients.push_back(item->string);
  }
}

void read_schedule(TableReader& r, BackupConfig& backup) {
  std::string text;
  if (!r.read_string("schedule", text)) return;
  Result<Schedule> schedule = parse_schedule(text);
  if (!schedule) {
    r.error(r.get("schedule")->pos, "schedule", schedule.error().message);
    return;
  }
  backup.schedule = std::move(*schedule);
}

// Media paths, resolved, with where each was written (for the repository check).
void read_paths(TableReader& r, BackupConfig& backup, std::vector<Position>& where) {
  std::vector<const Node*> items;
  if (!string_items(r, "paths", "paths = [\"/srv/app/shared/uploads\"]", items)) return;
  std::map<std::string, int> first_line;
  for (const Node* item : items) {
    std::string path;
    if (item->string.empty()) {
      r.error(item->pos, "paths", "must not hold an empty path");
      continue;
    }
    if (!r.path_value(*item, "paths", path)) continue;
    auto [it, inserted] = first_line.emplace(path, item->pos.line);
    if (!inserted) {
      r.error(
          item->pos, "paths",
          in_quotes(path) + " is listed twice (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    backup.paths.push_back(path);
    where.push_back(item->pos);
  }
}

void read_retention(TableReader& r, BackupConfig& backup) {
  const Node* v = r.get("retention");
  if (!v) return;
  if (v->kind != Node::Kind::kTable) {
    r.type_error(*v, "retention",
                 "table such as retention = { daily = 7, weekly = 4, monthly = 6 }");
    return;
  }
  TableReader t(r.checker(), *v, "", "backup.retention.", "in backup.retention");
  t.reject_unknown(kRetentionKeys);
  RetentionConfig retention = backup.retention;
  bool ok = true;
  for (auto [key, field] :
       {std::pair{"daily", &retention.daily}, std::pair{"weekly", &retention.weekly},
        std::pair{"monthly", &retention.monthly}}) {
    if (t.has(key) && !t.read_int(key, *field, 0, 10000)) ok = false;
  }
  if (!ok) return;
  if (retention.daily == 0 && retention.weekly == 0 && retention.monthly == 0) {
    r.error(v->pos, "retention",
            "keeps nothing: set at least one of daily, weekly, monthly above 0");
    return;
  }
  backup.retention = retention;
}

void read_verify(TableReader& r, BackupConfig& backup) {
  std::string mode;
  if (!r.read_string("verify", mode)) return;
  if (mode == "stream") {
    backup.verify = VerifyMode::kStream;
  } else if (mode == "off") {
    backup.verify = VerifyMode::kOff;
  } else {
    r.error(r.get("verify")->pos, "verify",
            "expected \"stream\" or \"off\", got " + in_quotes(mode));
  }
}

// Why `url` is not a usable S3 endpoint, or empty. Never echoes a URL holding credentials.
std::string endpoint_problem(std::string_view url) {
  constexpr std::string_view kShape =
      "expected an http(s) URL such as \"https://nyc3.digitaloceanspaces.com\"";
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return std::string(kShape) + ", got " + in_quotes(url);
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return "must not hold credentials: put them in backup.s3.credentials_file";
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return "must not have a query or fragment, got " + in_quotes(url);
  }
  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return "missing \"]\" in " + in_quotes(url);
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return std::string(kShape);
    if (!after.empty()) port = after.substr(1);
    unsigned char addr[16];
    if (::inet_pton(AF_INET6, std::string(host).c_str(), addr) != 1) {
      return "invalid IPv6 address in " + in_quotes(url);
    }
  } else {
    std::size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return "missing host in " + in_quotes(url);
    if (!is_host_name(host)) return "invalid host " + in_quotes(host) + " in " + in_quotes(url);
  }
  if (port && !is_port(*port)) return "the port must be 1..65535 in " + in_quotes(url);
  return "";
}

// Amazon's bucket naming rules, which DigitalOcean, MinIO and Cloudflare R2 share.
std::string bucket_problem(std::string_view bucket) {
  constexpr std::string_view kRule =
      "must be 3 to 63 lowercase letters, digits, \".\" and \"-\", starting and ending with a "
      "letter or digit";
  if (bucket.size() < 3 || bucket.size() > 63) return std::string(kRule);
  for (char c : bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return std::string(kRule);
  }
  if (!is_alnum(bucket.front()) || !is_alnum(bucket.back())) return std::string(kRule);
  if (bucket.find("..") != std::string_view::npos) return "must not contain \"..\"";
  unsigned char addr[4];
  if (::inet_pton(AF_INET, std::string(bucket).c_str(), addr) == 1) {
    return "must not look like an IP address";
  }
  return "";
}

std::optional<S3Config> read_s3(TableReader& r) {
  const Node* v = r.get("s3");
  if (!v) return std::nullopt;
  if (v->kind != Node::Kind::kTable) {
    r.type_error(*v, "s3", "table ([backup.s3])");
    return std::nullopt;
  }
  TableReader t(r.checker(), *v, "", "backup.s3.", "in [backup.s3]");
  t.reject_unknown(kS3Keys);
  S3Config s3;
  for (auto [key, example] :
       {std::pair{"endpoint", "endpoint = \"https://nyc3.digitaloceanspaces.com\""},
        std::pair{"region", "region = \"nyc3\""}, std::pair{"bucket", "bucket = \"backups\""},
        std::pair{"credentials_file", "credentials_file = \"/etc/groundctl/s3.credentials\""}}) {
    if (!t.has(key)) missing(t, key, example);
  }
  if (t.read_string("endpoint", s3.endpoint)) {
    std::string problem = endpoint_problem(s3.endpoint);
    if (!problem.empty()) t.error(t.get("endpoint")->pos, "endpoint", problem);
  }
  if (t.read_string("region", s3.region)) {
    bool ok = !s3.region.empty();
    for (char c : s3.region) ok = ok && (is_alnum(c) || c == '-' || c == '_');
    if (!ok) {
      t.error(t.get("region")->pos, "region",
              "must be letters, digits, \"-\" and \"_\" such as \"nyc3\" or \"us-east-1\"");
    }
  }
  if (t.read_string("bucket", s3.bucket)) {
    std::string problem = bucket_problem(s3.bucket);
    if (!problem.empty()) t.error(t.get("bucket")->pos, "bucket", problem);
  }
  if (t.read_string("prefix", s3.prefix)) {
    const Position pos = t.get("prefix")->pos;
    if (!s3.prefix.empty() && s3.prefix.front() == '/') {
      t.error(pos, "prefix", "must not start with \"/\" (object keys have no leading slash)");
    } else if (has_control_char(s3.prefix) || s3.prefix.find('\\') != std::string::npos) {
      t.error(pos, "prefix", "must not contain control characters or \"\\\"");
    }
  }
  t.read_path("credentials_file", s3.credentials_file);
  return s3;
}

std::optional<BackupConfig> read_backup(Checker& checker, const Node& root) {
  const Node* table = section(checker, root, "backup");
  if (!table) return std::nullopt;
  TableReader r(checker, *table, "", "backup.", "in [backup]");
  r.reject_unknown(kBackupKeys);
  BackupConfig backup;
  if (!r.has("repo")) missing(r, "repo", "repo = \"/var/backups/groundctl\"");
  bool repo_ok = r.read_path("repo", backup.repo);
  read_recipients(r, backup);
  read_schedule(r, backup);
  std::vector<Position> path_pos;
  read_paths(r, backup, path_pos);
  read_retention(r, backup);
  read_verify(r, backup);
  backup.s3 = read_s3(r);
  // An archive of a directory holding the repository would hold every earlier backup.
  for (std::size_t i = 0; repo_ok && i < backup.paths.size(); ++i) {
    const std::string& path = backup.paths[i];
    if (path_contains(path, backup.repo)) {
      r.error(path_pos[i], "paths",
              in_quotes(path) + " contains the repository " + in_quotes(backup.repo) +
                  ": each archive would include the earlier backups");
    } else if (path_contains(backup.repo, path)) {
      r.error(path_pos[i], "paths",
              in_quotes(path) + " is inside the repository " + in_quotes(backup.repo));
    }
  }
  return backup;
}

}  // namespace

void read_backup_sections(Checker& checker, const Node& root, Config& config) {
  config.postgres = read_postgres(checker, root);
  config.backup = read_backup(checker, root);
  if (!config.backup || config.postgres) return;
  // Paths that were written but are invalid have been reported already.
  const Node& table = root.find("backup")->value;
  const Member* paths = table.find("paths");
  if (!paths || (paths->value.kind == Node::Kind::kArray && paths->value.items.empty())) {
    checker.error(table.pos,
                  "backup: nothing to back up: add [postgres] with databases, or backup.paths");
  }
}

}  // namespace gc::config::detail

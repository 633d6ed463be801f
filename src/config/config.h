// SPDX-License-Identifier: MIT
// config/config.h: the typed groundctl.toml. Plain structs with the defaults of design.md;
// loading and validation live in config/loader.h, comparison in config/diff.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/units.h"
#include "config/schedule.h"

namespace gc::config {

// A TCP address groundctl binds once and passes to every instance ("127.0.0.1:3000",
// "[::1]:3000", "0.0.0.0:80"). Port 0 asks the kernel for a free port (used by tests).
struct ListenAddress {
  std::string text;  // As written in the config; used as the fd name in LISTEN_FDNAMES.
  std::string host;  // Numeric IPv4 or IPv6 address, without brackets.
  std::uint16_t port = 0;
  bool is_ipv6 = false;
  bool operator==(const ListenAddress&) const = default;
};

enum class RestartMode { kAlways, kOnFailure, kNever };

enum class ReadyKind {
  kIpc,     // Node IPC channel: process.send('ready').
  kNotify,  // sd_notify READY=1 on NOTIFY_SOCKET.
  kHttp,    // GET url answers 2xx.
  kDelay,   // Alive for `delay`.
};

struct ReadySpec {
  ReadyKind kind = ReadyKind::kDelay;
  std::string http_url;                      // kHttp only, "http://host:port/path".
  Duration delay = std::chrono::seconds(1);  // kDelay only.
  bool operator==(const ReadySpec&) const = default;
};

struct BackoffConfig {
  Duration initial = std::chrono::milliseconds(100);
  Duration max = std::chrono::seconds(30);
  bool operator==(const BackoffConfig&) const = default;
};

struct LogsConfig {
  std::uint64_t max_size_bytes = 50ull * 1024 * 1024;
  int keep = 10;
  bool operator==(const LogsConfig&) const = default;
};

struct ServiceConfig {
  std::string name;
  std::vector<std::string> command;  // argv; command[0] is looked up in PATH if it has no '/'.
  std::string cwd;                   // Empty: the daemon's working directory.
  std::string user;                  // Empty: the daemon's own user.
  std::string env_file;              // Empty: none. Re-read on every start.
  std::map<std::string, std::string> env;
  int instances = 1;
  std::vector<ListenAddress> listen;
  ReadySpec ready;
  Duration ready_timeout = std::chrono::seconds(30);
  RestartMode restart = RestartMode::kAlways;
  BackoffConfig backoff;
  Duration min_uptime = std::chrono::seconds(10);
  int max_restarts = 10;  // Within kRestartWindow; more means state "failed".
  int stop_signal = 15;   // Signal number (SIGTERM); the config spells it "SIGTERM".
  Duration stop_timeout = std::chrono::seconds(30);
  std::optional<std::uint64_t> max_memory_bytes;
  LogsConfig logs;
  bool operator==(const ServiceConfig&) const = default;
};

// The window over which max_restarts is counted.
inline constexpr Duration kRestartWindow = std::chrono::minutes(5);

struct ServerConfig {
  std::string name;  // Empty: the host name.
  std::string state_dir = "/var/lib/groundctl";
  std::string log_dir = "/var/log/groundctl";
  std::string runtime_dir = "/run/groundctl";
  std::string admin_group;  // Non-empty: control.sock is 0660 and owned by this group.
  bool operator==(const ServerConfig&) const = default;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:9100";
  std::string token_file;  // Required when listen is not a loopback address.
  bool operator==(const HttpConfig&) const = default;
};

// [postgres.pool]: PgBouncer in front of the local server.
struct PgPoolConfig {
  int port = 6432;
  int default_pool_size = 20;
  int max_client_conn = 200;
  std::string config_dir = "/etc/pgbouncer";  // pgbouncer.ini and userlist.txt.
  bool operator==(const PgPoolConfig&) const = default;
};

// The provisioning keys of [postgres] (manage = true).
struct PostgresManageConfig {
  std::string app_role;           // Required: owns the databases, LOGIN, no superuser.
  std::string app_password_file;  // Optional: the app role's password (0600).
  std::string monitor_role = "groundctl_monitor";        // Member of pg_monitor.
  std::string config_dir = "/etc/postgresql/15/main";    // Holds pg_hba.conf and conf.d/.
  Duration slow_query = std::chrono::milliseconds(500);  // log_min_duration_statement.
  std::optional<PgPoolConfig> pool;
  bool operator==(const PostgresManageConfig&) const = default;
};

// [postgres]: the local PostgreSQL server whose databases are backed up.
struct PostgresConfig {
  std::string host = "/var/run/postgresql";  // A socket directory (absolute) or a host name.
  int port = 5432;
  std::string user = "postgres";       // The role pg_dump connects as.
  std::vector<std::string> databases;  // Non-empty, plain identifiers, no duplicates.
  std::string password_file;           // Empty: peer auth. Not read at load (may be root-only).
  std::optional<PostgresManageConfig> manage;  // Set when manage = true.
  bool operator==(const PostgresConfig&) const = default;
};

// How many backup sets to keep: the newest of each of the last `daily` days, `weekly` ISO
// weeks and `monthly` months that have sets. Each >= 0, at least one > 0.
struct RetentionConfig {
  int daily = 7;
  int weekly = 4;
  int monthly = 6;
  bool operator==(const RetentionConfig&) const = default;
};

enum class VerifyMode {
  kStream,  // Each artifact's plaintext is read through (pg_restore for a dump) as it is written.
  kOff,
};

// [backup.s3]: the offsite copy, written after the local repository.
struct S3Config {
  std::string endpoint;  // "https://host[:port]" (or http:// for a local test server).
  std::string region;
  std::string bucket;            // S3 bucket naming rules (3..63 of a-z 0-9 . -).
  std::string prefix;            // Prepended verbatim to every object key; never starts with '/'.
  std::string credentials_file;  // Access key and secret. Not read at load (may be root-only).
  bool operator==(const S3Config&) const = default;
};

// [backup]: what is backed up, when, how long it is kept, and where it goes.
struct BackupConfig {
  std::string repo;  // Local repository directory; always written first. Required.
  // age X25519 recipients ("age1..."), at least one, no duplicates. Only public keys: the
  // server needs no private key to back up.
  std::vector<std::string> recipients;
  Schedule schedule = daily_schedule(3, 15);
  std::vector<std::string> paths;  // Directories archived as tar (media); may be empty.
  RetentionConfig retention;
  VerifyMode verify = VerifyMode::kStream;
  std::optional<S3Config> s3;
  bool operator==(const BackupConfig&) const = default;
};

// [deploy]: releases of one service, built side by side and switched when healthy.
struct DeployHealth {
  std::string http;  // Full URL; empty: `path` on the service's first listen address.
  std::string path;  // "/health"; empty with `http` empty: only instance state is watched.
  Duration watch = std::chrono::seconds(30);    // How long the new release must stay healthy.
  Duration interval = std::chrono::seconds(1);  // Between probes.
  Duration timeout = std::chrono::seconds(5);   // One probe.
  bool operator==(const DeployHealth&) const = default;
};

struct DeployConfig {
  std::string service;  // A [[service]] whose cwd is root/current or below it.
  std::string source;   // git URL or local path.
  std::string subdir;   // The app inside the repository; empty: the repository root.
  std::string root;     // Absolute: releases/ID, shared/, current -> releases/ID.
  // Linked from root/shared/ into the release's app dir. An entry ending in "/" is a directory,
  // created when missing; any other must exist in shared/ before a deploy.
  std::vector<std::string> shared;
  std::vector<std::vector<std::string>>
      build;  // argv lists, in the app dir, as the service's user.
  std::vector<std::vector<std::string>> migrate;  // Same; after build, before the switch.
  bool backup_before_migrate = true;              // Needs [backup] when migrate is non-empty.
  DeployHealth health;
  int keep = 5;  // Releases kept on disk (>= 2); never the active or previous one.
  bool operator==(const DeployConfig&) const = default;
};

// [[notify]]: where alerts go. The monitor's rules will use these too; today deploys raise
// their alerts through them.
enum class NotifyType {
  kWebhook,       // POST of the Alertmanager webhook payload (JSON) to `url`.
  kExec,          // `command` with the same payload on stdin.
  kSlack,         // POST of a Slack incoming-webhook message to `url` (also Mattermost).
  kEmail,         // One mail per batch through the SMTP server `smtp`.
  kAlertmanager,  // POST of API v2 postable alerts to `url` + "/api/v2/alerts".
};

struct NotifyConfig {
  std::string name;  // "<type>-N" when not given; used in messages (a URL may hold a token).
  NotifyType type = NotifyType::kWebhook;
  // kWebhook, kSlack: http(s)://...; kAlertmanager: the base URL, without a trailing '/'.
  // Never logged: it may be secret.
  std::string url;
  std::vector<std::string> command;  // kExec: argv.
  // kEmail only. `smtp` is "smtp://host[:port]" (STARTTLS unless `starttls` is false) or
  // "smtps://host[:port]" (implicit TLS). Addresses hold '@' and no space, CR, LF, '<' or '>'.
  std::string smtp;
  std::string from;
  std::vector<std::string> to;  // At least one.
  std::string username;         // Empty: no AUTH.
  std::string password_file;    // Absolute; set with username. Read at send time, 0600 or 0400.
  bool starttls = true;         // False only for smtp:// to a loopback host.
  std::string ca_file;          // Absolute; empty: the system's trust store.
  bool send_resolved = true;
  Duration timeout = std::chrono::seconds(10);  // One delivery attempt.
  bool operator==(const NotifyConfig&) const = default;
};

// [monitor]: what the daemon watches besides the host, services, PostgreSQL and backups.
struct HttpProbeConfig {  // [[monitor.http]]: an API probe, every monitor interval.
  std::string name;       // The "probe" label.
  std::string url;        // http(s)://...
  Duration timeout = std::chrono::seconds(5);
  int expect_status = 200;
  bool operator==(const HttpProbeConfig&) const = default;
};

struct MonitorConfig {
  Duration interval = std::chrono::seconds(10);      // Collection and rule evaluation.
  Duration history = std::chrono::hours(24 * 30);    // Downsampled history kept in the state store.
  Duration repeat_interval = std::chrono::hours(4);  // Reminder of a firing alert; 0: never.
  bool default_rules = true;  // The built-in rules (each can be overridden or disabled by name).
  std::vector<HttpProbeConfig> http;
  // [monitor.logs]: app error rate from Winston JSON lines.
  std::vector<std::string> log_services;  // Their captured output in log_dir.
  std::vector<std::string> log_files;     // Absolute.
  // [monitor.nginx]
  std::string nginx_status_url;  // stub_status page; empty: not read.
  std::string nginx_access_log;  // Absolute; empty: not read.
  // [monitor.tls]
  std::vector<std::string> tls_endpoints;  // "host:port".
  std::vector<std::string> tls_files;      // Absolute PEM paths.
  std::string tls_ca_file;                 // Trust for the chain check; empty: the system's.
  bool operator==(const MonitorConfig&) const = default;
};

// [[alert]]: a rule in the PromQL subset of alert/promql.h. Its expression is checked by
// alert::load_config (the config module does not know the language); positions are kept for
// that check's diagnostics.
struct AlertRuleConfig {
  std::string name;   // [A-Za-z_][A-Za-z0-9_]*; the same name as a built-in rule replaces it.
  std::string expr;   // Empty only when the rule disables or tunes a built-in one.
  std::string clear;  // Optional: the alert resolves only when this is empty (hysteresis).
  Duration for_ = Duration::zero();  // Pending this long before firing.
  std::string severity;  // "critical" | "warning" | "info"; empty: built-in's or warning.
  std::string summary;   // Text templates with {{ $labels.x }} and {{ $value }}.
  std::string description;
  std::map<std::string, std::string> labels;
  bool enabled = true;
  bool has_for = false;                // `for` was given (a built-in rule's own is kept otherwise).
  int line = 0, column = 0;            // The [[alert]] table.
  int expr_line = 0, expr_column = 0;  // The expr string's opening quote.
  int clear_line = 0, clear_column = 0;  // The clear string's opening quote.
  bool operator==(const AlertRuleConfig&) const = default;
};

// [[nginx.limit]]: a stricter request rate for some paths (auth endpoints), answered with 429.
struct NginxLimitConfig {
  std::vector<std::string> paths;  // Each starts with '/'; an nginx exact-or-prefix location.
  std::string rate = "10r/m";      // nginx limit_req rate: N "r/s" or "r/m".
  int burst = 5;                   // >= 0.
  bool operator==(const NginxLimitConfig&) const = default;
};

// [[nginx.static]]: files served by Nginx itself.
struct NginxStaticConfig {
  std::string location;  // Starts and ends with '/'.
  std::string root;      // Absolute directory; the URL path is appended (nginx `root`).
  bool operator==(const NginxStaticConfig&) const = default;
};

// [nginx]: the reverse-proxy site groundctl renders (provision/nginx_site).
struct NginxConfig {
  std::string domain;                  // Required: the server_name and the certificate's name.
  std::string upstream;                // Required: a [[service]] with at least one listen address.
  std::vector<std::string> websocket;  // Paths proxied with the Upgrade headers.
  std::string client_max_body_size = "10m";  // nginx size: digits with an optional k/m/g.
  std::string rate = "10r/s";                // Per client address; "" turns it off.
  int burst = 20;
  std::vector<NginxLimitConfig> limits;
  std::vector<NginxStaticConfig> statics;
  // The certificate Nginx serves. Empty: {state_dir}/tls/{domain}/fullchain.pem and privkey.pem,
  // where the ACME client writes; apply puts a self-signed placeholder there while none exists.
  std::string certificate;
  std::string certificate_key;
  std::string acme_root = "/var/www/groundctl-acme";  // Served at /.well-known/acme-challenge/.
  std::string site_file = "/etc/nginx/conf.d/groundctl.conf";
  std::string access_log = "/var/log/nginx/access.log";
  bool operator==(const NginxConfig&) const = default;
};

// [firewall]: ufw. Everything incoming that is not allowed is denied.
struct FirewallConfig {
  std::vector<std::string> allow = {"22/tcp", "80/tcp", "443/tcp"};  // "PORT/tcp" or "PORT/udp".
  bool limit_ssh = true;  // The SSH port gets ufw's `limit` (6 connections in 30 s) not `allow`.
  bool operator==(const FirewallConfig&) const = default;
};

// [ssh]: an sshd drop-in. Key-only, no root login.
struct SshConfig {
  std::vector<std::string> allow_users;  // Required, non-empty: AllowUsers.
  int port = 22;
  int max_auth_tries = 3;
  std::string drop_in = "/etc/ssh/sshd_config.d/10-groundctl.conf";  // Before cloud-init's 50-.
  bool operator==(const SshConfig&) const = default;
};

// [fail2ban]: jails in one jail.d file.
struct Fail2banConfig {
  std::vector<std::string> jails = {"sshd", "nginx-limit-req", "nginx-botsearch"};
  std::string sshd_backend = "systemd";  // Debian 12 logs sshd to the journal only.
  std::string sshd_log;                  // Set with sshd_backend = "auto": sshd's log file.
  int maxretry = 5;
  Duration findtime = std::chrono::minutes(10);
  Duration bantime = std::chrono::hours(1);
  std::string jail_file = "/etc/fail2ban/jail.d/groundctl.local";
  bool operator==(const Fail2banConfig&) const = default;
};

// [tls]: certificates from an ACME CA (RFC 8555), issued by `groundctl cert issue` and renewed by
// the daemon through `groundctl cert renew`.
struct TlsConfig {
  std::vector<std::string> domains;  // Non-empty DNS names; domains[0] names the certificate.
  std::string email;                 // Optional account contact.
  std::string directory = "https://acme-v02.api.letsencrypt.org/directory";  // https:// or http://
  std::string key_type = "ec-p256";   // "ec-p256", "rsa-2048" or "rsa-4096": the certificate key.
  std::string challenge = "webroot";  // "webroot" or "standalone" (HTTP-01 either way).
  std::string webroot;  // Absolute. Default: [nginx].acme_root, else /var/www/groundctl-acme.
  std::string standalone_listen = "[::]:80";  // Where the standalone HTTP-01 responder listens.
  std::string ca_bundle;  // PEM trust for the ACME server's HTTPS; empty: the system store.
  std::string cert_dir;   // Default: {server.state_dir}/tls/{domains[0]}.
  // Run before and after a new certificate is installed. Defaults, when [nginx] is set:
  // ["nginx", "-t", "-q"] and ["nginx", "-s", "reload"]; otherwise empty (nothing is run).
  std::vector<std::string> validate_command;
  std::vector<std::string> reload_command;
  Duration check_interval = std::chrono::hours(12);  // How often the daemon runs `cert renew`.
  bool operator==(const TlsConfig&) const = default;
};

struct Config {
  std::string path;  // The file it was loaded from.
  ServerConfig server;
  HttpConfig http;
  std::vector<ServiceConfig> services;
  std::optional<PostgresConfig> postgres;  // Set when the file has [postgres].
  // Set when the file has [backup]. Then its databases are postgres->databases (if [postgres]
  // is there) and it has at least one database or one path.
  std::optional<BackupConfig> backup;
  std::optional<DeployConfig> deploy;  // Set when the file has [deploy].
  std::vector<NotifyConfig> notify;
  MonitorConfig monitor;
  std::vector<AlertRuleConfig> alerts;
  std::optional<NginxConfig> nginx;        // Set when the file has [nginx].
  std::optional<FirewallConfig> firewall;  // Set when the file has [firewall].
  std::optional<SshConfig> ssh;            // Set when the file has [ssh].
  std::optional<Fail2banConfig> fail2ban;  // Set when the file has [fail2ban].
  std::optional<TlsConfig> tls;            // Set when the file has [tls].

  const ServiceConfig* find_service(std::string_view name) const {
    for (const auto& s : services) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
};

// The certificate and key files Nginx serves ([nginx] needed): [nginx] certificate and
// certificate_key when set, else the [tls] cert_dir's fullchain.pem and privkey.pem when [tls] is
// set, else {state_dir}/tls/{domain}/. One place, so that provisioning, the ACME client, the
// audit and the monitor never disagree on the path.
std::string nginx_certificate_path(const Config& config);
std::string nginx_certificate_key_path(const Config& config);

}  // namespace gc::config

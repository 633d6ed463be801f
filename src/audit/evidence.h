// SPDX-License-Identifier: MIT
// audit/evidence.h: the facts the audit judges (plain data), and the thin driver that gathers
// them from the running system or from a root directory (an image being built, a test root).
// Every fact group carries its own error: a gatherer that fails makes its checks "error" with
// that reason; it never stops the others.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace gc::audit {

// The effective sshd settings: keyword (lower case) → values, in order. Most keywords have one
// value; AllowUsers/AllowGroups keep every listed name.
struct SshdFacts {
  bool installed = false;  // False: no sshd config (the ssh checks are skipped).
  std::string error;       // Non-empty: they could not be read.
  std::string source;      // "sshd -T" or "parsed /etc/ssh/sshd_config (+ N drop-ins)".
  std::map<std::string, std::vector<std::string>> settings;
  std::vector<std::string> files;  // Drop-ins read through Include (parsed configs only).
  // The first value of `keyword` or "" when unset.
  std::string get(std::string_view keyword) const {
    auto it = settings.find(std::string(keyword));
    return it == settings.end() || it->second.empty() ? std::string() : it->second.front();
  }
};

struct FirewallFacts {
  bool installed = false;
  std::string error;
  std::string source;  // "ufw status verbose" or "ufw.conf + user.rules".
  bool enabled = false;
  bool default_deny_incoming = false;
  std::vector<std::string> allowed;  // Incoming rules that allow (or limit): "22/tcp".
};

struct Listener {
  std::string address;  // Numeric, "0.0.0.0", "::", "127.0.0.1"...
  std::uint16_t port = 0;
  bool ipv6 = false;
  bool operator==(const Listener&) const = default;
};

struct ListenerFacts {
  bool skipped = false;  // Not gathered (under --root without ROOT/proc): `error` says why.
  std::string error;
  std::string source;  // "/proc/net/tcp, /proc/net/tcp6".
  std::vector<Listener> listeners;
};

struct Fail2banFacts {
  bool skipped = false;  // Not gathered (under --root): the checks are skipped with `error`.
  std::string error;     // Why not running / not read (`fail2ban-client status` output tail).
  bool running = false;
  std::vector<std::string> jails;
};

// One pg_hba.conf rule as pg_hba_file_rules shows it.
struct HbaRule {
  int line = 0;
  std::string type;      // "local", "host", "hostssl", ...
  std::string database;  // Comma-joined.
  std::string user;      // Comma-joined.
  std::string address;   // Empty for local; "all", "samehost", a CIDR or a host name.
  std::string netmask;
  std::string method;  // "scram-sha-256", "peer", "trust"...
};

struct PostgresFacts {
  bool configured = false;  // [postgres] is in the config (else the checks are skipped).
  std::string error;        // Could not connect / query.
  std::string listen_addresses;
  std::vector<HbaRule> hba;
  std::string app_role;                    // [postgres].app_role; empty: not managed.
  std::optional<bool> app_role_superuser;  // nullopt: the role does not exist.
};

struct FileFact {
  std::string what;  // "http.token_file", "service orbital-backend env_file"...
  std::string path;  // As configured (without the --root prefix).
  bool exists = false;
  std::uint32_t mode = 0;  // Permission bits (07777).
  std::string error;       // stat failed for another reason than ENOENT.
};

struct DiskFacts {
  std::string error;
  std::string path = "/";
  double used_ratio = 0;  // Of the space non-root users can use, as df shows it.
};

struct CertFact {
  std::string path;
  std::string error;  // Unreadable or unparsable.
  std::int64_t not_after = 0;
};

struct BackupFacts {
  bool configured = false;
  std::string error;
  std::optional<std::int64_t> last_success;  // Unix seconds.
  std::string last_set;
  std::string verify_result;  // Of the newest set: "passed", "failed", "skipped", ...
};

struct UpdateFacts {
  bool skipped = false;  // apt-get missing, or under --root.
  std::string error;
  std::vector<std::string> security_pending;  // Package names from `apt-get -s upgrade`.
  bool unattended_enabled = false;
  std::string unattended_evidence;  // What 20auto-upgrades says, or that it is missing.
};

struct Evidence {
  std::int64_t now = 0;         // Unix seconds.
  bool daemon_is_root = false;  // The user groundctl runs as (services with no user run so).
  SshdFacts sshd;
  FirewallFacts firewall;
  ListenerFacts listeners;
  Fail2banFacts fail2ban;
  PostgresFacts postgres;
  std::vector<FileFact> secret_files;
  DiskFacts disk;
  std::vector<CertFact> certificates;
  BackupFacts backup;
  UpdateFacts updates;
};

struct Options {
  std::string root;  // Non-empty: read files under this directory; live-only facts are skipped.
  std::chrono::seconds command_timeout{60};  // Per external command (apt-get can be slow).
};

// Gathers every fact. Never fails as a whole: each group holds its own error. Blocks (runs
// sshd -T, ufw, fail2ban-client, apt-get, connects to PostgreSQL); call it off the event loop.
Evidence gather(const config::Config& cfg, const Options& options);

// The pieces of gather(), exposed for the OS tests. Each reads files under `root` ("" for /).
SshdFacts gather_sshd(const std::string& root, std::chrono::seconds timeout);
// `sshd -T -f config_file` (needs host keys readable by sshd). Errors: kNotFound without sshd,
// kInvalidArgument when sshd rejects the config, kTimeout.
Result<SshdFacts> sshd_effective(const std::string& config_file, std::chrono::seconds timeout);
ListenerFacts gather_listeners(const std::string& proc_net_dir);  // Holds tcp and tcp6.
FileFact stat_secret(const std::string& root, std::string what, std::string path);
PostgresFacts gather_postgres(const config::Config& cfg);

// Pure parsers, tested on their own.
// sshd_config text and its drop-ins: the first value of a keyword wins (sshd's rule), Match
// blocks are ignored ("Match all" ends one), AllowUsers/AllowGroups/DenyUsers/DenyGroups
// accumulate. `include` returns the files an Include pattern (as written) names, in order, as
// (path, text); their paths are added to out.files.
using IncludeReader =
    std::function<std::vector<std::pair<std::string, std::string>>(const std::string& pattern)>;
void parse_sshd_config(std::string_view text, SshdFacts& out, const IncludeReader& include,
                       int depth = 0);
// `sshd -T` output.
void parse_sshd_t(std::string_view text, SshdFacts& out);
// /proc/net/tcp or tcp6 text: the sockets in state LISTEN (0A).
std::vector<Listener> parse_proc_net_tcp(std::string_view text, bool ipv6);
// `ufw status verbose` output.
void parse_ufw_status(std::string_view text, FirewallFacts& out);
// ufw's user.rules (and user6.rules) text: the "### tuple ### allow tcp 22 ..." lines.
void parse_ufw_user_rules(std::string_view text, FirewallFacts& out);
// `fail2ban-client status` output: the jail list.
std::vector<std::string> parse_fail2ban_jails(std::string_view text);
// `apt-get -s upgrade` output: packages whose "Inst" line names a -security suite.
std::vector<std::string> parse_apt_security(std::string_view text);
// 20auto-upgrades text: true when Update-Package-Lists and Unattended-Upgrade are both "1".
bool parse_auto_upgrades(std::string_view text);

}  // namespace gc::audit

// SPDX-License-Identifier: MIT
// audit/evidence.cc: gathers the audit's facts: commands with timeouts, files, /proc, PostgreSQL.
#include "audit/evidence.h"

#include <arpa/inet.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "backup/catalog.h"
#include "backup/from_config.h"
#include "backup/pg_client.h"
#include "base/child_process.h"
#include "base/unique_fd.h"
#include "base/utc_time.h"
#include "monitor/tls_metrics.h"

namespace gc::audit {
namespace {

constexpr const char* kSystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kMaxOutput = 4 << 20;

struct CommandOutput {
  ExitStatus status;
  std::string out;  // stdout and stderr, interleaved.
};

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_ws(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > b) out.emplace_back(line.substr(b, i - b));
  }
  return out;
}

template <typename F>
void for_each_line(std::string_view text, F f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    f(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

// The last non-empty line of `out`, for error messages.
std::string last_line(const std::string& out) {
  std::string t = trim(out);
  size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Runs argv with stdout and stderr captured, in the C locale, killed (group and all) after
// `timeout`. Errors: kNotFound (no such program), kTimeout, spawn errors.
Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  std::chrono::seconds timeout) {
  GC_ASSIGN_OR_RETURN(Pipe pipe, Pipe::create());
  SpawnOptions o;
  o.argv = argv;
  o.env = {std::string("PATH=") + kSystemPath, "LC_ALL=C", "LANG=C"};
  o.stdout_fd = pipe.write.get();
  o.stderr_fd = pipe.write.get();
  o.parent_death_signal = SIGKILL;
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  pipe.write.reset();
  CommandOutput r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[16384];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{pipe.read.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;  // Deadline re-checked above.
    ssize_t got = ::read(pipe.read.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF: the child and everything it started closed the pipe.
    if (r.out.size() < kMaxOutput) r.out.append(buf, static_cast<size_t>(got));
  }
  if (timed_out) {
    (void)child.terminate(SIGKILL, std::chrono::seconds(1));
    return make_error(Errc::kTimeout,
                      argv[0] + ": no answer within " + std::to_string(timeout.count()) + " s");
  }
  GC_ASSIGN_OR_RETURN(r.status, child.wait());
  return r;
}

std::optional<std::string> find_program(const std::string& name) {
  auto p = find_executable(name, kSystemPath);
  if (!p) return std::nullopt;
  return *p;
}

// The files an sshd Include pattern names, sorted (glob order), each with its text. A relative
// pattern is relative to /etc/ssh, as sshd reads it.
std::vector<std::pair<std::string, std::string>> read_include(const std::string& root,
                                                              const std::string& pattern) {
  std::string p = pattern[0] == '/' ? pattern : "/etc/ssh/" + pattern;
  glob_t g{};
  std::vector<std::pair<std::string, std::string>> out;
  if (::glob((root + p).c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string path = g.gl_pathv[i];
      if (auto text = read_file(path)) out.emplace_back(path.substr(root.size()), *text);
    }
  }
  ::globfree(&g);
  return out;
}

}  // namespace

// ---- sshd ------------------------------------------------------------------------------------

void parse_sshd_config(std::string_view text, SshdFacts& out, const IncludeReader& include,
                       int depth) {
  bool in_match = false;
  for_each_line(text, [&](std::string_view raw) {
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') return;
    // "Keyword value" or "Keyword=value".
    size_t eq = line.find('=');
    size_t sp = line.find_first_of(" \t");
    if (eq != std::string::npos && (sp == std::string::npos || eq < sp)) line[eq] = ' ';
    std::vector<std::string> words = split_ws(line);
    if (words.empty()) return;
    std::string key = lower(words[0]);
    std::vector<std::string> args(words.begin() + 1, words.end());
    if (key == "match") {
      // A Match block lasts until the next Match; "Match all" returns to the global section.
      in_match = !(args.size() == 1 && lower(args[0]) == "all");
      return;
    }
    if (in_match) return;
    if (key == "include") {
      if (depth >= 16) return;  // sshd's own limit on Include nesting.
      for (const auto& pattern : args) {
        for (const auto& [path, body] : include(pattern)) {
          out.files.push_back(path);
          parse_sshd_config(body, out, include, depth + 1);
        }
      }
      return;
    }
    if (key == "allowusers" || key == "allowgroups" || key == "denyusers" || key == "denygroups") {
      auto& v = out.settings[key];
      v.insert(v.end(), args.begin(), args.end());
      return;
    }
    // sshd keeps the first value it reads for every other keyword.
    if (out.settings.count(key) == 0 && !args.empty()) out.settings[key] = args;
  });
}

void parse_sshd_t(std::string_view text, SshdFacts& out) {
  for_each_line(text, [&](std::string_view raw) {
    std::vector<std::string> words = split_ws(trim(raw));
    if (words.empty()) return;
    std::string key = lower(words[0]);
    auto& v = out.settings[key];
    v.insert(v.end(), words.begin() + 1, words.end());
  });
}

Result<SshdFacts> sshd_effective(const std::string& config_file, std::chrono::seconds timeout) {
  auto sshd = find_program("sshd");
  if (!sshd) return make_error(Errc::kNotFound, "sshd is not installed");
  GC_ASSIGN_OR_RETURN(CommandOutput r, run_command({*sshd, "-T", "-f", config_file}, timeout));
  if (!r.status.success()) {
    return make_error(Errc::kInvalidArgument,
                      "sshd -T: " + r.status.to_string() + ": " + last_line(r.out));
  }
  SshdFacts f;
  f.installed = true;
  f.source = "sshd -T";
  parse_sshd_t(r.out, f);
  return f;
}

SshdFacts gather_sshd(const std::string& root, std::chrono::seconds timeout) {
  SshdFacts f;
  std::string main = root + "/etc/ssh/sshd_config";
  auto text = read_file(main);
  if (!text) {
    if (text.error().code != Errc::kNotFound) f.error = text.error().message;
    return f;
  }
  std::string why_not_t;
  if (root.empty()) {
    auto t = sshd_effective(main, std::min(timeout, std::chrono::seconds(15)));
    if (t) return *t;
    why_not_t = " (sshd -T failed: " + t.error().message + ")";
  }
  f.installed = true;
  parse_sshd_config(*text, f,
                    [&root](const std::string& pattern) { return read_include(root, pattern); });
  f.source = "parsed " + main;
  if (!f.files.empty()) f.source += " + " + std::to_string(f.files.size()) + " drop-in(s)";
  f.source += why_not_t;
  return f;
}

// ---- firewall --------------------------------------------------------------------------------

namespace {

void add_allowed(FirewallFacts& out, const std::string& ports, const std::string& proto) {
  size_t pos = 0;
  while (pos <= ports.size()) {
    size_t comma = ports.find(',', pos);
    std::string p = ports.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!p.empty()) {
      for (const char* pr : {"tcp", "udp"}) {
        if (proto != "any" && proto != pr) continue;
        std::string entry = p + "/" + std::string(pr);
        if (std::find(out.allowed.begin(), out.allowed.end(), entry) == out.allowed.end())
          out.allowed.push_back(entry);
      }
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
}

}  // namespace

void parse_ufw_status(std::string_view text, FirewallFacts& out) {
  bool in_rules = false;
  for_each_line(text, [&](std::string_view raw) {
    std::string line = trim(raw);
    if (line.rfind("Status:", 0) == 0) {
      out.enabled = trim(line.substr(7)) == "active";
    } else if (line.rfind("Default:", 0) == 0) {
      out.default_deny_incoming = line.find("deny (incoming)") != std::string::npos ||
                                  line.find("reject (incoming)") != std::string::npos;
    } else if (line.rfind("--", 0) == 0) {
      in_rules = true;
    } else if (in_rules && !line.empty()) {
      // Columns are separated by runs of two or more spaces: To, Action, From.
      std::vector<std::string> cols;
      size_t i = 0;
      while (i < line.size()) {
        size_t sep = line.find("  ", i);
        std::string c =
            trim(line.substr(i, sep == std::string::npos ? std::string::npos : sep - i));
        if (!c.empty()) cols.push_back(c);
        if (sep == std::string::npos) break;
        i = line.find_first_not_of(' ', sep);
        if (i == std::string::npos) break;
      }
      if (cols.size() < 2) return;
      std::string action = cols[1];
      bool allows = action.rfind("ALLOW", 0) == 0 || action.rfind("LIMIT", 0) == 0;
      if (!allows || action.find("OUT") != std::string::npos) return;
      std::string to = cols[0];
      if (size_t v6 = to.find(" (v6)"); v6 != std::string::npos) to.erase(v6);
      size_t slash = to.find('/');
      if (slash == std::string::npos) {
        add_allowed(out, to, "any");
      } else {
        add_allowed(out, to.substr(0, slash), to.substr(slash + 1));
      }
    }
  });
}

void parse_ufw_user_rules(std::string_view text, FirewallFacts& out) {
  for_each_line(text, [&](std::string_view raw) {
    std::string line = trim(raw);
    const std::string tag = "### tuple ###";
    if (line.rfind(tag, 0) != 0) return;
    // ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] DIRECTION
    std::vector<std::string> w = split_ws(line.substr(tag.size()));
    if (w.size() < 6) return;
    std::string action = w[0];
    if (action.rfind("allow", 0) != 0 && action.rfind("limit", 0) != 0) return;
    if (w.size() >= 7 && w.back() != "in" && w.back().rfind("in_", 0) != 0) return;
    add_allowed(out, w[2], w[1]);
  });
}

namespace {

FirewallFacts gather_firewall(const std::string& root, std::chrono::seconds timeout) {
  FirewallFacts f;
  auto conf = read_file(root + "/etc/ufw/ufw.conf");
  f.installed = conf.has_value();
  auto ufw = root.empty() ? find_program("ufw") : std::nullopt;
  if (ufw) {
    f.installed = true;
    auto r = run_command({*ufw, "status", "verbose"}, std::min(timeout, std::chrono::seconds(15)));
    if (!r) {
      f.error = r.error().message;
      return f;
    }
    if (!r->status.success()) {
      f.error = "ufw status verbose: " + r->status.to_string() + ": " + last_line(r->out);
      return f;
    }
    f.source = "ufw status verbose";
    parse_ufw_status(r->out, f);
    if (f.enabled) return f;
    // An inactive ufw prints no rules: read what it would apply.
    f.source = "ufw status verbose (inactive) + user.rules";
  }
  if (!f.installed) return f;
  if (!ufw) {
    f.source = root + "/etc/ufw/ufw.conf + user.rules";
    for_each_line(*conf, [&](std::string_view l) {
      std::string t = trim(l);
      if (t.rfind("ENABLED=", 0) == 0) f.enabled = lower(trim(t.substr(8))) == "yes";
    });
  }
  if (auto d = read_file(root + "/etc/default/ufw")) {
    for_each_line(*d, [&](std::string_view l) {
      std::string t = trim(l);
      if (t.rfind("DEFAULT_INPUT_POLICY=", 0) == 0) {
        std::string v = t.substr(21);
        f.default_deny_incoming =
            v.find("DROP") != std::string::npos || v.find("REJECT") != std::string::npos;
      }
    });
  }
  for (const char* name : {"/etc/ufw/user.rules", "/etc/ufw/user6.rules"}) {
    if (auto rules = read_file(root + name)) parse_ufw_user_rules(*rules, f);
  }
  return f;
}

}  // namespace

// ---- listeners -------------------------------------------------------------------------------

std::vector<Listener> parse_proc_net_tcp(std::string_view text, bool ipv6) {
  std::vector<Listener> out;
  bool header = true;
  for_each_line(text, [&](std::string_view raw) {
    if (header) {
      header = false;
      return;
    }
    std::vector<std::string> w = split_ws(raw);
    // "sl local_address rem_address st ...": local is HEXADDR:HEXPORT, st 0A is LISTEN.
    if (w.size() < 4 || w[3] != "0A") return;
    const std::string& local = w[1];
    size_t colon = local.find(':');
    if (colon == std::string::npos) return;
    std::string hex = local.substr(0, colon);
    Listener l;
    l.ipv6 = ipv6;
    l.port = static_cast<std::uint16_t>(std::strtoul(local.c_str() + colon + 1, nullptr, 16));
    // The kernel prints each 32-bit word of the address as a host-order number ("%08X"), so
    // parsing it back as a number and storing it in host order restores the bytes.
    size_t words = ipv6 ? 4 : 1;
    if (hex.size() != words * 8) return;
    unsigned char bytes[16] = {};
    for (size_t i = 0; i < words; ++i) {
      auto v = static_cast<std::uint32_t>(std::strtoul(hex.substr(i * 8, 8).c_str(), nullptr, 16));
      std::memcpy(bytes + i * 4, &v, 4);
    }
    char buf[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, buf, sizeof buf) == nullptr) return;
    l.address = buf;
    out.push_back(std::move(l));
  });
  return out;
}

ListenerFacts gather_listeners(const std::string& proc_net_dir) {
  ListenerFacts f;
  f.source = proc_net_dir + "/tcp, tcp6";
  for (bool v6 : {false, true}) {
    auto text = read_file(proc_net_dir + (v6 ? "/tcp6" : "/tcp"));
    if (!text) {
      // No IPv6 in the kernel: no tcp6 file, and nothing listens on IPv6.
      if (v6 && text.error().code == Errc::kNotFound) continue;
      f.error = text.error().message;
      return f;
    }
    auto l = parse_proc_net_tcp(*text, v6);
    f.listeners.insert(f.listeners.end(), l.begin(), l.end());
  }
  return f;
}

// ---- fail2ban --------------------------------------------------------------------------------

std::vector<std::string> parse_fail2ban_jails(std::string_view text) {
  std::vector<std::string> out;
  for_each_line(text, [&](std::string_view raw) {
    size_t at = raw.find("Jail list:");
    if (at == std::string_view::npos) return;
    std::string list(raw.substr(at + 10));
    for (char& c : list) {
      if (c == ',') c = ' ';
    }
    for (auto& j : split_ws(list)) out.push_back(j);
  });
  return out;
}

namespace {

Fail2banFacts gather_fail2ban(const std::string& root, std::chrono::seconds timeout) {
  Fail2banFacts f;
  if (!root.empty()) {
    f.skipped = true;
    f.error = "live state: not read under --root";
    return f;
  }
  auto client = find_program("fail2ban-client");
  if (!client) {
    f.error = "fail2ban-client is not installed";
    return f;
  }
  auto r = run_command({*client, "status"}, std::min(timeout, std::chrono::seconds(15)));
  if (!r) {
    f.error = r.error().message;
  } else if (!r->status.success()) {
    f.error = "fail2ban-client status: " + r->status.to_string() + ": " + last_line(r->out);
  } else {
    f.running = true;
    f.jails = parse_fail2ban_jails(r->out);
  }
  return f;
}

}  // namespace

// ---- PostgreSQL ------------------------------------------------------------------------------

PostgresFacts gather_postgres(const config::Config& cfg) {
  PostgresFacts f;
  if (!cfg.postgres) return f;
  f.configured = true;
  if (cfg.postgres->manage) f.app_role = cfg.postgres->manage->app_role;
  auto target = backup::pg_target_from_config(cfg);
  if (!target) {
    f.error = target.error().message;
    return f;
  }
  target->dbname = "postgres";
  auto conn = backup::PgConnection::connect(*target);
  if (!conn) {
    f.error = conn.error().message;
    return f;
  }
  (void)conn->exec("SET statement_timeout = '10s'");
  auto listen = conn->query("SHOW listen_addresses");
  if (!listen || listen->empty() || listen->front().empty()) {
    f.error = listen ? "SHOW listen_addresses: no row" : listen.error().message;
    return f;
  }
  f.listen_addresses = listen->front().front();
  auto hba = conn->query(
      "SELECT line_number, type, array_to_string(database, ','), array_to_string(user_name, ','),"
      " coalesce(address, ''), coalesce(netmask, ''), coalesce(auth_method, '')"
      " FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number");
  if (!hba) {
    f.error = hba.error().message;
    return f;
  }
  for (const auto& row : *hba) {
    if (row.size() < 7) continue;
    f.hba.push_back({std::atoi(row[0].c_str()), row[1], row[2], row[3], row[4], row[5], row[6]});
  }
  if (!f.app_role.empty()) {
    auto su = conn->query("SELECT rolsuper FROM pg_roles WHERE rolname = " +
                          conn->quote_literal(f.app_role));
    if (!su) {
      f.error = su.error().message;
      return f;
    }
    if (!su->empty() && !su->front().empty()) f.app_role_superuser = su->front().front() == "t";
  }
  return f;
}

// ---- files, disk, certificates, backups, updates ----------------------------------------------

FileFact stat_secret(const std::string& root, std::string what, std::string path) {
  FileFact f;
  f.what = std::move(what);
  f.path = std::move(path);
  struct stat st {};
  if (::stat((root + f.path).c_str(), &st) == 0) {
    f.exists = true;
    f.mode = st.st_mode & 07777;
  } else if (errno != ENOENT && errno != ENOTDIR) {
    f.error = sys_error("stat", f.path, errno).message;
  }
  return f;
}

namespace {

std::vector<FileFact> gather_secret_files(const config::Config& cfg, const std::string& root) {
  std::vector<std::pair<std::string, std::string>> files;
  if (!cfg.http.token_file.empty()) files.emplace_back("http.token_file", cfg.http.token_file);
  if (cfg.postgres) {
    if (!cfg.postgres->password_file.empty())
      files.emplace_back("postgres.password_file", cfg.postgres->password_file);
    if (cfg.postgres->manage && !cfg.postgres->manage->app_password_file.empty())
      files.emplace_back("postgres.app_password_file", cfg.postgres->manage->app_password_file);
  }
  for (const auto& s : cfg.services) {
    if (!s.env_file.empty()) files.emplace_back("service " + s.name + " env_file", s.env_file);
  }
  if (cfg.backup && cfg.backup->s3 && !cfg.backup->s3->credentials_file.empty())
    files.emplace_back("backup.s3.credentials_file", cfg.backup->s3->credentials_file);
  for (const auto& n : cfg.notify) {
    if (!n.password_file.empty())
      files.emplace_back("notify " + n.name + " password_file", n.password_file);
  }
  if (cfg.nginx) {
    files.emplace_back("nginx certificate_key", config::nginx_certificate_key_path(cfg));
  } else if (cfg.tls) {
    files.emplace_back("tls private key", cfg.tls->cert_dir + "/privkey.pem");
  }
  std::vector<FileFact> out;
  for (auto& [what, path] : files) out.push_back(stat_secret(root, what, path));
  return out;
}

DiskFacts gather_disk(const std::string& root) {
  DiskFacts d;
  d.path = root.empty() ? "/" : root;
  struct statvfs v {};
  if (::statvfs(d.path.c_str(), &v) != 0) {
    d.error = sys_error("statvfs", d.path, errno).message;
    return d;
  }
  // df's "Use%": used over what non-root users can use (used + available).
  double used = static_cast<double>(v.f_blocks - v.f_bfree);
  double avail = static_cast<double>(v.f_bavail);
  d.used_ratio = used + avail > 0 ? used / (used + avail) : 0;
  return d;
}

std::vector<CertFact> gather_certificates(const config::Config& cfg, const std::string& root) {
  std::vector<std::string> paths;
  if (cfg.nginx) {
    paths.push_back(config::nginx_certificate_path(cfg));
  } else if (cfg.tls) {
    paths.push_back(cfg.tls->cert_dir + "/fullchain.pem");
  }
  for (const auto& f : cfg.monitor.tls_files) {
    if (std::find(paths.begin(), paths.end(), f) == paths.end()) paths.push_back(f);
  }
  std::vector<CertFact> out;
  for (const auto& p : paths) {
    monitor::CertFacts facts = monitor::inspect_cert_file(root + p, "", monitor::TlsOptions{});
    CertFact c;
    c.path = p;
    if (!facts.ok) {
      c.error = facts.error;
    } else {
      c.not_after = facts.not_after;
    }
    out.push_back(std::move(c));
  }
  return out;
}

BackupFacts gather_backup(const config::Config& cfg, const std::string& root) {
  BackupFacts b;
  if (!cfg.backup) return b;
  b.configured = true;
  std::string dir = root + cfg.server.state_dir;
  // Never create a state store just to look at it (under --root, or before the first run).
  if (!exists(dir + "/state.db")) return b;
  auto catalog = backup::Catalog::open(dir);
  if (!catalog) {
    b.error = catalog.error().message;
    return b;
  }
  auto st = catalog->status();
  if (!st) {
    b.error = st.error().message;
    return b;
  }
  if (st->last_success) {
    if (auto t = parse_utc(st->last_success->finished_at)) {
      b.last_success = t->time_since_epoch().count();
    }
  }
  if (st->last_set) {
    b.last_set = st->last_set->id;
    b.verify_result = st->last_set->verify_result;
  }
  return b;
}

}  // namespace

std::vector<std::string> parse_apt_security(std::string_view text) {
  std::vector<std::string> out;
  for_each_line(text, [&](std::string_view raw) {
    if (raw.rfind("Inst ", 0) != 0 || raw.find("-security") == std::string_view::npos) return;
    std::vector<std::string> w = split_ws(raw);
    if (w.size() >= 2) out.push_back(w[1]);
  });
  return out;
}

bool parse_auto_upgrades(std::string_view text) {
  bool lists = false, upgrade = false;
  for_each_line(text, [&](std::string_view raw) {
    std::string line = trim(raw);
    if (line.rfind("//", 0) == 0 || line.rfind("#", 0) == 0) return;
    bool on = line.find("\"1\"") != std::string::npos;
    if (line.find("APT::Periodic::Update-Package-Lists") != std::string::npos) lists = on;
    if (line.find("APT::Periodic::Unattended-Upgrade") != std::string::npos) upgrade = on;
  });
  return lists && upgrade;
}

namespace {

UpdateFacts gather_updates(const std::string& root, std::chrono::seconds timeout) {
  UpdateFacts u;
  std::string file = "/etc/apt/apt.conf.d/20auto-upgrades";
  auto text = read_file(root + file);
  if (!text) {
    u.unattended_evidence = root + file + " is missing";
  } else if (!parse_auto_upgrades(*text)) {
    u.unattended_evidence =
        root + file + ": Update-Package-Lists and Unattended-Upgrade are not both \"1\"";
  } else if (!exists(root + "/usr/bin/unattended-upgrade")) {
    u.unattended_evidence = root + file + " turns it on, but unattended-upgrades is not installed";
  } else {
    u.unattended_enabled = true;
    u.unattended_evidence = root + file + ": Update-Package-Lists \"1\", Unattended-Upgrade \"1\"";
  }
  if (!root.empty()) {
    u.skipped = true;
    u.error = "live state: not read under --root";
    return u;
  }
  auto apt = find_program("apt-get");
  if (!apt) {
    u.skipped = true;
    u.error = "apt-get is not installed";
    return u;
  }
  // A simulation reads the package lists as they are (no `apt-get update`: that is the timer's
  // job) and takes no lock, so it never waits for or blocks a running apt.
  auto r = run_command({*apt, "-s", "-o", "Debug::NoLocking=1", "upgrade"}, timeout);
  if (!r) {
    u.error = r.error().message;
  } else if (!r->status.success()) {
    u.error = "apt-get -s upgrade: " + r->status.to_string() + ": " + last_line(r->out);
  } else {
    u.security_pending = parse_apt_security(r->out);
  }
  return u;
}

}  // namespace

Evidence gather(const config::Config& cfg, const Options& options) {
  const std::string& root = options.root;
  Evidence e;
  e.now = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  e.daemon_is_root = ::geteuid() == 0;
  e.sshd = gather_sshd(root, options.command_timeout);
  e.firewall = gather_firewall(root, options.command_timeout);
  if (root.empty()) {
    e.listeners = gather_listeners("/proc/net");
  } else if (exists(root + "/proc/net/tcp")) {
    e.listeners = gather_listeners(root + "/proc/net");
  } else {
    e.listeners.skipped = true;
    e.listeners.error = "live state: not read under --root";
  }
  e.fail2ban = gather_fail2ban(root, options.command_timeout);
  // PostgreSQL is a live server: under --root there is nothing to connect to.
  if (root.empty()) e.postgres = gather_postgres(cfg);
  e.secret_files = gather_secret_files(cfg, root);
  e.disk = gather_disk(root);
  e.certificates = gather_certificates(cfg, root);
  e.backup = gather_backup(cfg, root);
  e.updates = gather_updates(root, options.command_timeout);
  return e;
}

}  // namespace gc::audit

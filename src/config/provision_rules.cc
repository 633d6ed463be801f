// SPDX-License-Identifier: MIT
// config/provision_rules.cc: the rules of [nginx], [firewall], [ssh] and [fail2ban], the
// sections provision/ renders into managed files. Every value that ends up in a rendered file is
// checked here for the characters that file's syntax would misread (no injection through config).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/detail/validate.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kNginxKeys[] = {
    "domain",          "upstream",  "websocket", "client_max_body_size",
    "rate_limit",      "limit",     "static",    "certificate",
    "certificate_key", "acme_root", "site_file", "access_log"};
constexpr std::string_view kRateLimitKeys[] = {"rate", "burst"};
constexpr std::string_view kLimitKeys[] = {"paths", "rate", "burst"};
constexpr std::string_view kStaticKeys[] = {"location", "root"};
constexpr std::string_view kFirewallKeys[] = {"allow", "limit_ssh"};
constexpr std::string_view kSshKeys[] = {"allow_users", "port", "max_auth_tries", "drop_in"};
constexpr std::string_view kFail2banKeys[] = {"jails",    "sshd_backend", "sshd_log", "maxretry",
                                              "findtime", "bantime",      "jail_file"};
constexpr std::string_view kKnownJails[] = {"sshd", "nginx-limit-req", "nginx-botsearch",
                                            "nginx-http-auth"};

// Characters that would end or escape a token in nginx, fail2ban or sshd syntax.
bool has_unsafe_char(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == ';' || c == '{' || c == '}' || c == '"' || c == '\'' ||
        c == '\\' || c == '#' || c == '$') {
      return true;
    }
  }
  return false;
}

// nginx limit_req_zone rate: "10r/s" or "10r/m".
bool is_nginx_rate(std::string_view s) {
  std::size_t r = s.find("r/");
  if (r == 0 || r == std::string_view::npos || r + 3 != s.size()) return false;
  if (s[r + 2] != 's' && s[r + 2] != 'm') return false;
  if (s[0] == '0') return false;
  return std::all_of(s.begin(), s.begin() + static_cast<long>(r),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// nginx size: digits with an optional k/m/g suffix, any case ("500m", "1G", "0").
bool is_nginx_size(std::string_view s) {
  if (s.empty()) return false;
  std::string_view digits = s;
  char last = static_cast<char>(std::tolower(static_cast<unsigned char>(s.back())));
  if (last == 'k' || last == 'm' || last == 'g') digits.remove_suffix(1);
  if (digits.empty() || digits.size() > 12) return false;
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A user name useradd accepts by default on Debian: [a-z_][a-z0-9_-]*, at most 32 characters.
bool is_user_name(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  if (!(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// A path read with read_path that also goes into a rendered file verbatim.
bool read_safe_path(TableReader& r, std::string_view key, std::string& out) {
  std::string path;
  if (!r.read_path(key, path)) return false;
  if (has_unsafe_char(path)) {
    r.error(r.get(key)->pos, key,
            "must not contain spaces, quotes, '#', '$', ';', '{', '}' or control characters");
    return false;
  }
  out = path;
  return true;
}

// A URL path of a location: starts with '/', no characters nginx would misread.
bool check_url_path(TableReader& r, const Node& item, std::string_view key) {
  if (item.string.empty() || item.string.front() != '/') {
    r.error(item.pos, key, in_quotes(item.string) + " must start with '/'");
    return false;
  }
  if (has_unsafe_char(item.string)) {
    r.error(item.pos, key,
            in_quotes(item.string) +
                " must not contain spaces, quotes, '#', '$', ';', '{', '}' or control characters");
    return false;
  }
  return true;
}

// Keeps every location path unique: nginx -t refuses a duplicate location.
class LocationSet {
 public:
  LocationSet() { seen_.emplace("/", "the main location"); }
  bool add(TableReader& r, const Node& item, std::string_view key, std::string owner) {
    auto [it, inserted] = seen_.emplace(item.string, owner);
    if (!inserted) {
      r.error(item.pos, key, in_quotes(item.string) + " is already used by " + it->second);
    }
    return inserted;
  }

 private:
  std::map<std::string, std::string> seen_;
};

void read_rate(TableReader& r, std::string& rate) {
  std::string text;
  if (!r.read_string("rate", text)) return;
  if (!text.empty() && !is_nginx_rate(text)) {
    r.error(r.get("rate")->pos, "rate",
            "expected requests per second or minute, like \"10r/s\" or \"10r/m\", got " +
                in_quotes(text));
    return;
  }
  rate = text;
}

void read_rate_limit(TableReader& r, NginxConfig& nginx) {
  const Node* v = r.get("rate_limit");
  if (!v) return;
  if (v->kind != Node::Kind::kTable) {
    r.type_error(*v, "rate_limit", "table such as rate_limit = { rate = \"10r/s\", burst = 20 }");
    return;
  }
  TableReader t(r.checker(), *v, r.context(), "nginx.rate_limit.", "in nginx.rate_limit");
  t.reject_unknown(kRateLimitKeys);
  read_rate(t, nginx.rate);
  t.read_int("burst", nginx.burst, 0, 100000);
}

void read_limits(Checker& checker, TableReader& r, NginxConfig& nginx, LocationSet& locations) {
  for_each_table(r, "limit", "nginx.limit", [&](const Node& item, int index) {
    std::string name = "nginx.limit #" + std::to_string(index);
    TableReader l(checker, item, name + ": ", "", "in [[nginx.limit]]");
    l.reject_unknown(kLimitKeys);
    NginxLimitConfig limit;
    std::vector<const Node*> paths;
    if (!l.has("paths")) {
      missing(l, "paths", "paths = [\"/api/login\"]");
    } else if (string_items(l, "paths", "[\"/api/login\"]", paths) && paths.empty()) {
      l.error(l.get("paths")->pos, "paths", "must list at least one path");
    }
    for (const Node* p : paths) {
      if (check_url_path(l, *p, "paths") && locations.add(l, *p, "paths", name)) {
        limit.paths.push_back(p->string);
      }
    }
    read_rate(l, limit.rate);
    if (limit.rate.empty()) {
      l.error(l.get("rate")->pos, "rate", "must not be empty (remove the [[nginx.limit]] instead)");
    }
    l.read_int("burst", limit.burst, 0, 100000);
    nginx.limits.push_back(std::move(limit));
  });
}

void read_statics(Checker& checker, TableReader& r, NginxConfig& nginx, LocationSet& locations) {
  for_each_table(r, "static", "nginx.static", [&](const Node& item, int index) {
    std::string name = "nginx.static #" + std::to_string(index);
    TableReader s(checker, item, name + ": ", "", "in [[nginx.static]]");
    s.reject_unknown(kStaticKeys);
    NginxStaticConfig st;
    if (!s.has("location")) {
      missing(s, "location", "location = \"/static/\"");
    } else if (s.read_string("location", st.location)) {
      const Node& loc = *s.get("location");
      if (check_url_path(s, loc, "location")) {
        if (st.location.back() != '/') {
          s.error(loc.pos, "location",
                  in_quotes(st.location) + " must end with '/' (like \"/static/\")");
        } else {
          locations.add(s, loc, "location", name);
        }
      }
    }
    if (!s.has("root")) {
      missing(s, "root", "root = \"/var/www/orbital/static\"");
    } else if (s.get("root")->kind == Node::Kind::kString && !s.get("root")->string.empty() &&
               s.get("root")->string.front() != '/') {
      s.error(s.get("root")->pos, "root", "must be an absolute path");
    } else {
      read_safe_path(s, "root", st.root);
    }
    nginx.statics.push_back(std::move(st));
  });
}

void read_upstream(TableReader& r, const Config& config, NginxConfig& nginx) {
  if (!r.has("upstream")) {
    missing(r, "upstream", "upstream = \"orbital-backend\"");
    return;
  }
  if (!r.read_string("upstream", nginx.upstream)) return;
  Position pos = r.get("upstream")->pos;
  const ServiceConfig* service = config.find_service(nginx.upstream);
  if (!service) {
    r.error(pos, "upstream", "no [[service]] is named " + in_quotes(nginx.upstream));
  } else if (service->listen.empty()) {
    r.error(pos, "upstream",
            "service " + in_quotes(nginx.upstream) +
                " has no listen address to proxy to: add listen = [\"127.0.0.1:3000\"] to it");
  }
}

void read_nginx(Checker& checker, const Node& root, Config& config) {
  const Node* table = section(checker, root, "nginx");
  if (!table) return;
  TableReader r(checker, *table, "", "nginx.", "in [nginx]");
  r.reject_unknown(kNginxKeys);
  NginxConfig nginx;
  if (!r.has("domain")) {
    missing(r, "domain", "domain = \"api.example.org\"");
  } else if (r.read_string("domain", nginx.domain) && !is_dns_name(nginx.domain)) {
    r.error(r.get("domain")->pos, "domain",
            in_quotes(nginx.domain) + " is not a host name (like \"api.example.org\")");
  }
  read_upstream(r, config, nginx);
  LocationSet locations;
  std::vector<const Node*> ws;
  if (string_items(r, "websocket", "[\"/v1/websocket\"]", ws)) {
    for (const Node* p : ws) {
      if (check_url_path(r, *p, "websocket") && locations.add(r, *p, "websocket", "websocket")) {
        nginx.websocket.push_back(p->string);
      }
    }
  }
  std::string size;
  if (r.read_string("client_max_body_size", size)) {
    if (!is_nginx_size(size)) {
      r.error(r.get("client_max_body_size")->pos, "client_max_body_size",
              "expected an nginx size: digits with an optional k, m or g, like \"500m\"; got " +
                  in_quotes(size));
    } else {
      nginx.client_max_body_size = size;
    }
  }
  read_rate_limit(r, nginx);
  read_limits(checker, r, nginx, locations);
  read_statics(checker, r, nginx, locations);
  read_safe_path(r, "certificate", nginx.certificate);
  read_safe_path(r, "certificate_key", nginx.certificate_key);
  if (r.has("certificate") != r.has("certificate_key")) {
    bool has_cert = r.has("certificate");
    r.error(r.get(has_cert ? "certificate" : "certificate_key")->pos,
            has_cert ? "certificate" : "certificate_key",
            "set both certificate and certificate_key, or neither (groundctl's ACME "
            "certificate is used then)");
  }
  read_safe_path(r, "acme_root", nginx.acme_root);
  read_safe_path(r, "site_file", nginx.site_file);
  read_safe_path(r, "access_log", nginx.access_log);
  config.nginx = std::move(nginx);
}

// "PORT/tcp" or "PORT/udp" with PORT in 1..65535.
bool is_port_rule(std::string_view s) {
  std::size_t slash = s.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash > 5) return false;
  std::string_view proto = s.substr(slash + 1);
  if (proto != "tcp" && proto != "udp") return false;
  std::string_view digits = s.substr(0, slash);
  if (digits[0] == '0') return false;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return std::stoi(std::string(digits)) <= 65535;
}

void read_firewall(Checker& checker, const Node& root, Config& config) {
  const Node* table = section(checker, root, "firewall");
  if (!table) return;
  TableReader r(checker, *table, "", "firewall.", "in [firewall]");
  r.reject_unknown(kFirewallKeys);
  FirewallConfig fw;
  std::vector<const Node*> items;
  if (string_items(r, "allow", "[\"22/tcp\", \"80/tcp\", \"443/tcp\"]", items)) {
    fw.allow.clear();
    std::set<std::string> seen;
    for (const Node* i : items) {
      if (!is_port_rule(i->string)) {
        r.error(i->pos, "allow",
                in_quotes(i->string) + " is not PORT/tcp or PORT/udp (PORT 1..65535), like " +
                    "\"443/tcp\"");
      } else if (!seen.insert(i->string).second) {
        r.error(i->pos, "allow", in_quotes(i->string) + " is listed twice");
      } else {
        fw.allow.push_back(i->string);
      }
    }
  }
  r.read_bool("limit_ssh", fw.limit_ssh);
  config.firewall = std::move(fw);
}

void read_ssh(Checker& checker, const Node& root, Config& config) {
  const Node* table = section(checker, root, "ssh");
  if (!table) return;
  TableReader r(checker, *table, "", "ssh.", "in [ssh]");
  r.reject_unknown(kSshKeys);
  SshConfig ssh;
  std::vector<const Node*> users;
  if (!r.has("allow_users")) {
    missing(r, "allow_users", "allow_users = [\"orbital\"]");
  } else if (string_items(r, "allow_users", "[\"orbital\"]", users)) {
    if (users.empty()) {
      r.error(r.get("allow_users")->pos, "allow_users",
              "must name at least one user, or nobody could log in");
    }
    std::set<std::string> seen;
    for (const Node* u : users) {
      if (!is_user_name(u->string)) {
        r.error(u->pos, "allow_users",
                in_quotes(u->string) +
                    " is not a valid user name (lowercase letters, digits, '_' and '-')");
      } else if (u->string == "root") {
        r.error(u->pos, "allow_users",
                "\"root\" cannot log in over SSH (PermitRootLogin no): name an admin user");
      } else if (!seen.insert(u->string).second) {
        r.error(u->pos, "allow_users", in_quotes(u->string) + " is listed twice");
      } else {
        ssh.allow_users.push_back(u->string);
      }
    }
  }
  r.read_int("port", ssh.port, 1, 65535);
  r.read_int("max_auth_tries", ssh.max_auth_tries, 1, 10);
  read_safe_path(r, "drop_in", ssh.drop_in);
  config.ssh = std::move(ssh);
}

void read_fail2ban(Checker& checker, const Node& root, Config& config) {
  const Node* table = section(checker, root, "fail2ban");
  if (!table) return;
  TableReader r(checker, *table, "", "fail2ban.", "in [fail2ban]");
  r.reject_unknown(kFail2banKeys);
  Fail2banConfig f2b;
  std::vector<const Node*> jails;
  if (string_items(r, "jails", "[\"sshd\", \"nginx-limit-req\", \"nginx-botsearch\"]", jails)) {
    f2b.jails.clear();
    std::set<std::string> seen;
    for (const Node* j : jails) {
      bool known = std::find(std::begin(kKnownJails), std::end(kKnownJails), j->string) !=
                   std::end(kKnownJails);
      if (!known) {
        r.error(j->pos, "jails",
                "unknown jail " + in_quotes(j->string) +
                    ": expected \"sshd\", \"nginx-limit-req\", \"nginx-botsearch\" or "
                    "\"nginx-http-auth\"");
      } else if (!seen.insert(j->string).second) {
        r.error(j->pos, "jails", in_quotes(j->string) + " is listed twice");
      } else {
        f2b.jails.push_back(j->string);
      }
    }
  }
  std::string backend;
  if (r.read_string("sshd_backend", backend)) {
    if (backend != "systemd" && backend != "auto" && backend != "polling") {
      r.error(r.get("sshd_backend")->pos, "sshd_backend",
              "expected \"systemd\", \"auto\" or \"polling\", got " + in_quotes(backend));
    } else {
      f2b.sshd_backend = backend;
    }
  }
  read_safe_path(r, "sshd_log", f2b.sshd_log);
  r.read_int("maxretry", f2b.maxretry, 1, 1000);
  r.read_duration("findtime", f2b.findtime, true);
  r.read_duration("bantime", f2b.bantime, true);
  read_safe_path(r, "jail_file", f2b.jail_file);
  bool sshd_jail = std::find(f2b.jails.begin(), f2b.jails.end(), "sshd") != f2b.jails.end();
  if (sshd_jail && f2b.sshd_backend != "systemd" && f2b.sshd_log.empty() && r.has("sshd_backend")) {
    r.error(r.get("sshd_backend")->pos, "sshd_backend",
            "backend " + in_quotes(f2b.sshd_backend) +
                " reads a log file: set fail2ban.sshd_log (like \"/var/log/auth.log\")");
  }
  config.fail2ban = std::move(f2b);
}

// The firewall must let the SSH port in, or the next `apply` locks the operator out.
void check_ssh_allowed(Checker& checker, const Node& root, const Config& config) {
  if (!config.firewall || !config.ssh) return;
  std::string rule = std::to_string(config.ssh->port) + "/tcp";
  const auto& allow = config.firewall->allow;
  if (std::find(allow.begin(), allow.end(), rule) != allow.end()) return;
  const Node* fw = root.find("firewall") ? &root.find("firewall")->value : nullptr;
  if (!fw) return;
  const Member* m = fw->find("allow");
  Position pos = m ? m->value.pos : fw->pos;
  checker.error(pos, "firewall.allow: would lock you out: add " + in_quotes(rule) +
                         " (the SSH port of [ssh])");
}

}  // namespace

void read_provision_sections(Checker& checker, const Node& root, Config& config) {
  read_nginx(checker, root, config);
  read_firewall(checker, root, config);
  read_ssh(checker, root, config);
  read_fail2ban(checker, root, config);
  check_ssh_allowed(checker, root, config);
}

}  // namespace gc::config::detail

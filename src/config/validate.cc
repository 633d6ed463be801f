// SPDX-License-Identifier: MIT
// config/validate.cc: the top level, [server] and [http], and the checks across services.
// [postgres] and [backup] are in backup_rules.cc, [deploy] in deploy_rules.cc.
#include "config/detail/validate.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "config/listen_address.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kTopLevelKeys[] = {
    "server",  "http",  "service", "postgres", "backup", "deploy",   "notify",
    "monitor", "alert", "nginx",   "firewall", "ssh",    "fail2ban", "tls"};
constexpr std::string_view kServerKeys[] = {"name", "state_dir", "log_dir", "runtime_dir",
                                            "admin_group"};
constexpr std::string_view kHttpKeys[] = {"listen", "token_file"};

// getpwnam_r/getgrnam_r need a caller buffer whose right size only ERANGE reveals.
template <typename Entry, typename Lookup>
bool lookup_name(const std::string& name, std::string& error, Lookup lookup) {
  long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
  Entry entry{};
  Entry* found = nullptr;
  for (;;) {
    int rc = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    // "Not found" is reported as 0 with a null result, or as one of these errnos by some NSS
    // modules (getpwnam_r(3) lists them).
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
      return found != nullptr;
    }
    error = std::strerror(rc);
    return false;
  }
}

void read_server(Checker& checker, const Node& root, ServerConfig& server) {
  const Member* m = root.find("server");
  if (!m) return;
  if (m->value.kind != Node::Kind::kTable) {
    TableReader top(checker, root, "", "", "");
    top.type_error(m->value, "server", "table ([server])");
    return;
  }
  TableReader r(checker, m->value, "", "server.", "in [server]");
  r.reject_unknown(kServerKeys);
  r.read_string("name", server.name);
  r.read_path("state_dir", server.state_dir);
  r.read_path("log_dir", server.log_dir);
  r.read_path("runtime_dir", server.runtime_dir);
  std::string group;
  if (r.read_string("admin_group", group)) {
    Position pos = r.get("admin_group")->pos;
    std::string lookup_error;
    if (group.empty()) {
      r.error(pos, "admin_group", "must not be empty (omit it to keep control.sock private)");
    } else if (!group_exists(group, lookup_error)) {
      r.error(pos, "admin_group",
              lookup_error.empty() ? "no such group " + in_quotes(group)
                                   : "cannot look up " + in_quotes(group) + ": " + lookup_error);
    } else {
      server.admin_group = group;
    }
  }
}

// Returns the parsed http.listen (for the conflict check) if it is valid.
std::optional<std::pair<ListenAddress, Position>> read_http(Checker& checker, const Node& root,
                                                            HttpConfig& http) {
  const Member* m = root.find("http");
  if (!m) {
    Result<ListenAddress> fallback = parse_listen_address(http.listen);
    if (!fallback) return std::nullopt;
    return std::pair(*fallback, Position{});
  }
  if (m->value.kind != Node::Kind::kTable) {
    TableReader top(checker, root, "", "", "");
    top.type_error(m->value, "http", "table ([http])");
    return std::nullopt;
  }
  TableReader r(checker, m->value, "", "http.", "in [http]");
  r.reject_unknown(kHttpKeys);
  r.read_path("token_file", http.token_file);
  std::string listen = http.listen;
  if (r.has("listen") && !r.read_string("listen", listen)) return std::nullopt;
  Result<ListenAddress> address = parse_listen_address(listen);
  Position pos = r.has("listen") ? r.get("listen")->pos : m->value.pos;
  if (!address) {
    r.error(pos, "listen", address.error().message);
    return std::nullopt;
  }
  http.listen = listen;
  if (!is_loopback(*address) && !r.has("token_file")) {
    r.error(pos, "listen",
            in_quotes(listen) +
                " is not a loopback address: set http.token_file to a file holding "
                "the API token");
  }
  return std::pair(*address, pos);
}

std::vector<ServiceConfig> read_services(Checker& checker, const Node& root,
                                         std::vector<ServiceSite>& sites) {
  std::vector<ServiceConfig> services;
  TableReader top(checker, root, "", "", "");
  for_each_table(top, "service", "service", [&](const Node& item, int index) {
    ServiceSite site;
    services.push_back(read_service(checker, item, index, site));
    sites.push_back(std::move(site));
  });
  return services;
}

void check_duplicate_names(Checker& checker, const std::vector<ServiceConfig>& services,
                           const std::vector<ServiceSite>& sites) {
  std::map<std::string, int> first_line;
  for (std::size_t i = 0; i < services.size(); ++i) {
    if (!sites[i].has_valid_name) continue;
    auto [it, inserted] = first_line.emplace(services[i].name, sites[i].name_pos.line);
    if (inserted) continue;
    checker.error(sites[i].name_pos, "service " + in_quotes(services[i].name) +
                                         ": name: duplicate service name (first defined on "
                                         "line " +
                                         std::to_string(it->second) + ")");
  }
}

// Two services (or one service twice, or a service and [http]) must not bind the same socket.
void check_listen_conflicts(Checker& checker, const std::vector<ServiceConfig>& services,
                            const std::vector<ServiceSite>& sites,
                            const std::optional<std::pair<ListenAddress, Position>>& http) {
  struct Bound {
    int owner;          // Index of the service; -1 for [http].
    std::string label;  // "service \"web\"" or "http.listen".
    const ListenAddress* address;
    Position pos;
  };
  std::vector<Bound> bound;
  if (http) bound.push_back({-1, "http.listen", &http->first, http->second});
  for (std::size_t i = 0; i < services.size(); ++i) {
    int owner = static_cast<int>(i);
    std::string label = "service " + in_quotes(services[i].name);
    for (const auto& [address, pos] : sites[i].listens) {
      for (const Bound& b : bound) {
        if (!addresses_conflict(*b.address, address)) continue;
        std::string where = b.pos.line > 0 ? "line " + std::to_string(b.pos.line) : "the default";
        std::string problem = b.owner == owner
                                  ? "is listed twice in this service"
                                  : "conflicts with " + b.label + " (" +
                                        in_quotes(b.address->text) + ", " + where + ")";
        checker.error(pos, label + ": listen: " + in_quotes(address.text) + " " + problem);
        break;
      }
      bound.push_back({owner, label, &address, pos});
    }
  }
}

}  // namespace

bool user_exists(const std::string& name, std::string& error) {
  return lookup_name<passwd>(name, error, getpwnam_r);
}

bool group_exists(const std::string& name, std::string& error) {
  return lookup_name<group>(name, error, getgrnam_r);
}

Config build_config(Checker& checker, const Node& root) {
  Config config;
  TableReader top(checker, root, "", "", "at the top level");
  top.reject_unknown(kTopLevelKeys);
  read_server(checker, root, config.server);
  std::optional<std::pair<ListenAddress, Position>> http = read_http(checker, root, config.http);
  std::vector<ServiceSite> sites;
  config.services = read_services(checker, root, sites);
  check_duplicate_names(checker, config.services, sites);
  check_listen_conflicts(checker, config.services, sites, http);
  read_backup_sections(checker, root, config);
  read_deploy_section(checker, root, config);
  read_notify_sections(checker, root, config);
  read_monitor_sections(checker, root, config);
  read_provision_sections(checker, root, config);
  read_tls_section(checker, root, config);
  return config;
}

}  // namespace gc::config::detail

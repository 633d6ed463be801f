// SPDX-License-Identifier: MIT
// config/deploy_rules.cc: the rules of [deploy], and its checks against [[service]] and [backup].
#include <map>
#include <string>
#include <vector>

#include "config/detail/validate.h"
#include "config/http_url.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kDeployKeys[] = {"service", "source", "subdir",  "root",
                                            "shared",  "build",  "migrate", "backup_before_migrate",
                                            "health",  "keep"};
constexpr std::string_view kHealthKeys[] = {"http", "path", "watch", "interval", "timeout"};

bool has_control_char(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Why `rel` is not a plain relative path inside a release ("uploads", "config/.env"), or empty.
std::string relative_problem(std::string_view rel) {
  if (rel.empty()) return "must not be empty";
  if (rel.front() == '/') return "must be relative to the release, got " + in_quotes(rel);
  if (has_control_char(rel)) return "must not contain control characters";
  std::size_t start = 0;
  while (start <= rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view part = rel.substr(start, end - start);
    if (part == "..") return "must stay inside the release (no \"..\"), got " + in_quotes(rel);
    if (part == "." || (part.empty() && end != rel.size())) {
      return "must be a normalised path (no \".\" or \"//\"), got " + in_quotes(rel);
    }
    start = end + 1;
  }
  return "";
}

// A git source is a URL ("https://...", "ssh://..."), scp-like ("git@host:org/repo.git") or a
// local path (resolved against the config's directory).
void read_source(TableReader& r, DeployConfig& deploy) {
  if (!r.has("source")) {
    missing(r, "source", "source = \"https://github.com/org/app.git\"");
    return;
  }
  std::string text;
  if (!r.read_string("source", text)) return;
  const Node& v = *r.get("source");
  if (text.empty() || has_control_char(text) || text.front() == '-') {
    r.error(v.pos, "source", "expected a git URL or a path");
    return;
  }
  std::size_t scheme = text.find("://");
  std::size_t colon = text.find(':');
  std::size_t slash = text.find('/');
  bool url = scheme != std::string::npos;
  bool scp_like =
      !url && colon != std::string::npos && (slash == std::string::npos || colon < slash);
  if (url) {
    std::string_view authority = std::string_view(text).substr(scheme + 3);
    authority = authority.substr(0, authority.find('/'));
    if (authority.find(':') != std::string_view::npos &&
        authority.find('@') != std::string_view::npos) {
      // Never echo it: it holds a password or token.
      r.error(v.pos, "source",
              "must not hold a password or token (it would show in logs and process lists): "
              "use an SSH deploy key or a git credential helper");
      return;
    }
    deploy.source = text;
  } else if (scp_like) {
    deploy.source = text;
  } else {
    r.path_value(v, "source", deploy.source);
  }
}

void read_subdir(TableReader& r, DeployConfig& deploy) {
  std::string text;
  if (!r.read_string("subdir", text)) return;
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  std::string problem = relative_problem(text);
  if (!problem.empty()) {
    r.error(r.get("subdir")->pos, "subdir", problem);
    return;
  }
  deploy.subdir = text;
}

void read_shared(TableReader& r, DeployConfig& deploy) {
  std::vector<const Node*> items;
  if (!string_items(r, "shared", "shared = [\".env\", \"uploads/\"]", items)) return;
  std::map<std::string, int> first_line;
  for (const Node* item : items) {
    std::string entry = item->string;
    std::string bare = entry;
    if (bare.size() > 1 && bare.back() == '/') bare.pop_back();
    std::string problem = relative_problem(bare);
    if (!problem.empty()) {
      r.error(item->pos, "shared", problem);
      continue;
    }
    auto [it, inserted] = first_line.emplace(bare, item->pos.line);
    if (!inserted) {
      r.error(
          item->pos, "shared",
          in_quotes(bare) + " is listed twice (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    deploy.shared.push_back(entry);
  }
}

// An array of argv arrays: build = [["npm", "ci"], ["npm", "run", "build"]].
void read_steps(TableReader& r, std::string_view key, std::vector<std::vector<std::string>>& out) {
  const Node* v = r.get(key);
  if (!v) return;
  std::string example = std::string(key) + " = [[\"npm\", \"ci\", \"--omit=dev\"]]";
  if (v->kind != Node::Kind::kArray) {
    r.type_error(*v, key, "array of commands such as " + example);
    return;
  }
  for (std::size_t i = 0; i < v->items.size(); ++i) {
    const Node& step = v->items[i];
    std::string label = std::string(key) + "[" + std::to_string(i) + "]";
    if (step.kind != Node::Kind::kArray || step.items.empty()) {
      r.error(step.pos, label,
              "expected a non-empty array of strings (a command), as in " + example);
      continue;
    }
    std::vector<std::string> argv;
    for (const Node& a : step.items) {
      if (a.kind != Node::Kind::kString) {
        r.type_error(a, label, "string");
        argv.clear();
        break;
      }
      argv.push_back(a.string);
    }
    if (argv.empty()) continue;
    if (argv.front().empty()) {
      r.error(step.pos, label, "the program must not be empty");
      continue;
    }
    out.push_back(std::move(argv));
  }
}

void read_health(TableReader& r, DeployHealth& health) {
  const Node* v = r.get("health");
  if (!v) return;
  if (v->kind != Node::Kind::kTable) {
    r.type_error(*v, "health", "table such as health = { path = \"/health\", watch = \"60s\" }");
    return;
  }
  TableReader t(r.checker(), *v, "", "deploy.health.", "in deploy.health");
  t.reject_unknown(kHealthKeys);
  if (t.read_string("http", health.http)) {
    auto url = parse_http_url(health.http);
    if (!url) {
      t.error(t.get("http")->pos, "http", url.error().message);
      health.http.clear();
    }
  }
  if (t.read_string("path", health.path)) {
    if (health.path.empty() || health.path.front() != '/' || has_control_char(health.path) ||
        health.path.find(' ') != std::string::npos) {
      t.error(t.get("path")->pos, "path",
              "expected a request path such as \"/health\", got " + in_quotes(health.path));
      health.path.clear();
    }
  }
  if (t.has("http") && t.has("path")) {
    t.error(t.get("path")->pos, "path",
            "give either http (a full URL) or path (probed on the service's listen address), "
            "not both");
  }
  t.read_duration("watch", health.watch, false);
  t.read_duration("interval", health.interval, true);
  t.read_duration("timeout", health.timeout, true);
}

// The service's cwd must resolve through root/current, or switching `current` would not change
// what the service runs.
void check_service(TableReader& r, const Config& config, const DeployConfig& deploy) {
  const Node* where = r.get("service");
  if (!where || deploy.service.empty()) return;
  const ServiceConfig* s = config.find_service(deploy.service);
  if (!s) {
    std::string names;
    for (const auto& svc : config.services) names += (names.empty() ? "" : ", ") + svc.name;
    r.error(where->pos, "service",
            "no [[service]] named " + in_quotes(deploy.service) +
                (names.empty() ? std::string(" (there are none)") : " (services: " + names + ")"));
    return;
  }
  if (deploy.root.empty()) return;
  std::string current = deploy.root + "/current";
  std::string want = deploy.subdir.empty() ? current : current + "/" + deploy.subdir;
  bool inside = s->cwd == current ||
                (s->cwd.size() > current.size() &&
                 s->cwd.compare(0, current.size(), current) == 0 && s->cwd[current.size()] == '/');
  if (!inside) {
    r.error(where->pos, "service",
            "service " + in_quotes(s->name) + " has cwd " +
                in_quotes(s->cwd.empty() ? "(the daemon's)" : s->cwd) +
                ", which a deploy would not change: set its cwd to " + in_quotes(want));
    return;
  }
  if (!deploy.health.path.empty() && s->listen.empty()) {
    r.error(r.get("health")->pos, "health",
            "path needs service " + in_quotes(s->name) +
                " to have a listen address: add listen, or give health.http a full URL");
  }
}

}  // namespace

void read_deploy_section(Checker& checker, const Node& root, Config& config) {
  const Node* table = section(checker, root, "deploy");
  if (!table) return;
  TableReader r(checker, *table, "", "deploy.", "in [deploy]");
  r.reject_unknown(kDeployKeys);
  DeployConfig deploy;
  if (!r.has("service")) missing(r, "service", "service = \"orbital-backend\"");
  r.read_string("service", deploy.service);
  read_source(r, deploy);
  if (!r.has("root")) missing(r, "root", "root = \"/home/orbital/apps/orbital\"");
  r.read_path("root", deploy.root);
  read_subdir(r, deploy);
  read_shared(r, deploy);
  read_steps(r, "build", deploy.build);
  read_steps(r, "migrate", deploy.migrate);
  if (const Node* b = r.get("backup_before_migrate")) {
    if (b->kind != Node::Kind::kBoolean) {
      r.type_error(*b, "backup_before_migrate", "boolean (true or false)");
    } else {
      deploy.backup_before_migrate = b->boolean;
    }
  }
  read_health(r, deploy.health);
  r.read_int("keep", deploy.keep, 2, 1000);
  check_service(r, config, deploy);
  if (!deploy.migrate.empty() && deploy.backup_before_migrate && !config.backup) {
    const Node* at = r.get("migrate");
    r.error(at->pos, "migrate",
            "backup_before_migrate is on (the default) but there is no [backup] section: add "
            "[backup], or set backup_before_migrate = false to migrate without a backup");
  }
  config.deploy = std::move(deploy);
}

}  // namespace gc::config::detail

// SPDX-License-Identifier: MIT
#include "provision/apply.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "base/utc_time.h"
#include "provision/accounts.h"
#include "provision/guards.h"
#include "provision/nginx_site.h"
#include "provision/placeholder_cert.h"
#include "provision/run_command.h"
#include "store/database.h"

namespace gc::provision {
namespace {

constexpr std::size_t kKeepBackups = 10;

// A file as found, with the numeric ids a restore needs (FileFacts carries names).
struct Found {
  FileFacts facts;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<Found> read_target_file(const std::string& path, const Accounts& accounts) {
  Found f;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return f;
    return sys_error("stat", path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(Errc::kConflict, path + " is not a regular file; move it away first");
  }
  GC_ASSIGN_OR_RETURN(f.facts.content, read_file(path));
  f.facts.exists = true;
  f.facts.mode = st.st_mode & 07777;
  f.uid = st.st_uid;
  f.gid = st.st_gid;
  f.facts.owner = accounts.user_name(st.st_uid).value_or(std::to_string(st.st_uid));
  f.facts.group = accounts.group_name(st.st_gid).value_or(std::to_string(st.st_gid));
  return f;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// [nginx] without a certificate on disk gets a placeholder (provision/placeholder_cert.h).
struct Placeholder {
  std::string domain, cert, key;  // Paths on the target, without the root.
};

std::optional<Placeholder> placeholder_needed(const config::Config& config,
                                              const std::string& root) {
  if (!config.nginx) return std::nullopt;
  Placeholder p{config.nginx->domain, config::nginx_certificate_path(config),
                config::nginx_certificate_key_path(config)};
  if (exists(root + p.cert) && exists(root + p.key)) return std::nullopt;
  return p;
}

std::string placeholder_summary(const Placeholder& p) {
  return "placeholder certificate for " + p.domain;
}

// The steps' checks, run now (exit 0 = satisfied).
Result<std::vector<bool>> run_checks(const std::vector<Step>& steps) {
  std::vector<bool> out;
  for (const Step& s : steps) {
    if (s.check.empty()) {
      out.push_back(false);
      continue;
    }
    auto r = run_command(s.check, "", s.run_as);
    if (!r) return r.error().with_context("check of \"" + s.summary + "\"");
    out.push_back(r->status.success());
  }
  return out;
}

struct Gathered {
  std::vector<std::vector<Found>> found;  // Per component, per file.
  Plan plan;
  std::optional<Placeholder> placeholder;
};

Result<Gathered> gather(const config::Config& config, const std::vector<Component>& components,
                        const ApplyOptions& options) {
  Gathered g;
  const bool skip = !options.root.empty();
  GC_ASSIGN_OR_RETURN(Accounts accounts, Accounts::read(options.root));
  g.placeholder = placeholder_needed(config, options.root);
  for (const Component& c : components) {
    ComponentFacts facts;
    std::vector<Found> found;
    for (const ManagedFile& f : c.files) {
      GC_ASSIGN_OR_RETURN(Found x, read_target_file(options.root + f.path, accounts));
      facts.files.push_back(x.facts);
      found.push_back(std::move(x));
    }
    if (!skip) {
      GC_ASSIGN_OR_RETURN(facts.before_satisfied, run_checks(c.steps_before));
      GC_ASSIGN_OR_RETURN(facts.after_satisfied, run_checks(c.steps_after));
    }
    if (c.name == "nginx" && g.placeholder) {
      facts.builtin_steps.push_back(placeholder_summary(*g.placeholder));
    }
    g.plan.components.push_back(plan_component(c, facts, skip));
    g.found.push_back(std::move(found));
  }
  GC_ASSIGN_OR_RETURN(GuardFacts guard_facts, read_guard_facts(config, options.root));
  g.plan.guards = lockout_problems(config, guard_facts);
  return g;
}

std::string state_dir(const config::Config& config, const ApplyOptions& options) {
  return options.root + config.server.state_dir;
}

// One apply at a time: an flock on {state_dir}/provision.lock, released by the kernel when the
// holder exits however it exits. The holder's pid is written inside for the refusal message.
class ApplyLock {
 public:
  static Result<ApplyLock> acquire(const std::string& dir) {
    GC_TRY(make_directories(dir, 0700));
    std::string path = dir + "/provision.lock";
    GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return sys_error("flock", path, errno);
      std::string pid = read_file(path).value_or("");
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      return make_error(Errc::kConflict, "another groundctl apply is running (pid " +
                                             (pid.empty() ? std::string("unknown") : pid) +
                                             "); wait for it to finish (it holds " + path + ")");
    }
    // An older file may have another mode: the lock file is ours alone.
    if (::fchmod(fd.get(), 0600) != 0) return sys_error("chmod", path, errno);
    if (::ftruncate(fd.get(), 0) != 0) return sys_error("truncate", path, errno);
    GC_TRY(write_all(fd.get(), std::to_string(::getpid()) + "\n"));
    return ApplyLock(std::move(fd));
  }

 private:
  explicit ApplyLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // Holds the flock; closing it releases the lock.
};

// Backups of one apply: DIR/files/<path> (0600) and DIR/manifest.json with, per path, the
// previous mode, owner and group, or "absent".
class Backup {
 public:
  Backup(std::string base) : base_(std::move(base)) {}

  Status save(const std::string& path, const Found& previous) {
    if (dir_.empty()) GC_TRY(open_dir());
    nlohmann::json entry = {{"path", path}, {"absent", !previous.facts.exists}};
    if (previous.facts.exists) {
      std::string copy = dir_ + "/files" + path;
      GC_TRY(make_directories(copy.substr(0, copy.rfind('/')), 0700));
      GC_TRY(write_file_atomic(copy, previous.facts.content, 0600));
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(previous.facts.mode));
      entry["mode"] = mode;
      entry["owner"] = previous.facts.owner;
      entry["group"] = previous.facts.group;
      entry["uid"] = previous.uid;
      entry["gid"] = previous.gid;
    }
    manifest_.push_back(std::move(entry));
    return write_file_atomic(dir_ + "/manifest.json", manifest_.dump(2) + "\n", 0600);
  }

  const std::string& dir() const { return dir_; }

 private:
  Status open_dir() {
    GC_TRY(make_directories(base_, 0700));
    // Names must sort by time even for applies within one second (tests, scripts): the UTC
    // second, then microseconds, then a fixed-width counter for the rare clash.
    auto now = std::chrono::system_clock::now();
    std::string stamp = format_utc(now);
    stamp.erase(std::remove(stamp.begin(), stamp.end(), ':'), stamp.end());
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
        1000000;
    char suffix[32];
    std::string dir;
    for (int n = 0;; ++n) {
      std::snprintf(suffix, sizeof suffix, "-%06lld-%03d", static_cast<long long>(micros), n);
      dir = base_ + "/" + stamp + suffix;
      if (::mkdir(dir.c_str(), 0700) == 0) break;
      if (errno != EEXIST || n == 999) return sys_error("mkdir", dir, errno);
    }
    dir_ = dir;
    prune();
    return ok();
  }

  // Keeps the newest kKeepBackups applies; names sort by time.
  void prune() {
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(base_, ec)) {
      if (e.is_directory(ec)) names.push_back(e.path().string());
    }
    std::sort(names.begin(), names.end());
    for (std::size_t i = 0; i + kKeepBackups < names.size(); ++i) {
      if (names[i] == dir_) continue;  // Never this apply's own, whatever an older name says.
      std::filesystem::remove_all(names[i], ec);
    }
  }

  std::string base_;
  std::string dir_;
  nlohmann::json manifest_ = nlohmann::json::array();
};

Status write_managed(const std::string& path, const std::string& content, mode_t mode, uid_t uid,
                     gid_t gid) {
  std::size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0)
    GC_TRY(make_directories(path.substr(0, slash), 0755));
  GC_TRY(write_file_atomic(path, content, static_cast<int>(mode)));
  // After the rename: the umask may have narrowed the mode, and the owner is set by name.
  if (::chown(path.c_str(), uid, gid) != 0) return sys_error("chown", path, errno);
  if (::chmod(path.c_str(), mode) != 0) return sys_error("chmod", path, errno);
  return ok();
}

// Puts back what `found` describes: the same bytes, mode and owner, or no file.
Status restore(const std::string& path, const Found& found) {
  if (!found.facts.exists) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("unlink", path, errno);
    return ok();
  }
  return write_managed(path, found.facts.content, found.facts.mode, found.uid, found.gid);
}

Result<std::pair<uid_t, gid_t>> owner_ids(const ManagedFile& f, const Accounts& accounts,
                                          const std::string& root) {
  auto user = accounts.user(f.owner);
  if (!user) {
    return make_error(Errc::kNotFound, "owner " + f.owner + " of " + f.path +
                                           " does not exist in " + root + "/etc/passwd");
  }
  auto group = accounts.group(f.group);
  if (!group) {
    return make_error(Errc::kNotFound, "group " + f.group + " of " + f.path +
                                           " does not exist in " + root + "/etc/group");
  }
  return std::pair{static_cast<uid_t>(user->uid), static_cast<gid_t>(group->gid)};
}

// Runs the steps of `steps` whose summary the plan lists.
Status run_steps(const std::vector<Step>& steps, const std::vector<std::string>& planned,
                 const std::string& component, std::vector<std::string>& log) {
  for (const Step& s : steps) {
    if (std::find(planned.begin(), planned.end(), s.summary) == planned.end()) continue;
    auto r = run_command(s.argv, s.stdin_text, s.run_as);
    if (!r) return r.error().with_context(s.summary);
    if (!r->status.success()) {
      return make_error(Errc::kIo, s.summary + ": " + r->status.to_string() +
                                       (r->tail().empty() ? "" : ": " + r->tail()));
    }
    log.push_back(component + ": " + s.summary);
  }
  return ok();
}

Status run_lifecycle(const char* what, const std::vector<std::string>& argv,
                     const std::string& run_as, const std::string& root,
                     const std::string& component, std::vector<std::string>& log) {
  std::vector<std::string> cmd = substitute_root(argv, root);
  auto r = run_command(cmd, "", run_as);
  if (!r) return r.error().with_context(std::string(what) + " " + command_line(cmd));
  if (!r->status.success()) {
    return make_error(Errc::kIo, std::string(what) + " failed (" + command_line(cmd) + ", " +
                                     r->status.to_string() + ")" +
                                     (r->tail().empty() ? "" : ": " + r->tail()));
  }
  log.push_back(component + ": " + what + " " + command_line(cmd));
  return ok();
}

// The part of apply that changes one component. On failure the report says why; files are
// restored when validation failed.
Status apply_component(const Component& c, const ComponentPlan& plan,
                       const std::vector<Found>& found, const ApplyOptions& options,
                       const std::optional<Placeholder>& placeholder, Backup& backup,
                       std::vector<std::string>& log) {
  const bool live = options.root.empty();
  if (live) GC_TRY(run_steps(c.steps_before, plan.steps_before, c.name, log));
  // Owners are looked up after steps_before, which may have created them.
  GC_ASSIGN_OR_RETURN(Accounts accounts, Accounts::read(options.root));
  std::vector<std::size_t> written;
  Status st = ok();
  for (std::size_t i = 0; i < c.files.size() && st; ++i) {
    if (plan.files[i].action == FileAction::kUnchanged) continue;
    const ManagedFile& f = c.files[i];
    std::string path = options.root + f.path;
    auto ids = owner_ids(f, accounts, options.root);
    if (!ids) {
      st = ids.error();
      break;
    }
    st = backup.save(f.path, found[i]);
    if (!st) break;
    written.push_back(i);
    st = write_managed(path, f.content, f.mode, ids->first, ids->second);
    if (st)
      log.push_back(c.name + ": " + std::string(file_action_name(plan.files[i].action)) + " " +
                    f.path);
  }
  if (st && placeholder && !plan.builtin_steps.empty()) {
    st = write_placeholder_cert(placeholder->domain, options.root + placeholder->cert,
                                options.root + placeholder->key);
    if (st) log.push_back(c.name + ": " + placeholder_summary(*placeholder));
  }
  if (st && live && !written.empty() && !c.lifecycle.validate.empty()) {
    st = run_lifecycle("validate", c.lifecycle.validate, c.lifecycle.run_as, options.root, c.name,
                       log);
  }
  if (!st) {
    // Put every file this component touched back as it was, then report the first error.
    for (std::size_t i : written) {
      Status r = restore(options.root + c.files[i].path, found[i]);
      if (!r)
        return st.error().with_context("restoring " + c.files[i].path +
                                       " also failed: " + r.error().message);
      log.push_back(c.name + ": restored " + c.files[i].path);
    }
    return st;
  }
  if (live && !written.empty() && !c.lifecycle.reload.empty()) {
    GC_TRY(
        run_lifecycle("reload", c.lifecycle.reload, c.lifecycle.run_as, options.root, c.name, log));
  }
  if (live) GC_TRY(run_steps(c.steps_after, plan.steps_after, c.name, log));
  return ok();
}

constexpr std::array<std::string_view, 1> kSchema = {
    "CREATE TABLE provision_applies (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " started_at TEXT NOT NULL, finished_at TEXT NOT NULL, root TEXT NOT NULL,"
    " components TEXT NOT NULL, result TEXT NOT NULL, error TEXT NOT NULL,"
    " backup_dir TEXT NOT NULL);"};

Result<store::Database> open_store(const config::Config& config, const std::string& root) {
  std::string dir = root + config.server.state_dir;
  GC_TRY(make_directories(dir, 0700));
  GC_ASSIGN_OR_RETURN(store::Database db, store::Database::open(dir + "/state.db"));
  GC_TRY(db.migrate("provision", kSchema));
  return db;
}

Status record(const config::Config& config, const ApplyOptions& options, const ApplyRecord& r) {
  GC_ASSIGN_OR_RETURN(store::Database db, open_store(config, options.root));
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db.prepare("INSERT INTO provision_applies (started_at, finished_at, root,"
                                 " components, result, error, backup_dir)"
                                 " VALUES (?, ?, ?, ?, ?, ?, ?)"));
  q.bind(1, r.started_at).bind(2, r.finished_at).bind(3, r.root).bind(4, r.components);
  q.bind(5, r.result).bind(6, r.error).bind(7, r.backup_dir);
  return q.run();
}

}  // namespace

Result<Plan> make_plan(const config::Config& config, const std::vector<Component>& components,
                       const ApplyOptions& options) {
  GC_ASSIGN_OR_RETURN(Gathered g, gather(config, components, options));
  return std::move(g.plan);
}

Result<ApplyReport> apply(const config::Config& config, const std::vector<Component>& components,
                          const ApplyOptions& options) {
  // Taken before the target is read: the plan this apply follows must not be stale.
  GC_ASSIGN_OR_RETURN(ApplyLock lock, ApplyLock::acquire(state_dir(config, options)));
  std::string started = format_utc(std::chrono::system_clock::now());
  GC_ASSIGN_OR_RETURN(Gathered g, gather(config, components, options));
  ApplyReport report;
  report.plan = std::move(g.plan);
  if (report.refused()) return report;
  Backup backup(state_dir(config, options) + "/provision/backups");
  for (std::size_t i = 0; i < components.size(); ++i) {
    const ComponentPlan& plan = report.plan.components[i];
    if (!report.failed.empty()) {
      if (plan.changes()) report.not_run.push_back(plan.name);
      continue;
    }
    if (!plan.changes()) continue;
    Status st = apply_component(components[i], plan, g.found[i], options, g.placeholder, backup,
                                report.log);
    if (st) {
      report.applied.push_back(plan.name);
    } else {
      report.failed = plan.name;
      report.error = st.error().message;
    }
  }
  report.backup_dir = backup.dir();
  ApplyRecord r;
  r.started_at = started;
  r.finished_at = format_utc(std::chrono::system_clock::now());
  r.root = options.root;
  for (const auto& name : report.applied) r.components += (r.components.empty() ? "" : ",") + name;
  if (!report.failed.empty()) {
    r.components += (r.components.empty() ? "" : ",") + report.failed;
    r.result = "failed";
    r.error = report.failed + ": " + report.error;
  } else {
    r.result = report.applied.empty() ? "no changes" : "ok";
  }
  r.backup_dir = report.backup_dir;
  Status st = record(config, options, r);
  if (!st) report.log.push_back("warning: could not record the apply: " + st.error().message);
  return report;
}

Result<std::vector<ApplyRecord>> apply_history(const config::Config& config,
                                               const std::string& root, int limit) {
  GC_ASSIGN_OR_RETURN(store::Database db, open_store(config, root));
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db.prepare("SELECT started_at, finished_at, root, components, result, error,"
                                 " backup_dir FROM provision_applies ORDER BY seq DESC LIMIT ?"));
  q.bind(1, static_cast<std::int64_t>(limit));
  std::vector<ApplyRecord> out;
  for (;;) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return out;
    out.push_back(ApplyRecord{q.column_text(0), q.column_text(1), q.column_text(2),
                              q.column_text(3), q.column_text(4), q.column_text(5),
                              q.column_text(6)});
  }
}

}  // namespace gc::provision

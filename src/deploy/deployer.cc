// SPDX-License-Identifier: MIT
#include "deploy/deployer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "base/utc_time.h"
#include "config/dotenv.h"
#include "deploy/alerts.h"
#include "deploy/git_source.h"
#include "deploy/lock.h"
#include "deploy/release_dir.h"
#include "deploy/releases.h"
#include "deploy/step_runner.h"
#include "supervisor/environment.h"
#include "supervisor/http_probe.h"

namespace gc::deploy {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

bool cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

// git's environment: what it needs to reach the source as the operator would (ssh agent,
// proxies), and never a prompt: a deploy must fail, not hang, on missing credentials.
std::vector<std::string> git_environment() {
  std::vector<std::string> env = {"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS="};
  bool has_path = false;
  for (const char* k :
       {"PATH", "HOME", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "http_proxy", "https_proxy", "no_proxy",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "LANG", "LC_ALL"}) {
    if (const char* v = std::getenv(k)) {
      env.push_back(std::string(k) + "=" + v);
      if (std::string_view(k) == "PATH") has_path = true;
    }
  }
  if (!has_path) env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  return env;
}

// One "GET url answers 2xx" check, blocking; the reason when it does not.
std::string probe(const std::string& url, Duration timeout) {
  if (url.empty()) return "";
  boost::asio::io_context io;
  std::string problem;
  supervisor::start_http_check(io, url, timeout, [&](std::string p) { problem = std::move(p); });
  io.run();
  return problem.empty() ? "" : "GET " + url + ": " + problem;
}

// The service's user and its build environment: what the service itself would get, minus
// the listen sockets and IPC channel that only instances have.
struct BuildIdentity {
  supervisor::UserInfo user;
  std::optional<Credentials> credentials;  // Set when the steps must switch user.
  std::vector<std::string> env;
};

Result<BuildIdentity> build_identity(const config::ServiceConfig& svc, DeployLog& log) {
  BuildIdentity id;
  GC_ASSIGN_OR_RETURN(id.user, supervisor::lookup_user(svc.user));
  if (!svc.user.empty() && id.user.credentials.uid != ::geteuid()) {
    id.credentials = id.user.credentials;
  }
  supervisor::EnvInputs in;
  in.user = &id.user;
  for (const char* k : {"LANG", "LC_ALL", "TZ"}) {
    if (const char* v = std::getenv(k)) in.inherited.emplace_back(k, v);
  }
  if (!svc.env_file.empty()) {
    auto text = read_file(svc.env_file);
    if (text) {
      GC_ASSIGN_OR_RETURN(in.env_file, config::parse_dotenv(*text, svc.env_file));
    } else {
      log.note("env_file " + svc.env_file + " not readable (" + text.error().message +
               "): the steps run without it");
    }
  }
  in.env = &svc.env;
  in.service = svc.name;
  id.env = supervisor::build_environment(in);
  return id;
}

// Removes releases beyond `keep`, never `active` or `previous`. Failures are noted, not fatal:
// an old release left on disk harms nothing.
std::vector<std::string> prune(const ReleaseRoot& root, int keep, const std::string& active,
                               const std::string& previous, History& history, DeployLog& log) {
  std::vector<std::string> removed;
  auto on_disk = root.list();
  auto switches = history.switches();
  if (!on_disk || !switches) return removed;  // Unsure what is what: remove nothing.
  std::vector<std::string> went_live;
  for (const auto& s : *switches) went_live.push_back(s.release);
  for (const auto& id : releases_to_prune(*on_disk, active, previous, keep, went_live)) {
    Status st = root.remove(id);
    if (st) {
      removed.push_back(id);
      log.note("pruned release " + id);
    } else {
      log.note("could not prune release " + id + ": " + st.error().message);
    }
  }
  return removed;
}

class Deploy {
 public:
  Deploy(const DeployRequest& r, ServiceControl& control, History& history, DeployLog& log,
         std::int64_t seq, Clock::time_point started)
      : req_(r),
        cfg_(*r.config->deploy),
        svc_(*r.config->find_service(cfg_.service)),
        control_(control),
        history_(history),
        log_(log),
        seq_(seq),
        started_(started),
        root_(cfg_.root) {}

  DeployOutcome run(const std::optional<std::string>& active) {
    out_.previous = active.value_or("");
    out_.ref = req_.ref;
    out_.log = log_.path();
    Status built = build();
    if (!built) {
      if (!out_.release.empty()) {
        log_.note("removing release " + out_.release + " (it never went live)");
        Status rm = root_.remove(out_.release);
        if (!rm) log_.note("could not remove it: " + rm.error().message);
      }
      return finish("failed", built.error().message);
    }
    return go_live();
  }

 private:
  // Everything before the switch: a failure here leaves the running release untouched.
  Status build() {
    std::string state_dir = req_.config->server.state_dir;
    GitSource git(state_dir + "/deploy/source.git", cfg_.source, git_environment(), req_.cancel);
    log_.note("deploy of service " + svc_.name + " from " + cfg_.source);
    GC_TRY(git.fetch(log_));
    if (out_.ref.empty()) {
      GC_ASSIGN_OR_RETURN(out_.ref, git.default_branch(log_));
    }
    GC_ASSIGN_OR_RETURN(out_.commit, git.resolve(out_.ref, log_));
    auto now = std::chrono::system_clock::now();
    std::string id = make_release_id(now, out_.commit);
    std::string unique = id;
    struct stat st {};
    for (int n = 2; ::lstat(root_.release_dir(unique).c_str(), &st) == 0; ++n) {
      unique = id + "-" + std::to_string(n);
    }
    out_.release = unique;
    (void)history_.set_release(seq_, out_.release, out_.commit, out_.ref);
    log_.note("release " + out_.release + ": " + out_.ref + " at " + out_.commit);

    std::string dir = root_.release_dir(out_.release);
    if (::mkdir(dir.c_str(), 0755) != 0) {
      return make_error(Errc::kIo, "create " + dir + ": " + std::strerror(errno));
    }
    GC_TRY(git.export_tree(out_.commit, dir, log_));
    GC_TRY(write_file_atomic(dir + "/REVISION", out_.commit + "\n", 0644));
    std::string app = cfg_.subdir.empty() ? dir : dir + "/" + cfg_.subdir;
    if (::stat(app.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return make_error(Errc::kNotFound, "commit " + out_.commit.substr(0, 12) +
                                             " has no directory \"" + cfg_.subdir +
                                             "\" (deploy.subdir)");
    }
    GC_ASSIGN_OR_RETURN(BuildIdentity who, build_identity(svc_, log_));
    if (who.credentials) {
      GC_TRY(chown_tree(dir, who.credentials->uid, who.credentials->gid));
    }
    GC_TRY(root_.link_shared(app, cfg_.shared, who.credentials));
    GC_TRY(run_steps(cfg_.build, "build", app, who));
    if (!cfg_.migrate.empty()) {
      if (cfg_.backup_before_migrate) GC_TRY(backup());
      GC_TRY(run_steps(cfg_.migrate, "migrate", app, who));
    }
    if (cancelled(req_.cancel)) return make_error(Errc::kCancelled, "deploy interrupted");
    return ok();
  }

  Status run_steps(const std::vector<std::vector<std::string>>& steps, const std::string& kind,
                   const std::string& cwd, const BuildIdentity& who) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      std::string what = kind + " step " + std::to_string(i + 1) + "/" +
                         std::to_string(steps.size()) + " (" + joined(steps[i]) + ")";
      log_.note(what);
      Step s{steps[i], who.env, cwd, who.credentials, what};
      GC_TRY(run_step(s, log_, req_.cancel));
    }
    return ok();
  }

  Status backup() {
    log_.note("backup before migrations");
    Step s;
    s.argv = {req_.self_exe, "-c", req_.config->path, "--json", "backup", "run"};
    s.env = git_environment();
    s.what = "backup before migrations";
    GC_ASSIGN_OR_RETURN(Captured c, run_collect(s, log_, req_.cancel));
    log_.write(c.out);
    auto j = nlohmann::json::parse(c.out, nullptr, false);
    // A set whose offsite upload is only pending still protects the migration.
    if (j.is_object() && j.contains("id") && j.value("verify_result", "") != "failed") {
      out_.backup_set = j.value("id", "");
      (void)history_.set_backup(seq_, out_.backup_set);
      log_.note("backup set " + out_.backup_set + " taken");
      return ok();
    }
    return make_error(Errc::kIo, "the backup before migrations failed (" + c.status.to_string() +
                                     "): migrations were not run; see `groundctl backup list`");
  }

  // Switch, reload, watch; any failure switches back.
  DeployOutcome go_live() {
    log_.note("switching current to " + out_.release);
    Status sw = root_.switch_to(out_.release);
    if (!sw) return finish("failed", "switch of current failed: " + sw.error().message);
    log_.note("reloading service " + svc_.name);
    Status reloaded = control_.reload(svc_.name);
    if (!reloaded) return roll_back("reload failed: " + reloaded.error().message);
    auto reason = watch();
    if (reason) return roll_back(*reason);
    log_.note("release " + out_.release + " is live and healthy");
    out_.pruned = prune(root_, cfg_.keep, out_.release, out_.previous, history_, log_);
    return finish("ok", "");
  }

  // Watches the new release for health.watch; the reason it failed, or nullopt.
  std::optional<std::string> watch() {
    auto baseline = control_.describe(svc_.name);
    if (!baseline) return "cannot see the service after the reload: " + baseline.error().message;
    auto url = health_url(cfg_.health, *baseline);
    if (!url) return url.error().message;
    log_.note("watching health for " + format_duration(cfg_.health.watch) +
              (url->empty() ? std::string(" (instances only)") : " (" + *url + ")"));
    auto until = Clock::now() + cfg_.health.watch;
    while (true) {
      if (cancelled(req_.cancel)) return std::string("interrupted during the health watch");
      std::string probe_error = probe(*url, cfg_.health.timeout);
      auto now = control_.describe(svc_.name);
      if (!now) return "cannot see the service: " + now.error().message;
      if (auto bad = health_verdict(*baseline, *now, probe_error)) return bad;
      if (Clock::now() >= until) return std::nullopt;
      auto next = std::min(until, Clock::now() + cfg_.health.interval);
      while (Clock::now() < next && !cancelled(req_.cancel)) {
        std::this_thread::sleep_for(
            std::min<Clock::duration>(next - Clock::now(), std::chrono::milliseconds(100)));
      }
    }
  }

  DeployOutcome roll_back(const std::string& reason) {
    log_.note("FAILED after the switch: " + reason);
    if (out_.previous.empty()) {
      return finish("failed", reason + "; there is no previous release to roll back to, so " +
                                  out_.release + " stays current");
    }
    log_.note("rolling back: current -> " + out_.previous);
    Status sw = root_.switch_to(out_.previous);
    if (!sw) {
      return finish("failed", reason + "; and switching current back to " + out_.previous +
                                  " failed: " + sw.error().message);
    }
    Status reloaded = control_.reload(svc_.name);
    if (!reloaded) {
      return finish("rolled_back", reason + "; current is back on " + out_.previous +
                                       " but its reload failed (" + reloaded.error().message +
                                       "): run `groundctl reload " + svc_.name + "`");
    }
    log_.note("rolled back to " + out_.previous);
    return finish("rolled_back", reason);
  }

  DeployOutcome finish(const std::string& result, const std::string& error) {
    out_.result = result;
    out_.error = error;
    out_.duration_ms = ms_since(started_);
    if (!error.empty()) log_.note(result + ": " + error);
    Status st = history_.finish(seq_, result, error, format_utc(std::chrono::system_clock::now()),
                                out_.duration_ms);
    if (!st) log_.note("could not record the outcome in the state store: " + st.error().message);
    return out_;
  }

 private:
  const DeployRequest& req_;
  const config::DeployConfig& cfg_;
  const config::ServiceConfig& svc_;
  ServiceControl& control_;
  History& history_;
  DeployLog& log_;
  std::int64_t seq_;
  Clock::time_point started_;
  ReleaseRoot root_;
  DeployOutcome out_;
};

std::string current_user() {
  auto u = supervisor::lookup_user("");
  return u ? u->name : std::to_string(::geteuid());
}

Status require_deploy(const config::Config& config) {
  if (!config.deploy) {
    return make_error(Errc::kInvalidConfig, config.path +
                                                " has no [deploy] section: add one (see "
                                                "docs/configuration.md#deploy)");
  }
  if (!config.find_service(config.deploy->service)) {
    return make_error(Errc::kInvalidConfig,
                      "deploy.service names no [[service]]: " + config.deploy->service);
  }
  return ok();
}

// The log file of a deploy started at `t`: state_dir/deploy/logs/<time>-<pid>.log.
Result<DeployLog> open_log(const config::Config& config, std::chrono::system_clock::time_point t,
                           const std::string& kind, std::FILE* echo) {
  std::string dir = config.server.state_dir + "/deploy/logs";
  GC_TRY(make_directories(dir, 0700));
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return DeployLog::open(dir + "/" + stamp + "-" + kind + "-" + std::to_string(::getpid()) + ".log",
                         echo);
}

std::string server_name(const config::Config& config) {
  if (!config.server.name.empty()) return config.server.name;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// Raises or resolves the deploy's alert through every [[notify]] target. A notifier that fails
// is reported with the outcome; it never changes the outcome itself.
void send_alerts(const config::Config& config, DeployOutcome& outcome,
                 const std::optional<DeployRecord>& last, DeployLog& log) {
  auto alerts = deploy_alerts(outcome, last, config.deploy->service, server_name(config),
                              std::chrono::system_clock::now());
  for (const auto& a : alerts) {
    outcome.alerts.push_back(a.name + (a.firing() ? " firing" : " resolved"));
    log.note("alert " + a.name + (a.firing() ? " firing" : " resolved"));
  }
  if (alerts.empty()) return;
  if (config.notify.empty()) {
    log.note("no [[notify]] target is configured: the alert is only in the deploy history");
    return;
  }
  outcome.notify_errors = monitor::notify_all(config.notify, alerts, "groundctl");
  for (const auto& e : outcome.notify_errors) log.note("alert not delivered: " + e);
}

}  // namespace

Result<DeployOutcome> run_deploy(const DeployRequest& request, ServiceControl& control) {
  const config::Config& config = *request.config;
  GC_TRY(require_deploy(config));
  const auto& cfg = *config.deploy;
  std::string ref_text = request.ref.empty() ? "(default branch)" : request.ref;
  if (!request.ref.empty()) {
    std::string problem = ref_problem(request.ref);
    if (!problem.empty()) {
      return make_error(Errc::kInvalidArgument, "ref \"" + request.ref + "\" " + problem);
    }
  }
  GC_ASSIGN_OR_RETURN(DeployLock lock,
                      DeployLock::acquire(config.server.state_dir, "deploy " + ref_text));
  GC_ASSIGN_OR_RETURN(History history, History::open(config.server.state_dir));
  (void)history.mark_interrupted();
  ReleaseRoot root(cfg.root);
  std::string missing = root.missing_shared(cfg.shared);
  if (!missing.empty()) return make_error(Errc::kInvalidConfig, missing);
  GC_ASSIGN_OR_RETURN(std::optional<std::string> active, root.active());
  // Before any work: the daemon must run this service, or the switch could not take effect.
  GC_TRY(control.describe(cfg.service));
  GC_TRY(root.prepare());

  auto wall = std::chrono::system_clock::now();
  auto started = Clock::now();
  GC_ASSIGN_OR_RETURN(DeployLog log, open_log(config, wall, "deploy", request.echo));
  DeployRecord rec;
  rec.kind = "deploy";
  rec.ref = request.ref;
  rec.previous = active.value_or("");
  rec.started_at = format_utc(wall);
  rec.log = log.path();
  rec.pid = static_cast<int>(::getpid());
  rec.user = current_user();
  auto last = history.last_finished("deploy");
  GC_ASSIGN_OR_RETURN(std::int64_t seq, history.begin(rec));
  Deploy d(request, control, history, log, seq, started);
  DeployOutcome outcome = d.run(active);
  send_alerts(config, outcome, last ? *last : std::nullopt, log);
  return outcome;
}

Result<DeployOutcome> run_rollback(const config::Config& config, const std::string& target,
                                   ServiceControl& control, std::FILE* echo) {
  GC_TRY(require_deploy(config));
  const auto& cfg = *config.deploy;
  GC_ASSIGN_OR_RETURN(DeployLock lock,
                      DeployLock::acquire(config.server.state_dir,
                                          "rollback " + (target.empty() ? "(previous)" : target)));
  GC_ASSIGN_OR_RETURN(History history, History::open(config.server.state_dir));
  (void)history.mark_interrupted();
  ReleaseRoot root(cfg.root);
  GC_ASSIGN_OR_RETURN(std::optional<std::string> active, root.active());
  GC_ASSIGN_OR_RETURN(std::vector<std::string> on_disk, root.list());
  std::string to = target;
  if (to.empty()) {
    if (!active)
      return make_error(Errc::kNotFound, "nothing is deployed yet: nothing to roll back");
    GC_ASSIGN_OR_RETURN(auto switches, history.switches());
    auto t = rollback_target(switches, *active, on_disk);
    if (!t) {
      return make_error(Errc::kNotFound, "no previous release of " + *active +
                                             " on disk: name one (see `groundctl releases`)");
    }
    to = *t;
  } else if (!is_release_id(to) || std::find(on_disk.begin(), on_disk.end(), to) == on_disk.end()) {
    return make_error(Errc::kNotFound, "no release \"" + to + "\" in " + root.releases_dir() +
                                           " (see `groundctl releases`)");
  }
  if (active && *active == to) {
    return make_error(Errc::kConflict, "release " + to + " is already current");
  }
  GC_TRY(control.describe(cfg.service));

  auto wall = std::chrono::system_clock::now();
  auto started = Clock::now();
  GC_ASSIGN_OR_RETURN(DeployLog log, open_log(config, wall, "rollback", echo));
  DeployRecord rec;
  rec.kind = "rollback";
  rec.release = to;
  rec.previous = active.value_or("");
  rec.started_at = format_utc(wall);
  rec.log = log.path();
  rec.pid = static_cast<int>(::getpid());
  rec.user = current_user();
  auto commit = read_file(root.release_dir(to) + "/REVISION");
  if (commit) {
    rec.commit = *commit;
    while (!rec.commit.empty() && rec.commit.back() == '\n') rec.commit.pop_back();
  }
  GC_ASSIGN_OR_RETURN(std::int64_t seq, history.begin(rec));

  DeployOutcome out;
  out.release = to;
  out.commit = rec.commit;
  out.previous = rec.previous;
  out.log = log.path();
  auto end = [&](const std::string& result, const std::string& error) {
    out.result = result;
    out.error = error;
    out.duration_ms = ms_since(started);
    log.note(result + (error.empty() ? "" : ": " + error));
    (void)history.finish(seq, result, error, format_utc(std::chrono::system_clock::now()),
                         out.duration_ms);
    return out;
  };
  log.note("rollback of service " + cfg.service + ": current -> " + to);
  Status sw = root.switch_to(to);
  if (!sw) return end("failed", "switch of current failed: " + sw.error().message);
  Status reloaded = control.reload(cfg.service);
  if (reloaded) return end("ok", "");
  std::string reason = "reload of " + to + " failed: " + reloaded.error().message;
  if (!active) return end("failed", reason);
  Status back = root.switch_to(*active);
  if (!back) return end("failed", reason + "; switching back to " + *active + " failed too");
  Status again = control.reload(cfg.service);
  return end("failed",
             reason + "; current is back on " + *active +
                 (again ? std::string() : " (its reload failed: " + again.error().message + ")"));
}

Result<ReleasesView> list_releases(const config::Config& config, int limit) {
  GC_TRY(require_deploy(config));
  ReleasesView view;
  ReleaseRoot root(config.deploy->root);
  GC_ASSIGN_OR_RETURN(view.active, root.active());
  GC_ASSIGN_OR_RETURN(view.on_disk, root.list());
  std::sort(view.on_disk.begin(), view.on_disk.end(), std::greater<>());
  GC_ASSIGN_OR_RETURN(History history, History::open(config.server.state_dir));
  GC_ASSIGN_OR_RETURN(view.history, history.recent(limit));
  return view;
}

}  // namespace gc::deploy

// SPDX-License-Identifier: MIT
// `groundctl deploy` end to end: the built binary ships the fixture app in
// tests/fixtures/deploy-app from a local bare git repository into releases under a temp root, under
// HTTP load, through a failed build, a failed health watch (automatic rollback), manual rollbacks,
// pruning, a refused concurrent deploy and config checks.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr auto kDeployTimeout = seconds(120);  // Upper bound for one CLI call; they take ~1-5 s.

std::string deploy_fixture_dir() {
  return fs::weakly_canonical(fs::path(fixture_dir()) / ".." / "deploy-app").string();
}

std::string drain_helper() {
  return fs::weakly_canonical(fs::path(fixture_dir()) / ".." / ".." / ".." / "contrib" / "node" /
                              "groundctl.js")
      .string();
}

// A groundctl command running in the background, stdout and stderr captured in files under the
// daemon's directory. The ChildProcess destructor kills and reaps it if the test bails out.
class Background {
 public:
  Background(const Daemon& d, const std::vector<std::string>& args) {
    static int serial = 0;
    std::string base = d.dir() + "/bg-" + std::to_string(++serial);
    out_path_ = base + ".out";
    err_path_ = base + ".err";
    std::vector<std::string> argv = {groundctl_bin(), "-c", d.config_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto out = open_fd(out_path_, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    auto err = open_fd(err_path_, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EXPECT_TRUE(out && err);
    if (!out || !err) return;
    SpawnOptions o;
    o.argv = argv;
    o.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
    o.stdout_fd = out->get();
    o.stderr_fd = err->get();
    auto child = ChildProcess::spawn(o);
    EXPECT_TRUE(child) << child.error().message;
    if (child) child_.emplace(std::move(*child));
  }

  pid_t pid() const { return child_ ? child_->pid() : -1; }

  bool running() {
    if (!child_ || status_) return false;
    auto st = child_->try_wait();
    if (!st || !st->has_value()) return st.has_value();
    status_ = **st;
    return false;
  }

  // Waits up to `within` for the exit. On timeout the command is killed and the test fails.
  CliResult finish(std::chrono::milliseconds within = kDeployTimeout) {
    CliResult r;
    if (!child_) return r;
    bool done = eventually([&] { return !running(); }, within);
    EXPECT_TRUE(done) << "groundctl command still running after " << within.count() << " ms";
    if (!done) (void)child_->terminate(SIGTERM, seconds(5));
    if (status_) r.exit_code = status_->signaled ? 128 + status_->signal : status_->code;
    r.out = read_file(out_path_).value_or("");
    r.err = read_file(err_path_).value_or("");
    return r;
  }

 private:
  std::string out_path_, err_path_;
  std::optional<ChildProcess> child_;
  std::optional<ExitStatus> status_;
};

// One CLI call with a time limit (a hung deploy fails the test instead of hanging it).
CliResult run(const Daemon& d, const std::vector<std::string>& args) {
  return Background(d, args).finish();
}

std::string show(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + r.out +
         "\n--- stderr ---\n" + r.err;
}

// Release ids are compared as text whether the JSON holds a string or a number.
std::string id_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// True if `pid` appears in `text` as a whole number (not inside a longer one).
bool mentions_pid(const std::string& text, pid_t pid) {
  std::string p = std::to_string(pid);
  for (auto at = text.find(p); at != std::string::npos; at = text.find(p, at + 1)) {
    bool before = at > 0 && std::isdigit(static_cast<unsigned char>(text[at - 1]));
    bool after = at + p.size() < text.size() &&
                 std::isdigit(static_cast<unsigned char>(text[at + p.size()]));
    if (!before && !after) return true;
  }
  return false;
}

// A git repository built from the fixture: the app lives in app/ (the deploy's `subdir`), and
// every version is a commit with a tag. The bare clone is the deploy's `source`; its default
// branch `main` ends at v7.
struct AppRepo {
  std::string work;                        // The working repository the commits are made in.
  std::string source;                      // Bare clone of it.
  std::map<std::string, std::string> sha;  // Tag -> full commit id.
};

// Runs git with a fixed identity and no user/system config; fails the test on a non-zero exit.
std::string git(const std::string& scratch, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git",
                                   "-c",
                                   "user.name=Deploy Test",
                                   "-c",
                                   "user.email=deploy-test@example.invalid",
                                   "-c",
                                   "init.defaultBranch=main",
                                   "-c",
                                   "commit.gpgsign=false",
                                   "-c",
                                   "tag.gpgsign=false"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_capture(argv, scratch, {"HOME=" + scratch, "GIT_CONFIG_NOSYSTEM=1"});
  std::string joined;
  for (const auto& a : args) joined += " " + a;
  EXPECT_EQ(r.exit_code, 0) << "git" << joined << "\n" << r.err;
  return trimmed(r.out);
}

// Markers per version (see tests/fixtures/deploy-app/README.md):
//   v1, v2, v6, v7: plain;  v3: BUILD_FAIL;  v4: UNHEALTHY;  v5: BUILD_WAIT naming `gate`.
AppRepo make_repo(const std::string& dir, const std::string& gate) {
  AppRepo repo;
  repo.work = dir + "/work";
  repo.source = dir + "/source.git";
  std::string app = repo.work + "/app";
  std::error_code ec;
  fs::create_directories(app, ec);
  EXPECT_FALSE(ec) << app << ": " << ec.message();
  for (const char* f : {"server.js", "build.js", "package.json"}) {
    fs::copy_file(deploy_fixture_dir() + "/" + f, app + "/" + f, ec);
    EXPECT_FALSE(ec) << f << ": " << ec.message();
  }
  fs::copy_file(drain_helper(), app + "/groundctl.js", ec);
  EXPECT_FALSE(ec) << drain_helper() << ": " << ec.message();
  EXPECT_TRUE(write_file_atomic(repo.work + "/README.md", "deploy e2e repository; app in app/\n"));
  git(dir, {"init", "-q", repo.work});
  struct Version {
    const char* tag;
    const char* marker;  // Empty: none.
  };
  for (Version v : {Version{"v1", ""}, Version{"v2", ""}, Version{"v3", "BUILD_FAIL"},
                    Version{"v4", "UNHEALTHY"}, Version{"v5", "BUILD_WAIT"}, Version{"v6", ""},
                    Version{"v7", ""}}) {
    for (const char* m : {"BUILD_FAIL", "UNHEALTHY", "BUILD_WAIT"}) fs::remove(app + "/" + m, ec);
    EXPECT_TRUE(write_file_atomic(app + "/VERSION", std::string(v.tag + 1) + "\n"));
    std::string marker = v.marker;
    if (!marker.empty()) {
      EXPECT_TRUE(write_file_atomic(app + "/" + marker, marker == "BUILD_WAIT" ? gate + "\n" : ""));
    }
    git(dir, {"-C", repo.work, "add", "-A"});
    git(dir, {"-C", repo.work, "commit", "-q", "-m", std::string("version ") + v.tag});
    git(dir, {"-C", repo.work, "tag", v.tag});
    repo.sha[v.tag] = git(dir, {"-C", repo.work, "rev-parse", "HEAD"});
  }
  git(dir, {"clone", "-q", "--bare", repo.work, repo.source});
  return repo;
}

// The [[service]] a deploy switches, then the [deploy] section; `deploy_extra` adds lines to it.
std::string app_service(const std::string& cwd) {
  return "[[service]]\nname = \"app\"\ncommand = [\"node\", \"server.js\"]\ncwd = \"" + cwd +
         "\"\nlisten = [\"127.0.0.1:0\"]\nready = \"ipc\"\nready_timeout = \"10s\"\n"
         "instances = 2\nstop_timeout = \"10s\"\n\n";
}

std::string deploy_section(const std::string& root, const std::string& source,
                           const std::string& extra = "") {
  return "[deploy]\nservice = \"app\"\nsource = \"" + source + "\"\nsubdir = \"app\"\nroot = \"" +
         root +
         "\"\nshared = [\".env\", \"logs/\"]\nbuild = [[\"npm\", \"run\", \"build\"]]\n"
         "migrate = []\nbackup_before_migrate = false\n"
         "health = { path = \"/health\", watch = \"2s\", interval = \"200ms\" }\nkeep = 3\n" +
         extra;
}

// The release root/current points at: "" unless it is a symlink to a directory of root/releases.
std::string current_release(const std::string& root) {
  std::error_code ec;
  fs::path cur = fs::path(root) / "current";
  if (!fs::is_symlink(cur, ec)) return "";
  fs::path target = fs::canonical(cur, ec);
  if (ec) return "";
  fs::path releases = fs::canonical(fs::path(root) / "releases", ec);
  if (ec || target.parent_path() != releases) return "";
  return target.filename().string();
}

std::set<std::string> release_dirs(const std::string& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/releases", ec)) {
    if (e.is_directory()) out.insert(e.path().filename().string());
  }
  return out;
}

// The versions answering GET / over `n` fresh connections, e.g. "v2", or "v1 v2" while both
// serve; a failed request shows as "error".
std::string served(const std::string& addr, int n = 8) {
  std::set<std::string> seen;
  for (int i = 0; i < n; ++i) {
    HttpReply r = http_get(addr, "/");
    if (r.outcome != Outcome::kOk || r.status != 200) {
      seen.insert("error");
    } else {
      seen.insert(r.body.substr(0, r.body.find(' ')));
    }
  }
  std::string out;
  for (const auto& s : seen) out += (out.empty() ? "" : " ") + s;
  return out;
}

// The entry of `releases --json` with this id (null if none).
json release_entry(const json& releases, const std::string& id) {
  if (!releases.is_object() || !releases["releases"].is_array()) return nullptr;
  for (const auto& r : releases["releases"]) {
    if (id_of(r["id"]) == id) return r;
  }
  return nullptr;
}

void expect_load_clean(const LoadCounts& c, const char* what) {
  EXPECT_GT(c.ok, 0) << what;
  EXPECT_EQ(c.failed(), 0) << what << ": refused " << c.refused << " reset " << c.reset
                           << " timeout " << c.timeout << " other " << c.other << " non-2xx "
                           << c.non_2xx;
}

// Runs `args` (a deploy or rollback) under load: new connections and keep-alive ones.
CliResult under_load(const Daemon& d, const std::string& addr, const std::vector<std::string>& args,
                     LoadCounts& fresh_counts, LoadCounts& kept_counts) {
  Load fresh(addr, 2, false);
  Load kept(addr, 2, true);
  EXPECT_TRUE(eventually([&] { return fresh.completed() > 20 && kept.completed() > 20; }));
  CliResult r = run(d, args);
  // Keep loading a little after the switch: the old instances are draining or gone by now.
  long after = fresh.completed() + kept.completed();
  EXPECT_TRUE(eventually([&] { return fresh.completed() + kept.completed() > after + 50; }));
  fresh_counts = fresh.stop();
  kept_counts = kept.stop();
  return r;
}

// Cases 1-6 of the deploy contract, in sequence on one daemon: each step starts from the state
// the one before left.
TEST(DeployE2e, DeploysUnderLoadRefusesBadBuildsRollsBackAndPrunes) {
  auto tmp = TempDir::create("gc-deploy-e2e-");
  ASSERT_TRUE(tmp);
  std::string root = tmp->file("root");
  AppRepo repo = make_repo(tmp->path(), tmp->file("gate"));
  ASSERT_FALSE(HasFailure()) << "could not build the git repository";
  std::error_code ec;
  ASSERT_TRUE(fs::create_directories(root + "/shared", ec)) << ec.message();
  // Every alert the deploys raise lands here, one Alertmanager webhook payload a line.
  std::string alerts_file = tmp->file("alerts.jsonl");
  std::string notify =
      "[[notify]]\nname = \"record\"\ntype = \"exec\"\ncommand = [\"sh\", \"-c\", "
      "\"cat >> " +
      alerts_file + "; echo >> " + alerts_file + "\"]\n";
  // Declared after `tmp`, so the daemon (and the services running from root) stop first.
  auto d = Daemon::start(app_service(root + "/current/app") + deploy_section(root, repo.source) +
                         notify);
  ASSERT_FALSE(HasFailure());
  std::size_t alerts_seen = 0;
  // The payloads delivered since the last call.
  auto new_alerts = [&] {
    std::vector<json> out;
    std::string text = read_file(alerts_file).value_or("");
    std::size_t n = 0, start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start && n++ >= alerts_seen)
        out.push_back(json::parse(text.substr(start, end - start)));
      start = end + 1;
    }
    alerts_seen = n;
    return out;
  };
  json rolled_back_fingerprint;
  std::string rolled_back_release;

  // 0. shared/.env does not exist yet: the deploy is refused before anything changes.
  {
    SCOPED_TRACE("deploy v1 without shared/.env");
    auto r = run(*d, {"deploy", "v1", "--json"});
    EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << show(r);
    EXPECT_NE((r.out + r.err).find(".env"), std::string::npos) << show(r);
    EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/current", ec))) << "current was created";
    EXPECT_TRUE(release_dirs(root).empty()) << "a release directory was created";
  }
  ASSERT_TRUE(write_file_atomic(root + "/shared/.env", "SECRET=from-shared\n", 0600));

  // 1. First deploy: no current yet, the service has never run.
  std::string r1;
  std::string addr;
  {
    SCOPED_TRACE("first deploy: v1");
    auto r = run(*d, {"deploy", "v1", "--json"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    json j = r.parsed();
    ASSERT_TRUE(j.is_object()) << show(r);
    EXPECT_EQ(j["ok"], true);
    EXPECT_EQ(j["result"], "ok");
    EXPECT_EQ(j["ref"], "v1");
    EXPECT_EQ(j["commit"], repo.sha["v1"]);
    EXPECT_TRUE(j["previous"].is_null()) << j.dump();
    EXPECT_FALSE(j.contains("error")) << j.dump();
    EXPECT_TRUE(j["duration_ms"].is_number()) << j.dump();
    // The build's output is streamed (stdout stays pure JSON) and kept in the log.
    EXPECT_NE((r.out + r.err).find("deploy-app build: built v1"), std::string::npos) << show(r);
    EXPECT_NE(read_file(j.value("log", "")).value_or("").find("deploy-app build: built v1"),
              std::string::npos)
        << "build log " << j.value("log", "");
    r1 = id_of(j["release"]);
    ASSERT_FALSE(r1.empty()) << j.dump();
    EXPECT_EQ(current_release(root), r1);

    std::string app = root + "/releases/" + r1 + "/app";
    EXPECT_TRUE(fs::is_regular_file(root + "/releases/" + r1 + "/README.md"))
        << "the release holds the whole checkout, the app in its subdir";
    EXPECT_TRUE(fs::is_regular_file(app + "/server.js"));
    EXPECT_EQ(read_file(app + "/build-stamp.txt").value_or("").rfind("v1 built by pid ", 0), 0u)
        << "the build step did not run in the release's app dir";
    // Shared entries are symlinks into root/shared; "logs/" was created there.
    EXPECT_TRUE(fs::is_symlink(app + "/.env"));
    EXPECT_EQ(read_file(app + "/.env").value_or(""), "SECRET=from-shared\n");
    EXPECT_TRUE(fs::is_directory(root + "/shared/logs"));
    EXPECT_TRUE(fs::is_symlink(app + "/logs"));
    EXPECT_EQ(fs::canonical(app + "/logs", ec), fs::canonical(root + "/shared/logs", ec));
    EXPECT_EQ(fs::canonical(app + "/.env", ec), fs::canonical(root + "/shared/.env", ec));

    addr = d->address("app");
    ASSERT_FALSE(addr.empty()) << d->describe("app").dump();
    EXPECT_EQ(served(addr), "v1");
    auto pids = d->pids("app");
    EXPECT_EQ(pids.size(), 2u);
    for (int pid : pids) EXPECT_GT(pid, 0);

    json rel = run(*d, {"releases", "--json"}).parsed();
    EXPECT_EQ(id_of(rel["active"]), r1) << rel.dump();
    ASSERT_TRUE(rel["releases"].is_array() && !rel["releases"].empty()) << rel.dump();
    const json& newest = rel["releases"][0];
    EXPECT_EQ(id_of(newest["id"]), r1) << rel.dump();
    EXPECT_EQ(newest["commit"], repo.sha["v1"]);
    EXPECT_EQ(newest["ref"], "v1");
    EXPECT_EQ(newest["result"], "ok");
    EXPECT_EQ(newest["active"], true);
    EXPECT_EQ(newest["on_disk"], true);
    EXPECT_EQ(newest["kind"], "deploy");
    EXPECT_TRUE(newest["started_at"].is_string() && !newest["started_at"].empty()) << rel.dump();
    EXPECT_TRUE(newest["duration_ms"].is_number()) << rel.dump();
  }

  // 2. Second deploy under continuous load: no request fails, the old instances go away.
  std::string r2;
  {
    SCOPED_TRACE("deploy v2 under load");
    auto old_pids = d->pids("app");
    LoadCounts fresh, kept;
    auto r = under_load(*d, addr, {"deploy", "v2", "--json"}, fresh, kept);
    ASSERT_EQ(r.exit_code, 0) << show(r);
    expect_load_clean(fresh, "new-connection load");
    expect_load_clean(kept, "keep-alive load");
    json j = r.parsed();
    EXPECT_EQ(j["result"], "ok") << j.dump();
    EXPECT_EQ(j["commit"], repo.sha["v2"]);
    EXPECT_EQ(id_of(j["previous"]), r1);
    r2 = id_of(j["release"]);
    ASSERT_FALSE(r2.empty());
    EXPECT_NE(r2, r1);
    EXPECT_EQ(current_release(root), r2);
    EXPECT_EQ(d->address("app"), addr) << "the listen socket must survive a deploy";
    EXPECT_EQ(served(addr), "v2");
    for (int pid : old_pids) EXPECT_TRUE(eventually([&] { return !process_exists(pid); })) << pid;
  }

  // 5. (Run here, while v1's release is certainly on disk.) Manual rollbacks, under load.
  {
    SCOPED_TRACE("rollback to v1, then back");
    LoadCounts fresh, kept;
    auto r = under_load(*d, addr, {"rollback", r1, "--json"}, fresh, kept);
    ASSERT_EQ(r.exit_code, 0) << show(r);
    expect_load_clean(fresh, "new-connection load, rollback to v1");
    expect_load_clean(kept, "keep-alive load, rollback to v1");
    json j = r.parsed();
    EXPECT_EQ(j["ok"], true) << j.dump();
    EXPECT_EQ(id_of(j["release"]), r1) << j.dump();
    EXPECT_EQ(id_of(j["previous"]), r2) << j.dump();
    EXPECT_EQ(current_release(root), r1);
    EXPECT_EQ(served(addr), "v1");

    // Without an id: the release active before the current one, i.e. v2's.
    auto back = run(*d, {"rollback", "--json"});
    ASSERT_EQ(back.exit_code, 0) << show(back);
    json jb = back.parsed();
    EXPECT_EQ(id_of(jb["release"]), r2) << jb.dump();
    EXPECT_EQ(id_of(jb["previous"]), r1) << jb.dump();
    EXPECT_EQ(current_release(root), r2);
    EXPECT_EQ(served(addr), "v2");

    json rel = run(*d, {"releases", "--json"}).parsed();
    EXPECT_EQ(id_of(rel["active"]), r2) << rel.dump();
    ASSERT_TRUE(rel["releases"].is_array() && !rel["releases"].empty()) << rel.dump();
    EXPECT_EQ(rel["releases"][0]["kind"], "rollback") << rel.dump();
    EXPECT_EQ(id_of(rel["releases"][0]["id"]), r2) << rel.dump();
    auto sent = new_alerts();
    EXPECT_TRUE(sent.empty()) << "successful deploys and rollbacks raise nothing: "
                              << (sent.empty() ? "" : sent.front().dump());
  }

  // 3. The build fails: nothing is switched, nothing is restarted, the log keeps the error.
  {
    SCOPED_TRACE("deploy v3: build fails");
    auto pids = d->pids("app");
    auto r = run(*d, {"deploy", "v3", "--json"});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    json j = r.parsed();
    ASSERT_TRUE(j.is_object()) << show(r);
    EXPECT_EQ(j["ok"], false);
    EXPECT_EQ(j["result"], "failed");
    EXPECT_EQ(j["commit"], repo.sha["v3"]);
    EXPECT_NE(j.value("error", "").find("build"), std::string::npos) << j.dump();
    std::string log = j.value("log", "");
    EXPECT_NE(read_file(log).value_or("").find(
                  "deploy-app build: BUILD_FAIL present, refusing to build v3"),
              std::string::npos)
        << "build log " << log << ":\n"
        << read_file(log).value_or("(unreadable)");
    EXPECT_EQ(current_release(root), r2);
    EXPECT_EQ(served(addr), "v2");
    EXPECT_EQ(d->pids("app"), pids) << "a failed build must not touch the running service";
    json rel = run(*d, {"releases", "--json"}).parsed();
    EXPECT_EQ(id_of(rel["active"]), r2) << rel.dump();
    json entry = release_entry(rel, id_of(j["release"]));
    EXPECT_EQ(entry["result"], "failed") << rel.dump();
    EXPECT_EQ(entry["active"], false) << rel.dump();
    auto sent = new_alerts();
    ASSERT_EQ(sent.size(), 1u) << "one alert for the failed deploy";
    const json& alert = sent[0]["alerts"][0];
    EXPECT_EQ(sent[0]["version"], "4");
    EXPECT_EQ(sent[0]["status"], "firing");
    EXPECT_EQ(alert["labels"]["alertname"], "DeployFailed") << sent[0].dump();
    EXPECT_EQ(alert["labels"]["service"], "app");
    EXPECT_EQ(alert["annotations"]["release"], j["release"]) << sent[0].dump();
    EXPECT_NE(alert["annotations"]["description"].get<std::string>().find("build"),
              std::string::npos)
        << sent[0].dump();
    EXPECT_EQ(j["alerts"], json::array({"DeployFailed firing"})) << j.dump();
  }

  // 4. Healthy at start, unhealthy after the switch: rolled back to v2, under load.
  {
    SCOPED_TRACE("deploy v4: health fails after the switch");
    LoadCounts fresh, kept;
    auto r = under_load(*d, addr, {"deploy", "v4", "--json"}, fresh, kept);
    EXPECT_EQ(r.exit_code, 1) << show(r);
    expect_load_clean(fresh, "new-connection load, rolled-back deploy");
    expect_load_clean(kept, "keep-alive load, rolled-back deploy");
    json j = r.parsed();
    ASSERT_TRUE(j.is_object()) << show(r);
    EXPECT_EQ(j["ok"], false);
    EXPECT_EQ(j["result"], "rolled_back");
    EXPECT_EQ(j["commit"], repo.sha["v4"]);
    EXPECT_EQ(id_of(j["previous"]), r2) << j.dump();
    EXPECT_NE(j.value("error", "").find("health"), std::string::npos) << j.dump();
    EXPECT_EQ(current_release(root), r2);
    EXPECT_EQ(served(addr), "v2");
    json rel = run(*d, {"releases", "--json"}).parsed();
    EXPECT_EQ(id_of(rel["active"]), r2) << rel.dump();
    json entry = release_entry(rel, id_of(j["release"]));
    EXPECT_EQ(entry["result"], "rolled_back") << rel.dump();
    EXPECT_EQ(entry["active"], false) << rel.dump();
    EXPECT_NE(j.value("error", "").find("answered HTTP 503"), std::string::npos) << j.dump();
    auto sent = new_alerts();
    ASSERT_EQ(sent.size(), 1u) << "one alert for the rolled-back deploy";
    const json& alert = sent[0]["alerts"][0];
    EXPECT_EQ(alert["status"], "firing");
    EXPECT_EQ(alert["labels"]["alertname"], "DeployRolledBack") << sent[0].dump();
    EXPECT_EQ(alert["labels"]["severity"], "critical");
    EXPECT_EQ(alert["annotations"]["release"], j["release"]) << sent[0].dump();
    EXPECT_NE(alert["annotations"]["summary"].get<std::string>().find("v4"), std::string::npos)
        << sent[0].dump();
    rolled_back_fingerprint = alert["fingerprint"];
    rolled_back_release = id_of(j["release"]);
  }

  // 6. Two more deploys (the second of the default branch, main = v7): keep = 3 releases remain
  // on disk, among them the active and the previous one.
  {
    SCOPED_TRACE("pruning");
    auto r6 = run(*d, {"deploy", "v6", "--json"});
    ASSERT_EQ(r6.exit_code, 0) << show(r6);
    std::string id6 = id_of(r6.parsed()["release"]);
    // The first good deploy after the rollback resolves its alert (same labels, same
    // fingerprint, so a receiver pairs them).
    auto sent = new_alerts();
    ASSERT_EQ(sent.size(), 1u) << "the resolution of DeployRolledBack";
    EXPECT_EQ(sent[0]["status"], "resolved") << sent[0].dump();
    EXPECT_EQ(sent[0]["alerts"][0]["labels"]["alertname"], "DeployRolledBack");
    EXPECT_EQ(sent[0]["alerts"][0]["fingerprint"], rolled_back_fingerprint);
    EXPECT_NE(sent[0]["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    auto r7 = run(*d, {"deploy", "--json"});
    ASSERT_EQ(r7.exit_code, 0) << show(r7);
    json j7 = r7.parsed();
    EXPECT_EQ(j7["commit"], repo.sha["v7"]) << "the default ref is the source's default branch";
    EXPECT_EQ(id_of(j7["previous"]), id6) << j7.dump();
    std::string id7 = id_of(j7["release"]);
    EXPECT_EQ(current_release(root), id7);
    EXPECT_EQ(served(addr), "v7");

    auto dirs = release_dirs(root);
    std::string listed;
    for (const auto& s : dirs) listed += " " + s;
    EXPECT_EQ(dirs.size(), 3u) << "releases on disk:" << listed;
    EXPECT_EQ(dirs.count(id7), 1u) << "active release pruned; on disk:" << listed;
    EXPECT_EQ(dirs.count(id6), 1u) << "previous release pruned; on disk:" << listed;
    // A release that never went live goes first; the newest good one (v2) fills the third place.
    EXPECT_EQ(dirs.count(rolled_back_release), 0u) << "rolled-back release kept:" << listed;
    EXPECT_EQ(dirs.count(r2), 1u) << "on disk:" << listed;

    json rel = run(*d, {"releases", "--json"}).parsed();
    ASSERT_TRUE(rel["releases"].is_array()) << rel.dump();
    EXPECT_EQ(id_of(rel["active"]), id7);
    // The history names what was deployed, also when the ref was the default branch.
    EXPECT_EQ(release_entry(rel, id7)["ref"], j7["ref"]) << rel.dump();
    EXPECT_EQ(release_entry(rel, id7)["commit"], repo.sha["v7"]) << rel.dump();
    for (const auto& e : rel["releases"]) {
      std::string id = id_of(e["id"]);
      EXPECT_EQ(e["on_disk"], dirs.count(id) == 1) << "on_disk wrong for " << id;
      if (e["kind"] == "deploy") {
        EXPECT_EQ(e["active"], id == id7) << "active wrong for " << id;
      }
    }

    // A pruned release cannot be rolled back to; nothing changes.
    if (dirs.count(r1) == 0) {
      auto gone = run(*d, {"rollback", r1, "--json"});
      EXPECT_EQ(gone.exit_code, 2) << show(gone);  // No such release: a usage error.
      EXPECT_EQ(current_release(root), id7);
      EXPECT_EQ(served(addr), "v7");
    }
  }
}

// Case 7: a deploy holds the deploy lock from start to end. The first one is parked in its build
// step (v5's build waits for a gate file), so the second one meets it deterministically.
TEST(DeployE2e, ASecondDeployIsRefusedWhileOneRuns) {
  auto tmp = TempDir::create("gc-deploy-e2e-");
  ASSERT_TRUE(tmp);
  std::string root = tmp->file("root");
  std::string gate = tmp->file("gate");
  AppRepo repo = make_repo(tmp->path(), gate);
  ASSERT_FALSE(HasFailure()) << "could not build the git repository";
  std::error_code ec;
  ASSERT_TRUE(fs::create_directories(root + "/shared", ec)) << ec.message();
  ASSERT_TRUE(write_file_atomic(root + "/shared/.env", "SECRET=from-shared\n", 0600));
  auto d = Daemon::start(app_service(root + "/current/app") + deploy_section(root, repo.source));
  ASSERT_FALSE(HasFailure());

  Background first(*d, {"deploy", "v5", "--json"});
  ASSERT_TRUE(
      eventually([&] { return fs::exists(gate + ".waiting") || !first.running(); }, seconds(60)));
  ASSERT_TRUE(first.running()) << show(first.finish());

  auto second = run(*d, {"deploy", "v1", "--json"});
  EXPECT_EQ(second.exit_code, 1) << show(second);
  EXPECT_NE(second.err.find("another deploy is running"), std::string::npos) << show(second);
  // The holder is the first deploy's process, or the daemon if the daemon runs deploys.
  EXPECT_TRUE(mentions_pid(second.err, first.pid()) || mentions_pid(second.err, d->pid()))
      << "holder pid (deploy " << first.pid() << ", daemon " << d->pid() << ") not named:\n"
      << show(second);
  EXPECT_TRUE(first.running()) << "the refused deploy disturbed the running one";
  EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/current", ec)));

  ASSERT_TRUE(write_file_atomic(gate, ""));
  auto r = first.finish();
  ASSERT_EQ(r.exit_code, 0) << show(r);
  json j = r.parsed();
  EXPECT_EQ(j["commit"], repo.sha["v5"]) << j.dump();
  EXPECT_EQ(current_release(root), id_of(j["release"]));
  std::string addr = d->address("app");
  EXPECT_EQ(served(addr), "v5");

  // The lock went with the first deploy.
  auto next = run(*d, {"deploy", "v1", "--json"});
  EXPECT_EQ(next.exit_code, 0) << show(next);
  EXPECT_EQ(served(addr), "v1");
}

// Case 8: `check` refuses a [deploy] that could not work, naming the key.
TEST(DeployE2e, CheckRefusesADeployWhoseServiceIsNotUnderCurrent) {
  auto tmp = TempDir::create("gc-deploy-e2e-");
  ASSERT_TRUE(tmp);
  std::string root = tmp->file("root");
  std::string source = tmp->file("source.git");
  std::error_code ec;
  ASSERT_TRUE(fs::create_directories(source, ec)) << ec.message();
  std::string cfg = tmp->file("groundctl.toml");
  auto check = [&](const std::string& text) {
    EXPECT_TRUE(write_file_atomic(cfg, text));
    return run_capture({groundctl_bin(), "-c", cfg, "check"}, tmp->path());
  };

  auto ok = check(app_service(root + "/current/app") + deploy_section(root, source));
  EXPECT_EQ(ok.exit_code, 0) << show(ok);

  auto outside = check(app_service(tmp->file("elsewhere/app")) + deploy_section(root, source));
  EXPECT_EQ(outside.exit_code, 2) << show(outside);
  EXPECT_NE(outside.err.find("deploy.service"), std::string::npos) << show(outside);
  EXPECT_NE(outside.err.find("cwd"), std::string::npos) << show(outside);
  EXPECT_NE(outside.err.find(tmp->file("elsewhere/app")), std::string::npos) << show(outside);

  // root/current itself is a valid cwd (an app at the repository root).
  auto at_root = check(app_service(root + "/current") + deploy_section(root, source));
  EXPECT_EQ(at_root.exit_code, 0) << show(at_root);

  // A sibling whose name merely starts with "current" is outside.
  auto prefix = check(app_service(root + "/current-old/app") + deploy_section(root, source));
  EXPECT_EQ(prefix.exit_code, 2) << show(prefix);
  EXPECT_NE(prefix.err.find("deploy.service"), std::string::npos) << show(prefix);
}

// Exit 3 when the daemon is not running, before any release is made.
TEST(DeployE2e, WithoutADaemonADeployExitsThreeAndMakesNoRelease) {
  auto tmp = TempDir::create("gc-deploy-e2e-");
  ASSERT_TRUE(tmp);
  std::string root = tmp->file("root");
  AppRepo repo = make_repo(tmp->path(), tmp->file("gate"));
  ASSERT_FALSE(HasFailure()) << "could not build the git repository";
  std::error_code ec;
  ASSERT_TRUE(fs::create_directories(root + "/shared", ec)) << ec.message();
  ASSERT_TRUE(write_file_atomic(root + "/shared/.env", "SECRET=from-shared\n", 0600));
  // Every path of the [server] section inside the temp dir: no daemon ever runs there.
  std::string cfg = tmp->file("groundctl.toml");
  ASSERT_TRUE(write_file_atomic(
      cfg, "[server]\nname = \"e2e\"\nstate_dir = \"" + tmp->file("state") + "\"\nlog_dir = \"" +
               tmp->file("log") + "\"\nruntime_dir = \"" + tmp->file("run") + "\"\n\n" +
               app_service(root + "/current/app") + deploy_section(root, repo.source)));
  auto r = run_capture({groundctl_bin(), "-c", cfg, "deploy", "v1", "--json"}, tmp->path());
  EXPECT_EQ(r.exit_code, 3) << show(r);
  EXPECT_NE(r.err.find("daemon not reachable"), std::string::npos) << show(r);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/current", ec)));
  EXPECT_TRUE(release_dirs(root).empty());
}

}  // namespace
}  // namespace gc::e2e

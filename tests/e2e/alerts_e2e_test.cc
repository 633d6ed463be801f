// SPDX-License-Identifier: MIT
// Alerts end to end: the real daemon evaluates its rules against what it collects and delivers
// Alertmanager webhook payloads (recorded by an exec notifier), resolves them, keeps them across
// restarts, honours silences, and exports rules that the real promtool accepts.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

// Every payload the daemon delivers to the "record" notifier, one JSON document a line.
struct Recorder {
  std::string file;
  std::string toml() const {
    return "[[notify]]\nname = \"record\"\ntype = \"exec\"\ncommand = [\"sh\", \"-c\", \"cat >> " +
           file + "; echo >> " + file + "\"]\n";
  }
  std::vector<json> payloads() const {
    std::vector<json> out;
    std::string text = read_file(file).value_or("");
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) break;
      json j = json::parse(text.substr(start, end - start), nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
      start = end + 1;
    }
    return out;
  }
  // The alerts of every payload with `alertname`, in delivery order, as (status, alert).
  std::vector<json> alerts(const std::string& alertname) const {
    std::vector<json> out;
    for (const auto& p : payloads()) {
      for (const auto& a : p["alerts"]) {
        if (a["labels"].value("alertname", "") == alertname) out.push_back(a);
      }
    }
    return out;
  }
};

// A loopback port that refuses connections for as long as the returned fd is open: bound, never
// listened on.
int refusing_port(UniqueFd& holder) {
  holder = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(holder.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return 0;
  socklen_t len = sizeof sa;
  ::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

std::string monitor_fast() { return "[monitor]\ninterval = \"1s\"\nrepeat_interval = \"0s\"\n"; }

TEST(AlertsE2e, FullDiskFiresThenResolves) {
  auto tmp = TempDir::create("gc-alerts-e2e-");
  ASSERT_TRUE(tmp);
  Recorder rec{tmp->file("alerts.jsonl")};
  std::string mnt = tmp->file("small");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  // The daemon runs in its own mount namespace with a 4 MiB tmpfs: filling it touches nothing
  // outside the test.
  std::vector<std::string> wrap = {"unshare",
                                   "--mount",
                                   "--propagation",
                                   "private",
                                   "--",
                                   "sh",
                                   "-c",
                                   "mount -t tmpfs -o size=4m groundctl-test \"$0\" && exec \"$@\"",
                                   mnt};
  auto d = Daemon::start(
      monitor_fast() + "[[alert]]\nname = \"DiskAlmostFull\"\nfor = \"2s\"\n" + rec.toml(), "",
      wrap);
  ASSERT_FALSE(HasFailure());
  std::string pid = std::to_string(d->pid());
  auto in_ns = [&](const std::string& script) {
    return run_capture({"nsenter", "-t", pid, "-m", "--", "sh", "-c", script}, tmp->path());
  };
  // The built-in rule, tuned to 2s: the daemon sees the tmpfs as a filesystem.
  ASSERT_TRUE(eventually([&] {
    return d->cli({"metrics", "node_filesystem_size_bytes"}).out.find(mnt) != std::string::npos;
  })) << d->cli({"metrics", "node_filesystem"}).out;
  ASSERT_EQ(in_ns("head -c 3500000 /dev/zero > " + mnt + "/fill").exit_code, 0);
  ASSERT_TRUE(
      eventually([&] { return !rec.alerts("DiskAlmostFull").empty(); }, std::chrono::seconds(30)))
      << d->daemon_log();
  json firing = rec.alerts("DiskAlmostFull").front();
  EXPECT_EQ(firing["status"], "firing");
  EXPECT_EQ(firing["labels"]["mountpoint"], mnt);
  EXPECT_EQ(firing["labels"]["severity"], "warning");
  EXPECT_NE(firing["annotations"].value("summary", "").find("filesystem " + mnt + " is 8"),
            std::string::npos)
      << firing.dump();
  json payload = rec.payloads().front();
  EXPECT_EQ(payload["version"], "4");
  EXPECT_EQ(payload["status"], "firing");

  CliResult alerts = d->cli({"alerts", "--json"});
  EXPECT_EQ(alerts.exit_code, 1) << alerts.out << alerts.err;
  bool listed = false;
  json listing = alerts.parsed();
  for (const auto& a : listing["alerts"]) {
    listed = listed || (a["name"] == "DiskAlmostFull" && a["state"] == "firing");
  }
  EXPECT_TRUE(listed) << alerts.out;
  EXPECT_NE(d->cli({"status"}).out.find("DiskAlmostFull"), std::string::npos);

  ASSERT_EQ(in_ns("rm " + mnt + "/fill").exit_code, 0);
  ASSERT_TRUE(eventually([&] { return rec.alerts("DiskAlmostFull").size() >= 2; },
                         std::chrono::seconds(30)));
  json resolved = rec.alerts("DiskAlmostFull")[1];
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["fingerprint"], firing["fingerprint"]);
  EXPECT_EQ(rec.alerts("DiskAlmostFull").size(), 2u);
  EXPECT_EQ(d->cli({"alerts"}).exit_code, 0);
  json history = d->cli({"alerts", "--history", "--json"}).parsed();
  ASSERT_TRUE(history.is_array());
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[0]["event"], "resolved");
  EXPECT_EQ(history[1]["event"], "firing");
  EXPECT_EQ(history[1]["name"], "DiskAlmostFull");
}

TEST(AlertsE2e, RestartNeitherRenotifiesNorForgets) {
  auto tmp = TempDir::create("gc-alerts-e2e-");
  ASSERT_TRUE(tmp);
  Recorder rec{tmp->file("alerts.jsonl")};
  auto d = Daemon::start(monitor_fast() +
                         "default_rules = false\n"
                         "[[alert]]\nname = \"AlwaysOn\"\nexpr = \"vector(1)\"\n"
                         "[[alert]]\nname = \"SlowOne\"\nexpr = \"vector(1)\"\nfor = \"1h\"\n" +
                         rec.toml());
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(eventually([&] { return rec.alerts("AlwaysOn").size() == 1; }));
  json before = d->cli({"alerts", "--json"}).parsed();
  std::string pending_since;
  for (const auto& a : before["alerts"]) {
    if (a["name"] == "SlowOne") pending_since = a.value("active_since", "");
  }
  ASSERT_FALSE(pending_since.empty()) << before.dump();
  d->restart();
  ASSERT_FALSE(HasFailure());
  // Several evaluations later: no second notice, and the pending alert kept its start.
  std::string last = d->cli({"alerts", "--json"}).parsed().value("last_evaluation", "");
  ASSERT_TRUE(eventually([&] {
    json now = d->cli({"alerts", "--json"}).parsed();
    return now.value("last_evaluation", "") != last && !now.value("last_evaluation", "").empty();
  }));
  json after = d->cli({"alerts", "--json"}).parsed();
  for (const auto& a : after["alerts"]) {
    if (a["name"] == "SlowOne") {
      EXPECT_EQ(a.value("active_since", ""), pending_since);
      EXPECT_EQ(a["state"], "pending");
    }
    if (a["name"] == "AlwaysOn") {
      EXPECT_EQ(a["state"], "firing");
    }
  }
  EXPECT_EQ(rec.alerts("AlwaysOn").size(), 1u) << rec.payloads().size();
}

TEST(AlertsE2e, SilenceHoldsNoticesBackUntilEnded) {
  auto tmp = TempDir::create("gc-alerts-e2e-");
  ASSERT_TRUE(tmp);
  Recorder rec{tmp->file("alerts.jsonl")};
  // The rule starts disabled so that the silence exists before it can fire.
  std::string rules = monitor_fast() +
                      "default_rules = false\n[[alert]]\nname = \"AlwaysOn\"\n"
                      "expr = \"vector(1)\"\n";
  auto d = Daemon::start(rules + "enabled = false\n" + rec.toml());
  ASSERT_FALSE(HasFailure());
  CliResult s = d->cli({"silence", "AlwaysOn", "--for", "2h", "--comment", "maintenance"});
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  EXPECT_NE(s.out.find("silence 1: AlwaysOn silenced until"), std::string::npos) << s.out;
  d->write_config(rules + rec.toml());
  ASSERT_EQ(d->cli({"config", "reload"}).exit_code, 0);
  ASSERT_TRUE(eventually([&] {
    json now = d->cli({"alerts", "--json"}).parsed();
    for (const auto& a : now["alerts"]) {
      if (a["name"] == "AlwaysOn" && a["state"] == "firing" && a["silenced"] == true) return true;
    }
    return false;
  }));
  CliResult list = d->cli({"silence", "--list"});
  EXPECT_NE(list.out.find("alertname=AlwaysOn"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("maintenance"), std::string::npos) << list.out;
  EXPECT_TRUE(rec.alerts("AlwaysOn").empty());
  ASSERT_EQ(d->cli({"silence", "--end", "AlwaysOn"}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return rec.alerts("AlwaysOn").size() == 1; }));
  EXPECT_EQ(d->cli({"silence", "--end", "AlwaysOn"}).exit_code, 1);
  EXPECT_EQ(d->cli({"silence", "--for", "2h"}).exit_code, 2);
  EXPECT_EQ(d->cli({"silence", "X", "--for", "soon"}).exit_code, 2);
}

TEST(AlertsE2e, FailingNotifierRaisesAnAlertThroughTheOthers) {
  auto tmp = TempDir::create("gc-alerts-e2e-");
  ASSERT_TRUE(tmp);
  Recorder rec{tmp->file("alerts.jsonl")};
  // A port that nothing listens on: bound, never listened.
  UniqueFd holder;
  int port = refusing_port(holder);
  ASSERT_NE(port, 0);
  auto d = Daemon::start(monitor_fast() +
                         "default_rules = false\n"
                         "[[alert]]\nname = \"AlwaysOn\"\nexpr = \"vector(1)\"\n"
                         "[[alert]]\nname = \"NotifierFailing\"\nenabled = true\n"
                         "expr = \"groundctl_notifier_up == 0\"\n"
                         "summary = \"notifier {{ $labels.notifier }} is failing\"\n"
                         "[[notify]]\nname = \"dead\"\ntype = \"webhook\"\n"
                         "url = \"http://127.0.0.1:" +
                         std::to_string(port) + "/hook\"\ntimeout = \"1s\"\n" + rec.toml());
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(
      eventually([&] { return !rec.alerts("NotifierFailing").empty(); }, std::chrono::seconds(40)))
      << d->daemon_log();
  json a = rec.alerts("NotifierFailing").front();
  EXPECT_EQ(a["labels"]["notifier"], "dead");
  EXPECT_EQ(a["annotations"]["summary"], "notifier dead is failing");
  json st = d->cli({"alerts", "--json"}).parsed();
  bool dead_down = false;
  for (const auto& n : st["notifiers"]) dead_down = dead_down || (n["name"] == "dead" && !n["up"]);
  EXPECT_TRUE(dead_down) << st.dump();
  // The URL (which may hold a token) is in no output.
  EXPECT_EQ(d->daemon_log().find("/hook"), std::string::npos);
}

TEST(AlertsE2e, RulesExportForPromtoolAndBadExpressionsAreRefused) {
  auto d = Daemon::start("[[alert]]\nname = \"QueueLong\"\nexpr = 'groundctl_queue > 5'\n");
  ASSERT_FALSE(HasFailure());
  CliResult out = d->cli({"alerts", "--export-rules"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  ASSERT_TRUE(write_file_atomic(d->dir() + "/rules.yml", out.out));
  CliResult check = run_capture({"promtool", "check", "rules", d->dir() + "/rules.yml"}, d->dir());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("SUCCESS"), std::string::npos) << check.out;
  EXPECT_NE(out.out.find("alert: QueueLong"), std::string::npos);
  EXPECT_NE(out.out.find("alert: DiskAlmostFull"), std::string::npos);

  // A broken expression: `check` names the file, line and column; a reload keeps the old rules.
  d->write_config("[[alert]]\nname = \"QueueLong\"\nexpr = 'rate(groundctl_queue)'\n");
  CliResult bad = d->cli({"check"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("groundctl.toml:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("alert \"QueueLong\": expr: column"), std::string::npos) << bad.err;
  EXPECT_NE(d->cli({"config", "reload"}).exit_code, 0);
  EXPECT_EQ(d->cli({"alerts", "--json"}).parsed().value("rules", 0),
            d->cli({"alerts", "--json"}).parsed().value("rules", -1));
  EXPECT_GT(d->cli({"alerts", "--json"}).parsed().value("rules", 0), 20);
}

}  // namespace
}  // namespace gc::e2e

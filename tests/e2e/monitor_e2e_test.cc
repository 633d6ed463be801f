// SPDX-License-Identifier: MIT
// The monitor's collectors in the real daemon, driven through the config: an API probe against
// the fixture app (stop the app: the probe alert fires; start it: resolved), an Nginx access
// log and a Winston log followed as they grow, a certificate file about to expire, and a real
// Prometheus scraping GET /metrics.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fstream>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"
#include "store/database.h"

namespace gc::e2e {
namespace {

std::string app_service() {
  return "[[service]]\nname = \"web\"\ncommand = [\"node\", \"" + fixture_dir() +
         "/server.js\"]\nlisten = [\"127.0.0.1:0\"]\nready = \"ipc\"\n";
}

std::string recorder(const std::string& file) {
  return "[[notify]]\nname = \"record\"\ntype = \"exec\"\ncommand = [\"sh\", \"-c\", \"cat >> " +
         file + "; echo >> " + file + "\"]\n";
}

// (status, summary) of every delivered alert named `name`, in order.
std::vector<std::pair<std::string, std::string>> delivered(const std::string& file,
                                                           const std::string& name) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string text = read_file(file).value_or("");
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    json p = json::parse(text.substr(start, end - start), nullptr, false);
    start = end + 1;
    if (p.is_discarded()) continue;
    for (const auto& a : p["alerts"]) {
      if (a["labels"].value("alertname", "") == name)
        out.emplace_back(a.value("status", ""), a["annotations"].value("summary", ""));
    }
  }
  return out;
}

// The value of the one sample `series` (with `labels_fragment` in its labels), or NaN.
double sample(const Daemon& d, const std::string& series, const std::string& labels_fragment) {
  // `metrics PREFIX` filters by family: a histogram's family lacks the _bucket/_sum/_count.
  std::string family = series;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string sfx = suffix;
    if (family.size() > sfx.size() &&
        family.compare(family.size() - sfx.size(), sfx.size(), sfx) == 0) {
      family.resize(family.size() - sfx.size());
      break;
    }
  }
  std::string out = d.cli({"metrics", family}).out;
  std::size_t pos = 0;
  while ((pos = out.find(series, pos)) != std::string::npos) {
    std::size_t eol = out.find('\n', pos);
    std::string line = out.substr(pos, eol - pos);
    pos = eol;
    std::size_t space = line.rfind(' ');
    std::string name_labels = line.substr(0, space);
    bool same_series = name_labels == series || name_labels.rfind(series + "{", 0) == 0;
    if (same_series && name_labels.find(labels_fragment) != std::string::npos) {
      return std::stod(line.substr(space + 1));
    }
  }
  return std::nan("");
}

// A loopback port free right now (bound to port 0, then closed).
int free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return 0;
  socklen_t len = sizeof sa;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

TEST(MonitorE2e, ProbeAlertFiresWhenTheAppStopsAndResolvesWhenItIsBack) {
  auto tmp = TempDir::create("gc-monitor-e2e-");
  ASSERT_TRUE(tmp);
  std::string alerts = tmp->file("alerts.jsonl");
  std::string rules =
      "[monitor]\ninterval = \"1s\"\n[[alert]]\nname = \"ApiProbeFailing\"\n"
      "for = \"0s\"\n";
  // A stopped service gives its socket back, and a started one binds again: the port must be
  // fixed for the probe to find the app after `start`.
  int port = free_port();
  ASSERT_NE(port, 0);
  std::string addr = "127.0.0.1:" + std::to_string(port);
  std::string service = app_service();
  service.replace(service.find("127.0.0.1:0"), 11, addr);
  auto d = Daemon::start(service + rules + "[[monitor.http]]\nname = \"api\"\nurl = \"http://" +
                         addr + "/health\"\ntimeout = \"2s\"\n" + recorder(alerts));
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(eventually([&] {
    return sample(*d, "groundctl_http_probe_success", "probe=\"api\"") == 1 &&
           sample(*d, "groundctl_http_probe_duration_seconds_count", "probe=\"api\"") >= 1;
  })) << d->cli({"metrics", "groundctl_http_probe"}).out;
  EXPECT_EQ(sample(*d, "groundctl_http_probe_status_code", "probe=\"api\""), 200);
  // The daemon probes only once its services have started, so its own start-up never fires.
  EXPECT_TRUE(delivered(alerts, "ApiProbeFailing").empty())
      << d->daemon_log() << d->cli({"logs", "web", "--lines", "50"}).out;

  ASSERT_EQ(d->cli({"stop", "web"}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return !delivered(alerts, "ApiProbeFailing").empty(); },
                         std::chrono::seconds(30)))
      << d->daemon_log();
  auto fired = delivered(alerts, "ApiProbeFailing");
  EXPECT_EQ(fired[0].first, "firing");
  EXPECT_EQ(fired[0].second, "probe api is failing");
  EXPECT_EQ(sample(*d, "groundctl_http_probe_status_code", "probe=\"api\""), 0);

  ASSERT_EQ(d->cli({"start", "web"}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return delivered(alerts, "ApiProbeFailing").size() >= 2; },
                         std::chrono::seconds(30)));
  EXPECT_EQ(delivered(alerts, "ApiProbeFailing")[1].first, "resolved");
  EXPECT_GE(sample(*d, "groundctl_http_probe_requests_total", "result=\"failure\""), 1);
}

TEST(MonitorE2e, FollowsNginxAndWinstonLogsAndCertificateFiles) {
  auto tmp = TempDir::create("gc-monitor-e2e-");
  ASSERT_TRUE(tmp);
  std::string access = tmp->file("access.log");
  std::string app_log = tmp->file("orbital.log");
  std::string cert = tmp->file("cert.pem");
  // A certificate that expires in 2 days: CertificateExpiringSoon and CertificateExpiring.
  CliResult gen = run_capture({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:P-256", "-nodes", "-keyout", tmp->file("key.pem"),
                               "-out", cert, "-days", "2", "-subj", "/CN=api.example.test"},
                              tmp->path());
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ASSERT_TRUE(write_file_atomic(access, "old line that is not counted\n"));
  ASSERT_TRUE(write_file_atomic(app_log, "{\"level\":\"error\",\"message\":\"before start\"}\n"));
  std::string alerts = tmp->file("alerts.jsonl");
  auto d = Daemon::start(
      "[monitor]\ninterval = \"1s\"\n[monitor.nginx]\naccess_log = \"" + access +
      "\"\nstatus_url = \"http://127.0.0.1:1/nginx_status\"\n[monitor.logs]\nfiles = [\"" +
      app_log + "\"]\n[monitor.tls]\nfiles = [\"" + cert +
      "\"]\n[[alert]]\nname = \"CertificateExpiring\"\nfor = \"0s\"\n" + recorder(alerts));
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(eventually([&] {
    return sample(*d, "groundctl_nginx_http_requests_total", "status=\"5xx\"") == 0 &&
           sample(*d, "groundctl_app_log_messages_total", "level=\"error\"") == 0;
  })) << d->cli({"metrics", "groundctl_"}).out;
  {
    std::ofstream a(access, std::ios::app);
    for (int status : {200, 200, 404, 502}) {
      a << "127.0.0.1 - - [27/Nov/2026:10:00:00 +0000] \"GET /api/x HTTP/1.1\" " << status
        << " 12 \"-\" \"curl/7.88\" rt=0.120 uct=\"0.000\" urt=\"0.118\"\n";
    }
    std::ofstream l(app_log, std::ios::app);
    l << "{\"level\":\"error\",\"message\":\"db down\"}\n{\"level\":\"info\",\"message\":\"x\"}\n";
    l << "{\"level\":\"warn\",\"message\":\"slow\"}\nnot json\n";
  }
  ASSERT_TRUE(eventually([&] {
    return sample(*d, "groundctl_nginx_http_requests_total", "status=\"2xx\"") == 2 &&
           sample(*d, "groundctl_app_log_messages_total", "level=\"error\"") == 1;
  })) << d->cli({"metrics", "groundctl_"}).out;
  EXPECT_EQ(sample(*d, "groundctl_nginx_http_requests_total", "status=\"4xx\""), 1);
  EXPECT_EQ(sample(*d, "groundctl_nginx_http_requests_total", "status=\"5xx\""), 1);
  EXPECT_EQ(sample(*d, "groundctl_nginx_http_request_duration_seconds_count", ""), 4);
  EXPECT_EQ(sample(*d, "groundctl_nginx_http_request_duration_seconds_bucket", "le=\"0.25\""), 4);
  EXPECT_EQ(sample(*d, "nginx_up", ""), 0);  // Nothing answers on port 1.
  EXPECT_EQ(sample(*d, "groundctl_app_log_messages_total", "level=\"warn\""), 1);
  EXPECT_EQ(sample(*d, "groundctl_app_log_unparsed_lines_total", ""), 1);
  EXPECT_EQ(sample(*d, "groundctl_tls_cert_valid", "cert.pem"), 0);  // Self-signed.
  double expiry = sample(*d, "groundctl_tls_cert_expiry_timestamp_seconds", "cert.pem");
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(expiry, now + 86400);
  EXPECT_LT(expiry, now + 3 * 86400);
  ASSERT_TRUE(eventually([&] { return !delivered(alerts, "CertificateExpiring").empty(); }))
      << d->daemon_log();
  EXPECT_NE(delivered(alerts, "CertificateExpiring")[0].second.find("cert.pem expires in 1d"),
            std::string::npos)
      << delivered(alerts, "CertificateExpiring")[0].second;
  // `groundctl status` carries the monitored certificate, as JSON and as text.
  nlohmann::json status = d->cli({"status", "--json"}).parsed();
  ASSERT_TRUE(status.contains("certificates")) << status.dump();
  ASSERT_EQ(status["certificates"].size(), 1u) << status.dump();
  const nlohmann::json& c = status["certificates"][0];
  EXPECT_EQ(c["source"], "file:" + cert);
  EXPECT_EQ(c["ok"], true);
  EXPECT_EQ(c["valid"], false);  // Self-signed.
  EXPECT_EQ(c["subject"], "api.example.test");
  EXPECT_GT(c["expires_in_s"].get<int64_t>(), 86400);
  EXPECT_LT(c["expires_in_s"].get<int64_t>(), 3 * 86400);
  std::string text = d->cli({"status"}).out;
  EXPECT_NE(text.find(cert + ": NOT VALID, expires "), std::string::npos) << text;
  EXPECT_NE(text.find("(in 1 d)"), std::string::npos) << text;
}

TEST(MonitorE2e, StoppingWritesTheMinuteInProgressToTheHistory) {
  auto d = Daemon::start("[monitor]\ninterval = \"1s\"\n");
  ASSERT_FALSE(HasFailure());
  // Stop between 5 and 50 s into a minute and at least 5 s after the start: the daemon has
  // sampled that minute several times and will not reach the next one before it exits.
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t started = now_ms();
  ASSERT_TRUE(eventually(
      [&] {
        int64_t now = now_ms(), s = now % 60'000;
        return now - started >= 5'000 && s >= 5'000 && s <= 50'000;
      },
      std::chrono::seconds(70)));
  int64_t minute = now_ms() / 60'000 * 60'000;
  ExitStatus st = d->terminate();
  EXPECT_TRUE(st.success()) << st.to_string();
  auto db = store::Database::open(d->dir() + "/state/state.db");
  ASSERT_TRUE(db) << db.error().message;
  auto q = db->prepare(
      "SELECT max(m.t), sum(m.samples) FROM history_1m AS m JOIN history_series AS s"
      " ON s.id = m.series WHERE s.name = 'host_load1' AND m.t = ?");
  ASSERT_TRUE(q) << q.error().message;
  q->bind(1, minute);
  ASSERT_TRUE(q->step().value_or(false));
  EXPECT_EQ(q->column_int(0), minute) << d->daemon_log();
  EXPECT_GE(q->column_int(1), 3);  // At least 5 s of 1 s samples.
}

TEST(MonitorE2e, RealPrometheusScrapesTheDaemon) {
  auto d = Daemon::start(app_service());
  ASSERT_FALSE(HasFailure());
  std::string target = d->cli({"status", "--json"}).parsed()["http"].value("listen", "");
  ASSERT_FALSE(target.empty());
  ASSERT_TRUE(write_file_atomic(d->dir() + "/prometheus.yml",
                                "global:\n  scrape_interval: 1s\nscrape_configs:\n"
                                "  - job_name: groundctl\n    static_configs:\n"
                                "      - targets: ['" +
                                    target + "']\n"));
  // The port is free when chosen; if another process takes it first, Prometheus exits and the
  // next attempt picks another.
  std::optional<ChildProcess> prom;
  std::string prom_addr;
  for (int attempt = 0; attempt < 5 && !prom; ++attempt) {
    prom_addr = "127.0.0.1:" + std::to_string(free_port());
    SpawnOptions o;
    o.argv = {"prometheus", "--config.file=" + d->dir() + "/prometheus.yml",
              "--storage.tsdb.path=" + d->dir() + "/tsdb", "--web.listen-address=" + prom_addr};
    o.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
    auto log = open_fd(d->dir() + "/prometheus.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
    ASSERT_TRUE(log);
    o.stdout_fd = log->get();
    o.stderr_fd = log->get();
    o.parent_death_signal = SIGTERM;
    auto child = ChildProcess::spawn(o);
    ASSERT_TRUE(child) << child.error().message;
    bool ready = eventually([&] { return http_get(prom_addr, "/-/ready").status == 200; });
    if (ready) {
      prom.emplace(std::move(*child));
    } else {
      (void)child->terminate(SIGTERM, std::chrono::seconds(10));
    }
  }
  ASSERT_TRUE(prom) << read_file(d->dir() + "/prometheus.log").value_or("");
  // Prometheus itself says the scrape is healthy and holds our samples.
  json result;
  ASSERT_TRUE(eventually(
      [&] {
        HttpReply r = http_get(prom_addr, "/api/v1/query?query=groundctl_instance_up");
        result = json::parse(r.body, nullptr, false);
        return r.status == 200 && !result.is_discarded() && !result["data"]["result"].empty();
      },
      std::chrono::seconds(30)))
      << read_file(d->dir() + "/prometheus.log").value_or("");
  EXPECT_EQ(result["data"]["result"][0]["metric"]["service"], "web");
  HttpReply targets = http_get(prom_addr, "/api/v1/targets");
  json t = json::parse(targets.body, nullptr, false);
  ASSERT_FALSE(t.is_discarded());
  ASSERT_FALSE(t["data"]["activeTargets"].empty());
  EXPECT_EQ(t["data"]["activeTargets"][0]["health"], "up") << targets.body;
  EXPECT_EQ(t["data"]["activeTargets"][0]["lastError"], "") << targets.body;
  (void)prom->terminate(SIGTERM, std::chrono::seconds(10));
}

}  // namespace
}  // namespace gc::e2e

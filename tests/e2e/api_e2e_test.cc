// SPDX-License-Identifier: MIT
// GET /api/v1/* from the real daemon: every endpoint's shape, the metric history the recording
// rules feed, errors as JSON, the bearer token, and no secret in any answer.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/atomic_file.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

constexpr const char* kEnvSecret = "hunter2-env-value";

std::string app_service() {
  return "[[service]]\nname = \"web\"\ncommand = [\"node\", \"" + fixture_dir() +
         "/server.js\"]\nlisten = [\"127.0.0.1:0\"]\nready = \"ipc\"\ninstances = 2\n"
         "env = { API_SECRET = \"" +
         kEnvSecret + "\" }\n";
}

std::string monitor_fast() { return "[monitor]\ninterval = \"1s\"\n"; }

std::string http_address(const Daemon& d) {
  json st = d.cli({"status", "--json"}).parsed();
  return st["http"].value("listen", "");
}

struct Api {
  std::string addr;
  std::string headers = {};              // Extra request headers (the token).
  std::vector<std::string> bodies = {};  // Every body received, to look for secrets in.

  HttpReply get(const std::string& target) {
    HttpReply r = http_get(addr, target, headers);
    bodies.push_back(r.body);
    return r;
  }
  // GETs `target`, expects `status` and a JSON body; returns the body parsed.
  json expect(const std::string& target, int status) {
    HttpReply r = get(target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json") << target;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << target << ": " << r.body;
    if (status >= 400) {
      EXPECT_TRUE(j.is_object() && j["error"].is_string()) << target << ": " << r.body;
    }
    return j;
  }
};

bool has_points(const json& j) {
  if (!j.is_object() || !j["series"].is_array()) return false;
  for (const auto& s : j["series"]) {
    if (!s["points"].empty()) return true;
  }
  return false;
}

TEST(ApiE2e, EveryEndpointAnswersJson) {
  auto d = Daemon::start(app_service() + monitor_fast());
  ASSERT_TRUE(eventually([&] {
    json ps = d->ps();
    if (ps.size() != 2) return false;
    for (const auto& i : ps) {
      if (i["state"] != "running") return false;
    }
    return true;
  }));
  Api api{http_address(*d)};
  ASSERT_FALSE(api.addr.empty()) << d->daemon_log();
  json load;
  ASSERT_TRUE(eventually(
      [&] {
        load = json::parse(api.get("/api/v1/series?name=host_load1&range=5m").body, nullptr, false);
        return has_points(load);
      },
      std::chrono::seconds(30)))
      << load.dump() << "\n"
      << d->daemon_log();

  // The history: the newest point is current, one a minute over 5 minutes.
  EXPECT_EQ(load["name"], "host_load1");
  EXPECT_EQ(load["range_s"], 300);
  EXPECT_EQ(load["step_s"], 60);
  ASSERT_EQ(load["series"].size(), 1u);
  EXPECT_EQ(load["series"][0]["labels"], json::object());
  const json& point = load["series"][0]["points"].back();
  ASSERT_TRUE(point.is_array() && point.size() == 2) << point.dump();
  EXPECT_TRUE(point[0].is_number_integer());
  EXPECT_TRUE(point[1].is_number());
  json names = api.expect("/api/v1/series", 200);
  ASSERT_TRUE(names["names"].is_array()) << names.dump();
  EXPECT_NE(std::find(names["names"].begin(), names["names"].end(), "host_load1"),
            names["names"].end())
      << names.dump();
  // A rate needs two collections; per-service series carry the service's name.
  json cpu, rss;
  ASSERT_TRUE(eventually([&] {
    cpu = api.expect("/api/v1/series?name=host_cpu_usage_ratio", 200);
    rss = api.expect("/api/v1/series?name=service_resident_memory_bytes&range=1h", 200);
    return has_points(cpu) && has_points(rss);
  })) << cpu.dump()
      << rss.dump();
  double ratio = cpu["series"][0]["points"].back()[1];
  EXPECT_GE(ratio, 0);
  EXPECT_LE(ratio, 1);
  EXPECT_EQ(rss["series"][0]["labels"], (json{{"service", "web"}}));
  EXPECT_GT(rss["series"][0]["points"].back()[1].get<double>(), 1e6);
  json day = api.expect("/api/v1/series?name=host_load1&range=24h", 200);
  EXPECT_EQ(day["range_s"], 86400);
  EXPECT_EQ(day["step_s"], 3600);
  EXPECT_TRUE(has_points(day)) << "the hour in progress";
  json year = api.expect("/api/v1/series?name=host_load1&range=400d", 200);
  EXPECT_LE(400 * 86400 / year["step_s"].get<int>(), 2000);
  // A built-in recording with nothing to record (no PostgreSQL here) is known, and empty.
  json pg = api.expect("/api/v1/series?name=pg_connections", 200);
  EXPECT_EQ(pg["series"], json::array());
  // Percent-encoding is decoded.
  EXPECT_TRUE(has_points(api.expect("/api/v1/series?name=host%5Fload1&range=5%6D", 200)));

  // The same status as `groundctl status --json`.
  json status = api.expect("/api/v1/status", 200);
  json cli_status = d->cli({"status", "--json"}).parsed();
  for (const auto& [key, value] : cli_status.items()) {
    EXPECT_TRUE(status.contains(key)) << key << " missing from " << status.dump();
  }
  EXPECT_EQ(status["pid"], cli_status["pid"]);
  EXPECT_EQ(status["services"][0]["name"], "web");

  json services = api.expect("/api/v1/services", 200);
  ASSERT_EQ(services["services"].size(), 1u) << services.dump();
  const json& web = services["services"][0];
  EXPECT_EQ(web["name"], "web");
  EXPECT_EQ(web["instances"], 2);
  EXPECT_EQ(web["running"], 2);
  EXPECT_EQ(web["restarts"], 0);
  EXPECT_EQ(web["listen"].size(), 1u);
  // What `groundctl ps --json` prints (uptime and usage move between the two reads).
  json ps = d->ps();
  ASSERT_EQ(services["instances"].size(), ps.size()) << services.dump();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    for (const auto& [key, value] : ps[i].items()) {
      EXPECT_TRUE(services["instances"][i].contains(key)) << key;
    }
    EXPECT_EQ(services["instances"][i]["pid"], ps[i]["pid"]);
  }

  json alerts = api.expect("/api/v1/alerts", 200);
  EXPECT_TRUE(alerts["alerts"].is_array()) << alerts.dump();
  EXPECT_TRUE(alerts["silences"].is_array());
  EXPECT_GT(alerts["rules"].get<int>(), 0);
  EXPECT_TRUE(alerts["history"].is_array());
  EXPECT_FALSE(alerts.contains("history_error")) << alerts.dump();

  json backups = api.expect("/api/v1/backups", 200);
  EXPECT_EQ(backups["enabled"], false) << backups.dump();
  EXPECT_EQ(backups["sets"], json::array());

  // Malformed queries: 400 with a JSON error.
  for (const char* bad :
       {"/api/v1/series?name=host_load1&range=30s", "/api/v1/series?name=host_load1&range=401d",
        "/api/v1/series?name=host_load1&range=soon",
        "/api/v1/series?name=host_load1&range=", "/api/v1/series?name=host_load1%zz",
        "/api/v1/series?name=host_load1%4", "/api/v1/series?name=a&name=b",
        "/api/v1/series?name=host_load1&step=5m", "/api/v1/series?name=not-a-name",
        "/api/v1/series?name=x%0Ay", "/api/v1/status?verbose=1"}) {
    api.expect(bad, 400);
  }
  // Unknown series and endpoints: 404 with a JSON error.
  for (const char* missing : {"/api/v1/series?name=no_such_series", "/api/v1/nope",
                              "/api/v1/status/", "/api/v1", "/api/v1/"}) {
    api.expect(missing, 404);
  }
  EXPECT_EQ(http_get(api.addr, "/api/v2/status").status, 404);
  // No answer holds the service's environment.
  for (const auto& body : api.bodies) {
    EXPECT_EQ(body.find(kEnvSecret), std::string::npos) << body;
  }
}

TEST(ApiE2e, ATokenIsRequiredAndNeverShown) {
  auto dir = TempDir::create("gc-api-token-");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_file_atomic(dir->file("token"), "s3cr3t-api-token\n", 0600));
  auto d = Daemon::start("[http]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"" + dir->file("token") +
                         "\"\n" + monitor_fast());
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty()) << d->daemon_log();
  for (const char* path : {"/api/v1/status", "/api/v1/series", "/api/v1/nope"}) {
    EXPECT_EQ(http_get(addr, path).status, 401) << path;
    EXPECT_EQ(http_get(addr, path, "Authorization: Bearer wrong-token!\r\n").status, 401) << path;
  }
  Api api{addr, "Authorization: Bearer s3cr3t-api-token\r\n"};
  ASSERT_TRUE(eventually([&] {
    return has_points(
        json::parse(api.get("/api/v1/series?name=host_load1&range=5m").body, nullptr, false));
  })) << d->daemon_log();
  for (const char* path : {"/api/v1/status", "/api/v1/services", "/api/v1/alerts",
                           "/api/v1/backups", "/api/v1/series"}) {
    api.expect(path, 200);
  }
  api.expect("/api/v1/nope", 404);
  for (const auto& body : api.bodies) {
    EXPECT_EQ(body.find("s3cr3t"), std::string::npos) << body;
  }
  EXPECT_EQ(d->daemon_log().find("s3cr3t"), std::string::npos);
}

}  // namespace
}  // namespace gc::e2e

// SPDX-License-Identifier: MIT
// Alert payloads, and delivery to a real command and a real HTTP listener on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "monitor/notify.h"

namespace gc::monitor {
namespace {

using json = nlohmann::json;

Alert disk_alert() {
  Alert a;
  a.name = "DiskAlmostFull";
  a.labels = {{"mountpoint", "/"}, {"severity", "warning"}};
  a.annotations = {{"summary", "disk / almost full"}};
  a.starts_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795805101));
  return a;
}

TEST(WebhookPayload, HasAlertmanagersShape) {
  Alert a = disk_alert();
  Alert b = disk_alert();
  b.labels["mountpoint"] = "/var";
  b.ends_at = b.starts_at + std::chrono::minutes(5);
  json p = webhook_payload({a, b}, "groundctl", "");
  EXPECT_EQ(p["version"], "4");
  EXPECT_EQ(p["status"], "firing");  // One of them still fires.
  EXPECT_EQ(p["groupLabels"], json({{"alertname", "DiskAlmostFull"}}));
  EXPECT_EQ(p["groupKey"], "{}:{alertname=\"DiskAlmostFull\"}");
  EXPECT_EQ(p["commonLabels"], json({{"alertname", "DiskAlmostFull"}, {"severity", "warning"}}));
  ASSERT_EQ(p["alerts"].size(), 2u);
  EXPECT_EQ(p["alerts"][0]["status"], "firing");
  EXPECT_EQ(p["alerts"][0]["startsAt"], "2026-11-27T18:45:01Z");
  EXPECT_EQ(p["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(p["alerts"][1]["status"], "resolved");
  EXPECT_EQ(p["alerts"][1]["endsAt"], "2026-11-27T18:50:01Z");
  EXPECT_EQ(p["alerts"][0]["labels"]["alertname"], "DiskAlmostFull");
  EXPECT_NE(p["alerts"][0]["fingerprint"], p["alerts"][1]["fingerprint"]);
  EXPECT_EQ(p["alerts"][0]["fingerprint"].get<std::string>().size(), 16u);
}

TEST(Deliver, ExecGetsThePayloadOnStdin) {
  auto dir = TempDir::create("gc-notify-");
  ASSERT_TRUE(dir);
  config::NotifyConfig t;
  t.name = "exec-1";
  t.type = config::NotifyType::kExec;
  t.command = {"sh", "-c", "cat > " + dir->file("got.json")};
  ASSERT_TRUE(deliver(t, "{\"x\":1}"));
  EXPECT_EQ(*read_file(dir->file("got.json")), "{\"x\":1}");
  t.command = {"sh", "-c", "exit 4"};
  Status st = deliver(t, "{}", {2, std::chrono::milliseconds(1)});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("after 2 attempts"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("exit code 4"), std::string::npos) << st.error().message;
}

// A one-request-at-a-time HTTP server on 127.0.0.1:0 answering `status` and keeping bodies.
class Sink {
 public:
  explicit Sink(int status) : status_(status) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~Sink() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (true) {
      int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      UniqueFd conn(c);
      std::string req;
      char buf[4096];
      // Headers, then Content-Length bytes of body.
      while (true) {
        ssize_t n = ::read(conn.get(), buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
        auto end = req.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        auto cl = req.find("Content-Length: ");
        std::size_t want = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
        if (req.size() >= end + 4 + want) break;
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        requests_.push_back(req);
      }
      std::string reply = "HTTP/1.1 " + std::to_string(status_) +
                          " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)write_all(conn.get(), reply);
    }
  }
  int status_;
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

TEST(Deliver, WebhookPostsJsonAndNeverQuotesItsUrl) {
  Sink ok(200);
  config::NotifyConfig t;
  t.name = "webhook-1";
  t.url = ok.url("/services/T0/SECRETTOKEN");
  auto failures = notify_all({t}, {disk_alert()}, "groundctl");
  EXPECT_TRUE(failures.empty()) << failures.front();
  auto reqs = ok.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].rfind("POST /services/T0/SECRETTOKEN HTTP/1.1\r\n", 0), 0u) << reqs[0];
  EXPECT_NE(reqs[0].find("Content-Type: application/json"), std::string::npos);
  json body = json::parse(reqs[0].substr(reqs[0].find("\r\n\r\n") + 4));
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "DiskAlmostFull");

  Sink broken(500);
  t.url = broken.url("/services/T0/SECRETTOKEN");
  Status st = deliver(t, "{}", {2, std::chrono::milliseconds(1)});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("HTTP 500"), std::string::npos) << st.error().message;
  EXPECT_EQ(st.error().message.find("SECRETTOKEN"), std::string::npos) << st.error().message;
  EXPECT_EQ(broken.requests().size(), 2u);  // Retried.
}

TEST(Deliver, ResolvedNoticesSkipTargetsThatDoNotWantThem) {
  Sink sink(200);
  config::NotifyConfig t;
  t.name = "webhook-1";
  t.url = sink.url("/hook");
  t.send_resolved = false;
  Alert resolved = disk_alert();
  resolved.ends_at = resolved.starts_at;
  EXPECT_TRUE(notify_all({t}, {resolved}, "groundctl").empty());
  EXPECT_TRUE(sink.requests().empty());
}

}  // namespace
}  // namespace gc::monitor

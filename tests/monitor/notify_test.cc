// SPDX-License-Identifier: MIT
// Alert payloads of every notifier type, and delivery to a real command and a real HTTP listener
// on loopback.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
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

// The message split at CRLF; fails the test on a bare CR or LF.
std::vector<std::string> crlf_lines(const std::string& message) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find("\r\n", start);
    if (end == std::string::npos) end = message.size();
    std::string line = message.substr(start, end - start);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << "bare CR or LF in " << line;
    lines.push_back(line);
    start = end + 2;
  }
  return lines;
}

// The header section of a message (up to the first empty line).
std::vector<std::string> header_lines(const std::string& message) {
  auto lines = crlf_lines(message);
  auto blank = std::find(lines.begin(), lines.end(), "");
  return {lines.begin(), blank};
}

TEST(SlackPayload, OneMessageWithALinePerAlert) {
  Alert a = disk_alert();
  Alert b = disk_alert();
  b.labels["mountpoint"] = "/var";
  b.ends_at = b.starts_at + std::chrono::minutes(5);
  json p = slack_payload({a, b}, "orbital-prod-1");
  json want = {{"text", "[FIRING:1] groundctl orbital-prod-1"},
               {"attachments",
                {{{"color", "warning"},
                  {"title", "[FIRING:1] groundctl orbital-prod-1"},
                  {"text",
                   "DiskAlmostFull (mountpoint=/): disk / almost full\n"
                   "[RESOLVED] DiskAlmostFull (mountpoint=/var): disk / almost full"}}}}};
  EXPECT_EQ(p, want) << p.dump(2);
}

TEST(SlackPayload, ColourFollowsStatusAndSeverity) {
  Alert a = disk_alert();
  EXPECT_EQ(slack_payload({a}, "h")["attachments"][0]["color"], "warning");
  a.labels["severity"] = "critical";
  EXPECT_EQ(slack_payload({a}, "h")["attachments"][0]["color"], "danger");
  a.labels.erase("severity");
  EXPECT_EQ(slack_payload({a}, "h")["attachments"][0]["color"], "danger");
  a.ends_at = a.starts_at;
  json resolved = slack_payload({a}, "groundctl");
  EXPECT_EQ(resolved["attachments"][0]["color"], "good");
  EXPECT_EQ(resolved["text"], "[RESOLVED] groundctl");
  EXPECT_EQ(resolved["attachments"][0]["text"],
            "DiskAlmostFull (mountpoint=/): disk / almost full");
}

TEST(SlackPayload, EscapesSlackControlCharacters) {
  Alert a = disk_alert();
  a.labels = {{"path", "<!channel>"}};
  a.annotations = {{"summary", "a & b <@U123> > c"}};
  json p = slack_payload({a}, "web<1>&");
  EXPECT_EQ(p["text"], "[FIRING:1] groundctl web&lt;1&gt;&amp;");
  EXPECT_EQ(p["attachments"][0]["text"],
            "DiskAlmostFull (path=&lt;!channel&gt;): a &amp; b &lt;@U123&gt; &gt; c");
}

TEST(AlertmanagerPayload, PostableAlertsOfApiV2) {
  Alert a = disk_alert();
  Alert b = disk_alert();
  b.labels["mountpoint"] = "/var";
  b.labels["empty"] = "";
  b.ends_at = b.starts_at + std::chrono::minutes(5);
  json want = json::parse(R"([
    {"labels": {"alertname": "DiskAlmostFull", "mountpoint": "/", "severity": "warning"},
     "annotations": {"summary": "disk / almost full"},
     "startsAt": "2026-11-27T18:45:01Z", "generatorURL": ""},
    {"labels": {"alertname": "DiskAlmostFull", "mountpoint": "/var", "severity": "warning"},
     "annotations": {"summary": "disk / almost full"},
     "startsAt": "2026-11-27T18:45:01Z", "endsAt": "2026-11-27T18:50:01Z", "generatorURL": ""}
  ])");
  EXPECT_EQ(alertmanager_payload({a, b}), want) << alertmanager_payload({a, b}).dump(2);
}

TEST(EmailMessage, Rfc5322Date) {
  using std::chrono::seconds;
  EXPECT_EQ(rfc5322_date(std::chrono::system_clock::time_point(seconds(1795805101))),
            "Fri, 27 Nov 2026 18:45:01 +0000");
  EXPECT_EQ(rfc5322_date(std::chrono::system_clock::time_point(seconds(0))),
            "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(std::chrono::system_clock::time_point(seconds(951782400))),
            "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(EmailMessage, MessageIdsAreRandomAndBracketed) {
  std::string a = new_message_id();
  std::string b = new_message_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 1 + 32 + 11u) << a;  // "<", 32 hex digits, "@groundctl>".
  EXPECT_EQ(a.front(), '<');
  EXPECT_EQ(a.substr(33), "@groundctl>");
}

TEST(EmailMessage, HeadersAndBody) {
  Alert a = disk_alert();
  a.annotations["description"] = "line one\nline two";
  auto now = a.starts_at + std::chrono::seconds(60);
  std::string m = email_message({a}, "orbital-prod-1", "groundctl@example.org",
                                {"ops@example.org", "dev@example.org"}, now, "<abc@groundctl>");
  std::vector<std::string> want = {
      "Date: Fri, 27 Nov 2026 18:46:01 +0000",
      "From: groundctl@example.org",
      "To: ops@example.org, dev@example.org",
      "Subject: [FIRING:1] DiskAlmostFull on orbital-prod-1",
      "Message-ID: <abc@groundctl>",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      "[FIRING:1] DiskAlmostFull on orbital-prod-1",
      "",
      "[FIRING] DiskAlmostFull",
      "Summary: disk / almost full",
      "Description: line one",
      "line two",
      "Started: 2026-11-27T18:45:01Z",
      "Labels:",
      "  mountpoint = /",
      "  severity = warning",
      "",
      "-- ",
      "groundctl on orbital-prod-1",
  };
  EXPECT_EQ(crlf_lines(m), want) << m;
  EXPECT_EQ(m.substr(m.size() - 2), "\r\n");
}

TEST(EmailMessage, ResolvedSubjectAndEndTime) {
  Alert a = disk_alert();
  a.ends_at = a.starts_at + std::chrono::minutes(5);
  Alert b = a;
  b.name = "LoadHigh";
  std::string m = email_message({a, b, a}, "web", "a@b", {"c@d"}, a.starts_at, "<x@groundctl>");
  auto h = header_lines(m);
  EXPECT_EQ(h[3], "Subject: [RESOLVED] DiskAlmostFull, LoadHigh on web");
  EXPECT_NE(m.find("\r\n[RESOLVED] LoadHigh\r\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\r\nEnded: 2026-11-27T18:50:01Z\r\n"), std::string::npos) << m;
}

TEST(EmailMessage, AlertTextCannotAddHeaders) {
  Alert a = disk_alert();
  a.name = "Disk\r\nBcc: victim@example.org";
  a.annotations["summary"] = "x\r\n\r\nFake body";
  std::string m =
      email_message({a}, "host\nX-Injected: 1", "groundctl@example.org\r\nCc: c@example.org",
                    {"ops@example.org\nBcc: b@example.org"}, a.starts_at, "<i@groundctl>\r\nX: y");
  auto headers = header_lines(m);
  ASSERT_EQ(headers.size(), 8u) << m;
  for (const auto& h : headers) {
    EXPECT_NE(h.rfind("Bcc:", 0), 0u) << h;
    EXPECT_NE(h.rfind("Cc:", 0), 0u) << h;
    EXPECT_NE(h.rfind("X-Injected:", 0), 0u) << h;
    EXPECT_NE(h.rfind("X:", 0), 0u) << h;
  }
  EXPECT_EQ(headers[3], "Subject: [FIRING:1] Disk  Bcc: victim@example.org on host X-Injected: 1");
  EXPECT_EQ(headers[1], "From: groundctl@example.org  Cc: c@example.org");
}

TEST(EmailMessage, NonAsciiSubjectIsEncoded) {
  Alert a = disk_alert();
  std::string m =
      email_message({a}, "serveur-étoilé-très-loin", "a@b", {"c@d"}, a.starts_at, "<i@g>");
  auto headers = header_lines(m);
  // RFC 2047 encoded-words of at most 75 characters, cut between UTF-8 sequences, folded.
  EXPECT_EQ(headers[3],
            "Subject: =?UTF-8?B?W0ZJUklORzoxXSBEaXNrQWxtb3N0RnVsbCBvbiBzZXJ2ZXVyLcOpdG9pbMOp?=");
  EXPECT_EQ(headers[4], " =?UTF-8?B?LXRyw6hzLWxvaW4=?=");
  // The body keeps the UTF-8 text as it is (8bit).
  EXPECT_NE(m.find("on serveur-étoilé-très-loin\r\n"), std::string::npos);
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

TEST(Deliver, SlackGetsItsOwnMessage) {
  Sink sink(200);
  config::NotifyConfig t;
  t.name = "chat";
  t.type = config::NotifyType::kSlack;
  t.url = sink.url("/services/T0/B0/SECRETTOKEN");
  ASSERT_TRUE(deliver_alerts(t, {disk_alert()}, "orbital-prod-1"));
  // Callers of deliver() hand it the webhook payload: it is converted for the target.
  ASSERT_TRUE(deliver(t, webhook_payload({disk_alert()}, "orbital-prod-1", "").dump()));
  auto reqs = sink.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.rfind("POST /services/T0/B0/SECRETTOKEN HTTP/1.1\r\n", 0), 0u) << r;
    json body = json::parse(r.substr(r.find("\r\n\r\n") + 4));
    EXPECT_EQ(body, slack_payload({disk_alert()}, "orbital-prod-1")) << body.dump();
  }
  Status st = deliver(t, "not json", {1, std::chrono::milliseconds(1)});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kInvalidArgument);
}

TEST(Deliver, AlertmanagerPostsToItsApi) {
  Sink sink(200);
  config::NotifyConfig t;
  t.name = "am";
  t.type = config::NotifyType::kAlertmanager;
  t.url = sink.url("/prefix");
  Alert resolved = disk_alert();
  resolved.ends_at = resolved.starts_at + std::chrono::minutes(1);
  ASSERT_TRUE(deliver_alerts(t, {disk_alert(), resolved}, "h"));
  auto reqs = sink.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].rfind("POST /prefix/api/v2/alerts HTTP/1.1\r\n", 0), 0u) << reqs[0];
  json body = json::parse(reqs[0].substr(reqs[0].find("\r\n\r\n") + 4));
  EXPECT_EQ(body, alertmanager_payload({disk_alert(), resolved}));

  Sink broken(400);
  t.url = broken.url("");
  Status st = deliver_alerts(t, {disk_alert()}, "h", {2, std::chrono::milliseconds(1)});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "after 2 attempts: notify \"am\": alertmanager answered HTTP 400");
}

// A loopback port that refuses connections while `holder` is open: bound, never listened on.
int refusing_port(UniqueFd& holder) {
  holder.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(holder.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  socklen_t len = sizeof a;
  ::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

TEST(Deliver, EmailPasswordFileMustBePrivateAndNeverShows) {
  auto dir = TempDir::create("gc-notify-");
  ASSERT_TRUE(dir);
  std::string secret_file = dir->file("smtp.password");
  {
    auto fd = open_fd(secret_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(fd);
    ASSERT_TRUE(write_all(fd->get(), "hunter2-SECRET\n"));
  }
  ASSERT_EQ(::chmod(secret_file.c_str(), 0644), 0);
  UniqueFd holder;
  int port = refusing_port(holder);
  ASSERT_NE(port, 0);
  config::NotifyConfig t;
  t.name = "mail";
  t.type = config::NotifyType::kEmail;
  t.smtp = "smtp://127.0.0.1:" + std::to_string(port);
  t.from = "groundctl@example.org";
  t.to = {"ops@example.org"};
  t.username = "groundctl";
  t.password_file = secret_file;
  t.timeout = std::chrono::seconds(5);
  DeliveryOptions quick{2, std::chrono::milliseconds(1)};

  Status st = deliver_alerts(t, {disk_alert()}, "h", quick);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kPermission);
  EXPECT_EQ(st.error().message, "notify \"mail\": password_file " + secret_file +
                                    " has mode 0644, it must be 0600 or 0400: run chmod 600 " +
                                    secret_file);  // And not retried.

  ASSERT_EQ(::chmod(secret_file.c_str(), 0400), 0);
  st = deliver_alerts(t, {disk_alert()}, "h", quick);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message.rfind("after 2 attempts: notify \"mail\": smtp: ", 0), 0u)
      << st.error().message;
  EXPECT_EQ(st.error().message.find("hunter2"), std::string::npos) << st.error().message;

  t.password_file = dir->file("missing");
  st = deliver_alerts(t, {disk_alert()}, "h", quick);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kNotFound) << st.error().message;
  EXPECT_EQ(st.error().message.rfind("notify \"mail\": password_file: ", 0), 0u)
      << st.error().message;
}

TEST(Deliver, NothingToSendIsNotAFailure) {
  config::NotifyConfig t;
  t.name = "mail";
  t.type = config::NotifyType::kEmail;
  t.smtp = "smtp://127.0.0.1:1";
  t.send_resolved = false;
  Alert resolved = disk_alert();
  resolved.ends_at = resolved.starts_at;
  EXPECT_TRUE(deliver_alerts(t, {resolved}, "h"));
  EXPECT_TRUE(deliver_alerts(t, {}, "h"));
}

}  // namespace
}  // namespace gc::monitor

// SPDX-License-Identifier: MIT
// The stub_status and access log parsers on real-world text, the collector over a real log file,
// and the whole collector against a real Nginx on loopback.
#include "monitor/nginx_metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <thread>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "support/nginx_server.h"

namespace gc::monitor {
namespace {

using std::chrono::steady_clock;

double value_of(const MetricSet& set, const std::string& name, const Labels& labels = {},
                const std::string& suffix = "") {
  auto it = set.families().find(name);
  if (it == set.families().end()) return NAN;
  for (const auto& s : it->second.samples) {
    if (s.labels == labels && s.suffix == suffix) return s.value;
  }
  return NAN;
}

double requests_of(const MetricSet& set, const std::string& status_class) {
  return value_of(set, "groundctl_nginx_http_requests_total", {{"status", status_class}});
}

// --- stub_status ---

TEST(StubStatus, ParsesThePage) {
  auto s = parse_stub_status(
      "Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \n"
      "Reading: 6 Writing: 179 Waiting: 106 \n");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->active, 291u);
  EXPECT_EQ(s->accepted, 16630948u);
  EXPECT_EQ(s->handled, 16630948u);
  EXPECT_EQ(s->requests, 31070465u);
  EXPECT_EQ(s->reading, 6u);
  EXPECT_EQ(s->writing, 179u);
  EXPECT_EQ(s->waiting, 106u);
}

TEST(StubStatus, ATruncatedPageNamesWhatIsMissing) {
  auto cut = parse_stub_status("Active connections: 1 \nserver accepts handled requests\n 5 5 ");
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::kCorrupt);
  EXPECT_NE(cut.error().message.find("requests"), std::string::npos) << cut.error().message;
  auto no_reading = parse_stub_status(
      "Active connections: 1 \nserver accepts handled requests\n 5 5 9 \nReading: 0 Wri");
  ASSERT_FALSE(no_reading);
  EXPECT_NE(no_reading.error().message.find("Writing"), std::string::npos);
  auto html = parse_stub_status("<html><body>502 Bad Gateway</body></html>");
  ASSERT_FALSE(html);
  EXPECT_NE(html.error().message.find("Active connections"), std::string::npos);
  EXPECT_FALSE(parse_stub_status("Active connections: x\n"));
  EXPECT_FALSE(parse_stub_status(""));
}

TEST(StubStatus, UsesTheExportersNames) {
  StubStatus s{3, 10, 9, 20, 1, 2, 0};
  MetricSet set;
  add_stub_status(s, set);
  EXPECT_EQ(value_of(set, "nginx_up"), 1);
  EXPECT_EQ(value_of(set, "nginx_connections_active"), 3);
  EXPECT_EQ(value_of(set, "nginx_connections_accepted"), 10);
  EXPECT_EQ(value_of(set, "nginx_connections_handled"), 9);
  EXPECT_EQ(value_of(set, "nginx_connections_reading"), 1);
  EXPECT_EQ(value_of(set, "nginx_connections_writing"), 2);
  EXPECT_EQ(value_of(set, "nginx_connections_waiting"), 0);
  EXPECT_EQ(value_of(set, "nginx_http_requests_total"), 20);
  EXPECT_EQ(set.families().at("nginx_connections_accepted").type, MetricType::kUntyped);
  EXPECT_EQ(set.families().at("nginx_http_requests_total").type, MetricType::kCounter);
  MetricSet down;
  add_stub_status_down(down);
  EXPECT_EQ(render(down),
            "# HELP nginx_up Status of the last metric scrape\n# TYPE nginx_up gauge\n"
            "nginx_up 0\n");
}

// --- access log lines ---

TEST(AccessLine, ParsesGroundctlsFormat) {
  auto l = parse_access_line(
      "203.0.113.7 - - [10/Oct/2023:13:55:36 +0000] \"GET /index.html HTTP/1.1\" 200 612 \"-\" "
      "\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\" rt=0.004 uct=\"0.001\" "
      "urt=\"0.003\"");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->status, 200);
  EXPECT_EQ(l->method, "GET");
  ASSERT_TRUE(l->request_time);
  EXPECT_EQ(*l->request_time, 0.004);
}

TEST(AccessLine, ParsesRealWorldStatuses) {
  struct Case {
    const char* line;
    int status;
    const char* method;
    double rt;  // NAN: none.
  };
  const Case cases[] = {
      // A WebSocket upgrade, logged when the socket closes.
      {"10.0.0.2 - - [10/Oct/2023:13:55:36 +0000] \"GET /socket.io/?EIO=4&transport=websocket "
       "HTTP/1.1\" 101 1234 \"-\" \"node\" rt=35.127 uct=\"0.000\" urt=\"35.126\"",
       101, "GET", 35.127},
      {"10.0.0.2 - - [10/Oct/2023:13:55:36 +0000] \"DELETE /api/items/7 HTTP/2.0\" 204 0 "
       "\"https://example.com/a b\" \"okhttp/4.9\" rt=0.012 uct=\"0.000\" urt=\"0.011\"",
       204, "DELETE", 0.012},
      // Plain "combined": no request time.
      {"198.51.100.4 - - [10/Oct/2023:13:55:37 +0000] \"GET / HTTP/1.1\" 301 169 \"-\" "
       "\"curl/7.88.1\"",
       301, "GET", NAN},
      // IPv6 client, a user, escaped quotes in the user agent (\" and nginx's \x22).
      {"2001:db8::1 - alice [10/Oct/2023:13:55:38 +0000] \"GET /missing HTTP/1.1\" 404 153 "
       "\"-\" \"Mozilla \\\"quoted\\\" \\x22agent\\x22 rt=9\" rt=0.001 uct=\"-\" urt=\"-\"",
       404, "GET", 0.001},
      // The client gave up: 499, no upstream response time.
      {"192.0.2.1 - - [10/Oct/2023:13:55:39 +0000] \"POST /api/report HTTP/1.1\" 499 0 \"-\" "
       "\"python-requests/2.31\" rt=5.001 uct=\"0.000\" urt=\"-\"",
       499, "POST", 5.001},
      // Two upstreams tried, both failed.
      {"192.0.2.1 - - [10/Oct/2023:13:55:40 +0000] \"GET /api HTTP/1.1\" 502 157 \"-\" \"-\" "
       "rt=0.002 uct=\"0.001, 0.000\" urt=\"0.001, 0.001\"",
       502, "GET", 0.002},
      // A TLS handshake on the plain port: the request is escaped bytes.
      {"192.0.2.9 - - [10/Oct/2023:13:55:41 +0000] \"\\x16\\x03\\x01\\x00\\xF4\\x01\" 400 157 "
       "\"-\" \"-\" rt=0.000 uct=\"-\" urt=\"-\"",
       400, "", 0},
      // A connection that never sent a request.
      {"192.0.2.9 - - [10/Oct/2023:13:55:42 +0000] \"-\" 408 0 \"-\" \"-\" rt=-", 408, "", NAN},
      // Windows line ending, and a line cut inside the user agent.
      {"192.0.2.9 - - [10/Oct/2023:13:55:43 +0000] \"HEAD / HTTP/1.0\" 200 0 \"-\" \"-\" "
       "rt=0.5\r",
       200, "HEAD", 0.5},
      {"192.0.2.9 - - [10/Oct/2023:13:55:43 +0000] \"GET / HTTP/1.1\" 503 0 \"-\" \"Mozil", 503,
       "GET", NAN},
  };
  for (const Case& c : cases) {
    auto l = parse_access_line(c.line);
    ASSERT_TRUE(l) << c.line;
    EXPECT_EQ(l->status, c.status) << c.line;
    EXPECT_EQ(l->method, c.method) << c.line;
    if (std::isnan(c.rt)) {
      EXPECT_FALSE(l->request_time) << c.line;
    } else {
      ASSERT_TRUE(l->request_time) << c.line;
      EXPECT_EQ(*l->request_time, c.rt) << c.line;
    }
  }
}

TEST(AccessLine, RejectsMalformedLines) {
  for (const char* line : {
           "",
           "garbage",
           "2023/10/10 13:55:36 [error] 12#12: *1 connect() failed (111: Connection refused)",
           "1.2.3.4 - - [10/Oct/2023:13:55:36 +0000 \"GET / HTTP/1.1\" 200 1",
           "1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] GET / HTTP/1.1 200 1",
           "1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1 200 1 \"-\" \"-\"",
           "1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" abc 1",
           "1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 2000 1",
           "1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 000 0",
           "1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\"200 1",
       }) {
    EXPECT_FALSE(parse_access_line(line)) << line;
  }
}

TEST(AccessLogStats, CountsEveryClassAndTheLatencies) {
  AccessLogStats stats;
  MetricSet empty;
  stats.add_to(empty);
  for (const char* cls : {"1xx", "2xx", "3xx", "4xx", "5xx"}) {
    EXPECT_EQ(requests_of(empty, cls), 0) << cls;  // Present from the start, for rate().
  }
  EXPECT_EQ(value_of(empty, "groundctl_nginx_http_request_duration_seconds", {}, "_count"), 0);
  const std::string prefix = "10.0.0.1 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" ";
  stats.add_line(prefix + "200 5 \"-\" \"-\" rt=0.003 uct=\"0.001\" urt=\"0.002\"");
  stats.add_line(prefix + "200 5 \"-\" \"-\" rt=0.010 uct=\"0.001\" urt=\"0.009\"");
  stats.add_line(prefix + "502 5 \"-\" \"-\" rt=3.000 uct=\"-\" urt=\"3.000\"");
  stats.add_line(prefix + "304 0 \"-\" \"-\"");  // combined: counted, no latency.
  stats.add_line("not an access log line");
  stats.add_line("");  // Ignored.
  MetricSet set;
  stats.add_to(set);
  EXPECT_EQ(requests_of(set, "2xx"), 2);
  EXPECT_EQ(requests_of(set, "3xx"), 1);
  EXPECT_EQ(requests_of(set, "5xx"), 1);
  EXPECT_EQ(requests_of(set, "4xx"), 0);
  EXPECT_EQ(value_of(set, "groundctl_nginx_access_log_unparsed_lines_total"), 1);
  const std::string h = "groundctl_nginx_http_request_duration_seconds";
  EXPECT_EQ(value_of(set, h, {}, "_count"), 3);
  EXPECT_EQ(value_of(set, h, {}, "_sum"), 3.013);
  EXPECT_EQ(value_of(set, h, {{"le", "0.005"}}, "_bucket"), 1);
  EXPECT_EQ(value_of(set, h, {{"le", "0.01"}}, "_bucket"), 2);  // 0.010 is on the bound.
  EXPECT_EQ(value_of(set, h, {{"le", "2.5"}}, "_bucket"), 2);
  EXPECT_EQ(value_of(set, h, {{"le", "5"}}, "_bucket"), 3);
  EXPECT_EQ(value_of(set, h, {{"le", "+Inf"}}, "_bucket"), 3);
}

// --- the collector over real files and a real server ---

UniqueFd open_log(const std::string& path) {
  auto fd = open_fd(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  EXPECT_TRUE(fd) << fd.error().message;
  return fd ? std::move(*fd) : UniqueFd();
}

TEST(NginxCollector, CountsTheAccessLogFromItsEnd) {
  auto dir = TempDir::create("nginx-log-");
  ASSERT_TRUE(dir) << dir.error().message;
  std::string log = dir->file("access.log");
  UniqueFd writer = open_log(log);
  const std::string prefix = "10.0.0.1 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" ";
  ASSERT_TRUE(write_all(writer.get(), prefix + "500 0 \"-\" \"-\" rt=0.1\n"));  // Before start.
  NginxCollector collector("", log);
  ASSERT_TRUE(write_all(writer.get(), prefix + "200 0 \"-\" \"-\" rt=0.1\n" + prefix +
                                          "404 0 \"-\" \"-\" rt=0.2\ngarbage\n"));
  MetricSet first;
  collector.collect(first);
  EXPECT_EQ(collector.last_error(), "");
  EXPECT_EQ(first.families().count("nginx_up"), 0u);  // No status URL: no stub_status part.
  EXPECT_EQ(requests_of(first, "2xx"), 1);
  EXPECT_EQ(requests_of(first, "4xx"), 1);
  EXPECT_EQ(requests_of(first, "5xx"), 0);
  EXPECT_EQ(value_of(first, "groundctl_nginx_access_log_unparsed_lines_total"), 1);
  ASSERT_TRUE(write_all(writer.get(), prefix + "201 0 \"-\" \"-\" rt=0.3\n"));
  MetricSet second;
  collector.collect(second);
  EXPECT_EQ(requests_of(second, "2xx"), 2);  // Counters keep growing across scrapes.
  EXPECT_EQ(value_of(second, "groundctl_nginx_http_request_duration_seconds", {}, "_count"), 3);
}

TEST(NginxCollector, AnUnreachableStatusPageIsNginxUpZero) {
  int port = testing::free_loopback_port();
  ASSERT_GT(port, 0);
  NginxCollector collector("http://127.0.0.1:" + std::to_string(port) + "/nginx_status", "");
  MetricSet set;
  collector.collect(set);
  EXPECT_EQ(value_of(set, "nginx_up"), 0);
  EXPECT_EQ(set.families().size(), 1u);
  EXPECT_NE(collector.last_error().find("127.0.0.1"), std::string::npos) << collector.last_error();
}

// GETs `path` over a fresh connection; the status code, or -1.
int http_get_status(int port, const std::string& path) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!s || ::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return -1;
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (!write_all(s.get(), request)) return -1;
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = ::read(s.get(), buf, sizeof buf)) > 0;)
    reply.append(buf, static_cast<std::size_t>(n));
  // "HTTP/1.1 200 OK"
  if (reply.size() < 12 || reply.compare(0, 5, "HTTP/") != 0) return -1;
  return std::atoi(reply.c_str() + 9);
}

// `promtool check metrics` on `text`: its exit code and everything it printed.
std::pair<int, std::string> promtool(const TempDir& dir, const std::string& text) {
  if (!write_file_atomic(dir.file("metrics.txt"), text)) return {-1, "cannot write"};
  std::string cmd = "/usr/bin/promtool check metrics < " + dir.file("metrics.txt") + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

bool eventually(const std::function<bool()>& done, std::chrono::seconds limit) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Polling, with a deadline.
  }
  return done();
}

TEST(NginxCollector, ScrapesARealNginx) {
  if (::access("/usr/sbin/nginx", X_OK) != 0) {
    GTEST_SKIP() << "/usr/sbin/nginx is not installed (Debian package nginx)";
  }
  auto dir = TempDir::create("nginx-");
  ASSERT_TRUE(dir) << dir.error().message;
  std::string body =
      "  default_type text/plain;\n  log_format groundctl " + std::string(kAccessLogFormat) +
      ";\n  server {\n    listen 127.0.0.1:@PORT0@;\n    access_log " + dir->file("access.log") +
      " groundctl;\n"
      "    location = /nginx_status { stub_status; access_log off; }\n"
      "    location = / { return 200 \"ok\\n\"; }\n"
      "    location / { return 404; }\n  }\n";
  auto server = testing::NginxServer::start(dir->path(), body);
  ASSERT_TRUE(server) << server.error().message;
  const int port = (*server)->port();
  NginxCollector collector("http://127.0.0.1:" + std::to_string(port) + "/nginx_status",
                           dir->file("access.log"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(http_get_status(port, "/"), 200);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(http_get_status(port, "/missing"), 404);
  // Nginx writes the log line after the response has gone out: poll until both are counted.
  MetricSet set;
  bool counted = eventually(
      [&] {
        set = MetricSet();
        collector.collect(set);
        return requests_of(set, "2xx") == 3 && requests_of(set, "4xx") == 2;
      },
      std::chrono::seconds(10));
  EXPECT_TRUE(counted) << render(set) << collector.last_error();
  EXPECT_EQ(collector.last_error(), "");
  EXPECT_EQ(value_of(set, "nginx_up"), 1);
  EXPECT_GE(value_of(set, "nginx_connections_accepted"), 6);  // 5 requests, this scrape.
  EXPECT_GE(value_of(set, "nginx_http_requests_total"), 6);
  EXPECT_GE(value_of(set, "nginx_connections_active"), 1);  // This scrape's own connection.
  EXPECT_EQ(requests_of(set, "5xx"), 0);
  EXPECT_EQ(value_of(set, "groundctl_nginx_access_log_unparsed_lines_total"), 0);
  EXPECT_EQ(value_of(set, "groundctl_nginx_http_request_duration_seconds", {}, "_count"), 5);
  EXPECT_EQ(
      value_of(set, "groundctl_nginx_http_request_duration_seconds", {{"le", "+Inf"}}, "_bucket"),
      5);
  auto [code, findings] = promtool(*dir, render(set));
  EXPECT_EQ(code, 0) << findings;
  EXPECT_EQ(findings, "");

  // Stopped: the page is gone, the log counts stay.
  server->reset();
  MetricSet after;
  collector.collect(after);
  EXPECT_EQ(value_of(after, "nginx_up"), 0);
  EXPECT_EQ(requests_of(after, "2xx"), 3);
}

}  // namespace
}  // namespace gc::monitor

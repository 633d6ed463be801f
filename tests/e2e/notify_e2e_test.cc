// SPDX-License-Identifier: MIT
// Notifiers end to end: the real daemon delivers a firing alert to a real Alertmanager (API v2),
// to an SMTP server that requires STARTTLS and AUTH (Python's aiosmtpd), and to a Slack-style
// webhook served by the test.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <optional>
#include <thread>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

constexpr const char* kAlwaysOn =
    "[monitor]\ninterval = \"1s\"\ndefault_rules = false\n"
    "[[alert]]\nname = \"AlwaysOn\"\nexpr = \"vector(1)\"\nsummary = \"it is on\"\n";

// A loopback port that was free a moment ago: bound to port 0, then closed. Whoever uses it
// must be ready to find it taken and try another.
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

// Starts a server with stdout to `out` and stderr to `err`; it dies with the test process.
Result<ChildProcess> spawn_server(const std::vector<std::string>& argv, const std::string& out,
                                  const std::string& err) {
  GC_ASSIGN_OR_RETURN(UniqueFd o, open_fd(out, O_WRONLY | O_CREAT | O_APPEND, 0600));
  GC_ASSIGN_OR_RETURN(UniqueFd e, open_fd(err, O_WRONLY | O_CREAT | O_APPEND, 0600));
  SpawnOptions s;
  s.argv = argv;
  s.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"};
  s.stdout_fd = o.get();
  s.stderr_fd = e.get();
  s.parent_death_signal = SIGTERM;
  return ChildProcess::spawn(s);
}

bool exited(ChildProcess& child) {
  auto st = child.try_wait();
  return !st || st->has_value();
}

// The body of a chunked HTTP/1.1 answer, or `body` itself when it does not parse as chunks.
std::string dechunk(const std::string& body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) return body;
    char* end = nullptr;
    unsigned long size = std::strtoul(body.c_str() + pos, &end, 16);
    if (end == body.c_str() + pos) return body;
    if (size == 0) return out;
    if (eol + 2 + size > body.size()) return body;
    out += body.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return body;
}

json get_json(int port, const std::string& target) {
  HttpReply r = http_get("127.0.0.1:" + std::to_string(port), target);
  if (r.outcome != Outcome::kOk || r.status != 200) return nullptr;
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) j = json::parse(dechunk(r.body), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

// The "up" field of `name` in `groundctl alerts --json`; nullopt until it is listed.
std::optional<bool> notifier_up(const Daemon& d, const std::string& name) {
  json st = d.cli({"alerts", "--json"}).parsed();
  if (!st.is_object() || !st.contains("notifiers")) return std::nullopt;
  for (const auto& n : st["notifiers"]) {
    if (n.value("name", "") == name) return n.value("up", true);
  }
  return std::nullopt;
}

TEST(NotifyE2e, AlertmanagerListsTheFiringAlert) {
  const std::string bin = "/usr/bin/prometheus-alertmanager";
  if (::access(bin.c_str(), X_OK) != 0) GTEST_SKIP() << bin << " is not installed";
  auto tmp = TempDir::create("gc-notify-e2e-");
  ASSERT_TRUE(tmp);
  ASSERT_TRUE(write_file_atomic(tmp->file("alertmanager.yml"),
                                "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n"));
  std::optional<ChildProcess> am;
  int port = 0;
  for (int attempt = 0; attempt < 5 && !am; ++attempt) {
    port = free_port();
    ASSERT_NE(port, 0);
    // An empty cluster address turns clustering (and its own port) off.
    auto child = spawn_server(
        {bin, "--config.file=" + tmp->file("alertmanager.yml"),
         "--storage.path=" + tmp->file("data"),
         "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address="},
        tmp->file("am.out"), tmp->file("am.log"));
    ASSERT_TRUE(child) << child.error().message;
    ASSERT_TRUE(eventually(
        [&] {
          if (exited(*child)) return true;  // Most likely the port was taken: try another.
          HttpReply r = http_get("127.0.0.1:" + std::to_string(port), "/-/ready");
          return r.outcome == Outcome::kOk && r.status == 200;
        },
        std::chrono::seconds(30)))
        << read_file(tmp->file("am.log")).value_or("");
    if (!child->reaped()) am.emplace(std::move(*child));
  }
  ASSERT_TRUE(am) << read_file(tmp->file("am.log")).value_or("");

  auto d = Daemon::start(std::string(kAlwaysOn) +
                         "[[notify]]\nname = \"am\"\ntype = \"alertmanager\"\n"
                         "url = \"http://127.0.0.1:" +
                         std::to_string(port) + "\"\n");
  ASSERT_FALSE(HasFailure());
  json listed;
  bool found = eventually(
      [&] {
        listed = get_json(port, "/api/v2/alerts");
        if (!listed.is_array()) return false;
        for (const auto& a : listed) {
          if (a.value("labels", json::object()).value("alertname", "") == "AlwaysOn" &&
              a.value("annotations", json::object()).value("summary", "") == "it is on") {
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(found) << listed.dump() << "\n"
                     << d->daemon_log() << read_file(tmp->file("am.log")).value_or("");
  for (const auto& a : listed) {
    json labels = a.value("labels", json::object());
    if (labels.value("alertname", "") != "AlwaysOn") continue;
    EXPECT_EQ(a.value("status", json::object()).value("state", ""), "active") << a.dump();
    EXPECT_EQ(labels.value("severity", ""), "warning") << a.dump();
  }
  EXPECT_EQ(notifier_up(*d, "am"), std::optional<bool>(true));
  d.reset();
  auto st = am->terminate(SIGTERM, std::chrono::seconds(10));
  EXPECT_TRUE(st) << st.error().message;
}

// An SMTP server on 127.0.0.1 that insists on STARTTLS, then AUTH as groundctl/s3cret, and
// appends every message it accepts to a JSON-lines file. Prints its port when it is ready.
constexpr const char* kSmtpSink = R"PY(
import json, socket, ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, out = sys.argv[1:4]
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        record = {"from": envelope.mail_from, "to": envelope.rcpt_tos,
                  "content": envelope.content.decode("utf-8", "replace")}
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    good = (isinstance(auth_data, LoginPassword) and auth_data.login == b"groundctl"
            and auth_data.password == b"s3cret")
    # handled=False: aiosmtpd itself answers "535 5.7.8" to a refused login.
    return AuthResult(success=good, handled=False)


for attempt in range(20):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, auth_required=True,
                            authenticator=authenticator)
    try:
        controller.start()
        break
    except OSError:
        continue  # Taken in the meantime.
else:
    sys.exit("no free port")
print(port, flush=True)
threading.Event().wait()
)PY";

std::vector<json> json_lines(const std::string& path) {
  std::vector<json> out;
  std::string text = read_file(path).value_or("");
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    json j = json::parse(text.substr(start, end - start), nullptr, false);
    if (!j.is_discarded()) out.push_back(j);
  }
  return out;
}

TEST(NotifyE2e, EmailThroughStartTlsAndAuth) {
  const std::string python = "/usr/bin/python3";
  auto tmp = TempDir::create("gc-notify-e2e-");
  ASSERT_TRUE(tmp);
  if (run_capture({python, "-c", "import aiosmtpd"}, tmp->path()).exit_code != 0) {
    GTEST_SKIP() << "python3-aiosmtpd is not installed";
  }
  std::string cert = tmp->file("cert.pem"), key = tmp->file("key.pem");
  CliResult gen =
      run_capture({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days",
                   "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                  tmp->path());
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ASSERT_TRUE(write_file_atomic(tmp->file("sink.py"), kSmtpSink));
  ASSERT_TRUE(write_file_atomic(tmp->file("good.password"), "s3cret\n", 0600));
  ASSERT_TRUE(write_file_atomic(tmp->file("bad.password"), "wr0ng-SECRET\n", 0600));
  std::string mail = tmp->file("mail.jsonl");
  auto sink = spawn_server({python, "-u", tmp->file("sink.py"), cert, key, mail},
                           tmp->file("sink.out"), tmp->file("sink.log"));
  ASSERT_TRUE(sink) << sink.error().message;
  std::string port;
  ASSERT_TRUE(eventually([&] {
    std::string out = read_file(tmp->file("sink.out")).value_or("");
    if (out.find('\n') != std::string::npos) port = out.substr(0, out.find('\n'));
    return !port.empty() || exited(*sink);
  }));
  ASSERT_FALSE(port.empty()) << read_file(tmp->file("sink.log")).value_or("");

  auto target = [&](const std::string& name, const std::string& password_file) {
    return "[[notify]]\nname = \"" + name +
           "\"\ntype = \"email\"\nsmtp = \"smtp://127.0.0.1:" + port +
           "\"\nfrom = \"groundctl@example.org\"\nto = [\"ops@example.org\"]\n"
           "username = \"groundctl\"\npassword_file = \"" +
           password_file + "\"\nca_file = \"" + cert + "\"\ntimeout = \"5s\"\n";
  };
  auto d = Daemon::start(std::string(kAlwaysOn) + target("mail", tmp->file("good.password")) +
                         target("mail-bad", tmp->file("bad.password")));
  ASSERT_FALSE(HasFailure());

  ASSERT_TRUE(eventually([&] { return !json_lines(mail).empty(); }, std::chrono::seconds(30)))
      << d->daemon_log() << read_file(tmp->file("sink.log")).value_or("");
  json got = json_lines(mail).front();
  EXPECT_EQ(got["from"], "groundctl@example.org");
  EXPECT_EQ(got["to"], json({"ops@example.org"}));
  std::string content = got["content"];
  EXPECT_NE(content.find("\r\nSubject: [FIRING:1] AlwaysOn on e2e\r\n"), std::string::npos)
      << content;
  EXPECT_NE(content.find("\r\nFrom: groundctl@example.org\r\n"), std::string::npos) << content;
  EXPECT_NE(content.find("\r\nTo: ops@example.org\r\n"), std::string::npos) << content;
  EXPECT_NE(content.find("\r\n\r\n"), std::string::npos) << content;
  EXPECT_NE(content.find("\r\nSummary: it is on\r\n"), std::string::npos) << content;

  // The wrong password: three refused attempts, then the notifier is down, and the log says so
  // by the notifier's name without any password.
  ASSERT_TRUE(eventually([&] { return notifier_up(*d, "mail-bad") == std::optional<bool>(false); },
                         std::chrono::seconds(30)))
      << d->cli({"alerts", "--json"}).out << d->daemon_log();
  EXPECT_EQ(notifier_up(*d, "mail"), std::optional<bool>(true));
  std::string log = d->daemon_log();
  EXPECT_NE(log.find("alert notifier mail-bad: after 3 attempts: notify \"mail-bad\": smtp: "
                     "Login denied"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("wr0ng-SECRET"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
  EXPECT_EQ(json_lines(mail).size(), 1u);
  d.reset();
  auto st = sink->terminate(SIGTERM, std::chrono::seconds(10));
  EXPECT_TRUE(st) << st.error().message;
}

// A Slack-style incoming webhook: records each request's body and answers 200 "ok".
class SlackSink {
 public:
  SlackSink() {
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
  ~SlackSink() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> l(mu_);
    return bodies_;
  }

 private:
  void serve() {
    while (true) {
      int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      UniqueFd conn(c);
      timeval tv{10, 0};
      ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string req;
      char buf[4096];
      std::size_t end = std::string::npos, want = 0;
      while (end == std::string::npos || req.size() < end + 4 + want) {
        ssize_t n = ::read(conn.get(), buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
        end = req.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        auto cl = req.find("Content-Length: ");
        want = cl == std::string::npos ? 0 : std::strtoul(req.c_str() + cl + 16, nullptr, 10);
      }
      if (end == std::string::npos) continue;
      {
        std::lock_guard<std::mutex> l(mu_);
        bodies_.push_back(req.substr(end + 4));
      }
      (void)write_all(conn.get(),
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                      "Connection: close\r\n\r\nok");
    }
  }
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> bodies_;  // Guarded by mu_.
};

TEST(NotifyE2e, SlackWebhookGetsOneMessage) {
  SlackSink sink;
  auto d = Daemon::start(std::string(kAlwaysOn) +
                         "[[notify]]\nname = \"chat\"\ntype = \"slack\"\n"
                         "url = \"http://127.0.0.1:" +
                         std::to_string(sink.port()) + "/services/T0/B0/SECRETTOKEN\"\n");
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(eventually([&] { return !sink.bodies().empty(); }, std::chrono::seconds(30)))
      << d->daemon_log();
  json body = json::parse(sink.bodies().front(), nullptr, false);
  ASSERT_TRUE(body.is_object()) << sink.bodies().front();
  EXPECT_EQ(body.value("text", ""), "[FIRING:1] groundctl e2e") << body.dump();
  ASSERT_TRUE(body["attachments"].is_array()) << body.dump();
  ASSERT_EQ(body["attachments"].size(), 1u) << body.dump();
  const json& a = body["attachments"][0];
  EXPECT_EQ(a.value("color", ""), "warning") << body.dump();  // A rule's default severity.
  EXPECT_EQ(a.value("text", ""), "AlwaysOn: it is on") << body.dump();
  EXPECT_TRUE(eventually([&] { return notifier_up(*d, "chat") == std::optional<bool>(true); }));
  EXPECT_EQ(d->daemon_log().find("SECRETTOKEN"), std::string::npos);
}

}  // namespace
}  // namespace gc::e2e

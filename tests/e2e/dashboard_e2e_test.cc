// SPDX-License-Identifier: MIT
// The dashboard at GET /, from files embedded in the binary: its headers (CSP, nosniff, types),
// and headless Chromium loading it from the real daemon: charts drawn from the JSON API with no
// script error, no CSP violation and no console message.
#include <fcntl.h>
#include <signal.h>

#include <gtest/gtest.h>
#include <filesystem>
#include <iostream>
#include <regex>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "e2e/harness.h"

namespace gc::e2e {
namespace {

constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string app_service() {
  return "[[service]]\nname = \"web\"\ncommand = [\"node\", \"" + fixture_dir() +
         "/server.js\"]\nlisten = [\"127.0.0.1:0\"]\nready = \"ipc\"\n";
}

std::string http_address(const Daemon& d) {
  json st = d.cli({"status", "--json"}).parsed();
  return st.is_object() && st.contains("http") ? st["http"].value("listen", "") : "";
}

void expect_dashboard_headers(const HttpReply& r, const std::string& content_type) {
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.header("Content-Type"), content_type) << r.head;
  EXPECT_EQ(r.header("Content-Security-Policy"), kCsp) << r.head;
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff") << r.head;
  EXPECT_EQ(r.header("Referrer-Policy"), "no-referrer") << r.head;
  EXPECT_EQ(r.header("Cache-Control"), "no-cache") << r.head;
}

struct BrowserRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs headless Chromium on `url` with its own profile under `dir`. It exits by itself once the
// page's virtual time budget is spent; if it hangs, its process group is killed after 120 s.
BrowserRun run_chromium(const std::string& dir, const std::vector<std::string>& extra_args,
                        const std::string& url) {
  BrowserRun run;
  const std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  auto exe = find_executable("chromium", path_var);
  if (!exe) {
    ADD_FAILURE() << "chromium is not installed: run scripts/install-deps";
    return run;
  }
  std::string out_path = dir + "/chromium.out", err_path = dir + "/chromium.err";
  auto out = open_fd(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  auto err = open_fd(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  EXPECT_TRUE(out && err);
  if (!out || !err) return run;
  SpawnOptions o;
  o.argv = {*exe,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--enable-logging=stderr",
            "--v=0",
            "--no-first-run",
            "--user-data-dir=" + dir + "/chromium-profile"};
  o.argv.insert(o.argv.end(), extra_args.begin(), extra_args.end());
  o.argv.push_back(url);
  o.env = {"PATH=" + path_var, "HOME=" + dir};
  o.stdout_fd = out->get();
  o.stderr_fd = err->get();
  o.parent_death_signal = SIGKILL;
  auto child = ChildProcess::spawn(o);
  EXPECT_TRUE(child) << child.error().message;
  if (!child) return run;
  std::optional<ExitStatus> status;
  bool exited = eventually(
      [&] {
        auto st = child->try_wait();
        if (st && *st) status = **st;
        return !st || status.has_value();
      },
      std::chrono::seconds(120));
  if (!exited) {
    (void)child->signal_group(SIGKILL);
    (void)child->wait();
    ADD_FAILURE() << "chromium did not exit within 120 s";
  }
  if (status) run.exit_code = status->signaled ? 128 + status->signal : status->code;
  run.out = read_file(out_path).value_or("");
  run.err = read_file(err_path).value_or("");
  return run;
}

// The lines of Chromium's log about the page: uncaught exceptions, CSP violations and console
// messages. Chromium 156 (Debian 12) logs every console message, console.log and console.error
// alike, as `[...:INFO:CONSOLE:LINE] "text", source: URL (LINE)`; a CSP violation is such a
// message too ("... violates the following Content Security Policy directive ...", older
// versions: "Refused to ..."). The dashboard logs only errors, so any of these is a failure.
std::vector<std::string> page_problems(const std::string& log) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(start, end - start);
    start = end + 1;
    if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos ||
        line.find("Refused to") != std::string::npos ||
        line.find("Content Security Policy") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(DashboardE2e, ServesEmbeddedFilesUnderAStrictPolicy) {
  auto d = Daemon::start("");
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty()) << d->daemon_log();

  HttpReply index = http_get(addr, "/");
  expect_dashboard_headers(index, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("assets/app.js"), std::string::npos) << index.body;
  // Every asset is byte for byte the file it was built from.
  const std::string web = GC_WEB_DIR;
  EXPECT_EQ(index.body, read_file(web + "/dashboard/index.html").value_or("?"));
  struct Asset {
    const char* name;
    std::string source;
    const char* type;
  };
  for (const Asset& a : {
           Asset{"app.js", web + "/dashboard/app.js", "text/javascript; charset=utf-8"},
           Asset{"style.css", web + "/dashboard/style.css", "text/css; charset=utf-8"},
           Asset{"uPlot.iife.min.js", web + "/node_modules/uplot/dist/uPlot.iife.min.js",
                 "text/javascript; charset=utf-8"},
           Asset{"uPlot.min.css", web + "/node_modules/uplot/dist/uPlot.min.css",
                 "text/css; charset=utf-8"},
       }) {
    SCOPED_TRACE(a.name);
    HttpReply r = http_get(addr, std::string("/assets/") + a.name);
    expect_dashboard_headers(r, a.type);
    auto want = read_file(a.source);
    ASSERT_TRUE(want) << want.error().message;
    EXPECT_EQ(r.body.size(), want->size());
    EXPECT_TRUE(r.body == *want);
  }

  HttpReply missing = http_get(addr, "/assets/nope.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(http_get(addr, "/assets/").status, 404);
  EXPECT_EQ(http_get(addr, "/assets/../metrics").status, 404);
  // Every other response keeps its own headers, and nosniff.
  HttpReply metrics = http_get(addr, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(metrics.header("Cache-Control"), "no-store");
  EXPECT_EQ(metrics.header("Content-Security-Policy"), "");
}

// A browser cannot send a bearer token with a page load: the page and its assets, which hold no
// data, are public; the data stays behind the token.
TEST(DashboardE2e, ThePageNeedsNoTokenButTheDataDoes) {
  auto dir = TempDir::create("gc-dashboard-token-");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(write_file_atomic(dir->file("token"), "s3cr3t-token\n", 0600));
  auto d = Daemon::start("[http]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"" + dir->file("token") +
                         "\"\n");
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty()) << d->daemon_log();
  expect_dashboard_headers(http_get(addr, "/"), "text/html; charset=utf-8");
  expect_dashboard_headers(http_get(addr, "/assets/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(http_get(addr, "/assets/nope.js").status, 404);
  EXPECT_EQ(http_get(addr, "/metrics").status, 401);
  EXPECT_EQ(http_get(addr, "/api/v1/status").status, 401);
  EXPECT_EQ(http_get(addr, "/api/v1/status", "Authorization: Bearer s3cr3t-token\r\n").status, 200);
}

TEST(DashboardE2e, ChromiumRendersItWithoutErrors) {
  // A monitored certificate file that its CA file trusts: the certificate tile shows its expiry.
  auto certs = TempDir::create("gc-dashboard-cert-");
  ASSERT_TRUE(certs);
  std::string cert = certs->file("cert.pem");
  CliResult gen =
      run_capture({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-keyout", certs->file("key.pem"), "-out",
                   cert, "-days", "30", "-subj", "/CN=api.example.test"},
                  certs->path());
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto d = Daemon::start("[monitor]\ninterval = \"1s\"\n[monitor.tls]\nfiles = [\"" + cert +
                         "\"]\nca_file = \"" + cert + "\"\n\n" + app_service());
  std::string addr = http_address(*d);
  ASSERT_FALSE(addr.empty()) << d->daemon_log();
  ASSERT_TRUE(eventually([&] {
    json st = d->cli({"status", "--json"}).parsed();
    return st.is_object() && st.contains("certificates");
  })) << d->cli({"status", "--json"}).out;
  // Wait for the history to have points, so that the page has charts to draw.
  HttpReply load;
  ASSERT_TRUE(eventually(
      [&] {
        load = http_get(addr, "/api/v1/series?name=host_load1&range=1h");
        json j = json::parse(load.body, nullptr, false);
        return load.status == 200 && j.is_object() && j["series"].is_array() &&
               !j["series"].empty() && !j["series"][0]["points"].empty();
      },
      std::chrono::seconds(30)))
      << load.status << " " << load.body;

  BrowserRun dom = run_chromium(d->dir(), {"--dump-dom"}, "http://" + addr + "/");
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom.out, m, std::regex("data-rendered=\"([0-9]+)\"")))
      << "the page never finished its first render:\n"
      << dom.out << "\n"
      << dom.err;
  int charts = std::stoi(m[1]);
  EXPECT_GT(charts, 0) << dom.out;
  // uPlot draws each chart on one canvas.
  EXPECT_GE(count_of(dom.out, "<canvas"), static_cast<std::size_t>(charts)) << dom.out;
  EXPECT_NE(dom.out.find("class=\"uplot"), std::string::npos);
  EXPECT_NE(dom.out.find("id=\"error\" class=\"banner\" role=\"alert\" hidden"), std::string::npos)
      << "the error banner shows:\n"
      << dom.out;
  EXPECT_TRUE(std::regex_search(
      dom.out, std::regex("class=\"tile ok\" id=\"tile-certificate\"><h2>Certificate</h2>"
                          "<p class=\"value\">expires in (29|30) d</p>"
                          "<p class=\"detail\">1 checked</p>")))
      << dom.out;
  for (const auto& line : page_problems(dom.err)) ADD_FAILURE() << "from the page: " << line;
  std::cout << "dashboard: " << charts << " charts drawn\n";

  BrowserRun shot = run_chromium(
      d->dir(), {"--screenshot=" + d->dir() + "/dashboard.png", "--window-size=1400,1800"},
      "http://" + addr + "/");
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  for (const auto& line : page_problems(shot.err)) ADD_FAILURE() << "from the page: " << line;
  auto png = read_file(d->dir() + "/dashboard.png");
  ASSERT_TRUE(png) << png.error().message << "\n" << shot.err;
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // Kept as a test artifact, for a person to look at.
  const std::string artifact = std::string(GC_TEST_ARTIFACT_DIR) + "/dashboard.png";
  std::error_code ec;
  std::filesystem::create_directories(GC_TEST_ARTIFACT_DIR, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(write_file_atomic(artifact, *png));
  std::cout << "dashboard screenshot: " << artifact << "\n";
}

}  // namespace
}  // namespace gc::e2e

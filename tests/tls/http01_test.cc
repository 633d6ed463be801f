// SPDX-License-Identifier: MIT
// Tests of tls/http01.h (both responders, over real sockets and files) and of the certificate
// directory in tls/cert_files.h.
#include "tls/http01.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "tls/cert_files.h"

namespace gc::tls {
namespace {

const std::string kToken = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

// One HTTP/1.0 GET to 127.0.0.1:port; returns the whole answer ("" when refused).
std::string get(int port, const std::string& path) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return "";
  if (!write_all(s.get(), "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n")) return "";
  std::string out;
  char buf[1024];
  for (ssize_t n; (n = ::read(s.get(), buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

TEST(StandaloneResponder, AnswersOnlyKnownTokens) {
  int port = 0;
  auto r = start_standalone_responder("127.0.0.1:0", &port);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_GT(port, 0);
  ASSERT_TRUE((*r)->add(kToken, kToken + ".thumb"));
  std::string ok = get(port, "/.well-known/acme-challenge/" + kToken);
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  EXPECT_EQ(ok.substr(ok.size() - kToken.size() - 6), kToken + ".thumb");
  EXPECT_EQ(get(port, "/.well-known/acme-challenge/other-token-123456").rfind("HTTP/1.1 404", 0),
            0u);
  EXPECT_EQ(get(port, "/").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_FALSE((*r)->add("../../etc/passwd", "x"));
  r->reset();
  EXPECT_EQ(get(port, "/.well-known/acme-challenge/" + kToken), "");  // Closed.
}

TEST(StandaloneResponder, RefusesBadAddressesAndBusyPorts) {
  EXPECT_EQ(start_standalone_responder("localhost:80").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(start_standalone_responder("127.0.0.1").error().code, Errc::kInvalidArgument);
  int port = 0;
  auto first = start_standalone_responder("127.0.0.1:0", &port);
  ASSERT_TRUE(first);
  auto second = start_standalone_responder("127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kConflict);
}

TEST(WebrootResponder, WritesReadableFilesAndRemovesThem) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  std::string file = dir->path() + "/www/.well-known/acme-challenge/" + kToken;
  {
    auto r = make_webroot_responder(dir->path() + "/www");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE((*r)->add(kToken, "keyauth"));
    EXPECT_EQ(read_file(file).value_or(""), "keyauth");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    auto bad = (*r)->add("../../../../tmp/evil-token-xx", "x");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  }
  EXPECT_NE(::access(file.c_str(), F_OK), 0);
  EXPECT_FALSE(make_webroot_responder("relative/dir"));
}

TEST(CertFiles, InstallKeepsThePreviousPairAndRestoreBringsItBack) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  CertPaths p{dir->path() + "/certs/example.org"};
  ASSERT_TRUE(install_cert_files(p, "chain-1", "key-1"));
  struct stat st {};
  ASSERT_EQ(::stat(p.privkey().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(p.fullchain().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_TRUE(install_cert_files(p, "chain-2", "key-2"));
  EXPECT_EQ(read_file(p.previous_fullchain()).value_or(""), "chain-1");
  EXPECT_EQ(read_file(p.previous_privkey()).value_or(""), "key-1");
  ASSERT_EQ(::stat(p.previous_privkey().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(restore_previous(p));
  EXPECT_EQ(read_file(p.fullchain()).value_or(""), "chain-1");
  EXPECT_EQ(read_file(p.privkey()).value_or(""), "key-1");
}

TEST(CertFiles, RestoreWithoutPreviousRemovesTheNewPair) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  CertPaths p{dir->path()};
  ASSERT_TRUE(install_cert_files(p, "chain", "key"));
  ASSERT_TRUE(restore_previous(p));
  EXPECT_NE(::access(p.fullchain().c_str(), F_OK), 0);
  EXPECT_NE(::access(p.privkey().c_str(), F_OK), 0);
}

TEST(CertFiles, RenewalRecordRoundTrips) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  CertPaths p{dir->path()};
  auto none = load_renewal_record(p);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  RenewalRecord r;
  r.last_attempt = SysSeconds(std::chrono::seconds(1790000000));
  r.result = "failed";
  r.error = "rate limited";
  r.rate_limited = true;
  r.next_due = SysSeconds(std::chrono::seconds(1790003600));
  ASSERT_TRUE(save_renewal_record(p, r));
  auto back = load_renewal_record(p);
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->last_attempt, r.last_attempt);
  EXPECT_EQ((*back)->result, "failed");
  EXPECT_EQ((*back)->error, "rate limited");
  EXPECT_TRUE((*back)->rate_limited);
  EXPECT_EQ((*back)->next_due, r.next_due);
  ASSERT_TRUE(write_file_atomic(p.renewal_record(), "{broken"));
  EXPECT_EQ(load_renewal_record(p).error().code, Errc::kCorrupt);
}

TEST(CertFiles, RunHookReportsExitStatusAndOutput) {
  EXPECT_TRUE(run_hook({}, "validate command"));
  EXPECT_TRUE(run_hook({"/bin/true"}, "validate command"));
  auto st =
      run_hook({"/bin/sh", "-c", "echo 'nginx: [emerg] bad key' >&2; exit 1"}, "validate command");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("exit code 1"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("[emerg] bad key"), std::string::npos);
  EXPECT_FALSE(run_hook({"/nonexistent/program"}, "reload command"));
}

}  // namespace
}  // namespace gc::tls

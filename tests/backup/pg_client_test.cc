// SPDX-License-Identifier: MIT
// The PostgreSQL client against a real PostgreSQL 15: trust over the socket, scram-sha-256 and
// md5 over TCP, TLS, errors that leave the session usable, and a server that goes away.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <thread>

#include "backup/pg_client.h"
#include "base/unique_fd.h"
#include "support/postgres.h"

namespace gc::backup {
namespace {

using testing::PostgresOptions;
using testing::PostgresServer;

constexpr const char* kScramPassword = "scram-pass-7f3a";
constexpr const char* kMd5Password = "md5-pass-91cc";
constexpr const char* kTlsPassword = "tls-pass-2b8e";

std::unique_ptr<PostgresServer> start_or_fail(PostgresOptions o) {
  auto pg = PostgresServer::start(std::move(o));
  EXPECT_TRUE(pg) << pg.error().message;
  return pg ? std::move(*pg) : nullptr;
}

class PgClient : public ::testing::Test {
 protected:
  // One plain server (socket and TCP) and one with TLS, shared by the suite.
  static void SetUpTestSuite() {
    PostgresOptions plain;
    plain.listen_tcp = true;
    plain.hba = {"local all nobody peer", "local all all trust",
                 "host all md5_user 127.0.0.1/32 md5", "host all all 127.0.0.1/32 scram-sha-256"};
    plain_ = start_or_fail(plain).release();
    if (plain_) {
      auto r = plain_->psql("postgres", std::string("CREATE ROLE scram_user LOGIN PASSWORD '") +
                                            kScramPassword + "'");
      EXPECT_TRUE(r) << r.error().message;
      // The md5 method needs an md5 verifier; a SCRAM one makes the server use SCRAM anyway.
      r = plain_->psql("postgres", std::string("SET password_encryption = 'md5'; CREATE ROLE "
                                               "md5_user LOGIN PASSWORD '") +
                                       kMd5Password + "'");
      EXPECT_TRUE(r) << r.error().message;
      r = plain_->psql("postgres", "CREATE ROLE nobody LOGIN");
      EXPECT_TRUE(r) << r.error().message;
    }
    PostgresOptions tls;
    tls.listen_tcp = true;
    tls.ssl = true;
    tls.hba = {"hostssl all all 127.0.0.1/32 scram-sha-256"};
    tls_ = start_or_fail(tls).release();
    if (tls_) {
      auto r = tls_->psql(
          "postgres", std::string("CREATE ROLE tls_user LOGIN PASSWORD '") + kTlsPassword + "'");
      EXPECT_TRUE(r) << r.error().message;
    }
  }
  static void TearDownTestSuite() {
    delete plain_;
    delete tls_;
    plain_ = tls_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(plain_, nullptr);
    ASSERT_NE(tls_, nullptr);
  }

  static PgTarget socket_target() {
    PgTarget t;
    t.host = plain_->socket_dir();
    t.port = plain_->port();
    return t;
  }
  static PgTarget tcp_target(const PostgresServer& pg, const std::string& user,
                             const std::string& password) {
    PgTarget t;
    t.host = "127.0.0.1";
    t.port = pg.port();
    t.user = user;
    t.password = password;
    return t;
  }

  static PostgresServer* plain_;
  static PostgresServer* tls_;
};

PostgresServer* PgClient::plain_ = nullptr;
PostgresServer* PgClient::tls_ = nullptr;

PgConnection connect_or_die(const PgTarget& t) {
  auto c = PgConnection::connect(t);
  EXPECT_TRUE(c) << c.error().message;
  if (!c) std::abort();
  return std::move(*c);
}

std::string one_value(PgConnection& c, const std::string& sql) {
  auto rows = c.query(sql);
  if (!rows) return "error: " + rows.error().message;
  if (rows->size() != 1 || (*rows)[0].size() != 1) return "not one value";
  return (*rows)[0][0];
}

TEST_F(PgClient, ConnectsByTrustOverTheSocket) {
  PgConnection c = connect_or_die(socket_target());
  EXPECT_GE(c.server_version(), 150000);
  EXPECT_LT(c.server_version(), 160000);
  EXPECT_EQ(one_value(c, "SELECT current_user"), "postgres");
  EXPECT_EQ(one_value(c, "SHOW application_name"), "groundctl");
  EXPECT_EQ(one_value(c, "SHOW client_encoding"), "UTF8");
  EXPECT_EQ(c.describe(), "database postgres on " + plain_->socket_dir() + " as role postgres");
}

TEST_F(PgClient, ConnectsByPeerAsAnotherOsUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another OS user";
  PgTarget t = socket_target();
  t.user = "nobody";
  auto refused = PgConnection::connect(t);  // As root: peer sees uid 0, not nobody.
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("Peer authentication failed for user \"nobody\""),
            std::string::npos)
      << refused.error().message;
  t.os_user = peer_os_user(t);
  ASSERT_TRUE(t.os_user);
  PgConnection c = connect_or_die(t);
  EXPECT_EQ(one_value(c, "SELECT current_user"), "nobody");
  EXPECT_EQ(::geteuid(), 0u);  // Switched back after connect().
}

TEST_F(PgClient, ConnectsWithScramOverTcpWithoutTls) {
  PgConnection c = connect_or_die(tcp_target(*plain_, "scram_user", kScramPassword));
  EXPECT_EQ(one_value(c, "SELECT current_user"), "scram_user");
  EXPECT_EQ(one_value(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "f");
}

TEST_F(PgClient, AWrongPasswordNamesTheRoleNotThePassword) {
  const std::string wrong = "not-the-password-5e1d";
  auto c = PgConnection::connect(tcp_target(*plain_, "scram_user", wrong));
  ASSERT_FALSE(c);
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("cannot connect to database postgres on 127.0.0.1:"), std::string::npos) << m;
  EXPECT_NE(m.find("password authentication failed for user \"scram_user\""), std::string::npos)
      << m;
  EXPECT_EQ(m.find(wrong), std::string::npos) << m;
  EXPECT_EQ(m.find(kScramPassword), std::string::npos) << m;

  auto md5 = PgConnection::connect(tcp_target(*plain_, "md5_user", wrong));
  ASSERT_FALSE(md5);
  EXPECT_NE(md5.error().message.find("md5_user"), std::string::npos) << md5.error().message;
  EXPECT_EQ(md5.error().message.find(wrong), std::string::npos) << md5.error().message;
}

TEST_F(PgClient, SaysHowToGiveAPasswordWhenTheServerWantsOne) {
  auto c = PgConnection::connect(tcp_target(*plain_, "scram_user", ""));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kUnavailable);
  EXPECT_NE(c.error().message.find("the server asks for a password for role scram_user"),
            std::string::npos)
      << c.error().message;
  EXPECT_NE(c.error().message.find("password_file"), std::string::npos) << c.error().message;
}

TEST_F(PgClient, ConnectsWithMd5) {
  // The role has an md5 verifier, so the server uses the md5 method for it.
  auto verifier = plain_->psql("postgres",
                               "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = "
                               "'md5_user'");
  ASSERT_TRUE(verifier) << verifier.error().message;
  EXPECT_EQ(*verifier, "md5\n");
  PgConnection c = connect_or_die(tcp_target(*plain_, "md5_user", kMd5Password));
  EXPECT_EQ(one_value(c, "SELECT current_user"), "md5_user");
}

TEST_F(PgClient, UsesTlsWhenTheServerHasIt) {
  PgConnection c = connect_or_die(tcp_target(*tls_, "tls_user", kTlsPassword));
  EXPECT_EQ(one_value(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "t");
  // Enough data for many TLS records.
  auto rows = c.query("SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 20000u);
  EXPECT_EQ(rows->back()[0], "20000");
  // The hostssl-only server refuses a wrong password over TLS as well.
  auto wrong = PgConnection::connect(tcp_target(*tls_, "tls_user", "nope-nope"));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("tls_user"), std::string::npos);
}

TEST_F(PgClient, QueryErrorsLeaveTheConnectionUsable) {
  PgConnection c = connect_or_die(socket_target());
  ASSERT_TRUE(c.exec("BEGIN"));
  auto bad = c.query("SELECT * FROM no_such_table");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            c.describe() + ": ERROR:  relation \"no_such_table\" does not exist");
  auto aborted = c.query("SELECT 1");
  ASSERT_FALSE(aborted);
  EXPECT_NE(aborted.error().message.find("current transaction is aborted"), std::string::npos)
      << aborted.error().message;
  EXPECT_TRUE(c.exec("ROLLBACK"));
  EXPECT_EQ(one_value(c, "SELECT 1"), "1");
  // DETAIL and HINT on the same line.
  auto hinted = c.query("SELECT no_such_function(1)");
  ASSERT_FALSE(hinted);
  EXPECT_NE(hinted.error().message.find("; HINT:  No function matches"), std::string::npos)
      << hinted.error().message;
  EXPECT_EQ(hinted.error().message.find('\n'), std::string::npos);
}

TEST_F(PgClient, ReturnsTheLastResultOfSeveralStatements) {
  PgConnection c = connect_or_die(socket_target());
  auto rows = c.query("SELECT 1; SELECT 2, NULL, 'three'");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(*rows, (PgRows{{"2", "", "three"}}));
  rows = c.query("SELECT 1; CREATE TEMP TABLE t (x int)");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_TRUE(rows->empty());
  rows = c.query("");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_TRUE(rows->empty());
  // A failing statement stops the rest, as with PQexec.
  EXPECT_FALSE(c.query("INSERT INTO t VALUES (1); SELECT 1/0; INSERT INTO t VALUES (2)"));
  EXPECT_EQ(one_value(c, "SELECT count(*) FROM t"), "0");
  // Notices are dropped, not errors.
  EXPECT_TRUE(c.exec("DROP TABLE IF EXISTS no_such_table"));
}

TEST_F(PgClient, RefusesCopyAndStaysUsable) {
  PgConnection c = connect_or_die(socket_target());
  auto out = c.query("COPY (SELECT g FROM generate_series(1, 1000) g) TO STDOUT");
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("COPY is not supported"), std::string::npos);
  EXPECT_EQ(one_value(c, "SELECT 2"), "2");
  ASSERT_TRUE(c.exec("CREATE TEMP TABLE c (x int)"));
  auto in = c.query("COPY c FROM STDIN");
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message.find("COPY is not supported"), std::string::npos);
  EXPECT_EQ(one_value(c, "SELECT count(*) FROM c"), "0");
}

TEST_F(PgClient, ReadsALargeResult) {
  PgConnection c = connect_or_die(socket_target());
  auto rows = c.query("SELECT g, md5(g::text) FROM generate_series(1, 100000) g");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 100000u);
  EXPECT_EQ((*rows)[99999][0], "100000");
  EXPECT_EQ((*rows)[0][1], "c4ca4238a0b923820dcc509a6f75849b");
}

TEST_F(PgClient, QuotesLiteralsAndIdentifiers) {
  PgConnection c = connect_or_die(socket_target());
  for (const std::string& v : {std::string("it's"), std::string("back\\slash"),
                               std::string("both\\'\\\\"), std::string("\xc3\xa9t\xc3\xa9")}) {
    EXPECT_EQ(one_value(c, "SELECT " + c.quote_literal(v)), v);
  }
  EXPECT_EQ(c.quote_literal("a\\b"), "E'a\\\\b'");
  // Also with standard_conforming_strings off, where '\' would be an escape.
  ASSERT_TRUE(c.exec("SET standard_conforming_strings = off; SET escape_string_warning = off"));
  EXPECT_EQ(one_value(c, "SELECT " + c.quote_literal("x\\y'z")), "x\\y'z");
  EXPECT_EQ(one_value(c, "SELECT 1 AS " + c.quote_identifier("we\"ird") + " FROM (SELECT) s"), "1");
}

TEST_F(PgClient, NamesTheDatabaseThatDoesNotExist) {
  PgTarget t = socket_target();
  t.dbname = "nonexistent";
  auto c = PgConnection::connect(t);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "cannot connect to database nonexistent on " + plain_->socket_dir() +
                                   " as role postgres: FATAL:  database \"nonexistent\" does not "
                                   "exist");
  t = socket_target();
  t.host = plain_->socket_dir() + "/nowhere";
  c = PgConnection::connect(t);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("No such file or directory"), std::string::npos)
      << c.error().message;
  t = tcp_target(*plain_, "scram_user", kScramPassword);
  t.host = "no-such-host.invalid";
  c = PgConnection::connect(t);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("no-such-host.invalid"), std::string::npos);
}

// Not part of the suite's servers: this one is stopped under the session.
TEST(PgClientServerGone, AStoppedServerIsAnErrorNotAHang) {
  auto pg = PostgresServer::start();
  ASSERT_TRUE(pg) << pg.error().message;
  PgTarget t;
  t.host = (*pg)->socket_dir();
  t.port = (*pg)->port();
  auto c = PgConnection::connect(t);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->exec("SELECT 1"));
  ASSERT_TRUE((*pg)->stop());
  auto gone = c->query("SELECT 1");
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find("the server closed the connection"), std::string::npos)
      << gone.error().message;
  EXPECT_NE(gone.error().message.find(c->describe()), std::string::npos) << gone.error().message;
  auto again = c->query("SELECT 1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kUnavailable);
}

// A TCP server on 127.0.0.1 that answers one connection with `ssl_answer` to the SSLRequest,
// then `reply` after the StartupMessage, then closes: a broken or hostile PostgreSQL.
class FakeServer {
 public:
  FakeServer(std::string ssl_answer, std::string reply)
      : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listener_.get(), 1), 0);
    EXPECT_EQ(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, ssl_answer, reply] {
      UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      char buf[512];
      if (::read(c.get(), buf, 8) != 8) return;  // SSLRequest.
      (void)::send(c.get(), ssl_answer.data(), ssl_answer.size(), MSG_NOSIGNAL);
      if (ssl_answer != "N") return;
      if (::read(c.get(), buf, sizeof buf) <= 0) return;  // StartupMessage.
      (void)::send(c.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
    });
  }
  ~FakeServer() { thread_.join(); }
  int port() const { return port_; }

 private:
  UniqueFd listener_;
  int port_ = 0;
  std::thread thread_;
};

TEST(PgClientProtocol, ABrokenServerIsAnErrorNotACrashOrHang) {
  using namespace std::string_literals;
  struct Case {
    std::string ssl_answer, reply, want;
  };
  for (const Case& c : std::vector<Case>{
           {"N", "R\xff\xff\xff\xfb"s, "bad message length -5"},
           {"N", "R\x7f\xff\xff\xff"s, "bad message length"},
           {"N", "q\0\0\0\x04"s, "unknown message type 0x71"},
           {"N", "R\0\0\0\x0c\0\0"s, "the server closed the connection in the middle"},
           {"N", "R\0\0\0\x08\0\0\0\x2a"s, "unknown authentication request 42"},
           {"N", "D\0\0\0\x06\0\0"s, "unexpected message 'D' during startup"},
           {"N", "", "the server closed the connection"},
           {"X", "", "refused the SSLRequest"},
           {"S", "", "tls handshake"},
       }) {
    FakeServer server(c.ssl_answer, c.reply);
    PgTarget t;
    t.host = "127.0.0.1";
    t.port = server.port();
    auto conn = PgConnection::connect(t);
    ASSERT_FALSE(conn) << c.want;
    EXPECT_EQ(conn.error().code, Errc::kUnavailable);
    EXPECT_NE(conn.error().message.find(c.want), std::string::npos) << conn.error().message;
    EXPECT_NE(conn.error().message.find("cannot connect to database postgres on 127.0.0.1:"),
              std::string::npos)
        << conn.error().message;
  }
}

}  // namespace
}  // namespace gc::backup

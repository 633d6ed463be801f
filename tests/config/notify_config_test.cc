// SPDX-License-Identifier: MIT
// The [[notify]] rules for the slack, email and alertmanager types: what loads, each error's
// text and position, and that no URL or password ever appears in a message.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace gc::config {
namespace {

constexpr const char* kPath = "/etc/groundctl/groundctl.toml";

LoadOutcome load(const std::string& text) { return load_config_from_string(text, kPath); }

std::string dump(const LoadOutcome& outcome) {
  std::string out;
  for (const auto& d : outcome.diagnostics) out += d.to_string() + "\n";
  return out;
}

// Diagnostics joined; the test checks a fragment is in them and the config was refused.
std::string errors_of(const std::string& text) {
  LoadOutcome o = load(text);
  EXPECT_FALSE(o.config.has_value()) << "accepted:\n" << text;
  return dump(o);
}

constexpr const char* kEmail = R"([[notify]]
name = "mail"
type = "email"
smtp = "smtp://mail.example.org:587"
from = "groundctl@example.org"
to = ["ops@example.org", "dev@example.org"]
)";

TEST(NotifyConfig, LoadsSlackEmailAndAlertmanager) {
  LoadOutcome o = load(R"(
[[notify]]
type = "slack"
url = "https://hooks.slack.com/services/T/B/X"
[[notify]]
name = "mail"
type = "email"
smtp = "smtps://mail.example.org"
from = "groundctl@example.org"
to = ["ops@example.org"]
username = "groundctl"
password_file = "smtp.password"
ca_file = "/etc/ssl/mail-ca.pem"
send_resolved = false
timeout = "20s"
[[notify]]
type = "alertmanager"
url = "http://127.0.0.1:9093/"
)");
  ASSERT_TRUE(o.config) << dump(o);
  ASSERT_EQ(o.config->notify.size(), 3u);
  const NotifyConfig& slack = o.config->notify[0];
  EXPECT_EQ(slack.name, "slack-1");
  EXPECT_EQ(slack.type, NotifyType::kSlack);
  EXPECT_EQ(slack.url, "https://hooks.slack.com/services/T/B/X");
  const NotifyConfig& mail = o.config->notify[1];
  EXPECT_EQ(mail.name, "mail");
  EXPECT_EQ(mail.type, NotifyType::kEmail);
  EXPECT_EQ(mail.smtp, "smtps://mail.example.org");
  EXPECT_EQ(mail.from, "groundctl@example.org");
  EXPECT_EQ(mail.to, std::vector<std::string>{"ops@example.org"});
  EXPECT_EQ(mail.username, "groundctl");
  EXPECT_EQ(mail.password_file, "/etc/groundctl/smtp.password");  // Relative to the config.
  EXPECT_EQ(mail.ca_file, "/etc/ssl/mail-ca.pem");
  EXPECT_TRUE(mail.starttls);
  EXPECT_FALSE(mail.send_resolved);
  EXPECT_EQ(mail.timeout, std::chrono::seconds(20));
  const NotifyConfig& am = o.config->notify[2];
  EXPECT_EQ(am.name, "alertmanager-3");
  EXPECT_EQ(am.type, NotifyType::kAlertmanager);
  EXPECT_EQ(am.url, "http://127.0.0.1:9093");  // The API path is appended to it.
}

TEST(NotifyConfig, EmailDefaultsAndPlainTextToALocalRelay) {
  LoadOutcome o = load(kEmail);
  ASSERT_TRUE(o.config) << dump(o);
  const NotifyConfig& mail = o.config->notify[0];
  EXPECT_EQ(mail.to.size(), 2u);
  EXPECT_TRUE(mail.username.empty());
  EXPECT_TRUE(mail.password_file.empty());
  EXPECT_TRUE(mail.ca_file.empty());
  EXPECT_TRUE(mail.starttls);
  EXPECT_EQ(mail.timeout, std::chrono::seconds(10));
  for (const char* relay : {"smtp://127.0.0.1:25", "smtp://localhost", "smtp://[::1]:2525/"}) {
    o = load(std::string("[[notify]]\ntype = \"email\"\nsmtp = \"") + relay +
             "\"\nfrom = \"a@b\"\nto = [\"c@d\"]\nstarttls = false\n");
    ASSERT_TRUE(o.config) << relay << "\n" << dump(o);
    EXPECT_FALSE(o.config->notify[0].starttls);
  }
  std::string e = errors_of(std::string(kEmail) + "starttls = false\n");
  EXPECT_NE(e.find(":7:12: notify #1: starttls: may be false only for an smtp:// server on a "
                   "loopback address (localhost, 127.0.0.1, ::1)"),
            std::string::npos)
      << e;
}

TEST(NotifyConfig, MissingKeysComeWithAnExample) {
  std::string e = errors_of("[[notify]]\ntype = \"email\"\n");
  EXPECT_NE(e.find(":1:1: missing required key \"smtp\" (e.g. smtp = "
                   "\"smtp://mail.example.org:587\")"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("missing required key \"from\" (e.g. from = \"groundctl@example.org\")"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("missing required key \"to\" (e.g. to = [\"ops@example.org\"])"),
            std::string::npos)
      << e;
  e = errors_of("[[notify]]\ntype = \"slack\"\n");
  EXPECT_NE(e.find("missing required key \"url\" (e.g. url = "
                   "\"https://hooks.slack.com/services/...\")"),
            std::string::npos)
      << e;
  e = errors_of("[[notify]]\ntype = \"alertmanager\"\n");
  EXPECT_NE(e.find("missing required key \"url\" (e.g. url = \"http://127.0.0.1:9093\")"),
            std::string::npos)
      << e;
  e = errors_of(std::string(kEmail) + "username = \"groundctl\"\n");
  EXPECT_NE(e.find(":7:12: notify #1: username: needs password_file too (e.g. password_file = "
                   "\"/etc/groundctl/smtp.password\")"),
            std::string::npos)
      << e;
  e = errors_of(std::string(kEmail) + "password_file = \"/etc/p\"\n");
  EXPECT_NE(e.find(":7:17: notify #1: password_file: needs username too (e.g. username = "
                   "\"groundctl\")"),
            std::string::npos)
      << e;
}

TEST(NotifyConfig, UnknownTypesAndKeys) {
  std::string e = errors_of("[[notify]]\ntype = \"sms\"\n");
  EXPECT_NE(e.find(":2:8: notify #1: type: expected \"webhook\", \"slack\", \"email\", "
                   "\"alertmanager\" or \"exec\", got \"sms\""),
            std::string::npos)
      << e;
  // An unknown type adds no noise about the keys it would need.
  EXPECT_EQ(e.find("missing"), std::string::npos) << e;
  e = errors_of(std::string(kEmail) + "smpt_port = 25\n");
  EXPECT_NE(e.find(":7:1: notify #1: unknown key \"smpt_port\" in [[notify]]"), std::string::npos)
      << e;
  e = errors_of(std::string(kEmail) + "tls = true\n");
  EXPECT_NE(e.find("unknown key \"tls\" in [[notify]]"), std::string::npos) << e;
}

TEST(NotifyConfig, KeysOfAnotherTypeAreRefused) {
  std::string e = errors_of(
      "[[notify]]\ntype = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/X\"\n"
      "to = [\"ops@example.org\"]\nstarttls = false\ncommand = [\"x\"]\n");
  EXPECT_NE(e.find(":4:6: notify #1: to: is only for type = \"email\""), std::string::npos) << e;
  EXPECT_NE(e.find(":5:12: notify #1: starttls: is only for type = \"email\""), std::string::npos)
      << e;
  EXPECT_NE(e.find(":6:11: notify #1: command: is only for type = \"exec\""), std::string::npos)
      << e;
  e = errors_of(std::string(kEmail) + "url = \"https://h/SECRET\"\n");
  EXPECT_NE(e.find(":7:7: notify #1: url: is only for type = \"webhook\", \"slack\" or "
                   "\"alertmanager\""),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("SECRET"), std::string::npos) << e;
  e = errors_of(
      "[[notify]]\ntype = \"webhook\"\nurl = \"https://h/x\"\nsmtp = \"smtp://m\"\n"
      "from = \"a@b\"\nusername = \"u\"\npassword_file = \"/p\"\nca_file = \"/c\"\n");
  for (const char* key : {"smtp", "from", "username", "password_file", "ca_file"}) {
    EXPECT_NE(e.find(std::string("notify #1: ") + key + ": is only for type = \"email\""),
              std::string::npos)
        << key << "\n"
        << e;
  }
}

TEST(NotifyConfig, BadUrlsAreNeverEchoed) {
  const std::string http =
      "url: expected an http:// or https:// URL with a host and no spaces (not shown here: it may "
      "hold a token)";
  const std::string base =
      "url: expected Alertmanager's base URL, without a query or fragment: alerts are posted to "
      "URL/api/v2/alerts (not shown here: it may hold a token)";
  struct Case {
    const char* type;
    const char* url;
    std::string problem;
  };
  for (const Case& c : {
           Case{"slack", "ftp://hooks.slack.com/services/SECRET", http},
           Case{"slack", "https:///services/SECRET", http},
           Case{"slack", "https://hooks.slack.com/services/SECRET x", http},
           Case{"alertmanager", "am.example.org:9093/SECRET", http},
           Case{"alertmanager", "http://am:9093/?token=SECRET", base},
           Case{"alertmanager", "http://am:9093/#SECRET", base},
       }) {
    std::string e =
        errors_of(std::string("[[notify]]\ntype = \"") + c.type + "\"\nurl = \"" + c.url + "\"\n");
    EXPECT_NE(e.find(":3:7: notify #1: " + c.problem), std::string::npos) << e;
    EXPECT_EQ(e.find("SECRET"), std::string::npos) << e;
  }
}

TEST(NotifyConfig, BadSmtpUrlsAreNeverEchoed) {
  struct Case {
    const char* smtp;
    const char* problem;
  };
  for (const Case& c : {
           Case{"https://SECRET.example.org",
                "smtp: expected smtp://host[:port] (STARTTLS) or smtps://host[:port] (implicit "
                "TLS) (not shown here: it may hold a password)"},
           Case{"smtp://bot:SECRET@mail.example.org:587",
                "smtp: must not hold a user or password: use username and password_file (not "
                "shown here)"},
           Case{"smtp://mail.example.org/SECRET",
                "smtp: expected smtp://host[:port] (STARTTLS) "
                "or smtps://host[:port] (implicit TLS), without "
                "a path"},
           Case{"smtp://SECRET:0", "the port must be 1..65535"},
           Case{"smtp://SECRET:99999", "the port must be 1..65535"},
           Case{"smtp://SECRET:25x", "the port must be 1..65535"},
           Case{"smtp://:25", "the host is missing"},
           Case{"smtp://[::1", "unclosed '[' in the host"},
           Case{"smtps://SECRET host", "(not shown here: it may hold a password)"},
       }) {
    std::string text = kEmail;
    text.replace(text.find("smtp://mail.example.org:587"), 27, c.smtp);
    std::string e = errors_of(text);
    EXPECT_NE(e.find(":4:8: notify #1: "), std::string::npos) << c.smtp << "\n" << e;
    EXPECT_NE(e.find(c.problem), std::string::npos) << c.smtp << "\n" << e;
    EXPECT_EQ(e.find("SECRET"), std::string::npos) << e;
  }
}

TEST(NotifyConfig, AddressesCannotInjectHeaders) {
  for (const char* bad :
       {"ops", "ops@", "@example.org", "ops@example.org\r\nBcc: x@y", "ops@example.org\nBcc: x@y",
        "Ops <ops@example.org>", "a@b c@d", "a@b,c@d"}) {
    std::string text = kEmail;
    std::string escaped;
    for (char c : std::string(bad)) {
      if (c == '\r') {
        escaped += "\\r";
      } else if (c == '\n') {
        escaped += "\\n";
      } else {
        escaped += c;
      }
    }
    text.replace(text.find("groundctl@example.org"), 21, escaped);
    std::string e = errors_of(text);
    EXPECT_NE(e.find(":5:8: notify #1: from: expected an address such as \"ops@example.org\" "
                     "(with '@', without spaces, control characters, '<', '>' or ','), got \""),
              std::string::npos)
        << bad << "\n"
        << e;
    text = kEmail;
    text.replace(text.find("\"dev@example.org\""), 17, "\"" + escaped + "\"");
    e = errors_of(text);
    EXPECT_NE(e.find(":6:26: notify #1: to: expected an address such as"), std::string::npos)
        << bad << "\n"
        << e;
  }
  // The control characters are shown escaped, never raw.
  std::string text = kEmail;
  text.replace(text.find("groundctl@example.org"), 21, "a@b\\r\\nBcc: x@y");
  std::string e = errors_of(text);
  EXPECT_NE(e.find("got \"a@b\\x0d\\x0aBcc: x@y\""), std::string::npos) << e;
}

TEST(NotifyConfig, ToMustListAnAddress) {
  std::string text = kEmail;
  text.replace(text.find("[\"ops@example.org\", \"dev@example.org\"]"), 38, "[]");
  std::string e = errors_of(text);
  EXPECT_NE(e.find(":6:6: notify #1: to: must list at least one address, e.g. to = "
                   "[\"ops@example.org\"]"),
            std::string::npos)
      << e;
  text = kEmail;
  text.replace(text.find("[\"ops@example.org\", \"dev@example.org\"]"), 38, "\"ops@example.org\"");
  e = errors_of(text);
  EXPECT_NE(e.find(":6:6: notify #1: to: expected an array of strings such as to = "
                   "[\"ops@example.org\"], got string"),
            std::string::npos)
      << e;
}

TEST(NotifyConfig, StartTlsIsABoolean) {
  std::string e = errors_of(std::string(kEmail) + "starttls = \"no\"\n");
  EXPECT_NE(e.find(":7:12: notify #1: starttls: expected a boolean (true or false), got string"),
            std::string::npos)
      << e;
  e = errors_of(
      "[[notify]]\ntype = \"email\"\nsmtp = \"smtps://127.0.0.1\"\nfrom = \"a@b\"\n"
      "to = [\"c@d\"]\nstarttls = false\n");
  EXPECT_NE(e.find("starttls: may be false only for an smtp:// server on a loopback address"),
            std::string::npos)
      << e;
}

TEST(NotifyConfig, NoMessageHoldsAUrlOrPassword) {
  // Every kind of mistake at once: none of the messages may quote a URL, or anything from the
  // password file (which the loader does not even read).
  std::string e = errors_of(R"(
[[notify]]
type = "slack"
url = "https://hooks.slack.com/services/T/B/SECRET1 "
[[notify]]
type = "alertmanager"
url = "http://user:SECRET2@am/?x"
[[notify]]
type = "email"
smtp = "smtp://u:SECRET3@mail.example.org"
from = "a@b"
to = ["c@d"]
username = "u"
password_file = "/nonexistent/SECRET4-is-a-path"
starttls = false
[[notify]]
type = "webhook"
url = "https://h/SECRET5"
smtp = "smtp://SECRET6"
)");
  for (const char* s : {"SECRET1", "SECRET2", "SECRET3", "SECRET5", "SECRET6"}) {
    EXPECT_EQ(e.find(s), std::string::npos) << s << "\n" << e;
  }
  EXPECT_EQ(e.find("SECRET4"), std::string::npos) << e;
}

}  // namespace
}  // namespace gc::config

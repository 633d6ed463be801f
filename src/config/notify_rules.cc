// SPDX-License-Identifier: MIT
// config/notify_rules.cc: the rules of [[notify]]. A webhook URL may carry a token (Slack's
// do), so no message here ever quotes one; neither is the SMTP password file ever read here.
#include <cstdlib>
#include <map>
#include <string>

#include "config/detail/validate.h"
#include "config/listen_address.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kNotifyKeys[] = {
    "name",     "type",          "url",      "command", "smtp",          "from",   "to",
    "username", "password_file", "starttls", "ca_file", "send_resolved", "timeout"};
constexpr std::string_view kEmailKeys[] = {"smtp",          "from",     "to",     "username",
                                           "password_file", "starttls", "ca_file"};
constexpr const char* kTypes = "\"webhook\", \"slack\", \"email\", \"alertmanager\" or \"exec\"";

std::string type_name(NotifyType type) {
  switch (type) {
    case NotifyType::kWebhook:
      return "webhook";
    case NotifyType::kExec:
      return "exec";
    case NotifyType::kSlack:
      return "slack";
    case NotifyType::kEmail:
      return "email";
    case NotifyType::kAlertmanager:
      return "alertmanager";
  }
  return "webhook";
}

// False when the type is missing or unknown: the type-specific rules are then skipped, since
// they could only add noise.
bool read_type(TableReader& r, NotifyConfig& n) {
  std::string type;
  if (!r.has("type")) {
    missing(r, "type", "type = \"webhook\"");
    return false;
  }
  if (!r.read_string("type", type)) return false;
  for (NotifyType t : {NotifyType::kWebhook, NotifyType::kExec, NotifyType::kSlack,
                       NotifyType::kEmail, NotifyType::kAlertmanager}) {
    if (type == type_name(t)) {
      n.type = t;
      return true;
    }
  }
  r.error(r.get("type")->pos, "type",
          std::string("expected ") + kTypes + ", got " + in_quotes(type));
  return false;
}

bool has_control_or_space(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

void read_url(TableReader& r, NotifyConfig& n) {
  bool wants_url = n.type == NotifyType::kWebhook || n.type == NotifyType::kSlack ||
                   n.type == NotifyType::kAlertmanager;
  if (!wants_url) {
    if (r.has("url")) {
      r.error(r.get("url")->pos, "url",
              "is only for type = \"webhook\", \"slack\" or \"alertmanager\"");
    }
    return;
  }
  if (!r.has("url")) {
    missing(r, "url",
            n.type == NotifyType::kSlack          ? "url = \"https://hooks.slack.com/services/...\""
            : n.type == NotifyType::kAlertmanager ? "url = \"http://127.0.0.1:9093\""
                                                  : "url = \"https://hooks.example.org/...\"");
    return;
  }
  std::string url;
  if (!r.read_string("url", url)) return;
  bool scheme = url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
  std::size_t host = url.find("://") + 3;
  if (!scheme || has_control_or_space(url) || host >= url.size() || url[host] == '/') {
    r.error(r.get("url")->pos, "url",
            "expected an http:// or https:// URL with a host and no spaces (not shown here: it "
            "may hold a token)");
    return;
  }
  if (n.type == NotifyType::kAlertmanager) {
    // The API path is appended to it, which a query or fragment would swallow.
    if (url.find_first_of("?#") != std::string::npos) {
      r.error(r.get("url")->pos, "url",
              "expected Alertmanager's base URL, without a query or fragment: alerts are posted "
              "to URL/api/v2/alerts (not shown here: it may hold a token)");
      return;
    }
    while (url.size() > host + 1 && url.back() == '/') url.pop_back();
  }
  n.url = url;
}

void read_command(TableReader& r, NotifyConfig& n) {
  if (n.type != NotifyType::kExec) {
    if (r.has("command")) r.error(r.get("command")->pos, "command", "is only for type = \"exec\"");
    return;
  }
  if (!r.has("command")) {
    missing(r, "command", "command = [\"/usr/local/bin/page-me\"]");
    return;
  }
  std::vector<const Node*> items;
  if (!string_items(r, "command", "command = [\"/usr/local/bin/page-me\"]", items)) return;
  if (items.empty() || items.front()->string.empty()) {
    r.error(r.get("command")->pos, "command", "must name a program");
    return;
  }
  for (const Node* i : items) n.command.push_back(i->string);
}

// A bare address, as it goes into both the envelope (<addr>) and the From/To headers. A CR or
// LF would start a new header (a Bcc: injection), '<' or '>' would break out of the envelope's
// brackets, and a space or ',' would turn one entry into several recipients.
bool check_address(TableReader& r, const Node& value, std::string_view key) {
  const std::string& a = value.string;
  bool ok = a.find('@') != std::string::npos && a.front() != '@' && a.back() != '@' &&
            !has_control_or_space(a) && a.find_first_of("<>,") == std::string::npos;
  if (!ok) {
    r.error(value.pos, key,
            "expected an address such as \"ops@example.org\" (with '@', without spaces, control "
            "characters, '<', '>' or ','), got " +
                in_quotes(a));
  }
  return ok;
}

struct SmtpHost {
  bool implicit_tls = false;
  std::string host;  // IPv6 without brackets.
};

// "smtp://host[:port]" or "smtps://host[:port]", with an optional final '/'. libcurl would
// take a path as the EHLO name and a user:password as credentials; both are refused so that
// the URL is just an address and the password stays in its file.
bool read_smtp(TableReader& r, SmtpHost& out, std::string& url) {
  if (!r.has("smtp")) {
    missing(r, "smtp", "smtp = \"smtp://mail.example.org:587\"");
    return false;
  }
  if (!r.read_string("smtp", url)) return false;
  Position pos = r.get("smtp")->pos;
  const char* form = "expected smtp://host[:port] (STARTTLS) or smtps://host[:port] (implicit TLS)";
  std::size_t rest = 0;
  if (url.rfind("smtp://", 0) == 0) {
    rest = 7;
  } else if (url.rfind("smtps://", 0) == 0) {
    rest = 8;
    out.implicit_tls = true;
  }
  if (rest == 0 || has_control_or_space(url)) {
    r.error(pos, "smtp", std::string(form) + " (not shown here: it may hold a password)");
    return false;
  }
  std::string authority = url.substr(rest, url.find('/', rest) - rest);
  std::size_t end = rest + authority.size();
  if (end < url.size() && url.substr(end) != "/") {
    r.error(pos, "smtp", std::string(form) + ", without a path");
    return false;
  }
  if (authority.find('@') != std::string::npos) {
    r.error(pos, "smtp",
            "must not hold a user or password: use username and password_file (not shown here)");
    return false;
  }
  std::string port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string::npos) {
      r.error(pos, "smtp", std::string(form) + ": unclosed '[' in the host");
      return false;
    }
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        r.error(pos, "smtp", std::string(form) + ": expected ':' after ']'");
        return false;
      }
      has_port = true;
      port = authority.substr(close + 2);
    }
  } else {
    std::size_t colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
  }
  if (out.host.empty()) {
    r.error(pos, "smtp", std::string(form) + ": the host is missing");
    return false;
  }
  if (has_port) {
    bool digits = !port.empty() && port.size() <= 5 &&
                  port.find_first_not_of("0123456789") == std::string::npos;
    long value = digits ? std::strtol(port.c_str(), nullptr, 10) : 0;
    if (value < 1 || value > 65535) {
      r.error(pos, "smtp", std::string(form) + ": the port must be 1..65535");
      return false;
    }
  }
  return true;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  auto a = parse_listen_address(host.find(':') == std::string::npos ? host + ":25"
                                                                    : "[" + host + "]:25");
  return a && is_loopback(*a);
}

void read_email(TableReader& r, NotifyConfig& n) {
  if (n.type != NotifyType::kEmail) {
    for (std::string_view key : kEmailKeys) {
      if (r.has(key)) r.error(r.get(key)->pos, key, "is only for type = \"email\"");
    }
    return;
  }
  SmtpHost smtp;
  std::string url;
  bool smtp_ok = read_smtp(r, smtp, url);
  if (smtp_ok) n.smtp = url;

  if (!r.has("from")) {
    missing(r, "from", "from = \"groundctl@example.org\"");
  } else if (r.read_string("from", n.from)) {
    if (!check_address(r, *r.get("from"), "from")) n.from.clear();
  }

  constexpr const char* kToExample = "to = [\"ops@example.org\"]";
  std::vector<const Node*> to;
  if (!r.has("to")) {
    missing(r, "to", kToExample);
  } else if (string_items(r, "to", kToExample, to)) {
    if (r.get("to")->items.empty()) {
      r.error(r.get("to")->pos, "to",
              std::string("must list at least one address, e.g. ") + kToExample);
    }
    for (const Node* t : to) {
      if (check_address(r, *t, "to")) n.to.push_back(t->string);
    }
  }

  if (r.read_string("username", n.username) &&
      (n.username.empty() || has_control_or_space(n.username))) {
    r.error(r.get("username")->pos, "username", "must not be empty or hold spaces");
  }
  r.read_path("password_file", n.password_file);
  if (r.has("username") && !r.has("password_file")) {
    r.error(r.get("username")->pos, "username",
            "needs password_file too (e.g. password_file = \"/etc/groundctl/smtp.password\")");
  }
  if (r.has("password_file") && !r.has("username")) {
    r.error(r.get("password_file")->pos, "password_file",
            "needs username too (e.g. username = \"groundctl\")");
  }

  if (const Node* b = r.get("starttls")) {
    if (b->kind != Node::Kind::kBoolean) {
      r.type_error(*b, "starttls", "boolean (true or false)");
    } else {
      n.starttls = b->boolean;
      // Without TLS the password and the alerts cross the network in clear text: only a relay
      // on this machine is exempt.
      if (!n.starttls && smtp_ok && (smtp.implicit_tls || !is_loopback_host(smtp.host))) {
        r.error(b->pos, "starttls",
                "may be false only for an smtp:// server on a loopback address (localhost, "
                "127.0.0.1, ::1)");
      }
    }
  }
  r.read_path("ca_file", n.ca_file);
}

}  // namespace

void read_notify_sections(Checker& checker, const Node& root, Config& config) {
  TableReader top(checker, root, "", "", "");
  std::map<std::string, int> names;
  for_each_table(top, "notify", "notify", [&](const Node& item, int index) {
    TableReader r(checker, item, "notify #" + std::to_string(index) + ": ", "", "in [[notify]]");
    r.reject_unknown(kNotifyKeys);
    NotifyConfig n;
    bool typed = read_type(r, n);
    n.name = type_name(n.type) + "-" + std::to_string(index);
    r.read_string("name", n.name);
    auto [it, inserted] = names.emplace(n.name, index);
    if (!inserted) {
      r.error(r.get("name") ? r.get("name")->pos : item.pos, "name",
              in_quotes(n.name) + " is also the name of notify #" + std::to_string(it->second));
    }
    if (typed) {
      read_url(r, n);
      read_command(r, n);
      read_email(r, n);
    }
    if (const Node* b = r.get("send_resolved")) {
      if (b->kind != Node::Kind::kBoolean) {
        r.type_error(*b, "send_resolved", "boolean (true or false)");
      } else {
        n.send_resolved = b->boolean;
      }
    }
    r.read_duration("timeout", n.timeout, true);
    config.notify.push_back(std::move(n));
  });
}

}  // namespace gc::config::detail

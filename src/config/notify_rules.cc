// SPDX-License-Identifier: MIT
// config/notify_rules.cc: the rules of [[notify]]. A webhook URL may carry a token (Slack's
// do), so no message here ever quotes one.
#include <map>
#include <string>

#include "config/detail/validate.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kNotifyKeys[] = {"name",    "type",          "url",
                                            "command", "send_resolved", "timeout"};

void read_type(TableReader& r, NotifyConfig& n) {
  std::string type;
  if (!r.has("type")) {
    missing(r, "type", "type = \"webhook\"");
    return;
  }
  if (!r.read_string("type", type)) return;
  if (type == "webhook") {
    n.type = NotifyType::kWebhook;
  } else if (type == "exec") {
    n.type = NotifyType::kExec;
  } else if (type == "slack" || type == "email" || type == "alertmanager") {
    r.error(r.get("type")->pos, "type",
            "\"" + type +
                "\" is not available yet: use \"webhook\" (Alertmanager's webhook payload) or "
                "\"exec\" (a command reading the payload on stdin)");
  } else {
    r.error(r.get("type")->pos, "type", "expected \"webhook\" or \"exec\", got " + in_quotes(type));
  }
}

void read_url(TableReader& r, NotifyConfig& n) {
  if (n.type != NotifyType::kWebhook) {
    if (r.has("url")) r.error(r.get("url")->pos, "url", "is only for type = \"webhook\"");
    return;
  }
  if (!r.has("url")) {
    missing(r, "url", "url = \"https://hooks.example.org/...\"");
    return;
  }
  std::string url;
  if (!r.read_string("url", url)) return;
  bool scheme = url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
  bool clean = true;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) clean = false;
  }
  std::size_t host = url.find("://") + 3;
  if (!scheme || !clean || host >= url.size() || url[host] == '/') {
    r.error(r.get("url")->pos, "url",
            "expected an http:// or https:// URL with a host and no spaces (not shown here: it "
            "may hold a token)");
    return;
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

}  // namespace

void read_notify_sections(Checker& checker, const Node& root, Config& config) {
  const Member* m = root.find("notify");
  if (!m) return;
  TableReader top(checker, root, "", "", "");
  if (m->value.kind != Node::Kind::kArray) {
    top.type_error(m->value, "notify", "array of tables ([[notify]])");
    return;
  }
  std::map<std::string, int> names;
  int index = 0;
  for (const Node& item : m->value.items) {
    ++index;
    if (item.kind != Node::Kind::kTable) {
      top.type_error(item, "notify", "table ([[notify]])");
      continue;
    }
    TableReader r(checker, item, "notify #" + std::to_string(index) + ": ", "", "in [[notify]]");
    r.reject_unknown(kNotifyKeys);
    NotifyConfig n;
    read_type(r, n);
    n.name = (n.type == NotifyType::kExec ? "exec-" : "webhook-") + std::to_string(index);
    r.read_string("name", n.name);
    auto [it, inserted] = names.emplace(n.name, index);
    if (!inserted) {
      r.error(r.get("name") ? r.get("name")->pos : item.pos, "name",
              in_quotes(n.name) + " is also the name of notify #" + std::to_string(it->second));
    }
    read_url(r, n);
    read_command(r, n);
    if (const Node* b = r.get("send_resolved")) {
      if (b->kind != Node::Kind::kBoolean) {
        r.type_error(*b, "send_resolved", "boolean (true or false)");
      } else {
        n.send_resolved = b->boolean;
      }
    }
    r.read_duration("timeout", n.timeout, true);
    config.notify.push_back(std::move(n));
  }
}

}  // namespace gc::config::detail

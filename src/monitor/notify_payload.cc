// SPDX-License-Identifier: MIT
#include "monitor/notify_payload.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/base64.h"
#include "base/utc_time.h"

namespace gc::monitor {
namespace {

using json = nlohmann::json;

// Alertmanager's zero time for an alert that has not ended.
constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

std::map<std::string, std::string> all_labels(const Alert& a) {
  auto labels = a.labels;
  labels["alertname"] = a.name;
  return labels;
}

// For a header value: control characters, CR and LF above all, become spaces, so that no text
// from an alert can end the header and start another (RFC 5322 section 2.2).
std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// Slack reads &, < and > as markup (links, mentions), so text must escape them.
std::string slack_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

int firing_count(const std::vector<Alert>& alerts) {
  return static_cast<int>(
      std::count_if(alerts.begin(), alerts.end(), [](const Alert& a) { return a.firing(); }));
}

std::string status_tag(const std::vector<Alert>& alerts) {
  int firing = firing_count(alerts);
  return firing > 0 ? "[FIRING:" + std::to_string(firing) + "]" : "[RESOLVED]";
}

// Header text may only be ASCII; anything else goes in RFC 2047 encoded-words of at most 75
// characters (45 bytes of text each, cut between UTF-8 sequences), folded onto new lines.
std::string header_text(std::string_view s) {
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
  if (ascii) return std::string(s);
  std::string out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = std::min(start + 45, s.size());
    while (end < s.size() && end > start + 1 && (s[end] & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64_encode(s.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

// Body text with CRLF line ends (RFC 5321 section 2.3.8), no NUL, and no line over 998 octets
// (RFC 5322 section 2.1.1): longer lines are cut.
std::string crlf_body(std::string_view text) {
  std::string out;
  std::size_t line = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
      line = 0;
      continue;
    }
    if (c == '\0') continue;
    if (line == 998) {
      out += "\r\n";
      line = 0;
    }
    out += c;
    ++line;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

}  // namespace

std::string fingerprint(const Alert& a) {
  std::uint64_t h = 14695981039346656037ull;
  auto feed = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  for (const auto& [k, v] : all_labels(a)) {
    feed(k);
    feed("\xff");
    feed(v);
    feed("\xff");
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

json webhook_payload(const std::vector<Alert>& alerts, const std::string& receiver,
                     const std::string& external_url) {
  json list = json::array();
  bool any_firing = false;
  std::map<std::string, std::string> common;
  std::map<std::string, std::string> common_annotations;
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    const Alert& a = alerts[i];
    any_firing = any_firing || a.firing();
    auto labels = all_labels(a);
    list.push_back({{"status", a.firing() ? "firing" : "resolved"},
                    {"labels", labels},
                    {"annotations", a.annotations},
                    {"startsAt", format_utc(a.starts_at)},
                    {"endsAt", a.ends_at ? format_utc(*a.ends_at) : std::string(kZeroTime)},
                    {"generatorURL", external_url},
                    {"fingerprint", fingerprint(a)}});
    // Common labels and annotations: those every alert of the group has with the same value.
    if (i == 0) {
      common = labels;
      common_annotations = a.annotations;
      continue;
    }
    std::erase_if(common, [&](const auto& kv) {
      auto it = labels.find(kv.first);
      return it == labels.end() || it->second != kv.second;
    });
    std::erase_if(common_annotations, [&](const auto& kv) {
      auto it = a.annotations.find(kv.first);
      return it == a.annotations.end() || it->second != kv.second;
    });
  }
  std::map<std::string, std::string> group;
  if (common.contains("alertname")) group["alertname"] = common["alertname"];
  std::string key = "{}:{";
  bool first = true;
  for (const auto& [k, v] : group) {
    key += (first ? "" : ",") + k + "=\"" + v + "\"";
    first = false;
  }
  key += "}";
  return {{"version", "4"},
          {"groupKey", key},
          {"truncatedAlerts", 0},
          {"status", any_firing ? "firing" : "resolved"},
          {"receiver", receiver},
          {"groupLabels", group},
          {"commonLabels", common},
          {"commonAnnotations", common_annotations},
          {"externalURL", external_url},
          {"alerts", list}};
}

json slack_payload(const std::vector<Alert>& alerts, const std::string& receiver) {
  int firing = firing_count(alerts);
  std::string title = status_tag(alerts) + " groundctl";
  if (!receiver.empty() && receiver != "groundctl") title += " " + receiver;
  std::string color = firing == 0 ? "good" : "warning";
  std::string lines;
  for (const Alert& a : alerts) {
    if (a.firing()) {
      auto s = a.labels.find("severity");
      if (s == a.labels.end() || (s->second != "warning" && s->second != "info")) color = "danger";
    }
    // The severity shows as the colour; the other labels tell instances apart.
    std::string labels;
    for (const auto& [k, v] : a.labels) {
      if (k == "severity") continue;
      labels += (labels.empty() ? "" : ", ") + k + "=" + v;
    }
    std::string line = firing > 0 && !a.firing() ? "[RESOLVED] " + a.name : a.name;
    if (!labels.empty()) line += " (" + labels + ")";
    auto summary = a.annotations.find("summary");
    if (summary != a.annotations.end() && !summary->second.empty()) {
      line += ": " + summary->second;
    }
    lines += (lines.empty() ? "" : "\n") + line;
  }
  json attachment = {
      {"color", color}, {"title", slack_escape(title)}, {"text", slack_escape(lines)}};
  return {{"text", slack_escape(title)}, {"attachments", json::array({attachment})}};
}

json alertmanager_payload(const std::vector<Alert>& alerts) {
  json list = json::array();
  for (const Alert& a : alerts) {
    auto labels = all_labels(a);
    // An empty label value means "no such label" to Prometheus and Alertmanager.
    std::erase_if(labels, [](const auto& kv) { return kv.second.empty(); });
    json item = {{"labels", labels},
                 {"annotations", a.annotations},
                 {"startsAt", format_utc(a.starts_at)},
                 {"generatorURL", ""}};
    // A firing alert has no end: Alertmanager then keeps it for its resolve_timeout.
    if (a.ends_at) item["endsAt"] = format_utc(*a.ends_at);
    list.push_back(std::move(item));
  }
  return list;
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(day);
  std::chrono::weekday wd(day);
  std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::seconds>(t - day));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000", kDays[wd.c_encoding()],
                static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string new_message_id() {
  unsigned char bytes[16] = {0};
  ssize_t n = ::getrandom(bytes, sizeof bytes, 0);
  if (n != static_cast<ssize_t>(sizeof bytes)) {
    // Uniqueness is all a Message-ID needs: time and pid will do without the CSPRNG.
    auto now = std::chrono::system_clock::now().time_since_epoch().count();
    std::memcpy(bytes, &now, sizeof now);
    pid_t pid = ::getpid();
    std::memcpy(bytes + 8, &pid, sizeof pid);
  }
  std::string id = "<";
  char hex[3];
  for (unsigned char b : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", b);
    id += hex;
  }
  return id + "@groundctl>";
}

std::string email_message(const std::vector<Alert>& alerts, const std::string& receiver,
                          const std::string& from, const std::vector<std::string>& to,
                          std::chrono::system_clock::time_point now,
                          const std::string& message_id) {
  std::vector<std::string> names;
  for (const Alert& a : alerts) {
    if (std::find(names.begin(), names.end(), a.name) == names.end()) names.push_back(a.name);
  }
  std::string subject = status_tag(alerts) + " ";
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) subject += (i ? ", " : "") + names[i];
  if (names.size() > 3) subject += " and " + std::to_string(names.size() - 3) + " more";
  subject = one_line(subject + " on " + receiver);

  std::string recipients;
  for (const auto& t : to) recipients += (recipients.empty() ? "" : ", ") + one_line(t);
  std::string head = "Date: " + rfc5322_date(now) + "\r\nFrom: " + one_line(from) +
                     "\r\nTo: " + recipients + "\r\nSubject: " + header_text(subject) +
                     "\r\nMessage-ID: " + one_line(message_id) +
                     "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n\r\n";

  std::string body = subject + "\n";
  for (const Alert& a : alerts) {
    body += "\n" + std::string(a.firing() ? "[FIRING] " : "[RESOLVED] ") + a.name + "\n";
    for (auto [key, label] : {std::pair{"summary", "Summary"}, {"description", "Description"}}) {
      auto it = a.annotations.find(key);
      if (it == a.annotations.end() || it->second.empty()) continue;
      body += std::string(label) + ": " + it->second + "\n";
    }
    body += "Started: " + format_utc(a.starts_at) + "\n";
    if (a.ends_at) body += "Ended: " + format_utc(*a.ends_at) + "\n";
    if (!a.labels.empty()) body += "Labels:\n";
    for (const auto& [k, v] : a.labels) body += "  " + k + " = " + v + "\n";
  }
  body += "\n-- \ngroundctl on " + receiver + "\n";
  return head + crlf_body(body);
}

}  // namespace gc::monitor

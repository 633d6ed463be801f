// SPDX-License-Identifier: MIT
#include "monitor/app_log_metrics.h"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

namespace gc::monitor {
namespace {

// The reads a source gets per collect(): bounds the time one scrape spends on a huge backlog.
constexpr int kMaxReadsPerCollect = 64;

constexpr std::array<std::string_view, 12> kKnownLevels = {
    "error", "warn",  "info", "http",    "verbose", "debug", "silly",  // npm (Winston's default).
    "emerg", "alert", "crit", "warning", "notice"};                    // syslog.

// Removes ECMA-48 CSI sequences ("\x1b[31m"): ESC '[', parameter bytes, one final byte in
// '@'..'~'. A lone ESC is dropped too.
std::string strip_ansi(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\x1b') {
      out += s[i];
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '[') {
      std::size_t j = i + 2;
      while (j < s.size() && (s[j] < '@' || s[j] > '~')) ++j;
      i = j;  // The final byte (or the end).
    }
  }
  return out;
}

std::string level_label(const std::string& level) {
  bool known = std::find(kKnownLevels.begin(), kKnownLevels.end(), level) != kKnownLevels.end();
  return known ? level : "other";
}

}  // namespace

std::optional<std::string> winston_level(std::string_view line) {
  auto start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos || line[start] != '{') return std::nullopt;
  // allow_exceptions=false: a malformed line gives a discarded value instead of a throw.
  auto doc = nlohmann::json::parse(line.substr(start), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto it = doc.find("level");
  if (it == doc.end() || !it->is_string()) return std::nullopt;
  std::string level = strip_ansi(it->get_ref<const std::string&>());
  std::transform(level.begin(), level.end(), level.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (level.empty()) return std::nullopt;
  return level;
}

std::string service_from_path(std::string_view path) {
  auto slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = base.rfind('.');
  // A leading dot (".app") names a hidden file, not an extension.
  if (dot != std::string_view::npos && dot > 0) base = base.substr(0, dot);
  return std::string(base);
}

void AppLogCollector::add_source(std::string service, std::string path) {
  if (service.empty()) service = service_from_path(path);
  counts_[service];  // Exported at 0 from the first scrape on.
  sources_.push_back({std::move(service), LogTail::follow(std::move(path), true)});
}

void AppLogCollector::collect(MetricSet& out) {
  last_errors_.clear();
  for (auto& source : sources_) {
    Counts& counts = counts_[source.service];
    for (int i = 0; i < kMaxReadsPerCollect; ++i) {
      auto lines = source.tail.read_lines();
      if (!lines) {
        last_errors_.push_back(source.tail.path() + ": " + lines.error().message);
        break;
      }
      if (lines->empty()) break;
      for (const auto& line : *lines) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        if (auto level = winston_level(line)) {
          ++counts.by_level[level_label(*level)];
        } else {
          ++counts.unparsed;
        }
      }
    }
  }
  for (const auto& [service, counts] : counts_) {
    auto by_level = counts.by_level;
    by_level.try_emplace("error", 0);
    by_level.try_emplace("warn", 0);
    for (const auto& [level, n] : by_level) {
      out.counter("groundctl_app_log_messages_total",
                  "Log messages of the app by level, since groundctl started.",
                  {{"service", service}, {"level", level}}, static_cast<double>(n));
    }
    out.counter("groundctl_app_log_unparsed_lines_total",
                "Log lines of the app that are not Winston JSON, since groundctl started.",
                {{"service", service}}, static_cast<double>(counts.unparsed));
  }
}

}  // namespace gc::monitor

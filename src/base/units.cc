// SPDX-License-Identifier: MIT
#include "base/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace gc {
namespace {

// Reads a non-negative decimal number (digits with an optional fraction) from the front of `s`.
bool take_number(std::string_view& s, double& out) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  std::string_view num = s.substr(0, i);
  if (num.front() == '.' || num.back() == '.' || num.find('.') != num.rfind('.')) return false;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), out);
  if (ec != std::errc() || ptr != num.data() + num.size()) return false;
  s.remove_prefix(i);
  return true;
}

std::string_view take_unit(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  std::string_view unit = s.substr(0, i);
  s.remove_prefix(i);
  return unit;
}

Error bad_duration(std::string_view text) {
  return make_error(Errc::kInvalidArgument,
                    "invalid duration \"" + std::string(text) +
                        "\": use a number with a unit, e.g. \"250ms\", \"30s\", \"5m\", \"1h30m\"");
}

Error bad_size(std::string_view text) {
  return make_error(Errc::kInvalidArgument,
                    "invalid size \"" + std::string(text) +
                        "\": use a number with a unit, e.g. \"512KiB\", \"400MiB\", \"2GiB\"");
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  std::string_view s = text;
  if (s == "0") return Duration(0);
  if (s.empty()) return bad_duration(text);
  double total_ms = 0;
  while (!s.empty()) {
    double value = 0;
    if (!take_number(s, value)) return bad_duration(text);
    std::string_view unit = take_unit(s);
    double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60e3;
    } else if (unit == "h") {
      scale = 3600e3;
    } else if (unit == "d") {
      scale = 86400e3;
    } else {
      return bad_duration(text);
    }
    total_ms += value * scale;
  }
  // Ten years is far beyond any sensible setting and keeps the arithmetic well inside int64.
  if (total_ms > 10.0 * 365 * 86400e3) return bad_duration(text);
  return Duration(static_cast<Duration::rep>(std::llround(total_ms)));
}

std::string format_duration(Duration d) {
  auto ms = d.count();
  if (ms < 0) return "-" + format_duration(Duration(-ms));
  if (ms < 1000) return std::to_string(ms) + "ms";
  auto s = ms / 1000;
  if (s < 60) {
    if (ms % 1000 == 0 || s >= 10) return std::to_string(s) + "s";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  auto m = s / 60;
  if (m < 60) return std::to_string(m) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  auto h = m / 60;
  if (h < 24) return std::to_string(h) + "h" + (m % 60 ? std::to_string(m % 60) + "m" : "");
  auto days = h / 24;
  return std::to_string(days) + "d" + (h % 24 ? std::to_string(h % 24) + "h" : "");
}

Result<std::uint64_t> parse_size(std::string_view text) {
  std::string_view s = text;
  double value = 0;
  if (!take_number(s, value)) return bad_size(text);
  std::string_view unit = take_unit(s);
  if (!s.empty()) return bad_size(text);
  double scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "K" || unit == "k" || unit == "KiB") {
    scale = 1024.0;
  } else if (unit == "KB" || unit == "kB") {
    scale = 1e3;
  } else if (unit == "M" || unit == "MiB") {
    scale = 1024.0 * 1024;
  } else if (unit == "MB") {
    scale = 1e6;
  } else if (unit == "G" || unit == "GiB") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "GB") {
    scale = 1e9;
  } else if (unit == "T" || unit == "TiB") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else if (unit == "TB") {
    scale = 1e12;
  } else {
    return bad_size(text);
  }
  double bytes = value * scale;
  if (bytes > 9e18) return bad_size(text);
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%s", v, kUnits[u]);
  return buf;
}

}  // namespace gc

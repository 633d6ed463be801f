// SPDX-License-Identifier: MIT
// config/schedule.cc: "HH:MM" and 5-field cron parsing; the next fire time in local time.
#include "config/schedule.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <span>
#include <vector>

namespace gc::config {
namespace {

using std::chrono::days;
using std::chrono::local_days;
using std::chrono::local_seconds;
using std::chrono::sys_seconds;

constexpr std::string_view kForms =
    "use \"HH:MM\" (daily, local time) or 5 cron fields: minute hour day-of-month month "
    "day-of-week";

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

struct FieldSpec {
  std::string_view name;  // "day-of-week".
  int min;
  int max;                                  // 7 for day-of-week: both 0 and 7 are Sunday.
  std::span<const std::string_view> names;  // names[i] means min + i; empty if none.
};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kDayNames},
};

Error bad_schedule(std::string_view text, std::string_view why) {
  return make_error(Errc::kInvalidArgument,
                    "invalid schedule \"" + std::string(text) + "\": " + std::string(why));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// 1 to 3 decimal digits: no sign, no spaces, no overflow.
bool to_int(std::string_view s, int& out) {
  if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  out = 0;
  for (char c : s) out = out * 10 + (c - '0');
  return true;
}

// A number or (where the field has them) a name. Sets `why` on failure.
bool parse_value(std::string_view token, const FieldSpec& field, int& out, std::string& why) {
  if (token.empty()) {
    why = "missing number";
    return false;
  }
  if (std::isalpha(static_cast<unsigned char>(token.front()))) {
    std::string name = lower(token);
    for (std::size_t i = 0; i < field.names.size(); ++i) {
      if (field.names[i] == name) {
        out = field.min + static_cast<int>(i);
        return true;
      }
    }
    why = "unknown name \"" + std::string(token) + "\"";
    if (!field.names.empty()) {
      why += " (use " + std::string(field.names.front()) + ".." + std::string(field.names.back()) +
             " or numbers)";
    }
    return false;
  }
  if (!to_int(token, out)) {
    why = "\"" + std::string(token) + "\" is not a number";
    return false;
  }
  if (out < field.min || out > field.max) {
    why = std::string(token) + " is out of range " + std::to_string(field.min) + ".." +
          std::to_string(field.max);
    return false;
  }
  return true;
}

// One comma-separated item: "*", "N", "N-M", "*/S", "N-M/S".
bool parse_item(std::string_view item, const FieldSpec& field, std::uint64_t& bits,
                std::string& why) {
  if (item.empty()) {
    why = "empty list item";
    return false;
  }
  std::string_view range = item;
  std::string_view step_text;
  int step = 1;
  if (std::size_t slash = item.find('/'); slash != std::string_view::npos) {
    range = item.substr(0, slash);
    step_text = item.substr(slash + 1);
    if (!to_int(step_text, step)) {
      why = "step \"" + std::string(step_text) + "\" is not a number";
      return false;
    }
    if (step < 1 || step > field.max - field.min + 1) {
      why = "step " + std::string(step_text) + " is out of range 1.." +
            std::to_string(field.max - field.min + 1);
      return false;
    }
  }
  int lo = field.min;
  int hi = field.max;
  if (range != "*") {
    std::size_t dash = range.find('-');
    if (!parse_value(range.substr(0, dash), field, lo, why)) return false;
    if (dash == std::string_view::npos) {
      // Vixie cron rejects "5/15" too; say what was probably meant.
      if (!step_text.empty()) {
        why = "a step needs a range: write \"" + std::string(range) + "-" +
              std::to_string(field.max) + "/" + std::string(step_text) + "\"";
        return false;
      }
      hi = lo;
    } else if (!parse_value(range.substr(dash + 1), field, hi, why)) {
      return false;
    } else if (lo > hi) {
      why = "range " + std::string(range) + " is reversed";
      return false;
    }
  } else if (field.max == 7) {
    hi = 6;  // "*" in day-of-week: Sunday once, as 0.
  }
  for (int v = lo; v <= hi; v += step) {
    int bit = field.max == 7 && v == 7 ? 0 : v;  // Day-of-week 7 is Sunday, bit 0.
    bits |= std::uint64_t{1} << bit;
  }
  return true;
}

// Days in `month` of a leap year: the most a month can have.
int max_days(int month) {
  constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month - 1];
}

Result<Schedule> parse_daily(std::string_view text, std::string_view trimmed) {
  std::size_t colon = trimmed.find(':');
  std::string_view h = trimmed.substr(0, colon);
  std::string_view m = trimmed.substr(colon + 1);
  int hour = 0;
  int minute = 0;
  if (h.size() > 2 || m.size() != 2 || !to_int(h, hour) || !to_int(m, minute)) {
    return bad_schedule(text, "expected \"HH:MM\" such as \"03:15\"");
  }
  if (hour > 23) return bad_schedule(text, "the hour must be 0..23");
  if (minute > 59) return bad_schedule(text, "the minute must be 00..59");
  return daily_schedule(hour, minute);
}

bool day_matches(const Schedule& s, const std::chrono::year_month_day& ymd,
                 std::chrono::weekday weekday) {
  bool dom = (s.days_of_month >> static_cast<unsigned>(ymd.day())) & 1u;
  bool dow = (s.days_of_week >> weekday.c_encoding()) & 1u;
  return s.dom_star || s.dow_star ? dom && dow : dom || dow;
}

}  // namespace

Schedule daily_schedule(int hour, int minute) {
  Schedule s;
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", hour, minute);
  s.text = text;
  s.minutes = std::uint64_t{1} << minute;
  s.hours = std::uint32_t{1} << hour;
  s.days_of_month = 0xfffffffeu;  // Days 1..31.
  s.months = 0x1ffeu;             // Months 1..12.
  s.days_of_week = 0x7fu;
  return s;
}

Result<Schedule> parse_schedule(std::string_view text) {
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
    trimmed.remove_prefix(1);
  }
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.remove_suffix(1);
  }
  if (trimmed.empty()) return bad_schedule(text, std::string(kForms));
  bool has_space = trimmed.find_first_of(" \t") != std::string_view::npos;
  if (!has_space && trimmed.find(':') != std::string_view::npos) {
    GC_ASSIGN_OR_RETURN(Schedule daily, parse_daily(text, trimmed));
    daily.text = std::string(text);
    return daily;
  }
  std::vector<std::string_view> fields;
  for (std::size_t i = 0; i < trimmed.size();) {
    std::size_t end = trimmed.find_first_of(" \t", i);
    if (end == std::string_view::npos) end = trimmed.size();
    if (end > i) fields.push_back(trimmed.substr(i, end - i));
    i = end + 1;
  }
  if (fields.size() != 5) {
    std::string why =
        "expected 5 fields, got " + std::to_string(fields.size()) + ": " + std::string(kForms);
    if (fields.size() == 1) why = std::string(kForms);
    return bad_schedule(text, why);
  }
  std::uint64_t bits[5] = {};
  for (std::size_t f = 0; f < 5; ++f) {
    std::string_view field = fields[f];
    for (std::size_t i = 0; i <= field.size();) {
      std::size_t comma = field.find(',', i);
      if (comma == std::string_view::npos) comma = field.size();
      std::string why;
      if (!parse_item(field.substr(i, comma - i), kFields[f], bits[f], why)) {
        return bad_schedule(text, std::string(kFields[f].name) + ": " + why);
      }
      i = comma + 1;
    }
  }
  Schedule s;
  s.text = std::string(text);
  s.minutes = bits[0];
  s.hours = static_cast<std::uint32_t>(bits[1]);
  s.days_of_month = static_cast<std::uint32_t>(bits[2]);
  s.months = static_cast<std::uint16_t>(bits[3]);
  s.days_of_week = static_cast<std::uint8_t>(bits[4]);
  s.dom_star = fields[2].front() == '*';
  s.dow_star = fields[4].front() == '*';
  // Under the AND rule a day must exist in a chosen month ("30 2" never does). Every existing
  // date falls on every weekday in some year, so the weekdays cannot make it impossible.
  if (s.dom_star || s.dow_star) {
    bool possible = false;
    for (int month = 1; month <= 12; ++month) {
      if (!((s.months >> month) & 1u)) continue;
      for (int day = 1; day <= max_days(month); ++day) possible |= (s.days_of_month >> day) & 1u;
    }
    if (!possible) {
      return bad_schedule(text, "no chosen month has the chosen day of the month: it never fires");
    }
  }
  return s;
}

std::optional<sys_seconds> next_after(const Schedule& s, sys_seconds after,
                                      const UtcOffsetFn& zone) {
  const local_seconds wall_after = to_local(after, zone);
  // Wall times up to two days before `after`'s own can still lie after it (the repeated hour,
  // or a zone that jumps a whole day); anything earlier cannot.
  const local_seconds horizon_start = wall_after - days(2);
  local_days day = std::chrono::floor<days>(horizon_start);
  const local_days end = day + days(146097);  // 400 Gregorian years: every calendar repeats.
  for (; day < end; day += days(1)) {
    std::chrono::year_month_day ymd(day);
    if (!((s.months >> static_cast<unsigned>(ymd.month())) & 1u)) {
      day = local_days(ymd.year() / ymd.month() / std::chrono::last);  // Then the 1st of next.
      continue;
    }
    if (!day_matches(s, ymd, std::chrono::weekday(day))) continue;
    for (int h = 0; h < 24; ++h) {
      if (!((s.hours >> h) & 1u)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!((s.minutes >> m) & 1u)) continue;
        local_seconds wall = day + std::chrono::hours(h) + std::chrono::minutes(m);
        if (wall < horizon_start) continue;
        // from_local is monotonic in `wall` (gaps collapse onto their end, repeats take the
        // first occurrence), so the first candidate past `after` is the answer.
        sys_seconds t = from_local(wall, zone);
        if (t > after) return t;
      }
    }
  }
  return std::nullopt;
}

}  // namespace gc::config

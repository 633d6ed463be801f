// SPDX-License-Identifier: MIT
// backup/retention.cc: bucketing by local day, ISO week and month; newest first.
#include "backup/retention.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <set>

namespace gc::backup {
namespace {

using std::chrono::days;
using std::chrono::local_days;
using std::chrono::sys_seconds;
using std::chrono::year_month_day;

std::string format_day(const year_month_day& ymd) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

std::string format_month(const year_month_day& ymd) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()));
  return text;
}

// ISO 8601 week "2026-W53": weeks start on Monday, and a week belongs to the year of its
// Thursday, so 2027-01-02 is in 2026-W53 and 2024-12-30 in 2025-W01.
std::string format_iso_week(local_days day) {
  unsigned iso_weekday = std::chrono::weekday(day).iso_encoding();  // 1 = Monday .. 7 = Sunday.
  local_days thursday = day + days(4) - days(iso_weekday);
  std::chrono::year year = year_month_day(thursday).year();
  auto week = (thursday - local_days(year / std::chrono::January / 1)).count() / 7 + 1;
  char text[16];
  std::snprintf(text, sizeof text, "%04d-W%02d", static_cast<int>(year), static_cast<int>(week));
  return text;
}

std::string format_utc(sys_seconds t) {
  auto day = std::chrono::floor<days>(t);
  std::chrono::hh_mm_ss time(t - day);
  char text[32];
  year_month_day ymd(day);
  std::snprintf(text, sizeof text, "%sT%02d:%02d:%02dZ", format_day(ymd).c_str(),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

void add_reason(RetentionDecision& d, std::string_view reason) {
  if (!d.reason.empty()) d.reason += ", ";
  d.reason += reason;
}

}  // namespace

std::vector<RetentionDecision> decide_retention(std::span<const BackupSetInfo> sets,
                                                const config::RetentionConfig& policy,
                                                sys_seconds now, const config::UtcOffsetFn& zone) {
  std::vector<RetentionDecision> out(sets.size());
  // Newest first; ties broken by id so the answer does not depend on the input order.
  std::vector<std::size_t> order(sets.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (sets[a].completed != sets[b].completed) return sets[a].completed > sets[b].completed;
    return sets[a].id > sets[b].id;
  });

  struct Buckets {
    int limit;
    std::string_view rule;
    std::set<std::string> taken;
  };
  Buckets daily{policy.daily, "daily", {}};
  Buckets weekly{policy.weekly, "weekly", {}};
  Buckets monthly{policy.monthly, "monthly", {}};
  std::vector<std::string> day_of(sets.size());
  bool verified_kept = false;
  std::optional<sys_seconds> newest_complete;

  for (std::size_t i : order) {
    const BackupSetInfo& set = sets[i];
    RetentionDecision& d = out[i];
    d.id = set.id;
    if (set.completed > now) {
      d.keep = true;
      add_reason(d, "completed in the future (" + format_utc(set.completed) + "), clock skew?");
      continue;
    }
    if (!set.complete) continue;  // Decided below, once every newer complete set is known.
    if (!newest_complete) newest_complete = set.completed;
    local_days day = std::chrono::floor<days>(config::to_local(set.completed, zone));
    year_month_day ymd(day);
    day_of[i] = format_day(ymd);
    // Walking newest first, the first set seen in a bucket is that bucket's newest, and the
    // first `limit` buckets seen are the most recent ones that have sets.
    for (auto [buckets, key] :
         {std::pair{&daily, day_of[i]}, std::pair{&weekly, format_iso_week(day)},
          std::pair{&monthly, format_month(ymd)}}) {
      if (buckets->taken.count(key) ||
          buckets->taken.size() >= static_cast<std::size_t>(std::max(buckets->limit, 0))) {
        continue;
      }
      buckets->taken.insert(key);
      d.keep = true;
      add_reason(d, std::string(buckets->rule) + " " + key);
    }
    if (set.verified && !verified_kept) {
      verified_kept = true;
      d.keep = true;
      add_reason(d, "newest verified set");
    }
    if (d.reason.empty()) {
      d.keep = false;
      if (daily.taken.count(day_of[i])) {
        d.reason = "not the newest set of " + day_of[i];
      } else {
        d.reason = "outside retention (daily " + std::to_string(policy.daily) + ", weekly " +
                   std::to_string(policy.weekly) + ", monthly " + std::to_string(policy.monthly) +
                   ")";
      }
    }
  }

  for (std::size_t i = 0; i < sets.size(); ++i) {
    const BackupSetInfo& set = sets[i];
    if (set.complete || set.completed > now) continue;
    out[i].id = set.id;
    // A failed run may be the only trace of the latest data until a good set replaces it.
    if (newest_complete && *newest_complete > set.completed) {
      out[i].keep = false;
      out[i].reason = "newer complete set exists";
    } else {
      out[i].keep = true;
      out[i].reason = "incomplete, kept until a newer complete set exists";
    }
  }
  return out;
}

}  // namespace gc::backup

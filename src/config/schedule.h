// SPDX-License-Identifier: MIT
// config/schedule.h: when a job runs, written "HH:MM" (daily, local time) or as a standard
// 5-field cron expression. Pure: parsing and next_after do no I/O; the zone is a parameter.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "config/time_zone.h"

namespace gc::config {

// A parsed schedule: the set of local wall-clock minutes it fires at, one bit per value.
struct Schedule {
  std::string text;                 // As written, for messages and status output.
  std::uint64_t minutes = 0;        // Bit m: minute m (0..59).
  std::uint32_t hours = 0;          // Bit h: hour h (0..23).
  std::uint32_t days_of_month = 0;  // Bit d: day d (1..31).
  std::uint16_t months = 0;         // Bit m: month m (1..12).
  std::uint8_t days_of_week = 0;    // Bit w: weekday w, 0 = Sunday .. 6 = Saturday.
  // Whether the day-of-month / day-of-week field began with "*". cron's rule: when both day
  // fields are restricted (neither begins with "*"), a day matches if EITHER field matches;
  // otherwise it must match both. Like Vixie cron and cronie, "*/2" counts as unrestricted.
  bool dom_star = true;
  bool dow_star = true;

  bool operator==(const Schedule&) const = default;
};

// Every day at hour:minute local time (hour 0..23, minute 0..59), with text "HH:MM".
Schedule daily_schedule(int hour, int minute);

// Parses "HH:MM" / "H:MM" (daily at that local time) or "minute hour day-of-month month
// day-of-week" separated by spaces or tabs. Each cron field is a comma list of "*", N, N-M, with
// an optional "/step" after "*" or a range; months may be jan..dec and weekdays sun..sat (case
// insensitive); both 0 and 7 are Sunday. A schedule that can never fire ("0 0 30 2 *") is an
// error. Errors: kInvalidArgument whose message names the text and the field at fault.
Result<Schedule> parse_schedule(std::string_view text);

// The first instant strictly after `after` at which `schedule` fires, the wall clock being
// given by `zone`. Across DST changes:
// - a wall time that happens twice (the repeated hour in autumn) fires once, at its first
//   occurrence; so an every-15-minutes schedule pauses during the repeat;
// - a wall time that never happens (the hour skipped in spring) fires once at the end of the
//   gap (a 02:30 schedule fires at 03:00 new time), so a daily job never misses a day.
// nullopt only when the schedule matches no day within 400 years (a hand-built empty Schedule;
// parse_schedule refuses those). Pure.
std::optional<std::chrono::sys_seconds> next_after(const Schedule& schedule,
                                                   std::chrono::sys_seconds after,
                                                   const UtcOffsetFn& zone);

}  // namespace gc::config

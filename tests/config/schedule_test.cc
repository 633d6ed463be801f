// SPDX-License-Identifier: MIT
#include "config/schedule.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <optional>
#include <string>

namespace gc::config {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

// An instant given in UTC.
sys_seconds utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return sys_seconds(sys_days(std::chrono::year(y) / m / d)) + hours(hh) + minutes(mm) +
         seconds(ss);
}

std::chrono::local_seconds wall(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return std::chrono::local_seconds(std::chrono::local_days(std::chrono::year(y) / m / d)) +
         hours(hh) + minutes(mm);
}

const UtcOffsetFn kUtc = fixed_utc_offset(seconds(0));

Schedule parse_ok(std::string_view text) {
  Result<Schedule> s = parse_schedule(text);
  EXPECT_TRUE(s) << text << ": " << s.error().message;
  return s ? *s : Schedule{};
}

std::string parse_error(std::string_view text) {
  Result<Schedule> s = parse_schedule(text);
  EXPECT_FALSE(s) << text;
  if (s) return "";
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  return s.error().message;
}

std::uint64_t bits(std::initializer_list<int> values) {
  std::uint64_t out = 0;
  for (int v : values) out |= std::uint64_t{1} << v;
  return out;
}

// Points libc's local time at `zone` for one test, and back afterwards.
class ScopedTz {
 public:
  explicit ScopedTz(const char* zone) {
    const char* old = ::getenv("TZ");
    if (old) old_ = old;
    ::setenv("TZ", zone, 1);
    offset_ = system_utc_offset();
  }
  ~ScopedTz() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  const UtcOffsetFn& offset() const { return offset_; }

 private:
  std::optional<std::string> old_;
  UtcOffsetFn offset_;
};

TEST(ParseSchedule, ReadsDailyTimes) {
  Schedule s = parse_ok("03:15");
  EXPECT_EQ(s, daily_schedule(3, 15));
  EXPECT_EQ(s.text, "03:15");
  EXPECT_EQ(s.minutes, bits({15}));
  EXPECT_EQ(s.hours, bits({3}));
  EXPECT_EQ(parse_ok("0:00").hours, bits({0}));
  EXPECT_EQ(parse_ok("23:59").minutes, bits({59}));
  EXPECT_EQ(parse_ok(" 7:05 ").text, " 7:05 ");
  EXPECT_EQ(parse_error("24:00"), "invalid schedule \"24:00\": the hour must be 0..23");
  EXPECT_EQ(parse_error("03:60"), "invalid schedule \"03:60\": the minute must be 00..59");
  for (const char* bad : {"3:5", "003:15", "03:15:00", ":15", "03:", "-1:00", "03:1x"}) {
    EXPECT_NE(parse_error(bad).find("expected \"HH:MM\""), std::string::npos) << bad;
  }
}

TEST(ParseSchedule, ReadsCronFields) {
  Schedule s = parse_ok("*/15 9-17/4 1,15 jan-mar,DEC mon-fri");
  EXPECT_EQ(s.minutes, bits({0, 15, 30, 45}));
  EXPECT_EQ(s.hours, bits({9, 13, 17}));
  EXPECT_EQ(s.days_of_month, bits({1, 15}));
  EXPECT_EQ(s.months, bits({1, 2, 3, 12}));
  EXPECT_EQ(s.days_of_week, bits({1, 2, 3, 4, 5}));
  EXPECT_FALSE(s.dom_star);
  EXPECT_FALSE(s.dow_star);
  Schedule every = parse_ok("* * * * *");
  EXPECT_EQ(every.minutes, (std::uint64_t{1} << 60) - 1);
  EXPECT_EQ(every.hours, (1u << 24) - 1);
  EXPECT_EQ(every.days_of_month, ((1u << 31) - 1) << 1);
  EXPECT_EQ(every.months, ((1u << 12) - 1) << 1);
  EXPECT_EQ(every.days_of_week, 0x7f);
  EXPECT_TRUE(every.dom_star);
  EXPECT_TRUE(every.dow_star);
  // Tabs and repeated spaces separate fields too.
  EXPECT_EQ(parse_ok("0\t3  * * *").hours, bits({3}));
}

TEST(ParseSchedule, TreatsBothZeroAndSevenAsSunday) {
  EXPECT_EQ(parse_ok("0 0 * * 7").days_of_week, bits({0}));
  EXPECT_EQ(parse_ok("0 0 * * 0").days_of_week, bits({0}));
  EXPECT_EQ(parse_ok("0 0 * * sun").days_of_week, bits({0}));
  EXPECT_EQ(parse_ok("0 0 * * 5-7").days_of_week, bits({0, 5, 6}));
  EXPECT_EQ(parse_ok("0 0 * * fri-7").days_of_week, bits({0, 5, 6}));
  EXPECT_EQ(parse_ok("0 0 * * 0-7").days_of_week, 0x7f);
  EXPECT_EQ(parse_ok("0 0 * * */2").days_of_week, bits({0, 2, 4, 6}));
}

TEST(ParseSchedule, CountsAFieldStartingWithStarAsUnrestricted) {
  // Vixie cron and cronie: "*/2" does not switch on the day-of-month OR day-of-week rule.
  Schedule s = parse_ok("0 0 */2 * mon");
  EXPECT_TRUE(s.dom_star);
  EXPECT_FALSE(s.dow_star);
  EXPECT_FALSE(parse_ok("0 0 1-31 * *").dom_star);
}

TEST(ParseSchedule, ReportsBadCronFields) {
  auto msg = [](std::string_view text) { return parse_error(text); };
  EXPECT_EQ(msg("* * * *"),
            "invalid schedule \"* * * *\": expected 5 fields, got 4: use "
            "\"HH:MM\" (daily, local time) or 5 cron fields: minute hour "
            "day-of-month month day-of-week");
  EXPECT_NE(msg("0 0 * * * 2026").find("expected 5 fields, got 6"), std::string::npos);
  EXPECT_NE(msg("").find("use \"HH:MM\""), std::string::npos);
  EXPECT_NE(msg("daily").find("use \"HH:MM\""), std::string::npos);
  EXPECT_EQ(msg("60 * * * *"), "invalid schedule \"60 * * * *\": minute: 60 is out of range 0..59");
  EXPECT_EQ(msg("* 24 * * *"), "invalid schedule \"* 24 * * *\": hour: 24 is out of range 0..23");
  EXPECT_NE(msg("* * 0 * *").find("day-of-month: 0 is out of range 1..31"), std::string::npos);
  EXPECT_NE(msg("* * * 13 *").find("month: 13 is out of range 1..12"), std::string::npos);
  EXPECT_NE(msg("* * * * 8").find("day-of-week: 8 is out of range 0..7"), std::string::npos);
  EXPECT_NE(msg("5/15 * * * *").find("minute: a step needs a range: write \"5-59/15\""),
            std::string::npos);
  EXPECT_NE(msg("*/0 * * * *").find("minute: step 0 is out of range 1..60"), std::string::npos);
  EXPECT_NE(msg("*/x * * * *").find("step \"x\" is not a number"), std::string::npos);
  EXPECT_NE(msg("*/ * * * *").find("step \"\" is not a number"), std::string::npos);
  EXPECT_NE(msg("0 5-1 * * *").find("hour: range 5-1 is reversed"), std::string::npos);
  EXPECT_NE(msg("0 0 * * mun").find("day-of-week: unknown name \"mun\" (use sun..sat or numbers)"),
            std::string::npos);
  EXPECT_NE(msg("0 0 * jn *").find("month: unknown name \"jn\" (use jan..dec or numbers)"),
            std::string::npos);
  EXPECT_NE(msg("mon 0 * * *").find("minute: unknown name \"mon\""), std::string::npos);
  EXPECT_NE(msg("1,,2 0 * * *").find("minute: empty list item"), std::string::npos);
  EXPECT_NE(msg("1, 0 * * * *").find("expected 5 fields, got 6"), std::string::npos);
  EXPECT_NE(msg("-1 0 * * *").find("minute: missing number"), std::string::npos);
  EXPECT_NE(msg("+1 0 * * *").find("minute: \"+1\" is not a number"), std::string::npos);
  EXPECT_NE(msg("1000 0 * * *").find("minute: \"1000\" is not a number"), std::string::npos);
  EXPECT_NE(msg("0 0 1- * *").find("day-of-month: missing number"), std::string::npos);
}

TEST(ParseSchedule, RefusesSchedulesThatNeverFire) {
  EXPECT_EQ(parse_error("0 0 30 2 *"),
            "invalid schedule \"0 0 30 2 *\": no chosen month has the chosen day of the month: it "
            "never fires");
  EXPECT_NE(parse_error("0 0 31 4,6,9,11 *").find("never fires"), std::string::npos);
  EXPECT_NE(parse_error("0 0 30,31 feb */2").find("never fires"), std::string::npos);
  // February 29th exists; with both day fields restricted, Mondays in February count.
  parse_ok("0 0 29 2 *");
  parse_ok("0 0 31 2 mon");
}

TEST(NextAfter, FiresDailyAtTheGivenTime) {
  Schedule s = daily_schedule(3, 15);
  EXPECT_EQ(next_after(s, utc(2026, 11, 27, 1, 0), kUtc), utc(2026, 11, 27, 3, 15));
  EXPECT_EQ(next_after(s, utc(2026, 11, 27, 3, 14, 59), kUtc), utc(2026, 11, 27, 3, 15));
  // Strictly after: at the fire time itself, the next one is a day later.
  EXPECT_EQ(next_after(s, utc(2026, 11, 27, 3, 15), kUtc), utc(2026, 11, 28, 3, 15));
  EXPECT_EQ(next_after(s, utc(2026, 12, 31, 23, 59), kUtc), utc(2027, 1, 1, 3, 15));
  // In local time: 03:15 at UTC+2 is 01:15 UTC.
  EXPECT_EQ(next_after(s, utc(2026, 11, 27, 2, 0), fixed_utc_offset(hours(2))),
            utc(2026, 11, 28, 1, 15));
  EXPECT_EQ(next_after(s, utc(2026, 11, 27, 2, 0), fixed_utc_offset(hours(-5))),
            utc(2026, 11, 27, 8, 15));
}

TEST(NextAfter, StepsThroughCronMinutesAndHours) {
  Schedule s = parse_ok("*/15 * * * *");
  EXPECT_EQ(next_after(s, utc(2026, 11, 27, 10, 7), kUtc), utc(2026, 11, 27, 10, 15));
  EXPECT_EQ(next_after(s, utc(2026, 11, 27, 23, 45), kUtc), utc(2026, 11, 28, 0, 0));
  Schedule office = parse_ok("30 9-17/4 * * mon-fri");
  // 2026-11-27 is a Friday: 09:30, 13:30, 17:30, then Monday.
  EXPECT_EQ(next_after(office, utc(2026, 11, 27, 13, 30), kUtc), utc(2026, 11, 27, 17, 30));
  EXPECT_EQ(next_after(office, utc(2026, 11, 27, 17, 30), kUtc), utc(2026, 11, 30, 9, 30));
}

TEST(NextAfter, AppliesTheOrRuleWhenBothDayFieldsAreRestricted) {
  // 2026-11-01 is a Sunday. "On the 1st, or on Mondays".
  Schedule either = parse_ok("0 0 1 * mon");
  EXPECT_EQ(next_after(either, utc(2026, 11, 1), kUtc), utc(2026, 11, 2));
  EXPECT_EQ(next_after(either, utc(2026, 11, 2), kUtc), utc(2026, 11, 9));
  EXPECT_EQ(next_after(either, utc(2026, 11, 30), kUtc), utc(2026, 12, 1));
  // With "*/2" the day-of-month field counts as unrestricted: odd days that are Mondays.
  Schedule both = parse_ok("0 0 */2 * mon");
  EXPECT_EQ(next_after(both, utc(2026, 11, 1), kUtc), utc(2026, 11, 9));
  EXPECT_EQ(next_after(both, utc(2026, 11, 9), kUtc), utc(2026, 11, 23));
}

TEST(NextAfter, FindsRareDates) {
  EXPECT_EQ(next_after(parse_ok("0 0 29 2 *"), utc(2026, 3, 1), kUtc), utc(2028, 2, 29));
  // February 29th falling on a Sunday: next in 2032.
  EXPECT_EQ(next_after(parse_ok("0 12 29 feb */7"), utc(2026, 3, 1), kUtc), utc(2032, 2, 29, 12));
  EXPECT_EQ(next_after(parse_ok("59 23 31 dec *"), utc(2026, 12, 31, 23, 59), kUtc),
            utc(2027, 12, 31, 23, 59));
  EXPECT_EQ(next_after(Schedule{}, utc(2026, 1, 1), kUtc), std::nullopt);
}

// A pure stand-in for Europe/Berlin in 2026, without tzdata: CET (+1h), CEST (+2h) from
// 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC.
seconds berlin_2026(sys_seconds t) {
  bool summer = t >= utc(2026, 3, 29, 1) && t < utc(2026, 10, 25, 1);
  return summer ? hours(2) : hours(1);
}

TEST(TimeZone, MapsWallTimesThroughGapsAndRepeats) {
  UtcOffsetFn zone = berlin_2026;
  EXPECT_EQ(to_local(utc(2026, 7, 1, 10), zone), wall(2026, 7, 1, 12));
  EXPECT_EQ(from_local(wall(2026, 7, 1, 12), zone), utc(2026, 7, 1, 10));
  EXPECT_EQ(from_local(wall(2026, 1, 1, 0, 30), zone), utc(2025, 12, 31, 23, 30));
  // 02:00..02:59 never happens on 2026-03-29: it maps to the end of the gap, 03:00 CEST.
  EXPECT_EQ(from_local(wall(2026, 3, 29, 2, 0), zone), utc(2026, 3, 29, 1));
  EXPECT_EQ(from_local(wall(2026, 3, 29, 2, 30), zone), utc(2026, 3, 29, 1));
  EXPECT_EQ(from_local(wall(2026, 3, 29, 3, 0), zone), utc(2026, 3, 29, 1));
  EXPECT_EQ(from_local(wall(2026, 3, 29, 1, 59), zone), utc(2026, 3, 29, 0, 59));
  // 02:00..02:59 happens twice on 2026-10-25: the first time (CEST) is taken.
  EXPECT_EQ(from_local(wall(2026, 10, 25, 2, 30), zone), utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(from_local(wall(2026, 10, 25, 3, 0), zone), utc(2026, 10, 25, 2));
  EXPECT_EQ(to_local(utc(2026, 10, 25, 1, 30), zone), wall(2026, 10, 25, 2, 30));
}

TEST(NextAfter, FiresOnceAtTheEndOfASpringForwardGap) {
  UtcOffsetFn zone = berlin_2026;
  Schedule s = daily_schedule(2, 30);
  // 02:30 does not exist on 2026-03-29: the job runs at 03:00 CEST instead, once.
  EXPECT_EQ(next_after(s, utc(2026, 3, 28, 12), zone), utc(2026, 3, 29, 1));
  EXPECT_EQ(next_after(s, utc(2026, 3, 29, 1), zone), utc(2026, 3, 30, 0, 30));
  // Several skipped times and a real one at the gap's end fire once together.
  Schedule many = parse_ok("0,30 2,3 * * *");
  EXPECT_EQ(next_after(many, utc(2026, 3, 29, 0, 30), zone), utc(2026, 3, 29, 1));
  EXPECT_EQ(next_after(many, utc(2026, 3, 29, 1), zone), utc(2026, 3, 29, 1, 30));
}

TEST(NextAfter, FiresOnceInARepeatedHour) {
  UtcOffsetFn zone = berlin_2026;
  Schedule s = daily_schedule(2, 30);
  // 02:30 happens at 00:30 UTC (CEST) and at 01:30 UTC (CET): only the first fires.
  EXPECT_EQ(next_after(s, utc(2026, 10, 24, 12), zone), utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(next_after(s, utc(2026, 10, 25, 0, 30), zone), utc(2026, 10, 26, 1, 30));
  // Asked from inside the second 02:xx, the repeat is still not fired.
  EXPECT_EQ(next_after(s, utc(2026, 10, 25, 1, 10), zone), utc(2026, 10, 26, 1, 30));
  // An every-15-minutes schedule pauses during the repeat rather than firing twice.
  Schedule quarter = parse_ok("*/15 * * * *");
  EXPECT_EQ(next_after(quarter, utc(2026, 10, 25, 0, 45), zone), utc(2026, 10, 25, 2, 0));
}

TEST(NextAfter, HandlesDstWithTheSystemTzdata) {
  {
    ScopedTz tz("Europe/Berlin");
    const UtcOffsetFn& zone = tz.offset();
    EXPECT_EQ(zone(utc(2026, 7, 1)), hours(2));
    EXPECT_EQ(zone(utc(2026, 12, 1)), hours(1));
    Schedule s = daily_schedule(2, 30);
    EXPECT_EQ(next_after(s, utc(2026, 3, 28, 12), zone), utc(2026, 3, 29, 1));
    EXPECT_EQ(next_after(s, utc(2026, 3, 29, 1), zone), utc(2026, 3, 30, 0, 30));
    EXPECT_EQ(next_after(s, utc(2026, 10, 24, 12), zone), utc(2026, 10, 25, 0, 30));
    EXPECT_EQ(next_after(s, utc(2026, 10, 25, 0, 30), zone), utc(2026, 10, 26, 1, 30));
  }
  {
    // New York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    ScopedTz tz("America/New_York");
    const UtcOffsetFn& zone = tz.offset();
    EXPECT_EQ(next_after(daily_schedule(2, 15), utc(2026, 3, 7, 12), zone),
              utc(2026, 3, 8, 7));  // 03:00 EDT.
    Schedule s = daily_schedule(1, 30);
    EXPECT_EQ(next_after(s, utc(2026, 10, 31, 12), zone), utc(2026, 11, 1, 5, 30));    // EDT.
    EXPECT_EQ(next_after(s, utc(2026, 11, 1, 5, 30), zone), utc(2026, 11, 2, 6, 30));  // EST.
    // Weekly on Sunday at 01:30 over the fall-back night: once.
    Schedule sunday = parse_ok("30 1 * * sun");
    EXPECT_EQ(next_after(sunday, utc(2026, 11, 1, 5, 30), zone), utc(2026, 11, 8, 6, 30));
  }
}

}  // namespace
}  // namespace gc::config

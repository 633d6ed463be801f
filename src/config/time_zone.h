// SPDX-License-Identifier: MIT
// config/time_zone.h: the local time zone as pure code sees it: a function from an instant to
// the UTC offset in effect then. Schedules and retention take one as a parameter, so their
// DST behaviour is tested without touching the process's TZ.
#pragma once

#include <chrono>
#include <functional>

namespace gc::config {

// Local time minus UTC at instant `t` (+1h for CET, +2h for CEST, -5h for EST). Must be a pure
// function of `t` while a caller uses it, and safe to call from the caller's thread.
using UtcOffsetFn = std::function<std::chrono::seconds(std::chrono::sys_seconds t)>;

// The local wall-clock time of instant `t`.
std::chrono::local_seconds to_local(std::chrono::sys_seconds t, const UtcOffsetFn& zone);

// The instant at which the wall clock shows `wall`. Where the wall clock shows it twice (the
// repeated hour when DST ends) this is the first time; where it never does (the hour skipped
// when DST starts) this is the end of the gap, the first instant after it (02:30 on a
// spring-forward day at 02:00 maps to 03:00 new time). Assumes, as every real zone does, at most
// one offset change within a day either side of `wall`.
std::chrono::sys_seconds from_local(std::chrono::local_seconds wall, const UtcOffsetFn& zone);

// A zone whose offset never changes: UTC for 0s.
UtcOffsetFn fixed_utc_offset(std::chrono::seconds offset);

// The process's local zone (TZ, else /etc/localtime) through localtime_r. Calls tzset() once,
// here, so the zone is the one in effect at this call; the returned function is thread-safe.
// Not pure: it is the thin driver the daemon passes to the pure code.
UtcOffsetFn system_utc_offset();

}  // namespace gc::config

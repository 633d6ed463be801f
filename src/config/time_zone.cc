// SPDX-License-Identifier: MIT
// config/time_zone.cc: wall clock <-> instant with DST gaps and repeats, and the libc zone.
#include "config/time_zone.h"

#include <time.h>

#include <algorithm>

namespace gc::config {

using std::chrono::local_seconds;
using std::chrono::seconds;
using std::chrono::sys_seconds;

local_seconds to_local(sys_seconds t, const UtcOffsetFn& zone) {
  return local_seconds((t + zone(t)).time_since_epoch());
}

sys_seconds from_local(local_seconds wall, const UtcOffsetFn& zone) {
  const sys_seconds naive(wall.time_since_epoch());
  // Offsets range from -12h to +14h, so the instant lies within a day of `naive`; the offsets
  // on either side of that window are the only ones that can apply.
  const seconds early = zone(naive - std::chrono::hours(24));
  const seconds late = zone(naive + std::chrono::hours(24));
  const seconds big = std::max(early, late);
  const seconds small = std::min(early, late);
  // The larger offset gives the earlier instant: trying it first picks the first occurrence of
  // a repeated wall time.
  for (seconds offset : {big, small}) {
    sys_seconds t = naive - offset;
    if (zone(t) == offset) return t;
  }
  if (early >= late) return naive - late;  // Not a gap: the zone broke the assumption above.
  // A gap: the wall clock jumps over `wall` somewhere in (naive - big, naive - small]. Find the
  // first instant whose wall time is past `wall`.
  sys_seconds before = naive - big;   // Wall time < `wall`.
  sys_seconds after = naive - small;  // Wall time > `wall`.
  while (after - before > seconds(1)) {
    sys_seconds mid = before + (after - before) / 2;
    if (to_local(mid, zone) > wall) {
      after = mid;
    } else {
      before = mid;
    }
  }
  return after;
}

UtcOffsetFn fixed_utc_offset(seconds offset) {
  return [offset](sys_seconds) { return offset; };
}

UtcOffsetFn system_utc_offset() {
  // glibc's localtime_r reads TZ only on first use; tzset() makes this call's TZ the one used.
  ::tzset();
  return [](sys_seconds t) {
    time_t when = static_cast<time_t>(t.time_since_epoch().count());
    struct tm local {};
    if (::localtime_r(&when, &local) == nullptr) return seconds(0);  // Out of range: say UTC.
    return seconds(local.tm_gmtoff);
  };
}

}  // namespace gc::config

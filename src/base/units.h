// SPDX-License-Identifier: MIT
// base/units.h: the config's duration ("250ms", "30s", "5m", "1h30m", "2d") and size ("400MiB",
// "1.5GB", "512k") notations. Pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace gc {

using Duration = std::chrono::milliseconds;

// Parses a sequence of <number><unit> with unit in ms, s, m, h, d (e.g. "1h30m", "1.5s").
// A bare "0" is allowed. Errors: kInvalidArgument with a message naming the text and the fix.
Result<Duration> parse_duration(std::string_view text);
// Formats for humans: "250ms", "30s", "5m", "1h30m", "2d3h".
std::string format_duration(Duration d);

// Parses a byte size: a number with an optional unit B, K/KB, KiB, M/MB, MiB, G/GB, GiB, T/TB, TiB.
// KB/MB/GB are decimal (1000); K, KiB, M, MiB... are binary (1024). Errors: kInvalidArgument.
Result<std::uint64_t> parse_size(std::string_view text);
// Formats with binary units and one decimal: "400.0MiB", "512B".
std::string format_size(std::uint64_t bytes);

}  // namespace gc

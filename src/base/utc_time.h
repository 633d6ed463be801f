// SPDX-License-Identifier: MIT
// base/utc_time.h: the one timestamp notation of the state store, manifests and --json output.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace gc {

// RFC 3339 UTC with seconds: "2026-11-27T03:15:00Z".
std::string format_utc(std::chrono::system_clock::time_point t);

// Inverse of format_utc; nullopt for anything else.
std::optional<std::chrono::sys_seconds> parse_utc(const std::string& text);

}  // namespace gc

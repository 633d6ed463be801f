// SPDX-License-Identifier: MIT
// config/pm2_import.h: converts a PM2 ecosystem file into [[service]] tables for groundctl.toml,
// so that a server moving off PM2 keeps the behaviour it had. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace gc::config {

struct Pm2ImportOptions {
  // CPUs assumed for `instances: "max"`, 0 and negative counts; 0 means
  // std::thread::hardware_concurrency() (at least 1).
  unsigned cpu_count = 0;
};

// Converts PM2 ecosystem JSON to groundctl TOML text: a header comment, then one [[service]]
// table per app. Accepts { "apps": [...] }, a bare array of apps, or one app object; JSON
// comments are allowed (an ecosystem.config.js must first be turned into JSON, e.g. with
// `node -p 'JSON.stringify(require("./ecosystem.config.js"))'`).
//
// PM2's defaults are written out explicitly where groundctl's differ (stop_signal "SIGINT",
// stop_timeout 1600ms, ready_timeout 3s, min_uptime 1s, max_restarts 16, backoff up to 15s), and
// every key without a groundctl equivalent becomes a "# not imported: key = value (reason)"
// comment; nothing is dropped silently. The output loads without errors through
// load_config_from_string, unless it names a user that does not exist on this machine.
//
// Errors: kInvalidArgument for invalid JSON, no apps, an app without "name" or "script", or a
// value PM2 itself would reject (e.g. instances = "abc").
Result<std::string> pm2_ecosystem_to_toml(std::string_view json_text,
                                          const Pm2ImportOptions& options = {});

}  // namespace gc::config

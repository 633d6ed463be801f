// SPDX-License-Identifier: MIT
// config/detail/pm2_support.cc: the PM2 keys groundctl does not import, and TOML text helpers.
#include "config/detail/pm2_support.h"

#include <cstdio>

namespace gc::config::detail {
namespace {

struct Unsupported {
  std::string_view key;
  std::string_view reason;
};

constexpr std::string_view kLogsReason =
    "groundctl captures stdout and stderr into log_dir itself; see logs = { max_size, keep }";
constexpr std::string_view kWatchReason =
    "groundctl does not restart on file changes; run groundctl reload from your deploy";
constexpr std::string_view kPidReason =
    "groundctl keeps no pid files; it watches children through pidfds";
constexpr std::string_view kSourceMapReason =
    "add --enable-source-maps to the node arguments instead";
constexpr std::string_view kPm2Only = "a PM2/Keymetrics feature";

// From PM2's lib/API/schema.json, with its aliases.
constexpr Unsupported kUnsupported[] = {
    {"watch", kWatchReason},
    {"ignore_watch", kWatchReason},
    {"watch_options", kWatchReason},
    {"watch_delay", kWatchReason},
    {"cron_restart", "groundctl has no scheduled restarts"},
    {"cron", "groundctl has no scheduled restarts"},
    {"out_file", kLogsReason},
    {"error_file", kLogsReason},
    {"log_file", kLogsReason},
    {"log", kLogsReason},
    {"out", kLogsReason},
    {"output", kLogsReason},
    {"out_log", kLogsReason},
    {"error", kLogsReason},
    {"err", kLogsReason},
    {"err_file", kLogsReason},
    {"err_log", kLogsReason},
    {"merge_logs", kLogsReason},
    {"combine_logs", kLogsReason},
    {"log_date_format", kLogsReason},
    {"log_type", kLogsReason},
    {"time", kLogsReason},
    {"disable_logs", kLogsReason},
    {"pid_file", kPidReason},
    {"pid", kPidReason},
    {"source_map_support", kSourceMapReason},
    {"disable_source_map_support", kSourceMapReason},
    {"treekill", "groundctl always signals the whole process group"},
    {"shutdown_with_message", "groundctl stops with a signal, not process.send('shutdown')"},
    {"vizion", kPm2Only},
    {"pmx", kPm2Only},
    {"automation", kPm2Only},
    {"trace", kPm2Only},
    {"disable_trace", kPm2Only},
    {"v8", kPm2Only},
    {"event_loop_inspector", kPm2Only},
    {"deep_monitoring", kPm2Only},
    {"io", kPm2Only},
    {"post_update", kPm2Only},
    {"namespace", kPm2Only},
    {"name_prefix", kPm2Only},
    {"append_env_to_name", kPm2Only},
    {"filter_env", kPm2Only},
    {"force", kPm2Only},
    {"windowsHide", kPm2Only},
    {"kill_retry_time", kPm2Only},
    {"install_url", kPm2Only},
    {"execute_command", kPm2Only},
    {"write", kPm2Only},
    {"username", kPm2Only},
    {"increment_var", "no groundctl equivalent"},
    {"instance_var", "no groundctl equivalent"},
    {"gid", "groundctl runs a service with the user's primary group"},
};

}  // namespace

std::string_view pm2_unsupported_reason(std::string_view key) {
  for (const Unsupported& u : kUnsupported) {
    if (u.key == key) return u.reason;
  }
  return "unknown PM2 key";
}

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        // Other control characters are not allowed raw in a TOML basic string.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string toml_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + toml_string(items[i]);
  return out + "]";
}

std::string ms_text(std::int64_t ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

}  // namespace gc::config::detail

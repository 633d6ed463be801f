// SPDX-License-Identifier: MIT
// monitor/app_log_metrics.h: counts the app's log messages by level, from Winston's JSON lines
// (one object a line, {"level":"error","message":...}), so that an error rate can be alerted on.
// winston_level() is pure; AppLogCollector follows the files.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/log_tail.h"
#include "monitor/metrics.h"

namespace gc::monitor {

// The "level" of a Winston JSON line, lowercased and without the ANSI colour codes that
// format.colorize() adds ("\x1b[31merror\x1b[39m" gives "error"). nullopt for a line that is not
// a JSON object (it must start with '{' after optional whitespace), or whose "level" is missing,
// not a string, or empty. Never throws.
std::optional<std::string> winston_level(std::string_view line);

// The label a file gets when add_source() is not given one: its basename without the last
// extension ("/var/log/orbital/api.log" gives "api").
std::string service_from_path(std::string_view path);

// Follows log files and counts their lines, over the life of the process:
//   groundctl_app_log_messages_total{service,level}   counter; error and warn always present
//   groundctl_app_log_unparsed_lines_total{service}   counter; lines that are not Winston JSON
// The level label is one of npm's (error, warn, info, http, verbose, debug, silly) or syslog's
// (emerg, alert, crit, warning, notice), else "other": a line's content must not be able to
// mint new series without bound. Sources of one service add up. Not thread-safe.
class AppLogCollector {
 public:
  // Follows `path` from its current end (a missing file is picked up when it appears). An empty
  // `service` means service_from_path(path).
  void add_source(std::string service, std::string path);

  // Reads what each source gained and adds every service's counters to `out`. Read failures are
  // kept in last_errors(), one per failing source; the other sources are still read. Blocks on
  // file reads; call it from a worker thread.
  void collect(MetricSet& out);

  // "<path>: <error>" for each source whose read failed in the last collect().
  const std::vector<std::string>& last_errors() const { return last_errors_; }

 private:
  struct Source {
    std::string service;
    LogTail tail;
  };
  struct Counts {
    std::map<std::string, uint64_t> by_level;
    uint64_t unparsed = 0;
  };
  std::vector<Source> sources_;
  std::map<std::string, Counts> counts_;  // By service.
  std::vector<std::string> last_errors_;
};

}  // namespace gc::monitor

// SPDX-License-Identifier: MIT
// supervisor/proc_stats.h: CPU time and resident memory of a process, from /proc. The parser is
// pure; read_proc_stats is the thin reader.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace gc::supervisor {

struct ProcStats {
  std::uint64_t cpu_ticks = 0;  // utime + stime, in clock ticks (sysconf(_SC_CLK_TCK)).
  std::uint64_t rss_bytes = 0;
  std::uint64_t vm_bytes = 0;  // Virtual size.
};

// Parses /proc/PID/stat (whose comm field may hold spaces and ')') and /proc/PID/statm.
// Errors: kCorrupt when the text does not have the expected fields.
Result<ProcStats> parse_proc_stats(std::string_view stat, std::string_view statm,
                                   std::uint64_t page_size);

// Reads /proc/PID/stat and statm. Errors: kNotFound once the process is gone.
Result<ProcStats> read_proc_stats(pid_t pid);

// CPU use between two samples as a percentage of one core.
double cpu_percent(const ProcStats& before, const ProcStats& after, double elapsed_seconds);

}  // namespace gc::supervisor

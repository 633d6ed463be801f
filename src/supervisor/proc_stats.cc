// SPDX-License-Identifier: MIT
#include "supervisor/proc_stats.h"

#include <unistd.h>

#include <charconv>
#include <string>

#include "base/unique_fd.h"

namespace gc::supervisor {
namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Returns the n-th (0-based) space-separated field of `s`.
std::string_view field(std::string_view s, int n) {
  size_t pos = 0;
  for (int i = 0; i < n; ++i) {
    pos = s.find(' ', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  size_t end = s.find_first_of(" \n", pos);
  return s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
}

}  // namespace

Result<ProcStats> parse_proc_stats(std::string_view stat, std::string_view statm,
                                   std::uint64_t page_size) {
  // Field 2 is "(comm)" and comm may contain anything; the fields after the last ')' are fixed.
  auto close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 > stat.size()) {
    return make_error(Errc::kCorrupt, "unexpected /proc stat format");
  }
  std::string_view rest = stat.substr(close + 2);  // Starts at field 3 (state).
  std::uint64_t utime = 0, stime = 0, pages = 0, vm_pages = 0;
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after "state".
  if (!parse_u64(field(rest, 11), utime) || !parse_u64(field(rest, 12), stime) ||
      !parse_u64(field(statm, 1), pages) || !parse_u64(field(statm, 0), vm_pages)) {
    return make_error(Errc::kCorrupt, "unexpected /proc stat format");
  }
  return ProcStats{utime + stime, pages * page_size, vm_pages * page_size};
}

Result<ProcStats> read_proc_stats(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  GC_ASSIGN_OR_RETURN(std::string stat, read_file(base + "/stat"));
  GC_ASSIGN_OR_RETURN(std::string statm, read_file(base + "/statm"));
  return parse_proc_stats(stat, statm, static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
}

double cpu_percent(const ProcStats& before, const ProcStats& after, double elapsed_seconds) {
  if (elapsed_seconds <= 0 || after.cpu_ticks < before.cpu_ticks) return 0;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return 100.0 * static_cast<double>(after.cpu_ticks - before.cpu_ticks) / ticks / elapsed_seconds;
}

}  // namespace gc::supervisor

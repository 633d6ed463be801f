// SPDX-License-Identifier: MIT
#include "monitor/host_metrics.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <sstream>

#include "base/unique_fd.h"

namespace gc::monitor {
namespace {

std::vector<std::string> fields(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.emplace_back(line.substr(start, i - start));
  }
  return out;
}

template <typename F>
void each_line(std::string_view text, F f) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    f(text.substr(start, end - start));
    start = end + 1;
  }
}

bool number(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0';
}

std::string decode_octal(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool octal = s[i] == '\\' && i + 3 < s.size();
    for (std::size_t k = 1; octal && k <= 3; ++k) octal = s[i + k] >= '0' && s[i + k] <= '7';
    if (octal) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

const std::set<std::string> kIgnoredFsTypes = {
    "autofs",     "binfmt_misc", "bpf",       "cgroup",   "cgroup2",   "configfs",
    "debugfs",    "devpts",      "devtmpfs",  "fusectl",  "hugetlbfs", "iso9660",
    "mqueue",     "nsfs",        "overlay",   "proc",     "procfs",    "pstore",
    "rpc_pipefs", "securityfs",  "selinuxfs", "squashfs", "sysfs",     "tracefs"};

bool ignored_mountpoint(const std::string& m) {
  for (const char* p : {"/dev", "/proc", "/sys"}) {
    std::string prefix = p;
    if (m == prefix || m.rfind(prefix + "/", 0) == 0) return true;
  }
  for (const char* p : {"/run/credentials/", "/var/lib/docker/", "/var/lib/containers/storage/"}) {
    if (m.rfind(p, 0) == 0) return true;
  }
  return false;
}

}  // namespace

void parse_loadavg(std::string_view text, MetricSet& out) {
  auto f = fields(text.substr(0, text.find('\n')));
  const char* names[] = {"node_load1", "node_load5", "node_load15"};
  const char* help[] = {"1m load average.", "5m load average.", "15m load average."};
  for (std::size_t i = 0; i < 3 && i < f.size(); ++i) {
    double v;
    if (number(f[i], v)) out.gauge(names[i], help[i], {}, v);
  }
}

void parse_meminfo(std::string_view text, MetricSet& out) {
  each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.size() < 2 || f[0].empty() || f[0].back() != ':') return;
    std::string key = f[0].substr(0, f[0].size() - 1);
    std::string name;
    for (char c : key) {
      if (c == '(') {
        name += '_';
      } else if (c != ')') {
        name += c;
      }
    }
    double v;
    if (!number(f[1], v)) return;
    if (f.size() >= 3 && f[2] == "kB") v *= 1024;
    out.gauge("node_memory_" + name + "_bytes", "Memory information field " + name + "_bytes.", {},
              v);
  });
}

void parse_stat(std::string_view text, double user_hz, MetricSet& out) {
  static const char* kModes[] = {"user",   "nice", "system",  "idle",
                                 "iowait", "irq",  "softirq", "steal"};
  each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.size() < 2) return;
    double v;
    if (f[0].rfind("cpu", 0) == 0 && f[0].size() > 3) {
      std::string cpu = f[0].substr(3);
      for (std::size_t m = 0; m < 8 && m + 1 < f.size(); ++m) {
        if (number(f[m + 1], v)) {
          out.counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
                      {{"cpu", cpu}, {"mode", kModes[m]}}, v / user_hz);
        }
      }
    } else if (!number(f[1], v)) {
      return;
    } else if (f[0] == "btime") {
      out.gauge("node_boot_time_seconds", "Node boot time, in unixtime.", {}, v);
    } else if (f[0] == "ctxt") {
      out.counter("node_context_switches_total", "Total number of context switches.", {}, v);
    } else if (f[0] == "processes") {
      out.counter("node_forks_total", "Total number of forks.", {}, v);
    } else if (f[0] == "procs_running") {
      out.gauge("node_procs_running", "Number of processes in runnable state.", {}, v);
    } else if (f[0] == "procs_blocked") {
      out.gauge("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.",
                {}, v);
    }
  });
}

void parse_net_dev(std::string_view text, MetricSet& out) {
  // "  eth0: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast tx_bytes ..."
  each_line(text, [&](std::string_view line) {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.find('|') != std::string_view::npos) return;
    auto name = fields(line.substr(0, colon));
    auto f = fields(line.substr(colon + 1));
    if (name.size() != 1 || f.size() < 16) return;
    struct Column {
      std::size_t index;
      const char* metric;
    };
    static const Column kColumns[] = {
        {0, "node_network_receive_bytes_total"},  {1, "node_network_receive_packets_total"},
        {2, "node_network_receive_errs_total"},   {3, "node_network_receive_drop_total"},
        {8, "node_network_transmit_bytes_total"}, {9, "node_network_transmit_packets_total"},
        {10, "node_network_transmit_errs_total"}, {11, "node_network_transmit_drop_total"}};
    for (const auto& c : kColumns) {
      double v;
      if (!number(f[c.index], v)) continue;
      std::string metric = c.metric;
      std::string stat = metric.substr(13, metric.size() - 13 - 6);  // "receive_bytes"
      out.counter(metric, "Network device statistic " + stat + ".", {{"device", name[0]}}, v);
    }
  });
}

std::vector<Mount> parse_mounts(std::string_view text) {
  std::vector<Mount> out;
  std::set<std::string> seen;
  each_line(text, [&](std::string_view line) {
    auto f = fields(line);
    if (f.size() < 3) return;
    Mount m{decode_octal(f[0]), decode_octal(f[1]), f[2]};
    if (kIgnoredFsTypes.contains(m.fstype) || ignored_mountpoint(m.mountpoint)) return;
    if (!seen.insert(m.mountpoint).second) return;  // Over-mounted: report it once.
    out.push_back(std::move(m));
  });
  return out;
}

void collect_host(MetricSet& out, const std::string& proc_root) {
  if (auto t = read_file(proc_root + "/loadavg")) parse_loadavg(*t, out);
  if (auto t = read_file(proc_root + "/meminfo")) parse_meminfo(*t, out);
  long hz = ::sysconf(_SC_CLK_TCK);
  if (auto t = read_file(proc_root + "/stat")) parse_stat(*t, hz > 0 ? hz : 100, out);
  if (auto t = read_file(proc_root + "/net/dev")) parse_net_dev(*t, out);
  if (auto t = read_file(proc_root + "/mounts")) {
    for (const auto& m : parse_mounts(*t)) {
      struct statvfs s {};
      if (::statvfs(m.mountpoint.c_str(), &s) != 0) continue;
      Labels l = {{"device", m.device}, {"fstype", m.fstype}, {"mountpoint", m.mountpoint}};
      double bs = static_cast<double>(s.f_frsize);
      out.gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", l,
                static_cast<double>(s.f_blocks) * bs);
      out.gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", l,
                static_cast<double>(s.f_bfree) * bs);
      out.gauge("node_filesystem_avail_bytes",
                "Filesystem space available to non-root users in bytes.", l,
                static_cast<double>(s.f_bavail) * bs);
      out.gauge("node_filesystem_files", "Filesystem total file nodes.", l,
                static_cast<double>(s.f_files));
      out.gauge("node_filesystem_files_free", "Filesystem total free file nodes.", l,
                static_cast<double>(s.f_ffree));
      out.gauge("node_filesystem_readonly", "Filesystem read-only status.", l,
                (s.f_flag & ST_RDONLY) ? 1 : 0);
    }
  }
  auto now = std::chrono::system_clock::now().time_since_epoch();
  out.gauge("node_time_seconds", "System time in seconds since epoch (1970).", {},
            std::chrono::duration<double>(now).count());
}

}  // namespace gc::monitor

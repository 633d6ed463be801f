// SPDX-License-Identifier: MIT
// monitor/host_metrics.h: the host's load, CPU, memory, filesystems, network and boot time,
// under node_exporter's metric names and labels so that its dashboards and rules work
// unchanged. The parsers of /proc text are pure; collect_host() reads the files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "monitor/metrics.h"

namespace gc::monitor {

// /proc/loadavg → node_load1, node_load5, node_load15.
void parse_loadavg(std::string_view text, MetricSet& out);
// /proc/meminfo → node_memory_<Key>_bytes ("Active(anon)" becomes Active_anon).
void parse_meminfo(std::string_view text, MetricSet& out);
// /proc/stat → node_cpu_seconds_total{cpu,mode}, node_boot_time_seconds,
// node_context_switches_total, node_forks_total, node_procs_running, node_procs_blocked.
// `user_hz` is sysconf(_SC_CLK_TCK).
void parse_stat(std::string_view text, double user_hz, MetricSet& out);
// /proc/net/dev → node_network_{receive,transmit}_{bytes,packets,errs,drop}_total{device}.
void parse_net_dev(std::string_view text, MetricSet& out);

struct Mount {
  std::string device;
  std::string mountpoint;
  std::string fstype;
};
// /proc/mounts, without the pseudo filesystems and system mount points node_exporter leaves
// out by default (proc, sysfs, cgroup, /dev, /sys, ...). Octal escapes ("\040") decoded.
std::vector<Mount> parse_mounts(std::string_view text);

// Everything above from `proc_root` ("/proc"), plus node_filesystem_* from statvfs() of each
// mount and node_time_seconds. Unreadable files are skipped (a container may hide some).
void collect_host(MetricSet& out, const std::string& proc_root = "/proc");

}  // namespace gc::monitor

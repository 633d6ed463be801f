// SPDX-License-Identifier: MIT
// config/config.h: the typed groundctl.toml. Plain structs with the defaults of design.md;
// loading and validation live in config/loader.h, comparison in config/diff.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/units.h"

namespace gc::config {

// A TCP address groundctl binds once and passes to every instance ("127.0.0.1:3000",
// "[::1]:3000", "0.0.0.0:80"). Port 0 asks the kernel for a free port (used by tests).
struct ListenAddress {
  std::string text;  // As written in the config; used as the fd name in LISTEN_FDNAMES.
  std::string host;  // Numeric IPv4 or IPv6 address, without brackets.
  std::uint16_t port = 0;
  bool is_ipv6 = false;
  bool operator==(const ListenAddress&) const = default;
};

enum class RestartMode { kAlways, kOnFailure, kNever };

enum class ReadyKind {
  kIpc,     // Node IPC channel: process.send('ready').
  kNotify,  // sd_notify READY=1 on NOTIFY_SOCKET.
  kHttp,    // GET url answers 2xx.
  kDelay,   // Alive for `delay`.
};

struct ReadySpec {
  ReadyKind kind = ReadyKind::kDelay;
  std::string http_url;                      // kHttp only, "http://host:port/path".
  Duration delay = std::chrono::seconds(1);  // kDelay only.
  bool operator==(const ReadySpec&) const = default;
};

struct BackoffConfig {
  Duration initial = std::chrono::milliseconds(100);
  Duration max = std::chrono::seconds(30);
  bool operator==(const BackoffConfig&) const = default;
};

struct LogsConfig {
  std::uint64_t max_size_bytes = 50ull * 1024 * 1024;
  int keep = 10;
  bool operator==(const LogsConfig&) const = default;
};

struct ServiceConfig {
  std::string name;
  std::vector<std::string> command;  // argv; command[0] is looked up in PATH if it has no '/'.
  std::string cwd;                   // Empty: the daemon's working directory.
  std::string user;                  // Empty: the daemon's own user.
  std::string env_file;              // Empty: none. Re-read on every start.
  std::map<std::string, std::string> env;
  int instances = 1;
  std::vector<ListenAddress> listen;
  ReadySpec ready;
  Duration ready_timeout = std::chrono::seconds(30);
  RestartMode restart = RestartMode::kAlways;
  BackoffConfig backoff;
  Duration min_uptime = std::chrono::seconds(10);
  int max_restarts = 10;  // Within kRestartWindow; more means state "failed".
  int stop_signal = 15;   // Signal number (SIGTERM); the config spells it "SIGTERM".
  Duration stop_timeout = std::chrono::seconds(30);
  std::optional<std::uint64_t> max_memory_bytes;
  LogsConfig logs;
  bool operator==(const ServiceConfig&) const = default;
};

// The window over which max_restarts is counted.
inline constexpr Duration kRestartWindow = std::chrono::minutes(5);

struct ServerConfig {
  std::string name;  // Empty: the host name.
  std::string state_dir = "/var/lib/groundctl";
  std::string log_dir = "/var/log/groundctl";
  std::string runtime_dir = "/run/groundctl";
  std::string admin_group;  // Non-empty: control.sock is 0660 and owned by this group.
  bool operator==(const ServerConfig&) const = default;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:9100";
  std::string token_file;  // Required when listen is not a loopback address.
  bool operator==(const HttpConfig&) const = default;
};

struct Config {
  std::string path;  // The file it was loaded from.
  ServerConfig server;
  HttpConfig http;
  std::vector<ServiceConfig> services;

  const ServiceConfig* find_service(std::string_view name) const {
    for (const auto& s : services) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
};

}  // namespace gc::config

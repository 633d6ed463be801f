// SPDX-License-Identifier: MIT
// config/signals.cc: the stop-signal name table.
#include "config/signals.h"

#include <cctype>
#include <csignal>
#include <utility>

namespace gc::config {
namespace {

constexpr std::pair<std::string_view, int> kSignals[] = {
    {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGHUP", SIGHUP},
    {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGKILL", SIGKILL},
};

}  // namespace

std::optional<int> parse_stop_signal(std::string_view name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("SIG", 0) != 0) upper = "SIG" + upper;
  for (const auto& [n, signo] : kSignals) {
    if (n == upper) return signo;
  }
  return std::nullopt;
}

std::string stop_signal_name(int signo) {
  for (const auto& [n, s] : kSignals) {
    if (s == signo) return std::string(n);
  }
  return "signal " + std::to_string(signo);
}

std::string_view stop_signal_choices() {
  return "SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGKILL";
}

}  // namespace gc::config

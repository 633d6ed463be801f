// SPDX-License-Identifier: MIT
// config/signals.h: the stop signals a service may name in the config, by name and number.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gc::config {

// Maps "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGKILL" (case
// insensitive, "SIG" prefix optional) to the signal number; nullopt for anything else.
std::optional<int> parse_stop_signal(std::string_view name);

// "SIGTERM" for 15 and so on for the signals above; "signal N" for others. For display.
std::string stop_signal_name(int signo);

// The accepted names, for messages: "SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGKILL".
std::string_view stop_signal_choices();

}  // namespace gc::config

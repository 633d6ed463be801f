// SPDX-License-Identifier: MIT
// monitor/notify.h: alerts and their delivery to [[notify]] targets: the Alertmanager webhook
// payload (pure), and blocking delivery with retries to a webhook (libcurl) or a command.
// A webhook URL may hold a token: no error or log line here ever contains one.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace gc::monitor {

struct Alert {
  std::string name;                                // Becomes the "alertname" label.
  std::map<std::string, std::string> labels;       // Identify the alert; besides alertname.
  std::map<std::string, std::string> annotations;  // "summary", "description".
  std::chrono::system_clock::time_point starts_at;
  // Set when the alert is resolved.
  std::optional<std::chrono::system_clock::time_point> ends_at;
  bool firing() const { return !ends_at.has_value(); }
};

// Alertmanager's label fingerprint (FNV-1a 64 over the sorted labels), 16 hex digits.
std::string fingerprint(const Alert& a);

// The webhook payload Alertmanager itself sends (version "4"), for `alerts` grouped together.
// Pure.
nlohmann::json webhook_payload(const std::vector<Alert>& alerts, const std::string& receiver,
                               const std::string& external_url);

struct DeliveryOptions {
  int attempts = 3;
  std::chrono::milliseconds first_backoff{1000};  // Doubles after each failed attempt.
};

// Sends `payload` to one target, blocking, retrying failures. Errors name the target by its
// name, never its URL.
Status deliver(const config::NotifyConfig& target, const std::string& payload,
               const DeliveryOptions& options = {});

// Sends `alerts` to every target (resolved ones only where send_resolved). Returns one line per
// target that failed; empty when all succeeded (or there is no target).
std::vector<std::string> notify_all(const std::vector<config::NotifyConfig>& targets,
                                    const std::vector<Alert>& alerts, const std::string& receiver,
                                    const DeliveryOptions& options = {});

}  // namespace gc::monitor

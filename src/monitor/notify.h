// SPDX-License-Identifier: MIT
// monitor/notify.h: the delivery of alerts to [[notify]] targets, in the payload their type takes
// (monitor/notify_payload.h), blocking, with retries over HTTP (webhook, Slack, Alertmanager:
// http:// URLs with groundctl's own client, monitor/http_client.h; https:// with libcurl, which
// then stays mapped in the process), SMTP (libcurl) or to a command. A URL may hold a token and a
// password file holds a secret: no error or log line here ever contains either.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "monitor/notify_payload.h"

namespace gc::monitor {

struct DeliveryOptions {
  int attempts = 3;
  std::chrono::milliseconds first_backoff{1000};  // Doubles after each failed attempt.
};

// Builds the payload that `target`'s type takes for `alerts` (the webhook payload for
// "webhook" and "exec") and sends it, blocking, making up to `options.attempts` attempts of
// `target.timeout` each. Resolved alerts are dropped when the target does not want them; with
// nothing left, nothing is sent and the result is ok. Errors name the target by its name, never
// its URL or password: `after 3 attempts: notify "mail": smtp: Login denied`. kUnavailable
// (network, server refused), kTimeout and kIo (a failed command) are retried; kPermission and
// kNotFound (the password file) are not. Thread-safe.
Status deliver_alerts(const config::NotifyConfig& target, const std::vector<Alert>& alerts,
                      const std::string& receiver, const DeliveryOptions& options = {});

// Sends `payload` to one target, blocking, with the retries of deliver_alerts. For "webhook"
// and "exec" the payload is sent as it is; for the other types it must be a webhook payload
// (from webhook_payload()), which is converted for the target (kInvalidArgument otherwise).
// Prefer deliver_alerts.
Status deliver(const config::NotifyConfig& target, const std::string& payload,
               const DeliveryOptions& options = {});

// Sends `alerts` to every target with deliver_alerts (resolved ones only where send_resolved).
// Returns one line per target that failed; empty when all succeeded (or there is no target).
std::vector<std::string> notify_all(const std::vector<config::NotifyConfig>& targets,
                                    const std::vector<Alert>& alerts, const std::string& receiver,
                                    const DeliveryOptions& options = {});

}  // namespace gc::monitor

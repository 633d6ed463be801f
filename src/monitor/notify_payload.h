// SPDX-License-Identifier: MIT
// monitor/notify_payload.h: an alert as notifiers see it, and the payload each [[notify]] type
// takes (Alertmanager's webhook, Slack, Alertmanager API v2, an RFC 5322 email). Pure, except
// new_message_id(), which reads the kernel's CSPRNG.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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

// A Slack incoming-webhook message (also understood by Mattermost and Rocket.Chat): one message
// for the batch, its title "[FIRING:2] groundctl <receiver>" (or "[RESOLVED] ..."), and one line
// per alert: "DiskAlmostFull (mountpoint=/): <summary>". The attachment's color is "good" when
// all are resolved, "warning" when every firing alert has severity warning or info, else
// "danger". Slack's control characters &, < and > are escaped. Pure.
nlohmann::json slack_payload(const std::vector<Alert>& alerts, const std::string& receiver);

// Alertmanager API v2 postable alerts (the body of POST /api/v2/alerts): labels (alertname
// included, empty values dropped as Prometheus does), annotations, startsAt, endsAt only for
// resolved alerts. Pure.
nlohmann::json alertmanager_payload(const std::vector<Alert>& alerts);

// "Fri, 27 Nov 2026 18:45:01 +0000" (RFC 5322 section 3.3, in UTC). Pure.
std::string rfc5322_date(std::chrono::system_clock::time_point t);

// "<32 random hex digits@groundctl>", for the Message-ID header. Reads the kernel's CSPRNG.
std::string new_message_id();

// The RFC 5322 message (CRLF line ends, UTF-8 text, 8bit) sent for `alerts`: Date (from `now`),
// From, To, Subject ("[FIRING:1] DiskAlmostFull on <receiver>" or "[RESOLVED] ..."),
// Message-ID and MIME headers, then a body listing each alert with its summary, description,
// times and labels. CR, LF and other control characters never reach a header value (they
// become spaces), so alert text cannot add headers. Pure.
std::string email_message(const std::vector<Alert>& alerts, const std::string& receiver,
                          const std::string& from, const std::vector<std::string>& to,
                          std::chrono::system_clock::time_point now, const std::string& message_id);

}  // namespace gc::monitor

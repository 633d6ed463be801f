// SPDX-License-Identifier: MIT
#include "deploy/alerts.h"

#include "base/utc_time.h"

namespace gc::deploy {
namespace {

monitor::Alert base_alert(const std::string& result, const std::string& service,
                          const std::string& server) {
  monitor::Alert a;
  bool rolled_back = result == "rolled_back";
  a.name = rolled_back ? "DeployRolledBack" : "DeployFailed";
  // A rolled-back release reached production; a failed one never left the build.
  a.labels = {
      {"service", service}, {"severity", rolled_back ? "critical" : "warning"}, {"server", server}};
  return a;
}

}  // namespace

std::vector<monitor::Alert> deploy_alerts(const DeployOutcome& outcome,
                                          const std::optional<DeployRecord>& last,
                                          const std::string& service, const std::string& server,
                                          std::chrono::system_clock::time_point now) {
  std::vector<monitor::Alert> out;
  if (outcome.result == "failed" || outcome.result == "rolled_back") {
    monitor::Alert a = base_alert(outcome.result, service, server);
    a.starts_at = now;
    std::string release = outcome.release.empty() ? "(no release)" : outcome.release;
    a.annotations = {
        {"summary", "deploy of " + service + " " +
                        (outcome.result == "rolled_back" ? "rolled back" : "failed") + ": " +
                        release + " (" + (outcome.ref.empty() ? "?" : outcome.ref) + ")"},
        {"description", outcome.error},
        {"release", release},
        {"log", outcome.log}};
    out.push_back(std::move(a));
    return out;
  }
  if (outcome.result == "ok" && last &&
      (last->result == "failed" || last->result == "rolled_back")) {
    monitor::Alert a = base_alert(last->result, service, server);
    auto started = parse_utc(last->finished_at.empty() ? last->started_at : last->finished_at);
    a.starts_at = started ? std::chrono::system_clock::time_point(*started) : now;
    a.ends_at = now;
    a.annotations = {{"summary", "deploy of " + service + " succeeded: " + outcome.release},
                     {"release", outcome.release}};
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace gc::deploy

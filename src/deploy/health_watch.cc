// SPDX-License-Identifier: MIT
#include "deploy/health_watch.h"

namespace gc::deploy {

std::optional<std::string> health_verdict(const ServiceView& baseline, const ServiceView& now,
                                          const std::string& probe_error) {
  for (const auto& before : baseline.instances) {
    const InstanceView* after = nullptr;
    for (const auto& i : now.instances) {
      if (i.slot == before.slot) after = &i;
    }
    std::string which = "instance " + std::to_string(before.slot);
    if (!after) return which + " is gone";
    if (after->pid != before.pid || after->restarts != before.restarts) {
      return which + " exited (pid " + std::to_string(before.pid) + ", now " +
             (after->pid ? "pid " + std::to_string(after->pid) : std::string("not running")) +
             ", state " + after->state + ")";
    }
    if (after->state != "running") return which + " is " + after->state;
  }
  if (now.state != "running") return "the service is " + now.state;
  if (!probe_error.empty()) return "health check failed: " + probe_error;
  return std::nullopt;
}

Result<std::string> health_url(const config::DeployHealth& health, const ServiceView& service) {
  if (!health.http.empty()) return health.http;
  if (health.path.empty()) return std::string();
  if (service.listen.empty()) {
    return make_error(Errc::kInvalidConfig,
                      "deploy.health.path needs a bound listen address, and the service has none");
  }
  std::string address = service.listen.front();
  if (address.rfind("0.0.0.0:", 0) == 0) address = "127.0.0.1:" + address.substr(8);
  if (address.rfind("[::]:", 0) == 0) address = "[::1]:" + address.substr(5);
  return "http://" + address + health.path;
}

}  // namespace gc::deploy

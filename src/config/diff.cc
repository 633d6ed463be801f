// SPDX-License-Identifier: MIT
// config/diff.cc: service matching by name.
#include "config/diff.h"

#include <set>

namespace gc::config {

bool ConfigDiff::empty() const {
  return added.empty() && removed.empty() && changed.empty() && !server_changed && !http_changed &&
         !backup_changed;
}

ConfigDiff diff_configs(const Config& before, const Config& after) {
  ConfigDiff diff;
  diff.server_changed = before.server != after.server;
  diff.http_changed = before.http != after.http;
  diff.backup_changed = before.postgres != after.postgres || before.backup != after.backup;
  std::set<std::string_view> seen;
  for (const ServiceConfig& service : after.services) {
    if (!seen.insert(service.name).second) continue;
    const ServiceConfig* old = before.find_service(service.name);
    if (!old) {
      diff.added.push_back(service.name);
    } else if (*old == service) {
      diff.unchanged.push_back(service.name);
    } else {
      diff.changed.push_back(service.name);
    }
  }
  std::set<std::string_view> gone;
  for (const ServiceConfig& service : before.services) {
    if (after.find_service(service.name) || !gone.insert(service.name).second) continue;
    diff.removed.push_back(service.name);
  }
  return diff;
}

}  // namespace gc::config

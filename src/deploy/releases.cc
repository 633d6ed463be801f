// SPDX-License-Identifier: MIT
#include "deploy/releases.h"

#include <algorithm>
#include <ctime>
#include <set>

namespace gc::deploy {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool all_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::string make_release_id(std::chrono::system_clock::time_point started,
                            std::string_view commit) {
  std::time_t t = std::chrono::system_clock::to_time_t(started);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S-", &tm);
  return buf + std::string(commit.substr(0, 7));
}

bool is_release_id(std::string_view name) {
  // YYYYMMDD-HHMMSS-hhhhhhh[-N]
  if (name.size() < 23) return false;
  if (!all_digits(name.substr(0, 8)) || name[8] != '-' || !all_digits(name.substr(9, 6)) ||
      name[15] != '-' || !all_hex(name.substr(16, 7))) {
    return false;
  }
  if (name.size() == 23) return true;
  return name[23] == '-' && all_digits(name.substr(24)) && name.size() <= 28;
}

std::vector<std::string> releases_to_prune(std::vector<std::string> on_disk,
                                           const std::string& active, const std::string& previous,
                                           int keep, const std::vector<std::string>& went_live) {
  std::sort(on_disk.begin(), on_disk.end(), std::greater<>());
  std::vector<std::string> out;
  int room = keep;
  for (const auto& id : on_disk) {
    if (id == active || id == previous) --room;  // Always kept, and counted.
  }
  for (const auto& id : on_disk) {
    if (id == active || id == previous) continue;
    if (contains(went_live, id) && room > 0) {
      --room;  // Newest first: the newest good releases fill what is left of `keep`.
      continue;
    }
    out.push_back(id);
  }
  return out;
}

std::optional<std::string> rollback_target(const std::vector<Switch>& switches,
                                           const std::string& active,
                                           const std::vector<std::string>& on_disk) {
  for (auto it = switches.rbegin(); it != switches.rend(); ++it) {
    if (it->release != active) continue;
    if (!it->previous.empty() && it->previous != active && contains(on_disk, it->previous)) {
      return it->previous;
    }
    break;
  }
  std::set<std::string> ever;
  for (const auto& s : switches) ever.insert(s.release);
  std::optional<std::string> best;
  for (const auto& id : on_disk) {
    if (id >= active || !ever.contains(id)) continue;
    if (!best || id > *best) best = id;
  }
  return best;
}

}  // namespace gc::deploy

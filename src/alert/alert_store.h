// SPDX-License-Identifier: MIT
// alert/alert_store.h: the alert tables of the state store (state_dir/state.db): the active
// (pending and firing) alerts, so a restart neither re-notifies nor forgets; a bounded history
// of firing and resolved events; and silences. The daemon writes; the CLI reads and adds
// silences, with the file shared under SQLite's locking.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alert/alert_state.h"
#include "base/result.h"
#include "store/database.h"

namespace gc::alert {

struct HistoryEntry {
  int64_t seq = 0;
  std::string event;  // "firing" | "resolved".
  std::string rule;
  monitor::Labels labels;
  int64_t at_ms = 0;
  int64_t started_ms = 0;  // When the alert became active.
  double value = 0;
  std::string summary;
  bool notified = false;  // False when a silence held the notice back.
};

// `entries` as `groundctl alerts --history --json` prints them and GET /api/v1/alerts serves
// them: [{event, name, labels, at, active_since, value, summary, notified}], times in RFC 3339
// UTC ("" for none), in the order given.
nlohmann::json history_json(const std::vector<HistoryEntry>& entries);

class AlertStore {
 public:
  // Opens state_dir/state.db (creating the directory 0700) and the alert tables.
  static Result<AlertStore> open(const std::string& state_dir);

  Result<std::vector<ActiveAlert>> load_active();
  // Replaces the stored active alerts with `alerts`, in one transaction.
  Status save_active(const std::map<std::string, ActiveAlert>& alerts);

  // Appends events, then trims the history to the newest `keep` entries.
  Status add_history(const std::vector<Notice>& events, const std::vector<Notice>& notified,
                     int keep = 1000);
  // Newest first.
  Result<std::vector<HistoryEntry>> history(int limit);

  // Adds a silence; returns its id.
  Result<int64_t> add_silence(const Silence& s);
  // Ends silences now: the one with `id`, or (id 0) every active one whose matchers equal
  // `matchers`. Returns how many ended.
  Result<int> end_silences(int64_t id, const monitor::Labels& matchers, int64_t now_ms);
  // Silences not yet ended at `now_ms` (future ones too), oldest first.
  Result<std::vector<Silence>> silences(int64_t now_ms);

 private:
  explicit AlertStore(store::Database db) : db_(std::move(db)) {}
  store::Database db_;
};

}  // namespace gc::alert

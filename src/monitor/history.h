// SPDX-License-Identifier: MIT
// monitor/history.h: downsampled metric history in the state store (state_dir/state.db), what
// the dashboard charts and GET /api/v1/series serves. Two tiers: 1-minute aggregates kept 48
// hours and 1-hour aggregates kept for [monitor].history; only the open buckets live in memory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/units.h"
#include "monitor/metrics.h"
#include "store/database.h"

namespace gc::monitor {

// The samples of one bucket: what a history point aggregates.
struct Aggregate {
  double sum = 0;
  double min = 0;
  double max = 0;
  double last = 0;  // The value with the greatest time.
  int64_t last_t_ms = 0;
  int64_t count = 0;  // 0: empty.

  double avg() const { return count > 0 ? sum / static_cast<double>(count) : 0; }
  void add(int64_t t_ms, double v);
  void merge(const Aggregate& other);  // As if other's samples had been add()ed.
};

struct HistoryPoint {
  int64_t t_ms = 0;  // Start of the bucket, a multiple of its step since the epoch.
  double avg = 0;
  double min = 0;
  double max = 0;
  double last = 0;
};

struct SeriesPoints {
  Labels labels;
  std::vector<HistoryPoint> points;  // t ascending.
};

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 3'600'000;
// The 1-minute tier's retention (less if the configured history is shorter).
inline constexpr int64_t kMinuteTierMs = 48 * kHourMs;
// Ranges up to this are served from the 1-minute tier, longer ones from the 1-hour tier.
inline constexpr int64_t kMinuteTierMaxRangeMs = 6 * kHourMs;
// query() aggregates buckets so that no series has more points than this.
inline constexpr int64_t kMaxPointsPerSeries = 2000;

// Not thread-safe: the daemon's loop owns it. Move-only. Every call that touches the database
// blocks on small SQLite reads or writes (one transaction a minute in steady state).
class HistoryStore {
 public:
  // Opens state_dir/state.db (creating the directory 0700) and the history tables. `retention`
  // is how long the 1-hour tier keeps its rows. Errors: kIo, kPermission, kCorrupt, kConflict
  // (tables newer than this binary).
  static Result<HistoryStore> open(const std::string& state_dir, Duration retention);

  // A config reload changed [monitor].history: the next prune applies it.
  void set_retention(Duration retention) { retention_ms_ = retention.count(); }

  // Adds one sample of the series (name, labels) to its open 1-minute bucket, in memory. NaN
  // and infinite values are skipped (JSON has no number for them), as are samples for a minute
  // flush() already wrote (the wall clock stepped back).
  void add(const std::string& name, const Labels& labels, int64_t t_ms, double v);

  // Writes every bucket whose minute ended by now_ms (one transaction for all of them, none
  // when nothing closed), rolls each hour that ended into the 1-hour tier, and at most once an
  // hour deletes rows past their tier's retention. Call it every tick. On an error the closed
  // buckets stay in memory for the next call; past ten buckets a series drops its oldest, so
  // memory stays bounded.
  Status flush(int64_t now_ms);

  // The daemon is stopping: writes every bucket still in memory, the minute of now_ms
  // included, so a restart loses no samples (the next process merges its own samples of that
  // minute into the row). Samples for that minute added afterwards are skipped. Errors: those
  // of SQLite; the buckets then stay in memory.
  Status flush_open(int64_t now_ms);

  // The series named `name` over (now_ms - range_ms, now_ms]: from the 1-minute tier when
  // range_ms <= 6 h, else the 1-hour tier, with adjacent buckets merged when the range would
  // give a series more than kMaxPointsPerSeries points. The buckets still in memory are
  // included, so the newest point is current. *step_ms_out (if not null) gets the step.
  // An unknown name gives an empty vector. Series sorted by labels. Reads only the rows of the
  // range, one series at a time. Errors: those of SQLite.
  Result<std::vector<SeriesPoints>> query(const std::string& name, int64_t range_ms, int64_t now_ms,
                                          int64_t* step_ms_out);

  // Every name with history, stored or in memory, sorted.
  Result<std::vector<std::string>> names();

 private:
  using SeriesKey = std::pair<std::string, Labels>;
  HistoryStore(store::Database db, int64_t retention_ms, int64_t rolled_until_ms)
      : db_(std::move(db)), retention_ms_(retention_ms), rolled_until_ms_(rolled_until_ms) {}
  Status write_minutes(int64_t before_ms);
  // Drops the buckets before `before_ms` once written; later samples for them are skipped.
  void forget_written(int64_t before_ms);
  Status roll_hours(int64_t hour_now_ms);
  Status prune(int64_t now_ms);

  store::Database db_;
  int64_t retention_ms_;
  // Hours before this are in the 1-hour tier; later ones only in the 1-minute tier.
  int64_t rolled_until_ms_;
  int64_t written_until_ms_ = 0;  // Minutes before this were written by this process.
  int64_t last_prune_ms_ = 0;
  // The buckets not yet written: series -> minute start -> samples. Normally one per series.
  std::map<SeriesKey, std::map<int64_t, Aggregate>> open_;
};

}  // namespace gc::monitor

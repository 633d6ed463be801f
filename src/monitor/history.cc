// SPDX-License-Identifier: MIT
#include "monitor/history.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "base/unique_fd.h"

namespace gc::monitor {
namespace {

using json = nlohmann::json;

// Rows are keyed (series, t) WITHOUT ROWID: a chart reads one series' range in key order, and
// a row costs little more than its values. Times are bucket starts in ms since the epoch.
constexpr std::array<std::string_view, 1> kSchema = {
    "CREATE TABLE history_series (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " labels TEXT NOT NULL, UNIQUE (name, labels));"
    "CREATE TABLE history_1m (series INTEGER NOT NULL, t INTEGER NOT NULL,"
    " avg_value REAL NOT NULL, min_value REAL NOT NULL, max_value REAL NOT NULL,"
    " last_value REAL NOT NULL, samples INTEGER NOT NULL, PRIMARY KEY (series, t))"
    " WITHOUT ROWID;"
    "CREATE TABLE history_1h (series INTEGER NOT NULL, t INTEGER NOT NULL,"
    " avg_value REAL NOT NULL, min_value REAL NOT NULL, max_value REAL NOT NULL,"
    " last_value REAL NOT NULL, samples INTEGER NOT NULL, PRIMARY KEY (series, t))"
    " WITHOUT ROWID;"
    "CREATE TABLE history_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"};

// A failed write keeps its buckets for a retry, this many per series at most: memory stays
// bounded while the disk is full or the file is broken.
constexpr std::size_t kMaxOpenBuckets = 10;
constexpr int64_t kPruneEveryMs = kHourMs;

int64_t floor_to(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

std::string labels_text(const Labels& l) { return json(l).dump(); }

Labels parse_labels(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  Labels l;
  if (!j.is_object()) return l;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_string()) l[it.key()] = it.value().get<std::string>();
  }
  return l;
}

// A stored row as an Aggregate; the row's time stands in for its last sample's.
Aggregate row_aggregate(const store::Statement& q, int t_col) {
  Aggregate a;
  a.count = q.column_int(t_col + 5);
  a.sum = q.column_double(t_col + 1) * static_cast<double>(a.count);
  a.min = q.column_double(t_col + 2);
  a.max = q.column_double(t_col + 3);
  a.last = q.column_double(t_col + 4);
  a.last_t_ms = q.column_int(t_col);
  return a;
}

// Merges time-ordered buckets into output buckets of `step`. Holds only the output.
class Bucketer {
 public:
  explicit Bucketer(int64_t step) : step_(step) {}
  void feed(int64_t t_ms, const Aggregate& a) {
    if (a.count == 0) return;
    int64_t b = floor_to(t_ms, step_);
    if (out_.empty() || out_.back().first < b) {
      out_.emplace_back(b, a);
      return;
    }
    // Out of order only when the clock stepped back: merge into the bucket it belongs to.
    auto it = std::lower_bound(out_.begin(), out_.end(), b,
                               [](const auto& p, int64_t t) { return p.first < t; });
    if (it != out_.end() && it->first == b) {
      it->second.merge(a);
    } else {
      out_.insert(it, {b, a});
    }
  }
  std::vector<HistoryPoint> points() const {
    std::vector<HistoryPoint> out;
    out.reserve(out_.size());
    for (const auto& [t, a] : out_) out.push_back({t, a.avg(), a.min, a.max, a.last});
    return out;
  }

 private:
  int64_t step_;
  std::vector<std::pair<int64_t, Aggregate>> out_;
};

// Feeds `q`'s rows (t, avg, min, max, last, samples) to `b`.
Status feed_rows(store::Statement& q, Bucketer& b) {
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return ok();
    b.feed(q.column_int(0), row_aggregate(q, 0));
  }
}

}  // namespace

void Aggregate::add(int64_t t_ms, double v) {
  if (count == 0) {
    min = max = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  if (count == 0 || t_ms >= last_t_ms) {
    last = v;
    last_t_ms = t_ms;
  }
  sum += v;
  ++count;
}

void Aggregate::merge(const Aggregate& other) {
  if (other.count == 0) return;
  if (count == 0) {
    *this = other;
    return;
  }
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  if (other.last_t_ms >= last_t_ms) {
    last = other.last;
    last_t_ms = other.last_t_ms;
  }
  sum += other.sum;
  count += other.count;
}

Result<HistoryStore> HistoryStore::open(const std::string& state_dir, Duration retention) {
  GC_TRY(make_directories(state_dir, 0700));
  GC_ASSIGN_OR_RETURN(store::Database db, store::Database::open(state_dir + "/state.db"));
  // Each module has its own connection, each with its own page cache; SQLite's default of 2 MB
  // would be a sixth of the daemon's memory budget. History reads are small key-range scans.
  GC_TRY(db.exec("PRAGMA cache_size = -256"));
  GC_TRY(db.migrate("history", kSchema));
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db.prepare("SELECT value FROM history_meta WHERE key = 'rolled_until'"));
  GC_ASSIGN_OR_RETURN(bool found, q.step());
  int64_t rolled = found ? q.column_int(0) : 0;
  return HistoryStore(std::move(db), retention.count(), rolled);
}

void HistoryStore::add(const std::string& name, const Labels& labels, int64_t t_ms, double v) {
  if (!std::isfinite(v) || t_ms < written_until_ms_) return;
  auto& buckets = open_[SeriesKey(name, labels)];
  buckets[floor_to(t_ms, kMinuteMs)].add(t_ms, v);
  if (buckets.size() > kMaxOpenBuckets) buckets.erase(buckets.begin());
}

Status HistoryStore::flush(int64_t now_ms) {
  int64_t minute_now = floor_to(now_ms, kMinuteMs);
  int64_t hour_now = floor_to(now_ms, kHourMs);
  bool closed = false;
  for (const auto& [key, buckets] : open_) {
    closed = closed || (!buckets.empty() && buckets.begin()->first < minute_now);
  }
  bool roll = rolled_until_ms_ < hour_now;
  bool prune_due = last_prune_ms_ == 0 || now_ms - last_prune_ms_ >= kPruneEveryMs;
  if (!closed && !roll && !prune_due) return ok();
  int64_t rolled_before = rolled_until_ms_;
  Status st = db_.transaction([&]() -> Status {
    if (closed) GC_TRY(write_minutes(minute_now));
    if (roll) GC_TRY(roll_hours(hour_now));
    if (prune_due) GC_TRY(prune(now_ms));
    return ok();
  });
  if (!st) {
    rolled_until_ms_ = rolled_before;  // The transaction's progress was rolled back.
    return st;
  }
  forget_written(minute_now);
  if (prune_due) last_prune_ms_ = now_ms;
  return ok();
}

Status HistoryStore::flush_open(int64_t now_ms) {
  if (open_.empty()) return ok();
  int64_t until = floor_to(now_ms, kMinuteMs) + kMinuteMs;
  GC_TRY(db_.transaction([&]() -> Status { return write_minutes(until); }));
  forget_written(until);
  return ok();
}

void HistoryStore::forget_written(int64_t before_ms) {
  for (auto it = open_.begin(); it != open_.end();) {
    auto& buckets = it->second;
    buckets.erase(buckets.begin(), buckets.lower_bound(before_ms));
    it = buckets.empty() ? open_.erase(it) : std::next(it);
  }
  written_until_ms_ = std::max(written_until_ms_, before_ms);
}

Status HistoryStore::write_minutes(int64_t before_ms) {
  GC_ASSIGN_OR_RETURN(store::Statement add_series,
                      db_.prepare("INSERT INTO history_series (name, labels) VALUES (?, ?)"
                                  " ON CONFLICT DO NOTHING"));
  GC_ASSIGN_OR_RETURN(store::Statement find_series,
                      db_.prepare("SELECT id FROM history_series WHERE name = ? AND labels = ?"));
  // Merging keeps a minute written twice (the clock stepped back across a restart) whole.
  GC_ASSIGN_OR_RETURN(
      store::Statement put,
      db_.prepare("INSERT INTO history_1m (series, t, avg_value, min_value, max_value,"
                  " last_value, samples) VALUES (?, ?, ?, ?, ?, ?, ?)"
                  " ON CONFLICT (series, t) DO UPDATE SET"
                  " avg_value = (avg_value * samples + excluded.avg_value * excluded.samples)"
                  " / (samples + excluded.samples),"
                  " min_value = min(min_value, excluded.min_value),"
                  " max_value = max(max_value, excluded.max_value),"
                  " last_value = excluded.last_value, samples = samples + excluded.samples"));
  for (const auto& [key, buckets] : open_) {
    if (buckets.empty() || buckets.begin()->first >= before_ms) continue;
    std::string labels = labels_text(key.second);
    add_series.reset().bind(1, key.first).bind(2, labels);
    GC_TRY(add_series.run());
    find_series.reset().bind(1, key.first).bind(2, labels);
    GC_ASSIGN_OR_RETURN(bool found, find_series.step());
    if (!found) return make_error(Errc::kInternal, "history series " + key.first + " vanished");
    int64_t id = find_series.column_int(0);
    for (const auto& [t, a] : buckets) {
      if (t >= before_ms) break;
      put.reset().bind(1, id).bind(2, t).bind(3, a.avg()).bind(4, a.min).bind(5, a.max);
      put.bind(6, a.last).bind(7, a.count);
      GC_TRY(put.run());
    }
  }
  return ok();
}

Status HistoryStore::roll_hours(int64_t hour_now_ms) {
  int64_t from = rolled_until_ms_;
  if (from == 0) {
    // First roll on this database: start at the oldest minute kept, if any.
    GC_ASSIGN_OR_RETURN(store::Statement q, db_.prepare("SELECT min(t) FROM history_1m"));
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    from = row && !q.column_is_null(0) ? floor_to(q.column_int(0), kHourMs) : hour_now_ms;
  }
  // Minutes older than their tier's retention are gone: nothing to roll before them.
  from = std::max(from, hour_now_ms - kMinuteTierMs);
  // One hour from its minutes. CROSS JOIN makes SQLite walk history_series and read each
  // series' minutes of that hour by key, rather than scan the whole minute tier.
  GC_ASSIGN_OR_RETURN(
      store::Statement q,
      db_.prepare("INSERT OR REPLACE INTO history_1h (series, t, avg_value, min_value, max_value,"
                  " last_value, samples)"
                  " SELECT m.series, ?1, sum(m.avg_value * m.samples) / sum(m.samples),"
                  " min(m.min_value), max(m.max_value),"
                  " (SELECT l.last_value FROM history_1m AS l WHERE l.series = m.series"
                  " AND l.t >= ?1 AND l.t < ?2 ORDER BY l.t DESC LIMIT 1), sum(m.samples)"
                  " FROM history_series AS s CROSS JOIN history_1m AS m ON m.series = s.id"
                  " AND m.t >= ?1 AND m.t < ?2 GROUP BY s.id"));
  for (int64_t h = from; h < hour_now_ms; h += kHourMs) {
    q.reset().bind(1, h).bind(2, h + kHourMs);
    GC_TRY(q.run());
  }
  GC_ASSIGN_OR_RETURN(store::Statement meta,
                      db_.prepare("INSERT INTO history_meta (key, value) VALUES"
                                  " ('rolled_until', ?) ON CONFLICT (key) DO UPDATE SET"
                                  " value = excluded.value"));
  meta.bind(1, hour_now_ms);
  GC_TRY(meta.run());
  rolled_until_ms_ = hour_now_ms;
  return ok();
}

Status HistoryStore::prune(int64_t now_ms) {
  int64_t minute_keep = std::min(kMinuteTierMs, retention_ms_);
  GC_ASSIGN_OR_RETURN(store::Statement minutes,
                      db_.prepare("DELETE FROM history_1m WHERE series IN"
                                  " (SELECT id FROM history_series) AND t < ?"));
  minutes.bind(1, now_ms - minute_keep);
  GC_TRY(minutes.run());
  GC_ASSIGN_OR_RETURN(store::Statement hours,
                      db_.prepare("DELETE FROM history_1h WHERE series IN"
                                  " (SELECT id FROM history_series) AND t < ?"));
  hours.bind(1, now_ms - retention_ms_);
  GC_TRY(hours.run());
  // Series that no longer have rows (a removed service, an unmounted filesystem).
  return db_.exec(
      "DELETE FROM history_series WHERE"
      " NOT EXISTS (SELECT 1 FROM history_1m WHERE series = history_series.id) AND"
      " NOT EXISTS (SELECT 1 FROM history_1h WHERE series = history_series.id)");
}

Result<std::vector<SeriesPoints>> HistoryStore::query(const std::string& name, int64_t range_ms,
                                                      int64_t now_ms, int64_t* step_ms_out) {
  range_ms = std::max<int64_t>(range_ms, kMinuteMs);
  int64_t tier = range_ms <= kMinuteTierMaxRangeMs ? kMinuteMs : kHourMs;
  // range / step + 1 buckets at most, so the step is at least range / (max - 1).
  int64_t per_step = tier * (kMaxPointsPerSeries - 1);
  int64_t step = tier * std::max<int64_t>(1, (range_ms + per_step - 1) / per_step);
  if (step_ms_out) *step_ms_out = step;
  int64_t from = floor_to(now_ms - range_ms, step);

  std::map<Labels, Bucketer> series;
  GC_ASSIGN_OR_RETURN(store::Statement list,
                      db_.prepare("SELECT id, labels FROM history_series WHERE name = ?"));
  GC_ASSIGN_OR_RETURN(store::Statement minutes,
                      db_.prepare("SELECT t, avg_value, min_value, max_value, last_value, samples"
                                  " FROM history_1m WHERE series = ? AND t >= ? ORDER BY t"));
  GC_ASSIGN_OR_RETURN(
      store::Statement hours,
      db_.prepare("SELECT t, avg_value, min_value, max_value, last_value, samples"
                  " FROM history_1h WHERE series = ? AND t >= ? AND t < ? ORDER BY t"));
  list.bind(1, name);
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, list.step());
    if (!row) break;
    int64_t id = list.column_int(0);
    Bucketer& b = series.emplace(parse_labels(list.column_text(1)), Bucketer(step)).first->second;
    int64_t minutes_from = from;
    if (tier == kHourMs) {
      // Hours already rolled come from the 1-hour tier; the rest from their minutes.
      hours.reset().bind(1, id).bind(2, from).bind(3, rolled_until_ms_);
      GC_TRY(feed_rows(hours, b));
      minutes_from = std::max(from, rolled_until_ms_);
    }
    minutes.reset().bind(1, id).bind(2, minutes_from);
    GC_TRY(feed_rows(minutes, b));
  }
  for (const auto& [key, buckets] : open_) {
    if (key.first != name) continue;
    Bucketer& b = series.emplace(key.second, Bucketer(step)).first->second;
    for (auto it = buckets.lower_bound(from); it != buckets.end(); ++it)
      b.feed(it->first, it->second);
  }
  std::vector<SeriesPoints> out;
  for (const auto& [labels, b] : series) {
    SeriesPoints s{labels, b.points()};
    if (!s.points.empty()) out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<std::string>> HistoryStore::names() {
  std::set<std::string> all;
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("SELECT DISTINCT name FROM history_series ORDER BY name"));
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    all.insert(q.column_text(0));
  }
  for (const auto& [key, buckets] : open_) all.insert(key.first);
  return std::vector<std::string>(all.begin(), all.end());
}

}  // namespace gc::monitor

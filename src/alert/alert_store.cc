// SPDX-License-Identifier: MIT
#include "alert/alert_store.h"

#include <array>
#include <nlohmann/json.hpp>

#include "base/unique_fd.h"
#include "base/utc_time.h"

namespace gc::alert {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 1> kSchema = {
    "CREATE TABLE alerts_active (key TEXT PRIMARY KEY, rule TEXT NOT NULL, labels TEXT NOT NULL,"
    " phase TEXT NOT NULL, active_since INTEGER NOT NULL, fired_at INTEGER NOT NULL,"
    " last_notified INTEGER NOT NULL, value REAL NOT NULL, summary TEXT NOT NULL,"
    " description TEXT NOT NULL);"
    "CREATE TABLE alert_history (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL,"
    " rule TEXT NOT NULL, labels TEXT NOT NULL, at INTEGER NOT NULL, started INTEGER NOT NULL,"
    " value REAL NOT NULL, summary TEXT NOT NULL, notified INTEGER NOT NULL);"
    "CREATE TABLE silences (id INTEGER PRIMARY KEY AUTOINCREMENT, matchers TEXT NOT NULL,"
    " starts INTEGER NOT NULL, ends INTEGER NOT NULL, comment TEXT NOT NULL,"
    " created_by TEXT NOT NULL);"};

std::string labels_text(const monitor::Labels& l) { return json(l).dump(); }

monitor::Labels parse_labels(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  monitor::Labels l;
  if (!j.is_object()) return l;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_string()) l[it.key()] = it.value().get<std::string>();
  }
  return l;
}

std::string ms_text(int64_t ms) {
  return ms == 0 ? ""
                 : format_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

}  // namespace

json history_json(const std::vector<HistoryEntry>& entries) {
  json out = json::array();
  for (const auto& h : entries) {
    out.push_back({{"event", h.event},
                   {"name", h.rule},
                   {"labels", h.labels},
                   {"at", ms_text(h.at_ms)},
                   {"active_since", ms_text(h.started_ms)},
                   {"value", h.value},
                   {"summary", h.summary},
                   {"notified", h.notified}});
  }
  return out;
}

Result<AlertStore> AlertStore::open(const std::string& state_dir) {
  GC_TRY(make_directories(state_dir, 0700));
  GC_ASSIGN_OR_RETURN(store::Database db, store::Database::open(state_dir + "/state.db"));
  GC_TRY(db.migrate("alert", kSchema));
  return AlertStore(std::move(db));
}

Result<std::vector<ActiveAlert>> AlertStore::load_active() {
  GC_ASSIGN_OR_RETURN(
      store::Statement q,
      db_.prepare("SELECT rule, labels, phase, active_since, fired_at,"
                  " last_notified, value, summary, description FROM alerts_active"));
  std::vector<ActiveAlert> out;
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return out;
    ActiveAlert a;
    a.rule = q.column_text(0);
    a.labels = parse_labels(q.column_text(1));
    a.phase = q.column_text(2) == "firing" ? Phase::kFiring : Phase::kPending;
    a.active_since_ms = q.column_int(3);
    a.fired_at_ms = q.column_int(4);
    // -1: no notice went out yet.
    a.notified = q.column_int(5) >= 0;
    a.last_notified_ms = a.notified ? q.column_int(5) : 0;
    a.value = q.column_double(6);
    a.summary = q.column_text(7);
    a.description = q.column_text(8);
    out.push_back(std::move(a));
  }
}

Status AlertStore::save_active(const std::map<std::string, ActiveAlert>& alerts) {
  return db_.transaction([&]() -> Status {
    GC_TRY(db_.exec("DELETE FROM alerts_active"));
    GC_ASSIGN_OR_RETURN(store::Statement q,
                        db_.prepare("INSERT INTO alerts_active VALUES (?,?,?,?,?,?,?,?,?,?)"));
    for (const auto& [key, a] : alerts) {
      q.reset();
      q.bind(1, key).bind(2, a.rule).bind(3, labels_text(a.labels));
      q.bind(4, std::string_view(a.phase == Phase::kFiring ? "firing" : "pending"));
      q.bind(5, a.active_since_ms).bind(6, a.fired_at_ms);
      q.bind(7, a.notified ? a.last_notified_ms : int64_t{-1});
      q.bind(8, a.value).bind(9, a.summary).bind(10, a.description);
      GC_TRY(q.run());
    }
    return ok();
  });
}

Status AlertStore::add_history(const std::vector<Notice>& events,
                               const std::vector<Notice>& notified, int keep) {
  if (events.empty()) return ok();
  return db_.transaction([&]() -> Status {
    GC_ASSIGN_OR_RETURN(store::Statement q,
                        db_.prepare("INSERT INTO alert_history (event, rule, labels, at, started,"
                                    " value, summary, notified) VALUES (?,?,?,?,?,?,?,?)"));
    for (const Notice& n : events) {
      bool sent = false;
      for (const Notice& m : notified) {
        if (m.kind == n.kind && m.alert.rule == n.alert.rule && m.alert.labels == n.alert.labels)
          sent = true;
      }
      bool resolved = n.kind == NoticeKind::kResolved;
      q.reset();
      q.bind(1, std::string_view(resolved ? "resolved" : "firing"));
      q.bind(2, n.alert.rule).bind(3, labels_text(n.alert.labels));
      q.bind(4, resolved ? n.ended_ms : n.alert.fired_at_ms).bind(5, n.alert.active_since_ms);
      q.bind(6, n.alert.value).bind(7, n.alert.summary).bind(8, std::int64_t{sent ? 1 : 0});
      GC_TRY(q.run());
    }
    GC_ASSIGN_OR_RETURN(store::Statement trim,
                        db_.prepare("DELETE FROM alert_history WHERE seq <= "
                                    "(SELECT max(seq) FROM alert_history) - ?"));
    trim.bind(1, std::int64_t{keep});
    return trim.run();
  });
}

Result<std::vector<HistoryEntry>> AlertStore::history(int limit) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("SELECT seq, event, rule, labels, at, started, value, summary,"
                                  " notified FROM alert_history ORDER BY seq DESC LIMIT ?"));
  q.bind(1, std::int64_t{limit});
  std::vector<HistoryEntry> out;
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return out;
    HistoryEntry h;
    h.seq = q.column_int(0);
    h.event = q.column_text(1);
    h.rule = q.column_text(2);
    h.labels = parse_labels(q.column_text(3));
    h.at_ms = q.column_int(4);
    h.started_ms = q.column_int(5);
    h.value = q.column_double(6);
    h.summary = q.column_text(7);
    h.notified = q.column_int(8) != 0;
    out.push_back(std::move(h));
  }
}

Result<int64_t> AlertStore::add_silence(const Silence& s) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("INSERT INTO silences (matchers, starts, ends, comment,"
                                  " created_by) VALUES (?,?,?,?,?)"));
  q.bind(1, labels_text(s.matchers)).bind(2, s.starts_ms).bind(3, s.ends_ms);
  q.bind(4, s.comment).bind(5, s.created_by);
  GC_TRY(q.run());
  return db_.last_insert_rowid();
}

Result<int> AlertStore::end_silences(int64_t id, const monitor::Labels& matchers, int64_t now_ms) {
  GC_ASSIGN_OR_RETURN(std::vector<Silence> active, silences(now_ms));
  GC_ASSIGN_OR_RETURN(store::Statement q, db_.prepare("UPDATE silences SET ends = ? WHERE id = ?"));
  int n = 0;
  for (const Silence& s : active) {
    if (id != 0 ? s.id != id : s.matchers != matchers) continue;
    q.reset();
    q.bind(1, now_ms).bind(2, s.id);
    GC_TRY(q.run());
    ++n;
  }
  return n;
}

Result<std::vector<Silence>> AlertStore::silences(int64_t now_ms) {
  GC_ASSIGN_OR_RETURN(store::Statement q,
                      db_.prepare("SELECT id, matchers, starts, ends, comment, created_by"
                                  " FROM silences WHERE ends > ? ORDER BY id"));
  q.bind(1, now_ms);
  std::vector<Silence> out;
  while (true) {
    GC_ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return out;
    Silence s;
    s.id = q.column_int(0);
    s.matchers = parse_labels(q.column_text(1));
    s.starts_ms = q.column_int(2);
    s.ends_ms = q.column_int(3);
    s.comment = q.column_text(4);
    s.created_by = q.column_text(5);
    out.push_back(std::move(s));
  }
}

}  // namespace gc::alert

// SPDX-License-Identifier: MIT
#include "alert/alert_state.h"

#include <set>

namespace gc::alert {

bool silenced(const monitor::Labels& labels, const std::vector<Silence>& silences, int64_t now) {
  for (const Silence& s : silences) {
    if (s.starts_ms <= now && now < s.ends_ms && s.matches(labels)) return true;
  }
  return false;
}

bool Silence::matches(const monitor::Labels& labels) const {
  for (const auto& [k, v] : matchers) {
    auto it = labels.find(k);
    if (it == labels.end() ? !v.empty() : it->second != v) return false;
  }
  return true;
}

std::string alert_key(const std::string& rule, const monitor::Labels& labels) {
  std::string key = rule;
  for (const auto& [k, v] : labels) {
    key += '\x1f';
    key += k;
    key += '\x1e';
    key += v;
  }
  return key;
}

monitor::Labels alert_labels(const Rule& rule, const monitor::Labels& series) {
  monitor::Labels l = series;
  l.erase("__name__");
  for (const auto& [k, v] : rule.labels) l[k] = v;
  l["alertname"] = rule.name;
  l["severity"] = rule.severity;
  return l;
}

AlertStates::AlertStates(std::vector<ActiveAlert> restored) {
  for (auto& a : restored) {
    std::string key = alert_key(a.rule, a.labels);
    alerts_.emplace(std::move(key), std::move(a));
  }
}

StepResult AlertStates::step(const Rule& rule, const Vector& fired, const Vector& kept,
                             int64_t now_ms, int64_t repeat_ms,
                             const std::vector<Silence>& silences) {
  StepResult out;
  std::map<std::string, const InstantSample*> now_firing, now_kept;
  std::map<std::string, monitor::Labels> labels_of;
  for (const auto& s : fired) {
    monitor::Labels l = alert_labels(rule, s.labels);
    std::string key = alert_key(rule.name, l);
    now_firing[key] = &s;
    labels_of[key] = std::move(l);
  }
  for (const auto& s : kept) {
    monitor::Labels l = alert_labels(rule, s.labels);
    now_kept[alert_key(rule.name, l)] = &s;
  }
  auto refresh = [&](ActiveAlert& a, double value) {
    a.value = value;
    a.summary = expand_template(rule.summary, a.labels, value);
    a.description = expand_template(rule.description, a.labels, value);
  };
  // New series start pending (or fire at once with no `for`).
  for (const auto& [key, sample] : now_firing) {
    auto it = alerts_.find(key);
    if (it == alerts_.end()) {
      ActiveAlert a;
      a.rule = rule.name;
      a.labels = labels_of[key];
      a.active_since_ms = now_ms;
      refresh(a, sample->value);
      it = alerts_.emplace(key, std::move(a)).first;
      out.changed = true;
    } else {
      refresh(it->second, sample->value);
    }
  }
  for (auto it = alerts_.begin(); it != alerts_.end();) {
    ActiveAlert& a = it->second;
    if (a.rule != rule.name) {
      ++it;
      continue;
    }
    bool is_silenced = silenced(a.labels, silences, now_ms);
    bool in_expr = now_firing.count(it->first) > 0;
    auto keep = now_kept.find(it->first);
    if (!in_expr && a.phase == Phase::kFiring && keep != now_kept.end()) {
      refresh(a, keep->second->value);  // Hysteresis: still above the clear threshold.
      in_expr = true;
    }
    if (!in_expr) {
      if (a.phase == Phase::kFiring) {
        Notice n{NoticeKind::kResolved, a, now_ms};
        out.history.push_back(n);
        if (a.notified && !is_silenced) out.notices.push_back(std::move(n));
      }
      it = alerts_.erase(it);
      out.changed = true;
      continue;
    }
    if (a.phase == Phase::kPending && now_ms - a.active_since_ms >= rule.for_ms) {
      a.phase = Phase::kFiring;
      a.fired_at_ms = now_ms;
      out.history.push_back({NoticeKind::kFiring, a, 0});
      out.changed = true;
    }
    if (a.phase == Phase::kFiring && !is_silenced) {
      if (!a.notified) {
        a.notified = true;
        a.last_notified_ms = now_ms;
        out.notices.push_back({NoticeKind::kFiring, a, 0});
        out.changed = true;
      } else if (repeat_ms > 0 && now_ms - a.last_notified_ms >= repeat_ms) {
        a.last_notified_ms = now_ms;
        out.notices.push_back({NoticeKind::kReminder, a, 0});
        out.changed = true;
      }
    }
    ++it;
  }
  return out;
}

bool AlertStates::retain_rules(const std::vector<std::string>& names) {
  std::set<std::string> keep(names.begin(), names.end());
  bool changed = false;
  for (auto it = alerts_.begin(); it != alerts_.end();) {
    if (keep.count(it->second.rule) == 0) {
      it = alerts_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  return changed;
}

}  // namespace gc::alert

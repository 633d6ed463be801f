// SPDX-License-Identifier: MIT
#include "daemon/alerting.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "base/utc_time.h"
#include "monitor/notify.h"

namespace gc::daemon {
namespace {

using json = nlohmann::json;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::system_clock::time_point from_ms(int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

std::string ms_text(int64_t ms) { return ms == 0 ? "" : format_utc(from_ms(ms)); }

monitor::Alert to_alert(const alert::Notice& n) {
  monitor::Alert a;
  a.name = n.alert.rule;
  a.labels = n.alert.labels;
  a.labels.erase("alertname");
  a.annotations["summary"] = n.alert.summary;
  if (!n.alert.description.empty()) a.annotations["description"] = n.alert.description;
  a.starts_at = from_ms(n.alert.active_since_ms);
  if (n.kind == alert::NoticeKind::kResolved) a.ends_at = from_ms(n.ended_ms);
  return a;
}

// A rule's result as the vector the state machine steps on: a scalar is one series with no
// labels (as Prometheus treats a scalar rule), NaN values are dropped.
alert::Vector as_vector(const alert::Value& v) {
  alert::Vector out;
  if (v.scalar) {
    if (v.number == v.number) out.push_back({{}, v.number});
    return out;
  }
  for (const auto& s : v.vector) {
    if (s.value == s.value) out.push_back(s);
  }
  return out;
}

}  // namespace

// Delivers batches one after another on its own thread, and posts each target's outcome back
// to the loop.
class NotifyWorker {
 public:
  using Done = std::function<void(std::string target, bool ok, std::string error)>;
  explicit NotifyWorker(Done done) : done_(std::move(done)), thread_([this] { run(); }) {}
  ~NotifyWorker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      queue_.clear();  // Shutting down: what was not sent yet is in the history.
    }
    wake_.notify_all();
    thread_.join();
  }
  void push(std::vector<config::NotifyConfig> targets, std::vector<monitor::Alert> alerts,
            std::string receiver) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back({std::move(targets), std::move(alerts), std::move(receiver)});
    }
    wake_.notify_all();
  }

 private:
  struct Batch {
    std::vector<config::NotifyConfig> targets;
    std::vector<monitor::Alert> alerts;
    std::string receiver;
  };
  void run() {
    std::unique_lock lock(mu_);
    while (true) {
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      Batch b = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      for (const auto& t : b.targets) {
        std::vector<monitor::Alert> send;
        for (const auto& a : b.alerts) {
          if (a.firing() || t.send_resolved) send.push_back(a);
        }
        if (send.empty()) continue;
        Status st = monitor::deliver_alerts(t, send, b.receiver);
        done_(t.name, static_cast<bool>(st), st ? "" : st.error().message);
      }
      lock.lock();
    }
  }
  Done done_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<Batch> queue_;
  std::thread thread_;
};

AlertEngine::AlertEngine(boost::asio::io_context& io, std::function<monitor::MetricSet()> collect)
    : io_(io),
      timer_(io),
      collect_(std::move(collect)),
      notifier_up_(std::make_shared<std::map<std::string, bool>>()) {
  auto recordings = alert::parse_recordings(alert::builtin_recordings());
  if (recordings) {
    recordings_ = std::move(*recordings);
  } else {
    // A bug of ours (recording_test parses them all): monitoring goes on without history.
    spdlog::error("{}", recordings.error().message);
  }
  auto up = notifier_up_;
  boost::asio::io_context* ctx = &io_;
  worker_ =
      std::make_unique<NotifyWorker>([up, ctx](std::string target, bool ok, std::string error) {
        boost::asio::post(*ctx, [up, target = std::move(target), ok, error = std::move(error)] {
          auto it = up->find(target);
          bool was_up = it == up->end() || it->second;
          if (was_up && !ok) spdlog::error("alert notifier {}: {}", target, error);
          if (!was_up && ok) spdlog::info("alert notifier {} delivers again", target);
          (*up)[target] = ok;
        });
      });
}

AlertEngine::~AlertEngine() { stop(); }

void AlertEngine::stop() {
  if (!stopped_ && history_) {
    // The minute in progress, so that a restart leaves no gap in the charts.
    if (Status st = history_->flush_open(now_ms()); !st) {
      spdlog::error("metric history: the last minute was not written: {}", st.error().message);
    }
  }
  stopped_ = true;
  timer_.cancel();
  worker_.reset();
}

void AlertEngine::configure(const config::Config& config) {
  config_ = config;
  auto rules = alert::build_rules(config);
  if (!rules) {
    // alert::load_config refused such a config before it got here.
    spdlog::error("alert rules: {}", rules.error().message);
    rules_.clear();
  } else {
    rules_ = std::move(*rules);
  }
  std::map<std::string, int64_t> ranges = alert::recording_ranges(recordings_);
  for (const auto& r : rules_) {
    for (const auto& e : {r.expr, r.clear}) {
      if (!e) continue;
      for (const auto& [name, range] : alert::metric_ranges(*e)) {
        ranges[name] = std::max(ranges[name], range);
      }
    }
  }
  // Keep the recent samples when the rules still read the same: rate() goes on unbroken.
  if (!buffer_ || ranges != ranges_) {
    buffer_ = std::make_unique<alert::SeriesBuffer>(ranges);
    ranges_ = std::move(ranges);
  }
  for (auto it = notifier_up_->begin(); it != notifier_up_->end();) {
    bool still = false;
    for (const auto& n : config.notify) still = still || n.name == it->first;
    it = still ? std::next(it) : notifier_up_->erase(it);
  }
  if (!configured_) {
    configured_ = true;
    auto store = alert::AlertStore::open(config.server.state_dir);
    if (!store) {
      store_error_ = store.error().message;
      spdlog::error("alert state: {}; alerts are evaluated but not kept across restarts",
                    store_error_);
    } else {
      store_ = std::make_unique<alert::AlertStore>(std::move(*store));
      auto active = store_->load_active();
      if (active) {
        states_ = alert::AlertStates(std::move(*active));
      } else {
        spdlog::error("alert state: {}", active.error().message);
      }
    }
    auto opened = monitor::HistoryStore::open(config.server.state_dir, config.monitor.history);
    if (!opened) {
      history_error_ = opened.error().message;
      spdlog::error("metric history: {}; alerts are evaluated, no history is kept", history_error_);
    } else {
      history_ = std::make_unique<monitor::HistoryStore>(std::move(*opened));
    }
  }
  if (history_) history_->set_retention(config.monitor.history);
  std::vector<std::string> names;
  for (const auto& r : rules_) names.push_back(r.name);
  if (states_.retain_rules(names) && store_) (void)store_->save_active(states_.alerts());
  timer_.cancel();
  arm();
}

void AlertEngine::arm() {
  if (stopped_) return;
  // A wait that had already completed when configure() cancelled it still runs its handler:
  // the generation tells it that a newer chain has taken over.
  uint64_t generation = ++timer_generation_;
  timer_.expires_after(config_.monitor.interval);
  timer_.async_wait([this, generation](const boost::system::error_code& ec) {
    if (ec || generation != timer_generation_) return;
    evaluate_now();
    arm();
  });
}

void AlertEngine::evaluate_now() {
  int64_t now = now_ms();
  if (now <= last_eval_ms_) return;  // The wall clock stepped back: wait for it.
  last_eval_ms_ = now;
  ++evaluations_;
  monitor::MetricSet set = collect_();
  add_metrics(set);
  buffer_->append(set, now);
  record(now);
  if (store_) {
    auto s = store_->silences(now);
    if (s) {
      silences_ = std::move(*s);
      silence_error_.clear();
    } else if (s.error().message != silence_error_) {
      // The last silences read stay in force until the store answers again.
      silence_error_ = s.error().message;
      spdlog::error("alert silences: {}", silence_error_);
    }
  }
  std::vector<alert::Notice> notices, history;
  bool changed = false;
  int64_t repeat =
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.monitor.repeat_interval)
          .count();
  for (const auto& rule : rules_) {
    auto fired = alert::evaluate(*rule.expr, *buffer_, now);
    Result<alert::Value> kept = alert::Value{};
    if (fired && rule.clear) kept = alert::evaluate(*rule.clear, *buffer_, now);
    if (!fired || !kept) {
      const Error& e = fired ? kept.error() : fired.error();
      ++evaluation_failures_;
      if (rule_errors_[rule.name] != e.message) {
        spdlog::error("alert rule {}: {}", rule.name, e.message);
        rule_errors_[rule.name] = e.message;
      }
      continue;  // Its alerts stay as they were.
    }
    rule_errors_.erase(rule.name);
    auto step = states_.step(rule, as_vector(*fired), as_vector(*kept), now, repeat, silences_);
    changed = changed || step.changed;
    for (auto& n : step.notices) notices.push_back(std::move(n));
    for (auto& h : step.history) history.push_back(std::move(h));
  }
  if (store_ && changed) {
    if (auto st = store_->save_active(states_.alerts()); !st)
      spdlog::error("alert state: {}", st.error().message);
  }
  if (store_ && !history.empty()) {
    if (auto st = store_->add_history(history, notices); !st)
      spdlog::error("alert history: {}", st.error().message);
  }
  for (const auto& h : history) {
    bool resolved = h.kind == alert::NoticeKind::kResolved;
    spdlog::log(resolved ? spdlog::level::info : spdlog::level::warn, "alert {} {}: {}",
                h.alert.rule, resolved ? "resolved" : "firing", h.alert.summary);
  }
  if (!notices.empty()) deliver(std::move(notices));
  resend_to_alertmanagers(now);
}

void AlertEngine::resend_to_alertmanagers(int64_t now) {
  // Alertmanager resolves an alert it has not heard of for resolve_timeout (5m by default), as
  // Prometheus re-sends firing alerts every minute; do the same for alertmanager targets.
  constexpr int64_t kResendMs = 60 * 1000;
  if (now - last_resend_ms_ < kResendMs || !worker_) return;
  last_resend_ms_ = now;
  std::vector<config::NotifyConfig> targets;
  for (const auto& t : config_.notify) {
    if (t.type == config::NotifyType::kAlertmanager) targets.push_back(t);
  }
  std::vector<monitor::Alert> firing;
  for (const auto& [key, a] : states_.alerts()) {
    if (a.phase != alert::Phase::kFiring || !a.notified) continue;
    bool silenced = alert::silenced(a.labels, silences_, now);
    if (!silenced) firing.push_back(to_alert({alert::NoticeKind::kReminder, a, 0}));
  }
  if (targets.empty() || firing.empty()) return;
  worker_->push(std::move(targets), std::move(firing),
                config_.server.name.empty() ? "groundctl" : config_.server.name);
}

void AlertEngine::record(int64_t now) {
  if (!history_) return;
  for (const auto& r : recordings_) {
    auto v = alert::evaluate_recording(r, *buffer_, now);
    if (!v) {
      if (recording_errors_[r.name] != v.error().message) {
        spdlog::error("recording rule {}: {}", r.name, v.error().message);
        recording_errors_[r.name] = v.error().message;
      }
      continue;
    }
    recording_errors_.erase(r.name);
    for (const auto& s : *v) history_->add(r.name, s.labels, now, s.value);
  }
  // Logged once per failure streak: a full disk must not fill the log every tick.
  Status st = history_->flush(now);
  if (!st && history_error_.empty()) {
    history_error_ = st.error().message;
    spdlog::error("metric history: {}", history_error_);
  } else if (st && !history_error_.empty()) {
    history_error_.clear();
    spdlog::info("metric history is written again");
  }
}

Result<std::vector<alert::HistoryEntry>> AlertEngine::alert_history(int limit) {
  if (!store_) {
    return make_error(Errc::kUnavailable, "alert history is not available: " + store_error_);
  }
  return store_->history(limit);
}

void AlertEngine::deliver(std::vector<alert::Notice> notices) {
  if (config_.notify.empty() || !worker_) return;
  std::vector<monitor::Alert> alerts;
  for (const auto& n : notices) alerts.push_back(to_alert(n));
  worker_->push(config_.notify, std::move(alerts),
                config_.server.name.empty() ? "groundctl" : config_.server.name);
}

json AlertEngine::alerts_json() const {
  json active = json::array();
  int64_t now = now_ms();
  for (const auto& [key, a] : states_.alerts()) {
    bool silenced = alert::silenced(a.labels, silences_, now);
    active.push_back({{"name", a.rule},
                      {"state", a.phase == alert::Phase::kFiring ? "firing" : "pending"},
                      {"labels", a.labels},
                      {"value", a.value},
                      {"summary", a.summary},
                      {"description", a.description},
                      {"active_since", ms_text(a.active_since_ms)},
                      {"fired_at", ms_text(a.fired_at_ms)},
                      {"last_notified", a.notified ? ms_text(a.last_notified_ms) : ""},
                      {"silenced", silenced}});
  }
  json silences = json::array();
  for (const auto& s : silences_) {
    silences.push_back({{"id", s.id},
                        {"matchers", s.matchers},
                        {"starts_at", ms_text(s.starts_ms)},
                        {"ends_at", ms_text(s.ends_ms)},
                        {"comment", s.comment},
                        {"created_by", s.created_by}});
  }
  json errors = json::object();
  for (const auto& [rule, e] : rule_errors_) errors[rule] = e;
  json notifiers = json::array();
  for (const auto& n : config_.notify) {
    auto it = notifier_up_->find(n.name);
    notifiers.push_back({{"name", n.name}, {"up", it == notifier_up_->end() || it->second}});
  }
  return {{"alerts", active},           {"silences", silences},
          {"rule_errors", errors},      {"rules", rules_.size()},
          {"notifiers", notifiers},     {"last_evaluation", ms_text(last_eval_ms_)},
          {"store_error", store_error_}};
}

void AlertEngine::add_metrics(monitor::MetricSet& out) const {
  int pending = 0, firing = 0;
  for (const auto& [key, a] : states_.alerts())
    (a.phase == alert::Phase::kFiring ? firing : pending)++;
  out.gauge("groundctl_alerts", "Alerts by state.", {{"state", "pending"}}, pending);
  out.gauge("groundctl_alerts", "Alerts by state.", {{"state", "firing"}}, firing);
  out.gauge("groundctl_alert_rules", "Alert rules evaluated.", {},
            static_cast<double>(rules_.size()));
  out.counter("groundctl_alert_evaluations_total", "Rule evaluation rounds.", {},
              static_cast<double>(evaluations_));
  out.counter("groundctl_alert_evaluation_failures_total",
              "Rule evaluations that failed (the rule's alerts kept their state).", {},
              static_cast<double>(evaluation_failures_));
  for (const auto& n : config_.notify) {
    auto it = notifier_up_->find(n.name);
    out.gauge("groundctl_notifier_up", "0 when the last delivery to the notifier failed.",
              {{"notifier", n.name}}, it == notifier_up_->end() || it->second ? 1 : 0);
  }
}

}  // namespace gc::daemon

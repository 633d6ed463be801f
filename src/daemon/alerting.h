// SPDX-License-Identifier: MIT
// daemon/alerting.h: the daemon's alert loop. Every [monitor].interval it takes one collection
// (the samples GET /metrics serves), keeps what the rules' range functions read, evaluates each
// rule, steps the alert state machine, persists the states and history in the state store, and
// hands the notices of that evaluation, grouped, to a delivery thread (a slow or dead notifier
// never stalls the loop). A notifier whose deliveries fail raises NotifierFailing through the
// others, via groundctl_notifier_up. The built-in recording rules are evaluated on the same
// samples and their results kept, downsampled, in the metric history (monitor/history.h).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "alert/alert_state.h"
#include "alert/alert_store.h"
#include "alert/recording.h"
#include "alert/rules.h"
#include "alert/series_buffer.h"
#include "config/config.h"
#include "monitor/history.h"
#include "monitor/metrics.h"

namespace gc::daemon {

class NotifyWorker;

class AlertEngine {
 public:
  // `collect` returns one collection (without this engine's own metrics); called on the loop.
  AlertEngine(boost::asio::io_context& io, std::function<monitor::MetricSet()> collect);
  ~AlertEngine();  // Stops the timer; waits for a delivery in progress.
  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // Applies the rules, interval and notifiers of `config` (already checked by
  // alert::load_config) and (re)starts the evaluation timer. Restores the persisted alerts on
  // the first call. Alerts of removed rules are dropped without notices.
  void configure(const config::Config& config);
  void stop();

  // Active alerts (pending and firing, silenced or not), silences and rule errors.
  nlohmann::json alerts_json() const;
  // groundctl_alerts{state}, groundctl_notifier_up{notifier}, evaluation counters.
  void add_metrics(monitor::MetricSet& out) const;

  // Runs one evaluation now (tests and the first tick).
  void evaluate_now();

  // The metric history the recording rules feed, for GET /api/v1/series; null when the state
  // store could not be opened (history_error() says why). Owned by the engine; use it on the
  // loop thread only.
  monitor::HistoryStore* history() { return history_.get(); }
  const std::string& history_error() const { return history_error_; }
  // The newest `limit` entries of the alert history, newest first. Errors: kUnavailable when
  // the state store could not be opened, else those of AlertStore::history.
  Result<std::vector<alert::HistoryEntry>> alert_history(int limit);

 private:
  void arm();
  void deliver(std::vector<alert::Notice> notices);
  // Every minute, the firing alerts again to type = "alertmanager" targets.
  void resend_to_alertmanagers(int64_t now);
  void record(int64_t now);  // Recording rules -> history, then the history's flush.

  boost::asio::io_context& io_;
  boost::asio::steady_timer timer_;
  std::function<monitor::MetricSet()> collect_;
  config::Config config_;
  bool configured_ = false;
  bool stopped_ = false;
  std::vector<alert::Rule> rules_;
  std::map<std::string, int64_t> ranges_;
  std::unique_ptr<alert::SeriesBuffer> buffer_;
  std::unique_ptr<alert::AlertStore> store_;
  std::string store_error_;
  std::string silence_error_;  // Logged once per distinct error.
  alert::AlertStates states_;
  std::vector<alert::Silence> silences_;
  std::map<std::string, std::string> rule_errors_;  // Rule name -> last evaluation error.
  int64_t last_eval_ms_ = 0;
  int64_t last_resend_ms_ = 0;
  uint64_t timer_generation_ = 0;
  uint64_t evaluations_ = 0;
  uint64_t evaluation_failures_ = 0;
  std::vector<alert::ParsedRecording> recordings_;
  std::unique_ptr<monitor::HistoryStore> history_;
  std::string history_error_;  // Why there is no history, or why its last write failed.
  std::map<std::string, std::string> recording_errors_;  // Rule name -> last error.
  // Shared with the delivery thread's completions, which are posted back to the loop.
  std::shared_ptr<std::map<std::string, bool>> notifier_up_;
  std::unique_ptr<NotifyWorker> worker_;
};

}  // namespace gc::daemon

// SPDX-License-Identifier: MIT
// daemon/alerting.h: the daemon's alert loop. Every [monitor].interval it takes one collection
// (the samples GET /metrics serves), keeps what the rules' range functions read, evaluates each
// rule, steps the alert state machine, persists the states and history in the state store, and
// hands the notices of that evaluation, grouped, to a delivery thread (a slow or dead notifier
// never stalls the loop). A notifier whose deliveries fail raises NotifierFailing through the
// others, via groundctl_notifier_up.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "alert/alert_state.h"
#include "alert/alert_store.h"
#include "alert/rules.h"
#include "alert/series_buffer.h"
#include "config/config.h"
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

 private:
  void arm();
  void deliver(std::vector<alert::Notice> notices);

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
  alert::AlertStates states_;
  std::vector<alert::Silence> silences_;
  std::map<std::string, std::string> rule_errors_;  // Rule name -> last evaluation error.
  int64_t last_eval_ms_ = 0;
  uint64_t evaluations_ = 0;
  uint64_t evaluation_failures_ = 0;
  // Shared with the delivery thread's completions, which are posted back to the loop.
  std::shared_ptr<std::map<std::string, bool>> notifier_up_;
  std::unique_ptr<NotifyWorker> worker_;
};

}  // namespace gc::daemon

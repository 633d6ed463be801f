// SPDX-License-Identifier: MIT
#include "monitor/background_collector.h"

namespace gc::monitor {

BackgroundCollector::BackgroundCollector(std::function<void(MetricSet&)> collect,
                                         std::chrono::milliseconds interval)
    : collect_(std::move(collect)), interval_(interval), thread_([this] { run(); }) {}

BackgroundCollector::~BackgroundCollector() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void BackgroundCollector::add_latest(MetricSet& out) const {
  std::lock_guard<std::mutex> l(mu_);
  out.merge(latest_);
}

void BackgroundCollector::run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    l.unlock();
    MetricSet fresh;
    collect_(fresh);
    l.lock();
    latest_ = std::move(fresh);
    wake_.wait_for(l, interval_, [this] { return stop_; });
  }
}

}  // namespace gc::monitor

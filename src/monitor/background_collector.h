// SPDX-License-Identifier: MIT
// monitor/background_collector.h: a collector that may block (a database query) runs on its own
// thread every interval; a scrape takes its latest samples without waiting, so a slow or hung
// PostgreSQL never stalls the daemon's event loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "monitor/metrics.h"

namespace gc::monitor {

class BackgroundCollector {
 public:
  // Starts the thread; `collect` runs at once, then every `interval`.
  BackgroundCollector(std::function<void(MetricSet&)> collect, std::chrono::milliseconds interval);
  ~BackgroundCollector();  // Stops and joins (waits for a collection in progress).
  BackgroundCollector(const BackgroundCollector&) = delete;
  BackgroundCollector& operator=(const BackgroundCollector&) = delete;

  // Adds the latest collection's samples to `out` (nothing before the first one finished).
  void add_latest(MetricSet& out) const;

 private:
  void run();
  std::function<void(MetricSet&)> collect_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  MetricSet latest_;
  std::thread thread_;
};

}  // namespace gc::monitor

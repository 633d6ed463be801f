// SPDX-License-Identifier: MIT
// supervisor/supervisor.h: every configured service, in config order, plus what they share
// (listen sockets, the log writer) and the periodic CPU/memory sampling. Applies config diffs.
// Loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/diff.h"
#include "supervisor/log_writer.h"
#include "supervisor/service.h"

namespace gc::supervisor {

class Supervisor {
 public:
  // `sample_every`: how often CPU and RSS are read (and max_memory enforced).
  Supervisor(boost::asio::io_context& io, const config::Config& config, Duration sample_every);
  ~Supervisor();

  // Starts every service. `done` once each has become ready or failed; the first error wins.
  void start_all(Done done);
  // Stops every service; `done` when no child is left.
  void stop_all(Done done);
  // Applies a new, valid config: added services start, removed ones stop, changed ones reload,
  // unchanged ones are untouched. `done` gets the first error (the rest still proceed).
  void apply(const config::Config& next, const config::ConfigDiff& diff, Done done);

  std::shared_ptr<Service> find(std::string_view name) const;
  const std::vector<std::shared_ptr<Service>>& services() const { return services_; }

 private:
  void schedule_sample();
  boost::asio::io_context& io_;
  LogWriter logs_;
  ServiceContext ctx_;
  std::vector<std::shared_ptr<Service>> services_;
  boost::asio::steady_timer sample_timer_;
  Duration sample_every_;
};

// Runs `each(item, done)` for every item and calls `done` once all have finished, with the first
// error. Useful for fanning out start/stop over services.
void for_all(const std::vector<std::shared_ptr<Service>>& items,
             const std::function<void(Service&, Done)>& each, Done done);

}  // namespace gc::supervisor

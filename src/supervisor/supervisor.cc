// SPDX-License-Identifier: MIT
#include "supervisor/supervisor.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace gc::supervisor {

void for_all(const std::vector<std::shared_ptr<Service>>& items,
             const std::function<void(Service&, Done)>& each, Done done) {
  if (items.empty()) {
    done(ok());
    return;
  }
  auto pending = std::make_shared<size_t>(items.size());
  auto result = std::make_shared<Status>();
  auto shared_done = std::make_shared<Done>(std::move(done));
  for (const auto& item : items) {
    each(*item, [pending, result, shared_done](Status st) {
      if (!st && *result) *result = st;
      if (--*pending == 0) (*shared_done)(*result);
    });
  }
}

Supervisor::Supervisor(boost::asio::io_context& io, const config::Config& config,
                       Duration sample_every)
    : io_(io),
      ctx_{io, logs_, config.server.log_dir},
      sample_timer_(io),
      sample_every_(sample_every) {
  for (const auto& sc : config.services) services_.push_back(std::make_shared<Service>(ctx_, sc));
  schedule_sample();
}

Supervisor::~Supervisor() {
  sample_timer_.cancel();
  // Children still alive are killed with their groups by the Instance/ChildProcess destructors.
  services_.clear();
  logs_.flush();
}

void Supervisor::schedule_sample() {
  sample_timer_.expires_after(sample_every_);
  sample_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    auto now = std::chrono::steady_clock::now();
    for (const auto& s : services_) s->sample(now);
    schedule_sample();
  });
}

std::shared_ptr<Service> Supervisor::find(std::string_view name) const {
  for (const auto& s : services_) {
    if (s->name() == name) return s;
  }
  return nullptr;
}

void Supervisor::start_all(Done done) {
  for_all(
      services_, [](Service& s, Done d) { s.start(std::move(d)); }, std::move(done));
}

void Supervisor::stop_all(Done done) {
  for_all(
      services_, [](Service& s, Done d) { s.stop(std::move(d)); }, std::move(done));
}

void Supervisor::apply(const config::Config& next, const config::ConfigDiff& diff, Done done) {
  std::vector<std::shared_ptr<Service>> removed, kept;
  for (const auto& s : services_) {
    bool gone =
        std::find(diff.removed.begin(), diff.removed.end(), s->name()) != diff.removed.end();
    (gone ? removed : kept).push_back(s);
  }
  // Removed services stop first, so an address they free can be bound by a new one.
  auto pending = std::make_shared<int>(2);
  auto result = std::make_shared<Status>();
  auto shared_done = std::make_shared<Done>(std::move(done));
  auto finish = [pending, result, shared_done](Status st) {
    if (!st && *result) *result = st;
    if (--*pending == 0) (*shared_done)(*result);
  };
  std::vector<std::shared_ptr<Service>> ordered;
  std::vector<std::shared_ptr<Service>> to_start, to_update;
  for (const auto& sc : next.services) {
    auto existing =
        std::find_if(kept.begin(), kept.end(), [&](const auto& s) { return s->name() == sc.name; });
    if (existing != kept.end()) {
      ordered.push_back(*existing);
      if (std::find(diff.changed.begin(), diff.changed.end(), sc.name) != diff.changed.end()) {
        to_update.push_back(*existing);
      }
    } else {
      auto fresh = std::make_shared<Service>(ctx_, sc);
      ordered.push_back(fresh);
      to_start.push_back(fresh);
    }
  }
  services_ = ordered;
  for (const auto& s : removed) spdlog::info("config reload: removing service \"{}\"", s->name());
  auto apply_rest = [this, next, to_start, to_update, finish](Status st) {
    finish(st);
    std::vector<std::shared_ptr<Service>> all = to_start;
    all.insert(all.end(), to_update.begin(), to_update.end());
    for_all(
        all,
        [next, to_start](Service& s, Done d) {
          const config::ServiceConfig* sc = next.find_service(s.name());
          bool is_new = std::any_of(to_start.begin(), to_start.end(),
                                    [&](const auto& p) { return p.get() == &s; });
          if (is_new) {
            spdlog::info("config reload: starting new service \"{}\"", s.name());
            s.start(std::move(d));
          } else {
            spdlog::info("config reload: reloading changed service \"{}\"", s.name());
            s.update(*sc, std::move(d));
          }
        },
        finish);
  };
  // Removed services stop first: a stopped service closes its sockets, so an address it frees
  // can be bound by a new one. The shared vector keeps them alive until their stop completes
  // and is emptied before the rest is applied.
  auto keep = std::make_shared<std::vector<std::shared_ptr<Service>>>(removed);
  for_all(
      removed, [](Service& s, Done d) { s.stop(std::move(d)); },
      [this, keep, apply_rest](Status st) {
        // Posted: this runs inside a removed service's exit handler, which must not destroy
        // its own service.
        boost::asio::post(io_, [keep, apply_rest, st] {
          keep->clear();
          apply_rest(st);
        });
      });
}

}  // namespace gc::supervisor

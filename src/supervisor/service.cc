// SPDX-License-Identifier: MIT
#include "supervisor/service.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "config/dotenv.h"
#include "supervisor/environment.h"

namespace gc::supervisor {
namespace {

constexpr size_t kMaxExitRecords = 20;
// Instances that are killed because they failed readiness get this long to go.
constexpr Duration kNotReadyKillGrace = std::chrono::seconds(5);
// After a failed memory replacement, the next attempt waits this long.
constexpr Duration kMemoryRetry = std::chrono::seconds(60);

std::string state_name(int s) {
  static const char* names[] = {"stopped", "starting", "running", "backoff", "failed"};
  return names[s];
}

}  // namespace

Service::Service(ServiceContext& ctx, config::ServiceConfig config)
    : ctx_(ctx), config_(std::move(config)) {
  std::string dir = ctx_.log_dir + "/" + config_.name;
  if (auto st = make_directories(dir, 0750); !st) {
    spdlog::error("service \"{}\": log directory: {}", config_.name, st.error().message);
  }
  out_log_ =
      ctx_.logs.open_stream(dir + "/out.log", config_.logs.max_size_bytes, config_.logs.keep);
  err_log_ =
      ctx_.logs.open_stream(dir + "/err.log", config_.logs.max_size_bytes, config_.logs.keep);
  slots_.resize(static_cast<size_t>(config_.instances));
  for (auto& s : slots_) s.tracker = RestartTracker(config_);
}

Service::~Service() = default;

std::string Service::log_path(OutputStream stream) const {
  return stream == OutputStream::kStdout ? out_log_->path() : err_log_->path();
}

std::uint64_t Service::dropped_log_bytes() const {
  return out_log_->stats().dropped_bytes + err_log_->stats().dropped_bytes;
}

std::vector<std::string> Service::bound_addresses() const {
  std::vector<std::string> out;
  for (const auto& l : listeners_) out.push_back(l->bound);
  return out;
}

std::string Service::state() const {
  if (reloading_) return "reloading";
  int counts[5] = {};
  for (const auto& s : slots_) counts[static_cast<int>(s.state)]++;
  int n = static_cast<int>(slots_.size());
  for (int st : {2, 0, 4, 1, 3}) {
    if (counts[st] == n) return state_name(st);
  }
  if (counts[2] > 0) return "degraded";
  if (counts[4] > 0) return "failed";
  return counts[3] > 0 ? "backoff" : "starting";
}

Status Service::ensure_listeners() {
  // Each service owns its sockets: they live as long as its config keeps the address, so
  // instances come and go without the socket ever closing. Entries are null until bound.
  listeners_.resize(config_.listen.size());
  for (size_t i = 0; i < config_.listen.size(); ++i) {
    if (listeners_[i]) continue;
    auto l = bind_listener(config_.listen[i]);
    if (!l) return l.error().with_context("listen");
    listeners_[i] = std::make_shared<Listener>(std::move(*l));
  }
  return ok();
}

Result<std::shared_ptr<Instance>> Service::spawn(int slot) {
  GC_TRY(ensure_listeners());
  GC_ASSIGN_OR_RETURN(UserInfo user, lookup_user(config_.user));
  EnvInputs env;
  env.user = &user;
  for (const char* k : {"LANG", "LC_ALL", "TZ"}) {
    if (const char* v = std::getenv(k)) env.inherited.emplace_back(k, v);
  }
  if (!config_.env_file.empty()) {
    // Re-read on every start, so an edited .env takes effect on the next restart or reload.
    auto text = read_file(config_.env_file);
    if (!text) return text.error().with_context("env_file");
    GC_ASSIGN_OR_RETURN(env.env_file, config::parse_dotenv(*text, config_.env_file));
  }
  env.env = &config_.env;
  env.service = config_.name;
  env.instance = slot;
  for (const auto& l : listeners_) env.listen_names.push_back(listen_fd_name(l->address));
  int generation = next_generation();
  InstanceSpec spec;
  spec.slot = slot;
  spec.ready = config_.ready;
  spec.ready_timeout = config_.ready_timeout;
  if (config_.ready.kind == config::ReadyKind::kIpc)
    env.ipc_fd = 3 + static_cast<int>(listeners_.size());
  if (config_.ready.kind == config::ReadyKind::kNotify) {
    spec.notify_name = "groundctl/" + std::to_string(::getpid()) + "/" + config_.name + "/" +
                       std::to_string(slot) + "/" + std::to_string(generation);
    env.notify_socket = "@" + spec.notify_name;
  }
  spec.spawn.argv = config_.command;
  spec.spawn.env = build_environment(env);
  spec.spawn.cwd = config_.cwd;
  if (!config_.user.empty()) spec.spawn.credentials = user.credentials;
  for (const auto& l : listeners_) spec.spawn.extra_fds.push_back(l->fd.get());
  spec.spawn.set_listen_pid = !listeners_.empty();
  // If the daemon dies (even by SIGKILL) its children go too: a restarted daemon must be able to
  // bind its ports again, and systemd would kill the cgroup anyway.
  spec.spawn.parent_death_signal = SIGKILL;

  std::weak_ptr<Service> weak = weak_from_this();
  InstanceEvents ev;
  ev.on_ready = [weak](Instance& i) {
    if (auto s = weak.lock()) s->on_ready(i);
  };
  ev.on_not_ready = [weak](Instance& i, const std::string& why) {
    if (auto s = weak.lock()) s->on_not_ready(i, why);
  };
  ev.on_exit = [weak](Instance& i, const ExitStatus& st) {
    if (auto s = weak.lock()) s->on_exit(i, st);
  };
  ev.on_output = [weak](Instance& i, OutputStream stream, std::string_view lines) {
    if (auto s = weak.lock()) s->on_output(i, stream, lines);
  };
  GC_ASSIGN_OR_RETURN(auto inst, Instance::start(ctx_.io, std::move(spec), std::move(ev)));
  live_.insert(inst);
  return inst;
}

void Service::cancel_pending_stop() {
  // A start (or reload) that overtakes a stop: the stop's callers learn it did not complete.
  auto waiters = std::move(stop_waiters_);
  stop_waiters_.clear();
  for (auto& w : waiters)
    w(make_error(Errc::kConflict,
                 "service \"" + config_.name + "\" was started again before it stopped"));
  if (want_running_) return;  // No stop in progress (an instance may be stopping for a reload).
  // Instances still draining from that stop keep going; their slots get fresh instances.
  for (auto& s : slots_) {
    if (s.current && s.current->stop_requested()) {
      s.current.reset();
      if (s.state != SlotState::kFailed) s.state = SlotState::kStopped;
    }
  }
}

void Service::start(Done done) {
  cancel_pending_stop();
  want_running_ = true;
  int n = static_cast<int>(slots_.size());
  auto pending = std::make_shared<int>(n);
  auto result = std::make_shared<Status>();
  auto shared_done = std::make_shared<Done>(std::move(done));
  auto one_done = [pending, result, shared_done](Status st) {
    if (!st && *result) *result = st;
    if (--*pending == 0 && *shared_done) (*shared_done)(*result);
  };
  for (int i = 0; i < n; ++i) {
    Slot& s = slots_[static_cast<size_t>(i)];
    if (s.state == SlotState::kRunning || s.state == SlotState::kStarting) {
      if (s.state == SlotState::kStarting) {
        s.start_waiters.push_back(one_done);
      } else {
        one_done(ok());
      }
      continue;
    }
    if (s.backoff) s.backoff->cancel();
    s.tracker.reset();
    start_slot(i, one_done);
  }
}

void Service::start_slot(int slot, Done done) {
  Slot& s = slots_[static_cast<size_t>(slot)];
  s.state = SlotState::kStarting;
  s.not_ready_reason.clear();
  if (done) s.start_waiters.push_back(std::move(done));
  auto inst = spawn(slot);
  if (!inst) {
    record_exit(slot, 0, "spawn failed", inst.error().message, "");
    spdlog::error("service \"{}\" instance {}: cannot start: {}", config_.name, slot,
                  inst.error().message);
    handle_failure(slot, "spawn failed", inst.error().message, Duration(0));
    return;
  }
  s.current = *inst;
  spdlog::info("service \"{}\" instance {}: started pid {}", config_.name, slot, s.current->pid());
}

void Service::finish_start_waiters(Slot& slot, const Status& result) {
  auto waiters = std::move(slot.start_waiters);
  slot.start_waiters.clear();
  for (auto& w : waiters) w(result);
}

void Service::on_ready(Instance& inst) {
  Slot& s = slots_[static_cast<size_t>(inst.slot())];
  if (s.next.get() == &inst) {
    // The replacement serves: now the old instance may drain and go.
    auto old = s.current;
    s.current = s.next;
    s.next.reset();
    s.state = SlotState::kRunning;
    finish_start_waiters(s, ok());
    if (old) {
      stop_reasons_[old.get()] =
          s.replace_why.empty() ? "replaced by a new instance" : "replaced: " + s.replace_why;
      old->stop(config_.stop_signal, config_.stop_timeout);
    }
    spdlog::info("service \"{}\" instance {}: replaced, now pid {}", config_.name, inst.slot(),
                 inst.pid());
    if (auto cb = std::move(s.on_next)) {
      s.on_next = nullptr;
      cb(ok());
    }
    return;
  }
  if (s.current.get() != &inst) return;
  s.state = SlotState::kRunning;
  finish_start_waiters(s, ok());
}

void Service::on_not_ready(Instance& inst, const std::string& reason) {
  Slot& s = slots_[static_cast<size_t>(inst.slot())];
  spdlog::warn("service \"{}\" instance {} pid {}: {}", config_.name, inst.slot(), inst.pid(),
               reason);
  if (s.next.get() == &inst) {
    stop_reasons_[&inst] = reason + "; the old instance keeps serving";
    // Gracefully: a process that listens but never says ready has already taken connections
    // from the shared socket, and a drain answers them.
    inst.stop(config_.stop_signal, kNotReadyKillGrace);
    s.next.reset();
    if (auto cb = std::move(s.on_next)) {
      s.on_next = nullptr;
      cb(make_error(Errc::kTimeout, "instance " + std::to_string(inst.slot()) + ": new process " +
                                        reason + "; the old one keeps serving"));
    }
    return;
  }
  if (s.current.get() == &inst) {
    s.not_ready_reason = reason;
    inst.stop(config_.stop_signal, kNotReadyKillGrace);
  }
}

void Service::on_exit(Instance& inst, const ExitStatus& status) {
  auto keep_alive = inst.shared_from_this();
  live_.erase(keep_alive);
  int slot = inst.slot();
  Duration uptime =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - inst.started());
  std::string reason;
  if (auto it = stop_reasons_.find(&inst); it != stop_reasons_.end()) {
    reason = it->second;
    stop_reasons_.erase(it);
  }
  if (slot >= static_cast<int>(slots_.size())) {
    record_exit(slot, inst.pid(), status.to_string(), reason.empty() ? "instance removed" : reason,
                inst.stderr_tail());
    check_stopped();
    return;
  }
  Slot& s = slots_[static_cast<size_t>(slot)];
  if (s.next.get() == &inst) {
    // The replacement died before it was ready: the old instance is untouched.
    s.next.reset();
    std::string why = "new process " + status.to_string() + " before it was ready";
    record_exit(slot, inst.pid(), status.to_string(), why + "; the old one keeps serving",
                inst.stderr_tail());
    if (auto cb = std::move(s.on_next)) {
      s.on_next = nullptr;
      cb(make_error(Errc::kUnavailable, "instance " + std::to_string(slot) + ": " + why +
                                            "; the old one keeps serving"));
    }
  } else if (s.current.get() == &inst) {
    s.current.reset();
    bool failed = !inst.stop_requested() || !s.not_ready_reason.empty();
    if (failed && want_running_) {
      std::string why = s.not_ready_reason.empty() ? "exited on its own" : s.not_ready_reason;
      record_exit(slot, inst.pid(), status.to_string(), why, inst.stderr_tail());
      spdlog::warn("service \"{}\" instance {} pid {}: {} ({})", config_.name, slot, inst.pid(),
                   why, status.to_string());
      handle_failure(slot, status.to_string(), why,
                     s.not_ready_reason.empty() ? uptime : Duration(0));
    } else {
      record_exit(slot, inst.pid(), status.to_string(), reason.empty() ? "stopped" : reason,
                  inst.stderr_tail());
      if (s.state != SlotState::kFailed) s.state = SlotState::kStopped;
      finish_start_waiters(s, make_error(Errc::kCancelled, "stopped before it was ready"));
    }
  } else {
    record_exit(slot, inst.pid(), status.to_string(), reason.empty() ? "stopped" : reason,
                inst.stderr_tail());
  }
  check_stopped();
}

void Service::handle_failure(int slot, const std::string& status, const std::string& why,
                             Duration uptime) {
  Slot& s = slots_[static_cast<size_t>(slot)];
  finish_start_waiters(s, make_error(Errc::kUnavailable, "instance " + std::to_string(slot) + ": " +
                                                             why + " (" + status + ")"));
  RestartDecision d =
      s.tracker.on_exit(status == "exit code 0", uptime, std::chrono::steady_clock::now());
  if (!exits_.empty()) exits_.back().reason += "; " + d.reason;
  switch (d.kind) {
    case RestartDecision::Kind::kRestart: {
      s.state = SlotState::kBackoff;
      if (!s.backoff) s.backoff = std::make_unique<boost::asio::steady_timer>(ctx_.io);
      s.backoff->expires_after(d.delay);
      std::weak_ptr<Service> weak = weak_from_this();
      s.backoff->async_wait([weak, slot](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || !self->want_running_) return;
        if (slot < static_cast<int>(self->slots_.size()) &&
            self->slots_[static_cast<size_t>(slot)].state == SlotState::kBackoff) {
          self->start_slot(slot, nullptr);
        }
      });
      break;
    }
    case RestartDecision::Kind::kFail:
      s.state = SlotState::kFailed;
      spdlog::error("service \"{}\" instance {}: failed: {}", config_.name, slot, d.reason);
      break;
    case RestartDecision::Kind::kStayStopped:
      s.state = SlotState::kStopped;
      break;
  }
}

void Service::record_exit(int slot, pid_t pid, std::string status, std::string reason,
                          std::string tail) {
  exits_.push_back(ExitRecord{std::chrono::system_clock::now(), slot, pid, std::move(status),
                              std::move(reason), std::move(tail)});
  while (exits_.size() > kMaxExitRecords) exits_.pop_front();
}

void Service::stop(Done done) {
  want_running_ = false;
  for (auto& s : slots_) {
    if (s.backoff) s.backoff->cancel();
    if (s.state == SlotState::kBackoff || s.state == SlotState::kFailed)
      s.state = SlotState::kStopped;
    finish_start_waiters(s, make_error(Errc::kCancelled, "stopped before it was ready"));
  }
  if (done) stop_waiters_.push_back(std::move(done));
  for (const auto& inst : std::vector<std::shared_ptr<Instance>>(live_.begin(), live_.end())) {
    if (inst->phase() != Instance::Phase::kStopping) {
      if (!stop_reasons_.count(inst.get())) stop_reasons_[inst.get()] = "stop requested";
      inst->stop(config_.stop_signal, config_.stop_timeout);
    }
  }
  check_stopped();
}

void Service::check_stopped() {
  if (!live_.empty() || want_running_) return;
  // A stopped service frees its ports, like PM2's stop; start binds them again.
  listeners_.clear();
  if (stop_waiters_.empty()) return;
  auto waiters = std::move(stop_waiters_);
  stop_waiters_.clear();
  for (auto& w : waiters) w(ok());
}

void Service::reload(Done done) {
  if (reloading_) {
    done(make_error(Errc::kConflict,
                    "service \"" + config_.name + "\": a reload is already running"));
    return;
  }
  cancel_pending_stop();
  want_running_ = true;
  reloading_ = true;
  std::weak_ptr<Service> weak = weak_from_this();
  reload_from(0, [weak, done = std::move(done)](Status st) {
    auto self = weak.lock();
    if (self) self->reloading_ = false;
    done(st);
    // A config change that arrived during this reload is applied now, not dropped.
    if (self && self->pending_update_) {
      auto next = std::move(*self->pending_update_);
      self->pending_update_.reset();
      self->update(std::move(next.first), std::move(next.second));
    }
  });
}

void Service::reload_from(int slot, Done done) {
  if (slot >= static_cast<int>(slots_.size())) {
    done(ok());
    return;
  }
  std::weak_ptr<Service> weak = weak_from_this();
  replace_slot(slot, "reload", [weak, slot, done = std::move(done)](Status st) {
    auto self = weak.lock();
    if (!self) return;
    if (!st) {
      done(st.error().with_context("service \"" + self->config_.name + "\": reload stopped"));
      return;
    }
    self->reload_from(slot + 1, done);
  });
}

void Service::replace_slot(int slot, std::string why, Done done) {
  Slot& s = slots_[static_cast<size_t>(slot)];
  if (!s.current || s.current->phase() != Instance::Phase::kReady) {
    // Nothing serving here: a plain (re)start is the replacement.
    if (s.next) {
      stop_reasons_[s.next.get()] = "superseded: " + why;
      s.next->stop(SIGKILL, kNotReadyKillGrace);
      s.next.reset();
      if (auto cb = std::move(s.on_next)) {
        s.on_next = nullptr;
        cb(make_error(Errc::kCancelled,
                      "instance " + std::to_string(slot) + ": replacement superseded"));
      }
    }
    if (s.current) {
      if (!s.current->stop_requested()) {
        stop_reasons_[s.current.get()] = why;
        s.current->stop(config_.stop_signal, config_.stop_timeout);
      }
      s.current.reset();
    }
    if (s.backoff) s.backoff->cancel();
    s.tracker.reset();
    start_slot(slot, std::move(done));
    return;
  }
  if (s.next) {
    done(make_error(Errc::kConflict,
                    "instance " + std::to_string(slot) + " is already being replaced"));
    return;
  }
  auto inst = spawn(slot);
  if (!inst) {
    record_exit(slot, 0, "spawn failed", inst.error().message + "; the old instance keeps serving",
                "");
    done(inst.error().with_context("instance " + std::to_string(slot) +
                                   ": cannot start the new process; the old one keeps serving"));
    return;
  }
  s.next = *inst;
  s.on_next = std::move(done);
  s.replace_why = why;
  spdlog::info("service \"{}\" instance {}: {}: started pid {} beside pid {}", config_.name, slot,
               why, s.next->pid(), s.current->pid());
}

void Service::update(config::ServiceConfig config, Done done) {
  if (reloading_) {
    if (pending_update_) {
      pending_update_->second(make_error(Errc::kCancelled, "superseded by a newer config"));
    }
    pending_update_.emplace(std::move(config), std::move(done));
    return;
  }
  // Keep the sockets whose address stays (old instances still serve on them); bind only new
  // addresses; a removed address closes once its last instance is gone.
  std::vector<std::shared_ptr<Listener>> kept(config.listen.size());
  for (size_t i = 0; i < config.listen.size(); ++i) {
    for (const auto& l : listeners_) {
      if (l && l->address.text == config.listen[i].text) kept[i] = l;
    }
  }
  listeners_ = std::move(kept);
  int old_count = static_cast<int>(slots_.size());
  config_ = std::move(config);
  // Slots past the new count stop; new slots start during the reload.
  for (int i = config_.instances; i < old_count; ++i) {
    Slot& s = slots_[static_cast<size_t>(i)];
    if (s.backoff) s.backoff->cancel();
    finish_start_waiters(s, make_error(Errc::kCancelled, "instance removed by config reload"));
    if (auto cb = std::move(s.on_next)) {
      s.on_next = nullptr;
      cb(make_error(Errc::kCancelled, "instance removed by config reload"));
    }
    for (auto* inst : {&s.current, &s.next}) {
      if (*inst) {
        stop_reasons_[inst->get()] = "instance removed by config reload";
        (*inst)->stop(config_.stop_signal, config_.stop_timeout);
      }
    }
  }
  slots_.resize(static_cast<size_t>(config_.instances));
  for (auto& s : slots_) s.tracker.reconfigure(config_);
  if (!want_running_) {
    done(ok());
    return;
  }
  reload(std::move(done));
}

void Service::sample(std::chrono::steady_clock::time_point now) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (!s.current || s.current->phase() == Instance::Phase::kExited) continue;
    auto stats = read_proc_stats(s.current->pid());
    if (!stats) continue;
    double elapsed = std::chrono::duration<double>(now - s.last_sample).count();
    // CPU % compares two samples of the same process; a new process starts over.
    if (s.sampled_pid == s.current->pid()) {
      s.cpu_percent = cpu_percent(s.last_stats, *stats, elapsed);
    } else {
      s.cpu_percent = 0;
      s.sampled_pid = s.current->pid();
    }
    s.last_stats = *stats;
    s.last_sample = now;
    s.rss_bytes = stats->rss_bytes;
    if (config_.max_memory_bytes && stats->rss_bytes > *config_.max_memory_bytes &&
        s.current->phase() == Instance::Phase::kReady && !s.next && !reloading_ &&
        now >= s.memory_retry_after) {
      std::string why = "memory " + format_size(stats->rss_bytes) + " above max_memory " +
                        format_size(*config_.max_memory_bytes);
      spdlog::warn("service \"{}\" instance {} pid {}: {}: replacing it", config_.name, i,
                   s.current->pid(), why);
      std::string name = config_.name;
      std::weak_ptr<Service> weak = weak_from_this();
      replace_slot(static_cast<int>(i), why, [weak, name, i](Status st) {
        if (st) return;
        spdlog::error("service \"{}\" instance {}: memory replacement failed: {}", name, i,
                      st.error().message);
        // The old instance keeps serving; try again later rather than every sample.
        if (auto self = weak.lock(); self && i < self->slots_.size()) {
          self->slots_[i].memory_retry_after = std::chrono::steady_clock::now() + kMemoryRetry;
        }
      });
    }
  }
}

std::vector<InstanceInfo> Service::instances() const {
  std::vector<InstanceInfo> out;
  auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    InstanceInfo info;
    info.service = config_.name;
    info.instance = static_cast<int>(i);
    info.restarts = s.tracker.restarts();
    info.state = state_name(static_cast<int>(s.state));
    if (s.current && s.current->phase() != Instance::Phase::kExited) {
      info.pid = s.current->pid();
      if (s.current->phase() == Instance::Phase::kStopping) info.state = "stopping";
      info.uptime_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - s.current->started()).count();
      info.cpu_percent = s.cpu_percent;
      info.rss_bytes = s.rss_bytes;
      if (info.rss_bytes == 0) {
        if (auto st = read_proc_stats(info.pid)) info.rss_bytes = st->rss_bytes;
      }
    }
    out.push_back(info);
  }
  return out;
}

void Service::on_output(Instance& inst, OutputStream stream, std::string_view lines) {
  (stream == OutputStream::kStdout ? out_log_ : err_log_)->append(lines);
  if (sinks_.empty()) return;
  std::erase_if(sinks_, [&](OutputSink& sink) { return !sink(stream, inst.slot(), lines); });
}

}  // namespace gc::supervisor

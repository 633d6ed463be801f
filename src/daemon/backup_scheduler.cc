// SPDX-License-Identifier: MIT
#include "daemon/backup_scheduler.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>

#include "backup/catalog.h"
#include "base/unique_fd.h"
#include "config/schedule.h"
#include "config/time_zone.h"

namespace gc::daemon {
namespace {

std::string utc_text(std::chrono::sys_seconds t) {
  std::time_t tt = t.time_since_epoch().count();
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::chrono::sys_seconds now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// The timer wakes at least this often and compares wall-clock time with the due time, so a
// clock step (NTP, a suspended VM) delays a run by at most this much.
constexpr auto kMaxSleep = std::chrono::seconds(60);

}  // namespace

BackupScheduler::BackupScheduler(boost::asio::io_context& io, std::string exe,
                                 std::string config_path, std::string log_dir)
    : io_(io),
      exe_(std::move(exe)),
      config_path_(std::move(config_path)),
      log_path_(log_dir + "/backup.log"),
      timer_(io),
      child_watch_(io) {}

void BackupScheduler::configure(const config::Config& cfg) {
  timer_.cancel();
  config_path_ = cfg.path;
  state_dir_ = cfg.server.state_dir;
  if (!cfg.backup) {
    schedule_.reset();
    next_.reset();
    return;
  }
  schedule_ = cfg.backup->schedule;
  next_ = config::next_after(*schedule_, now_seconds(), config::system_utc_offset());
  if (next_) spdlog::info("next backup at {}", utc_text(*next_));
  arm();
}

void BackupScheduler::arm() {
  if (!next_) return;
  auto wait = std::min<std::chrono::seconds>(
      std::max<std::chrono::seconds>(*next_ - now_seconds(), std::chrono::seconds(0)), kMaxSleep);
  timer_.expires_after(wait);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_timer();
  });
}

void BackupScheduler::on_timer() {
  if (!next_) return;
  if (now_seconds() < *next_) {
    arm();
    return;
  }
  if (child_) {
    spdlog::warn("scheduled backup skipped: the previous one (pid {}) is still running",
                 child_->pid());
  } else {
    start_run();
  }
  next_ = config::next_after(*schedule_, now_seconds(), config::system_utc_offset());
  arm();
}

void BackupScheduler::start_run() {
  auto log = open_fd(log_path_, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (!log) {
    last_exit_ = log.error().message;
    spdlog::error("scheduled backup not started: {}", log.error().message);
    return;
  }
  std::string header = "--- scheduled backup " + utc_text(now_seconds()) + "\n";
  (void)write_all(log->get(), header);
  SpawnOptions o;
  o.argv = {exe_, "-c", config_path_, "backup", "run", "--json"};
  o.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8"};
  o.stdout_fd = log->get();
  o.stderr_fd = log->get();
  o.parent_death_signal = SIGTERM;
  auto child = ChildProcess::spawn(o);
  if (!child) {
    last_exit_ = child.error().message;
    spdlog::error("scheduled backup not started: {}", child.error().message);
    return;
  }
  int dup = ::fcntl(child->pidfd(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    spdlog::error("scheduled backup: dup pidfd: {}", std::strerror(errno));
    (void)child->terminate(SIGTERM, std::chrono::seconds(10));
    return;
  }
  spdlog::info("scheduled backup started (pid {}), output in {}", child->pid(), log_path_);
  child_.emplace(std::move(*child));
  child_watch_.assign(dup);
  child_watch_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this](const boost::system::error_code& ec) {
                            if (!ec) on_exit();
                          });
}

void BackupScheduler::on_exit() {
  boost::system::error_code ignored;
  child_watch_.close(ignored);
  auto st = child_->wait();
  last_finished_ = utc_text(now_seconds());
  if (!st) {
    last_exit_ = st.error().message;
  } else {
    last_exit_ = st->success() ? "ok" : st->to_string();
    if (st->success()) {
      spdlog::info("scheduled backup finished");
    } else {
      spdlog::error("scheduled backup failed ({}); see {}", last_exit_, log_path_);
    }
  }
  child_.reset();
}

void BackupScheduler::stop() {
  timer_.cancel();
  next_.reset();
  if (child_) {
    boost::system::error_code ignored;
    child_watch_.close(ignored);
    (void)child_->terminate(SIGTERM, std::chrono::seconds(10));
    child_.reset();
  }
}

nlohmann::json BackupScheduler::status_json() const {
  nlohmann::json j = {
      {"enabled", schedule_.has_value()},          {"next_run", next_ ? utc_text(*next_) : ""},
      {"running_pid", child_ ? child_->pid() : 0}, {"last_exit", last_exit_},
      {"last_finished", last_finished_},           {"log", log_path_}};
  if (!schedule_ || state_dir_.empty()) return j;
  // The outcome of every run, scheduled or not, from the catalog: what monitoring alerts on.
  auto catalog = backup::Catalog::open(state_dir_);
  auto st =
      catalog ? catalog->status() : Result<backup::BackupStatus>(tl::unexpected(catalog.error()));
  if (!st) {
    j["catalog_error"] = st.error().message;
    return j;
  }
  auto run_json = [](const backup::CatalogRun& r) {
    return nlohmann::json{{"started_at", r.started_at},
                          {"finished_at", r.finished_at},
                          {"ok", r.ok},
                          {"set_id", r.set_id},
                          {"error", r.error}};
  };
  if (st->last_run) j["last_run"] = run_json(*st->last_run);
  if (st->last_success) j["last_success"] = run_json(*st->last_success);
  if (st->last_set) {
    j["last_set"] = {{"id", st->last_set->id},
                     {"bytes", st->last_set->bytes},
                     {"verify_result", st->last_set->verify_result},
                     {"upload", backup::upload_state_name(st->last_set->upload)}};
  }
  if (st->last_drill) {
    j["last_drill"] = {{"set_id", st->last_drill->set_id},
                       {"at", st->last_drill->at},
                       {"ok", st->last_drill->ok},
                       {"restore_seconds", st->last_drill->restore_seconds},
                       {"data_age_seconds", st->last_drill->data_age_seconds}};
  }
  j["oldest_pending_upload"] = st->oldest_pending_upload.value_or("");
  return j;
}

}  // namespace gc::daemon

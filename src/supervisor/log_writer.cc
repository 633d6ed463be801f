// SPDX-License-Identifier: MIT
#include "supervisor/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>

namespace gc::supervisor {
namespace {

// Compresses `src` into `dst` (via a temp file and rename). Level 1: rotated logs still shrink
// several times, and compression must keep up with an app that logs as fast as it can.
Status gzip_file(const std::string& src, const std::string& dst) {
  GC_ASSIGN_OR_RETURN(UniqueFd in, open_fd(src, O_RDONLY));
  std::string tmp = dst + ".tmp";
  gzFile out = ::gzopen(tmp.c_str(), "wb1e");
  if (out == nullptr) return sys_error("gzopen", tmp, errno);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::gzclose(out);
      ::unlink(tmp.c_str());
      return sys_error("read", src, errno);
    }
    if (n == 0) break;
    if (::gzwrite(out, buf, static_cast<unsigned>(n)) != n) {
      ::gzclose(out);
      ::unlink(tmp.c_str());
      return make_error(Errc::kIo, "gzip " + tmp + ": write failed");
    }
  }
  if (::gzclose(out) != Z_OK) {
    ::unlink(tmp.c_str());
    return make_error(Errc::kIo, "gzip " + tmp + ": close failed");
  }
  if (::rename(tmp.c_str(), dst.c_str()) != 0) return sys_error("rename", dst, errno);
  return ok();
}

}  // namespace

Status LogFile::open_if_needed() {
  if (fd_) return ok();
  GC_ASSIGN_OR_RETURN(fd_, open_fd(path_, O_WRONLY | O_CREAT | O_APPEND, 0640));
  struct stat st {};
  if (::fstat(fd_.get(), &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
  return ok();
}

Status LogFile::write(std::string_view data) {
  GC_TRY(open_if_needed());
  if (size_ > 0 && size_ + data.size() > max_size_) GC_TRY(rotate());
  GC_TRY(write_all(fd_.get(), data));
  size_ += data.size();
  return ok();
}

Status finish_rotation(const RotatedFile& r) {
  std::string fresh = r.base + ".0.gz";
  GC_TRY(gzip_file(r.plain, fresh));
  // Shift only now, so that base.1.gz is always the newest complete archive.
  ::unlink((r.base + "." + std::to_string(r.keep) + ".gz").c_str());
  for (int i = r.keep - 1; i >= 1; --i) {
    std::string from = r.base + "." + std::to_string(i) + ".gz";
    std::string to = r.base + "." + std::to_string(i + 1) + ".gz";
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
      return sys_error("rename", from, errno);
  }
  std::string first = r.base + ".1.gz";
  if (::rename(fresh.c_str(), first.c_str()) != 0) return sys_error("rename", first, errno);
  ::unlink(r.plain.c_str());
  return ok();
}

Status LogFile::rotate() {
  fd_.reset();
  size_ = 0;
  if (keep_ <= 0) {
    if (::truncate(path_.c_str(), 0) != 0 && errno != ENOENT)
      return sys_error("truncate", path_, errno);
    return open_if_needed();
  }
  // A rename is all the writer does: compressing 50 MiB takes long enough that a fast app would
  // overflow the queue meanwhile, so the gzip runs elsewhere (on_rotated_).
  RotatedFile job{
      path_ + ".rotating-" + std::to_string(::getpid()) + "-" + std::to_string(++rotations_), path_,
      keep_};
  if (::rename(path_.c_str(), job.plain.c_str()) != 0) {
    // ENOENT: someone removed the live file (`rm out.log`); there is nothing to compress.
    if (errno != ENOENT) return sys_error("rename", path_, errno);
    return open_if_needed();
  }
  GC_TRY(open_if_needed());
  if (on_rotated_) {
    on_rotated_(std::move(job));
    return ok();
  }
  return finish_rotation(job);
}

bool LogStream::append(std::string_view lines) {
  return writer_->enqueue(shared_from_this(), lines);
}

LogWriter::LogWriter(std::uint64_t max_queued_bytes)
    : max_queued_(max_queued_bytes),
      thread_([this] { run(); }),
      compressor_([this] { run_compressor(); }) {}

LogWriter::~LogWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  // The writer may have queued rotations until its last write: compress them all, then stop.
  {
    std::lock_guard lock(mu_);
    compressor_stopping_ = true;
  }
  compressor_cv_.notify_all();
  compressor_.join();
}

void LogWriter::run_compressor() {
  std::unique_lock lock(mu_);
  for (;;) {
    compressor_cv_.wait(lock, [this] { return compressor_stopping_ || !rotations_.empty(); });
    if (rotations_.empty()) return;
    RotatedFile job = std::move(rotations_.front());
    rotations_.pop_front();
    compressing_ = true;
    lock.unlock();
    // A failure leaves the plain rotated file behind: the lines are on disk, only uncompressed.
    (void)finish_rotation(job);
    lock.lock();
    compressing_ = false;
    idle_cv_.notify_all();
  }
}

std::shared_ptr<LogStream> LogWriter::open_stream(std::string path, std::uint64_t max_size_bytes,
                                                  int keep) {
  std::shared_ptr<LogStream> stream(
      new LogStream(this, LogFile(std::move(path), max_size_bytes, keep)));
  stream->file_.set_rotation_handler([this](RotatedFile job) {
    {
      std::lock_guard lock(mu_);
      rotations_.push_back(std::move(job));
    }
    compressor_cv_.notify_all();
  });
  return stream;
}

bool LogWriter::enqueue(const std::shared_ptr<LogStream>& stream, std::string_view data) {
  {
    std::lock_guard lock(mu_);
    if (queued_ + data.size() > max_queued_) {
      stream->stats_.dropped_bytes += data.size();
      return false;
    }
    queued_ += data.size();
    // Coalesce consecutive writes to the same file into one write() on the writer thread.
    if (!queue_.empty() && queue_.back().stream == stream &&
        queue_.back().data.size() < (1u << 20)) {
      queue_.back().data.append(data);
    } else {
      queue_.push_back(Chunk{stream, std::string(data)});
    }
  }
  cv_.notify_one();
  return true;
}

void LogWriter::flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock,
                [this] { return queue_.empty() && !busy_ && rotations_.empty() && !compressing_; });
}

void LogWriter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    std::deque<Chunk> batch;
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    std::uint64_t done = 0;
    for (auto& chunk : batch) {
      auto& stats = chunk.stream->stats_;
      if (chunk.stream->file_.write(chunk.data)) {
        stats.written_bytes += chunk.data.size();
      } else {
        // A full disk or a removed directory: count and go on; the next write retries.
        stats.write_errors += 1;
        stats.dropped_bytes += chunk.data.size();
      }
      done += chunk.data.size();
    }
    batch.clear();  // Release stream references outside the lock.
    lock.lock();
    queued_ -= done;
    busy_ = false;
    idle_cv_.notify_all();
  }
}

}  // namespace gc::supervisor

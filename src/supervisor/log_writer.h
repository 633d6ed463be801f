// SPDX-License-Identifier: MIT
// supervisor/log_writer.h: captured service output goes to files on one writer thread, so a slow
// disk never stalls the event loop, and therefore never blocks a child on a full pipe. The queue
// is bounded: past the bound, bytes are dropped and counted, never the child blocked.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "base/unique_fd.h"

namespace gc::supervisor {

// A log file just moved aside by rotation, waiting to become "<base>.1.gz".
struct RotatedFile {
  std::string plain;  // "<base>.rotating-PID-N", not compressed yet.
  std::string base;
  int keep = 0;
};

// Compresses r.plain into "<base>.1.gz", shifting older archives up and dropping those past
// `keep`, then removes r.plain. Blocks (gzip). Errors follow errno; r.plain then stays.
Status finish_rotation(const RotatedFile& r);

// One rotated log file: "<path>", "<path>.1.gz" ... "<path>.<keep>.gz". Used on one thread.
class LogFile {
 public:
  LogFile(std::string path, std::uint64_t max_size_bytes, int keep)
      : path_(std::move(path)), max_size_(max_size_bytes), keep_(keep) {}
  // Appends, rotating first when the file would pass max_size. Errors follow errno.
  Status write(std::string_view data);
  // Moves the current file aside and reopens; the moved file becomes .1.gz (older ones shift,
  // those past `keep` go) through the rotation handler, or right here without one.
  Status rotate();
  // Takes rotated files instead of compressing them inline (LogWriter's compressor thread).
  void set_rotation_handler(std::function<void(RotatedFile)> handler) {
    on_rotated_ = std::move(handler);
  }
  const std::string& path() const { return path_; }

 private:
  Status open_if_needed();
  std::string path_;
  std::uint64_t max_size_;
  int keep_;
  UniqueFd fd_;
  std::uint64_t size_ = 0;
  std::uint64_t rotations_ = 0;
  std::function<void(RotatedFile)> on_rotated_;
};

// Counters for one stream; read from any thread.
struct LogStreamStats {
  std::atomic<std::uint64_t> written_bytes{0};
  std::atomic<std::uint64_t> dropped_bytes{0};
  std::atomic<std::uint64_t> write_errors{0};
};

class LogWriter;

// A handle to one log file owned by a LogWriter. append() is for the event-loop thread.
class LogStream : public std::enable_shared_from_this<LogStream> {
 public:
  // Queues whole lines. Never blocks on I/O: returns false (and counts the bytes as dropped)
  // when the writer's queue is full.
  bool append(std::string_view lines);
  const LogStreamStats& stats() const { return stats_; }
  const std::string& path() const { return file_.path(); }

 private:
  friend class LogWriter;
  LogStream(LogWriter* writer, LogFile file) : writer_(writer), file_(std::move(file)) {}
  LogWriter* writer_;
  LogFile file_;  // Touched only on the writer thread.
  LogStreamStats stats_;
};

class LogWriter {
 public:
  explicit LogWriter(std::uint64_t max_queued_bytes = 16ull * 1024 * 1024);
  ~LogWriter();  // Writes what is queued, then joins the thread.
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // The stream stays valid while the returned pointer (or a queued write) holds it.
  std::shared_ptr<LogStream> open_stream(std::string path, std::uint64_t max_size_bytes, int keep);
  // Blocks until everything queued so far is written and every rotated file compressed.
  void flush();

 private:
  friend class LogStream;
  bool enqueue(const std::shared_ptr<LogStream>& stream, std::string_view data);
  void run();
  void run_compressor();

  struct Chunk {
    std::shared_ptr<LogStream> stream;
    std::string data;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::condition_variable compressor_cv_;
  std::deque<Chunk> queue_;            // Guarded by mu_.
  std::uint64_t queued_ = 0;           // Guarded by mu_.
  bool busy_ = false;                  // Guarded by mu_.
  bool stopping_ = false;              // Guarded by mu_.
  std::deque<RotatedFile> rotations_;  // Guarded by mu_.
  bool compressing_ = false;           // Guarded by mu_.
  bool compressor_stopping_ = false;   // Guarded by mu_.
  std::uint64_t max_queued_;
  std::thread thread_;      // Writes queued chunks.
  std::thread compressor_;  // Compresses rotated files, so writing never waits for gzip.
};

}  // namespace gc::supervisor

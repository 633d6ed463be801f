// SPDX-License-Identifier: MIT
// tests/support/s3_server.h: a real S3 server for tests: s3rver (npm) behind
// tests/fixtures/s3/server.js, which adds SigV4 signature checks and injected faults. Runs on
// 127.0.0.1, port 0, data in a TempDir; stopped by PID.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"
#include "base/temp_dir.h"

namespace gc::storage::testing {

// The credentials the fixture accepts.
inline constexpr const char* kAccessKey = "S3RVER";
inline constexpr const char* kSecretKey = "S3RVER";

class S3Server {
 public:
  // Starts the server with `buckets` created and waits until it listens. Errors name the
  // missing fixture (run scripts/install-deps) or quote the server's log.
  static Result<S3Server> start(const std::vector<std::string>& buckets);
  S3Server(S3Server&&) noexcept = default;
  S3Server& operator=(S3Server&&) noexcept = delete;
  ~S3Server();  // SIGTERM to the server's PID, then SIGKILL if it lingers.

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // The file in which s3rver keeps the content of `key`.
  std::string object_file(const std::string& bucket, const std::string& key) const;
  // The file in which s3rver keeps the metadata (x-amz-meta-* headers) of `key`, as JSON.
  std::string metadata_file(const std::string& bucket, const std::string& key) const;
  // The next `count` requests whose URL contains `match` are answered with `status` (503,
  // 429...) before any other check. fail_next(0, 0) disarms.
  Status fail_next(int status, int count, const std::string& match = "");
  // The next `count` GETs send `bytes` of the body, then the connection ends.
  Status truncate_next_gets(int bytes, int count);

 private:
  S3Server(TempDir dir, ChildProcess child, int port)
      : dir_(std::move(dir)), child_(std::move(child)), port_(port) {}
  Status control(const std::string& query);
  TempDir dir_;
  ChildProcess child_;
  int port_;
};

}  // namespace gc::storage::testing

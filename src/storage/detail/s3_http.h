// SPDX-License-Identifier: MIT
// storage/detail/s3_http.h: one SigV4-signed HTTP exchange with an S3 endpoint over a reused
// libcurl handle, with the retry policy (backoff, which failures repeat) and streaming in both
// directions. S3Store builds the requests; this file knows HTTP and curl, not S3 operations.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/byte_sink.h"
#include "base/result.h"
#include "base/units.h"
#include "storage/detail/sha256.h"

namespace gc::storage::detail {

// Hashes each byte of a file exactly once and in order, however often ranges of it are read
// again (a retried part, curl rewinding a body): feed() ignores what it has already seen.
class OnceHasher {
 public:
  explicit OnceHasher(Sha256 hash) : hash_(std::move(hash)) {}
  void feed(std::uint64_t offset, std::span<const std::uint8_t> data);
  std::uint64_t hashed_bytes() const { return next_; }
  std::string finish_hex() { return hash_.finish_hex(); }

 private:
  Sha256 hash_;
  std::uint64_t next_ = 0;
};

// A request body read from a byte range of an open file, with pread (the fd's offset is not
// used). The caller keeps the fd open during send().
struct FileBody {
  int fd = -1;
  std::string path;  // For messages.
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  OnceHasher* hasher = nullptr;  // Optional; sees every byte that is sent.
};

struct HttpRequest {
  const char* method = "GET";        // GET, HEAD, PUT, POST, DELETE.
  std::string url;                   // Path and query already in SigV4 canonical form.
  std::vector<std::string> headers;  // "Name: value"; all of them are signed.
  // x-amz-content-sha256: the body's hex SHA-256 (S3 checks it) or "UNSIGNED-PAYLOAD". Empty:
  // the SHA-256 of `body`.
  std::string payload_sha256;
  std::string body;                   // In-memory body (POST); ignored with file_body.
  std::optional<FileBody> file_body;  // Streamed body (PUT).
  // For GET: a 2xx body goes here, in order, exactly once across retries, instead of into
  // HttpResponse::body. An error from it ends send() with that error, unretried.
  ByteSink* sink = nullptr;
  // S3 may answer CompleteMultipartUpload with 200 and an <Error> body: treat that as a 500.
  bool error_may_hide_in_200 = false;
  // Return a 404 answer (with its body) instead of an error, for callers that tell "no such
  // key" from "no such bucket" themselves.
  bool not_found_is_answer = false;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // Names lowercased; the last block's headers.
  std::string body;  // Unless streamed into a sink; error bodies capped at 1 MiB.
  std::int64_t last_modified_unix = -1;  // From Last-Modified, when curl could parse it.
};

struct HttpOptions {
  std::string region;
  std::string access_key_id;
  std::string secret_access_key;
  int max_attempts = 5;
  Duration initial_backoff{1000};
  Duration max_backoff{30000};
  Duration connect_timeout{10000};
  std::uint32_t low_speed_limit_bytes_per_second = 1;
  Duration low_speed_time{60000};
};

class S3Http {
 public:
  // Errors: kInternal if libcurl cannot initialise.
  static Result<S3Http> create(HttpOptions options);
  S3Http(S3Http&&) noexcept;
  S3Http& operator=(S3Http&&) noexcept;
  ~S3Http();

  // Sends `request` until it gets a 2xx answer, a failure that is not worth repeating, or
  // max_attempts run out. Returns the 2xx answer (304 and other non-2xx are errors). Errors
  // carry Errc from errc_for_s3_answer or the curl failure, and messages like
  // "HTTP 403 SignatureDoesNotMatch: <S3's message> (after 3 attempts)"; never a credential.
  // Blocks, sleeping between attempts.
  Result<HttpResponse> send(const HttpRequest& request);

  std::uint64_t requests_sent() const;

 private:
  struct State;
  explicit S3Http(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace gc::storage::detail

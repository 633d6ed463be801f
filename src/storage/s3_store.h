// SPDX-License-Identifier: MIT
// storage/s3_store.h: an ObjectStore in a bucket of an S3-compatible service (AWS, DigitalOcean
// Spaces, MinIO, Backblaze B2, Cloudflare R2), over libcurl with SigV4 signing. Large files go
// up in parts; every upload is read back with HEAD; every download is checked against the
// sha256 the upload stored in the object's metadata (x-amz-meta-sha256).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/units.h"
#include "storage/credentials.h"
#include "storage/object_store.h"

namespace gc::storage {

struct S3Config {
  // "https://nyc3.digitaloceanspaces.com", "http://127.0.0.1:9000": scheme, host, optional
  // port; no path, no user:password (credentials come from `credentials` only).
  std::string endpoint;
  std::string region = "us-east-1";  // Part of the signature; most non-AWS services ignore it.
  std::string bucket;
  // Prepended to every key, e.g. "groundctl/orbital-prod-1/"; list() and its results are
  // relative to it. Must not start with '/'.
  std::string prefix;
  S3Credentials credentials;
  // true: <endpoint>/<bucket>/<key>, which works everywhere, IP endpoints included.
  // false: <bucket>.<endpoint host>/<key> (virtual-hosted style, needs a DNS name).
  bool path_style = true;
  // Files above this size go up as a multipart upload. S3 allows 5 GiB in one PUT.
  std::uint64_t multipart_threshold_bytes = 64ull << 20;
  // Size of each part but the last. S3 wants at least 5 MiB (it answers EntityTooSmall), and at
  // most 10000 parts: for a bigger file the part size grows to fit.
  std::uint64_t part_size_bytes = 16ull << 20;
  int list_page_size = 1000;  // max-keys of each ListObjectsV2 request (S3's maximum).
  // Attempts per HTTP request, the first included. Connection errors, timeouts, 5xx, 429 and
  // RequestTimeout are retried after a backoff that doubles from initial_backoff up to
  // max_backoff (with jitter); other 4xx answers, auth errors among them, never are.
  int max_attempts = 5;
  Duration initial_backoff = std::chrono::seconds(1);
  Duration max_backoff = std::chrono::seconds(30);
  Duration connect_timeout = std::chrono::seconds(10);
  // A transfer slower than low_speed_limit for low_speed_time is abandoned (then retried), so
  // a dead endpoint fails in bounded time without capping how long a big upload may take.
  // curl counts low_speed_time in whole seconds (rounded up, at least 1).
  std::uint32_t low_speed_limit_bytes_per_second = 1;
  Duration low_speed_time = std::chrono::seconds(60);
};

class S3Store final : public ObjectStore {
 public:
  // Checks the config (no network). Errors: kInvalidConfig naming the field; the message never
  // contains the secret.
  static Result<S3Store> create(S3Config config);

  S3Store(S3Store&&) noexcept;
  S3Store& operator=(S3Store&&) noexcept;
  ~S3Store() override;

  // "s3 <endpoint> bucket <bucket>[ prefix <prefix>]".
  std::string describe() const override;
  // Below multipart_threshold_bytes: one PUT whose payload hash is signed (SigV4), so S3 itself
  // rejects a body that does not match. Above: initiate, upload parts (each with its signed
  // hash) one after another, complete; any failure aborts the upload. Then HEAD checks size and
  // sha256. Error messages carry S3's error Code and Message and the attempt count.
  Status put_file(std::string_view key, const std::string& path,
                  const ObjectMetadata& metadata) override;
  // A transfer cut off midway is resumed with a Range request (If-Match the first ETag), so
  // the sink sees every byte exactly once.
  Status get(std::string_view key, ByteSink&& sink) override;
  Result<ObjectInfo> head(std::string_view key) override;
  // ListObjectsV2, following continuation tokens.
  Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
  Status remove(std::string_view key) override;

  // HTTP requests sent so far, retries included: lets tests check retry behaviour.
  std::uint64_t requests_sent_for_test() const;

 private:
  struct Impl;
  explicit S3Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gc::storage

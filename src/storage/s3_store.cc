// SPDX-License-Identifier: MIT
#include "storage/s3_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "base/unique_fd.h"
#include "storage/detail/s3_http.h"
#include "storage/detail/sha256.h"
#include "storage/s3_protocol.h"

namespace gc::storage {
namespace {

using detail::FileBody;
using detail::HttpRequest;
using detail::HttpResponse;
using detail::OnceHasher;
using detail::Sha256;

// S3 allows at most 10000 parts per upload.
constexpr std::uint64_t kMaxParts = 10000;

bool has_control_or_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

Error config_error(std::string_view what) {
  return make_error(Errc::kInvalidConfig, "s3 storage: " + std::string(what));
}

// Hashes bytes [offset, offset+length) of the file, also feeding `once`, so a part's SHA-256
// can be signed before the part is sent (S3 then rejects a body that does not match it).
Result<std::string> hash_range(int fd, const std::string& path, std::uint64_t offset,
                               std::uint64_t length, OnceHasher& once) {
  GC_ASSIGN_OR_RETURN(Sha256 hash, Sha256::create());
  std::vector<std::uint8_t> buf(1 << 16);
  std::uint64_t done = 0;
  while (done < length) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length - done));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read", path, errno);
    if (n == 0) return make_error(Errc::kIo, path + " became shorter while being uploaded");
    std::span<const std::uint8_t> chunk(buf.data(), static_cast<std::size_t>(n));
    hash.update(chunk);
    once.feed(offset + done, chunk);
    done += static_cast<std::uint64_t>(n);
  }
  return hash.finish_hex();
}

// An answer S3Store cannot use is the server's fault, not the caller's argument.
Error unexpected_answer(std::string_view what, const Error& e) {
  return make_error(Errc::kIo, "unexpected answer to " + std::string(what) + ": " + e.message);
}

}  // namespace

struct S3Store::Impl {
  S3Config config;
  std::string origin;  // "https://host:port", or "https://bucket.host:port" virtual-hosted.
  detail::S3Http http;

  std::string describe() const {
    std::string d = "s3 " + config.endpoint + " bucket " + config.bucket;
    if (!config.prefix.empty()) d += " prefix " + config.prefix;
    return d;
  }
  Error fail(std::string_view op, std::string_view key, const Error& e) const {
    return Error{e.code, describe() + ": " + std::string(op) + " \"" + std::string(key) +
                             "\": " + e.message};
  }
  std::string bucket_url(const std::string& query) const {
    std::string url =
        origin + (config.path_style ? "/" + s3_uri_encode(config.bucket, false) : "/");
    return query.empty() ? url : url + "?" + query;
  }
  std::string object_url(std::string_view full_key, const std::string& query) const {
    std::string url = origin + "/";
    if (config.path_style) url += s3_uri_encode(config.bucket, false) + "/";
    url += s3_uri_encode(full_key, true);
    return query.empty() ? url : url + "?" + query;
  }

  Status put(std::string_view key, const std::string& path, const ObjectMetadata& metadata);
  Status put_single(const std::string& full, const FileBody& body, const std::string& sha256);
  Status put_multipart(const std::string& full, const FileBody& body, const std::string& sha256);
  Result<std::vector<S3Part>> upload_parts(const std::string& full, const FileBody& body,
                                           const std::string& upload_id);
  Status complete(const std::string& full, const std::string& upload_id,
                  const std::vector<S3Part>& parts);
  Result<ObjectInfo> head(const std::string& full);
  Status remove(const std::string& full);
};

S3Store::S3Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3Store::S3Store(S3Store&&) noexcept = default;
S3Store& S3Store::operator=(S3Store&&) noexcept = default;
S3Store::~S3Store() = default;

Result<S3Store> S3Store::create(S3Config config) {
  std::string_view ep = config.endpoint;
  while (!ep.empty() && ep.back() == '/') ep.remove_suffix(1);
  std::string_view scheme;
  if (ep.substr(0, 7) == "http://") {
    scheme = "http://";
  } else if (ep.substr(0, 8) == "https://") {
    scheme = "https://";
  } else {
    return config_error("endpoint must start with http:// or https://");
  }
  std::string_view authority = ep.substr(scheme.size());
  // Checked before anything echoes the endpoint: user:password@host must never reach a log.
  if (authority.find('@') != std::string_view::npos) {
    return config_error("endpoint must not contain user:password@; use the credentials file");
  }
  if (authority.empty() || authority.find('/') != std::string_view::npos ||
      authority.find('?') != std::string_view::npos || has_control_or_space(authority)) {
    return config_error("endpoint " + config.endpoint +
                        " must be scheme://host[:port] with no path or query");
  }
  if (config.bucket.empty() || config.bucket.size() > 255 ||
      config.bucket.find('/') != std::string::npos || has_control_or_space(config.bucket)) {
    return config_error("bucket \"" + config.bucket + "\" is not a valid bucket name");
  }
  if (config.region.empty() || config.region.find(':') != std::string::npos ||
      has_control_or_space(config.region)) {
    return config_error("region \"" + config.region + "\" is not a valid region name");
  }
  // The prefix joins every key, so it must keep every key valid ("a/../" would not).
  if (auto valid = check_prefix(config.prefix); !valid) return config_error(valid.error().message);
  if (config.credentials.access_key_id.empty() || config.credentials.secret_access_key.empty()) {
    return config_error("access key id and secret access key are required");
  }
  if (config.max_attempts < 1) return config_error("max_attempts must be at least 1");
  if (config.part_size_bytes == 0) return config_error("part_size must be positive");
  if (config.list_page_size < 1 || config.list_page_size > 1000) {
    return config_error("list_page_size must be 1 to 1000");
  }
  detail::HttpOptions http_options;
  http_options.region = config.region;
  http_options.access_key_id = config.credentials.access_key_id;
  http_options.secret_access_key = config.credentials.secret_access_key;
  http_options.max_attempts = config.max_attempts;
  http_options.initial_backoff = config.initial_backoff;
  http_options.max_backoff = config.max_backoff;
  http_options.connect_timeout = config.connect_timeout;
  http_options.low_speed_limit_bytes_per_second = config.low_speed_limit_bytes_per_second;
  http_options.low_speed_time = config.low_speed_time;
  GC_ASSIGN_OR_RETURN(detail::S3Http http, detail::S3Http::create(std::move(http_options)));
  std::string origin(scheme);
  if (!config.path_style) origin += config.bucket + ".";
  origin += authority;
  config.endpoint = std::string(ep);
  return S3Store(
      std::make_unique<Impl>(Impl{std::move(config), std::move(origin), std::move(http)}));
}

std::string S3Store::describe() const { return impl_->describe(); }

std::uint64_t S3Store::requests_sent_for_test() const { return impl_->http.requests_sent(); }

Status S3Store::put_file(std::string_view key, const std::string& path,
                         const ObjectMetadata& metadata) {
  auto st = impl_->put(key, path, metadata);
  if (!st) return impl_->fail("put", key, st.error());
  return ok();
}

Status S3Store::Impl::put(std::string_view key, const std::string& path,
                          const ObjectMetadata& metadata) {
  GC_TRY(check_key(key));
  if (!metadata.sha256.empty() && !is_sha256_hex(metadata.sha256)) {
    return make_error(Errc::kInvalidArgument, "metadata sha256 is not 64 lowercase hex digits");
  }
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return make_error(Errc::kInvalidArgument, path + " is not a regular file");
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  std::string expected = metadata.sha256;
  if (expected.empty()) {
    // The sha256 travels in the request headers, so it must be known before the first byte.
    GC_ASSIGN_OR_RETURN(expected, detail::sha256_file_hex(path));
  }
  GC_ASSIGN_OR_RETURN(Sha256 hash, Sha256::create());
  OnceHasher once(std::move(hash));
  FileBody body{fd.get(), path, 0, size, &once};
  std::string full = config.prefix + std::string(key);
  if (size <= config.multipart_threshold_bytes) {
    GC_TRY(put_single(full, body, expected));
  } else {
    GC_TRY(put_multipart(full, body, expected));
  }
  // Every byte that went out was hashed once, in order, on its way.
  if (once.hashed_bytes() != size) {
    return make_error(Errc::kInternal, "sent " + std::to_string(once.hashed_bytes()) +
                                           " bytes of " + std::to_string(size));
  }
  std::string sent = once.finish_hex();
  if (sent != expected) {
    static_cast<void>(remove(full));
    return make_error(Errc::kCorrupt, "content of " + path + " has sha256 " + sent +
                                          ", not the expected " + expected +
                                          " (was the file modified?); the upload was removed");
  }
  GC_ASSIGN_OR_RETURN(ObjectInfo info, head(full));
  if (info.size_bytes != size || info.sha256 != expected) {
    return make_error(Errc::kCorrupt,
                      "after the upload the store reports " + std::to_string(info.size_bytes) +
                          " bytes with sha256 \"" + info.sha256 + "\", but " +
                          std::to_string(size) + " bytes with sha256 " + expected + " were sent");
  }
  return ok();
}

Status S3Store::Impl::put_single(const std::string& full, const FileBody& body,
                                 const std::string& sha256) {
  HttpRequest r;
  r.method = "PUT";
  r.url = object_url(full, "");
  r.headers = {"Content-Type: application/octet-stream", "x-amz-meta-sha256: " + sha256};
  // A signed payload hash: S3 recomputes it and refuses a body that differs
  // (XAmzContentSHA256Mismatch), which covers plain-http endpoints too.
  r.payload_sha256 = sha256;
  r.file_body = body;
  GC_TRY(http.send(r));
  return ok();
}

Status S3Store::Impl::put_multipart(const std::string& full, const FileBody& body,
                                    const std::string& sha256) {
  HttpRequest init;
  init.method = "POST";
  init.url = object_url(full, s3_canonical_query({{"uploads", ""}}));
  init.headers = {"Content-Type: application/octet-stream", "x-amz-meta-sha256: " + sha256};
  GC_ASSIGN_OR_RETURN(HttpResponse initiated, http.send(init));
  auto upload_id = parse_initiate_multipart(initiated.body);
  if (!upload_id) return unexpected_answer("initiate multipart upload", upload_id.error());

  auto parts = upload_parts(full, body, *upload_id);
  Status st = parts ? complete(full, *upload_id, *parts) : Status(parts.error());
  if (st) return ok();
  // Parts of an unfinished upload are stored (and billed) until it is aborted.
  HttpRequest abort;
  abort.method = "DELETE";
  abort.url = object_url(full, s3_canonical_query({{"uploadId", *upload_id}}));
  auto aborted = http.send(abort);
  Error e = st.error();
  if (!aborted) {
    e.message += "; aborting upload " + *upload_id + " failed too (" + aborted.error().message +
                 "), so its parts stay until a lifecycle rule removes them";
  }
  return e;
}

Result<std::vector<S3Part>> S3Store::Impl::upload_parts(const std::string& full,
                                                        const FileBody& body,
                                                        const std::string& upload_id) {
  std::uint64_t part_size =
      std::max(config.part_size_bytes, (body.length + kMaxParts - 1) / kMaxParts);
  std::vector<S3Part> parts;
  int number = 1;
  for (std::uint64_t offset = 0; offset < body.length; offset += part_size, ++number) {
    std::string name = "part " + std::to_string(number);
    FileBody part = body;
    part.offset = offset;
    part.length = std::min(part_size, body.length - offset);
    HttpRequest r;
    r.method = "PUT";
    r.url = object_url(full, s3_canonical_query({{"partNumber", std::to_string(number)},
                                                 {"uploadId", upload_id}}));
    GC_ASSIGN_OR_RETURN(r.payload_sha256,
                        hash_range(part.fd, part.path, part.offset, part.length, *part.hasher));
    r.file_body = part;
    auto answer = http.send(r);
    if (!answer) return answer.error().with_context(name);
    auto etag = answer->headers.find("etag");
    if (etag == answer->headers.end() || etag->second.empty()) {
      return make_error(Errc::kIo, name + ": no ETag in the answer");
    }
    parts.push_back(S3Part{number, etag->second});
  }
  return parts;
}

Status S3Store::Impl::complete(const std::string& full, const std::string& upload_id,
                               const std::vector<S3Part>& parts) {
  HttpRequest r;
  r.method = "POST";
  r.url = object_url(full, s3_canonical_query({{"uploadId", upload_id}}));
  r.headers = {"Content-Type: application/xml"};
  r.body = complete_multipart_xml(parts);
  r.error_may_hide_in_200 = true;
  auto answer = http.send(r);
  if (!answer) {
    // A retried complete whose first try did succeed finds the upload gone (NoSuchUpload);
    // the HEAD check that follows tells whether the object is whole.
    if (answer.error().code == Errc::kNotFound) return ok();
    return answer.error().with_context("complete multipart upload");
  }
  auto etag = parse_complete_multipart(answer->body);
  if (!etag) return unexpected_answer("complete multipart upload", etag.error());
  return ok();
}

Status S3Store::get(std::string_view key, ByteSink&& sink) {
  auto get = [&]() -> Status {
    GC_TRY(check_key(key));
    GC_ASSIGN_OR_RETURN(Sha256 hash, Sha256::create());
    ByteSink hashing = [&](std::span<const std::uint8_t> chunk) -> Status {
      hash.update(chunk);
      return sink(chunk);
    };
    HttpRequest r;
    r.url = impl_->object_url(impl_->config.prefix + std::string(key), "");
    r.sink = &hashing;
    GC_ASSIGN_OR_RETURN(HttpResponse answer, impl_->http.send(r));
    auto meta = answer.headers.find("x-amz-meta-sha256");
    if (meta == answer.headers.end() || meta->second.empty()) return ok();
    if (!is_sha256_hex(meta->second)) {
      return make_error(Errc::kCorrupt,
                        "its sha256 metadata \"" + meta->second + "\" is malformed");
    }
    std::string actual = hash.finish_hex();
    if (actual != meta->second) {
      return make_error(Errc::kCorrupt, "content has sha256 " + actual + " but its metadata says " +
                                            meta->second + ": the stored object is corrupt");
    }
    return ok();
  };
  auto st = get();
  if (!st) return impl_->fail("get", key, st.error());
  return ok();
}

Result<ObjectInfo> S3Store::Impl::head(const std::string& full) {
  HttpRequest r;
  r.method = "HEAD";
  r.url = object_url(full, "");
  GC_ASSIGN_OR_RETURN(HttpResponse answer, http.send(r));
  ObjectInfo info;
  info.key = full.substr(config.prefix.size());
  const std::string& length = answer.headers["content-length"];
  auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), info.size_bytes);
  if (ec != std::errc() || end != length.data() + length.size() || length.empty()) {
    return make_error(Errc::kIo, "unexpected answer to HEAD: Content-Length \"" + length + "\"");
  }
  if (answer.last_modified_unix >= 0) {
    info.last_modified = SystemTime(std::chrono::seconds(answer.last_modified_unix));
  }
  info.sha256 = answer.headers["x-amz-meta-sha256"];
  return info;
}

Result<ObjectInfo> S3Store::head(std::string_view key) {
  auto head = [&]() -> Result<ObjectInfo> {
    GC_TRY(check_key(key));
    return impl_->head(impl_->config.prefix + std::string(key));
  };
  auto info = head();
  if (!info) return impl_->fail("head", key, info.error());
  return info;
}

Result<std::vector<ObjectInfo>> S3Store::list(std::string_view prefix) {
  const S3Config& c = impl_->config;
  if (auto valid = check_prefix(prefix); !valid) return impl_->fail("list", prefix, valid.error());
  std::string full_prefix = c.prefix + std::string(prefix);
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"list-type", "2"},
        {"max-keys", std::to_string(c.list_page_size)},
        {"prefix", full_prefix}};
    if (!token.empty()) params.emplace_back("continuation-token", token);
    HttpRequest r;
    r.url = impl_->bucket_url(s3_canonical_query(std::move(params)));
    auto answer = impl_->http.send(r);
    if (!answer) return impl_->fail("list", prefix, answer.error());
    auto page = parse_list_objects_v2(answer->body);
    if (!page) return impl_->fail("list", prefix, unexpected_answer("ListObjectsV2", page.error()));
    for (auto& object : page->objects) {
      if (object.key.compare(0, c.prefix.size(), c.prefix) != 0) continue;
      object.key.erase(0, c.prefix.size());
      out.push_back(std::move(object));
    }
    if (!page->is_truncated) break;
    // A server that hands back the same token would have us loop forever.
    if (page->next_continuation_token == token) {
      return impl_->fail("list", prefix,
                         make_error(Errc::kIo, "the server repeated a continuation token"));
    }
    token = std::move(page->next_continuation_token);
  }
  // S3 already answers in key order; compatible servers are not all as careful.
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status S3Store::Impl::remove(const std::string& full) {
  HttpRequest r;
  r.method = "DELETE";
  r.url = object_url(full, "");
  r.not_found_is_answer = true;
  GC_ASSIGN_OR_RETURN(HttpResponse answer, http.send(r));
  // AWS answers 204 for a missing key; some compatible stores say 404 NoSuchKey. Both mean
  // the key is gone; a missing bucket is a real error.
  if (answer.status == 404) {
    auto info = parse_s3_error(answer.body);
    if (info && info->code == "NoSuchBucket") {
      return make_error(Errc::kNotFound, "HTTP 404 NoSuchBucket: " + info->message);
    }
  }
  return ok();
}

Status S3Store::remove(std::string_view key) {
  auto remove = [&]() -> Status {
    GC_TRY(check_key(key));
    return impl_->remove(impl_->config.prefix + std::string(key));
  };
  auto st = remove();
  if (!st) return impl_->fail("remove", key, st.error());
  return ok();
}

}  // namespace gc::storage

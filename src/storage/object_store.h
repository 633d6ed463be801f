// SPDX-License-Identifier: MIT
// storage/object_store.h: where the backup repository keeps its files: a flat namespace of keys
// ("db/2024-05-01T03:00:00Z.dump.zst.age") mapped to immutable blobs with a SHA-256 in their
// metadata. Two implementations: LocalStore (a directory) and S3Store (an S3-compatible bucket).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_sink.h"
#include "base/result.h"

namespace gc::storage {

using SystemTime = std::chrono::system_clock::time_point;

// What is written with an object.
struct ObjectMetadata {
  // Lowercase hex SHA-256 of the content (64 characters). Empty: put_file computes it first (one
  // extra read of the file). Either way the uploaded bytes are hashed as they are sent, and a
  // mismatch fails the put, so a file that changed underneath never lands with a wrong hash.
  std::string sha256;
};

// What a store knows about one object.
struct ObjectInfo {
  std::string key;
  std::uint64_t size_bytes = 0;
  SystemTime last_modified{};
  // From the object's metadata; empty when the object has none (written by another tool) and
  // always empty in list() results, which do not carry metadata.
  std::string sha256;
};

// The interface. Implementations block on I/O and are not thread-safe: use one instance per
// thread (they are cheap). Every error message starts with describe() and names the key.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // "s3 https://nyc3.digitaloceanspaces.com bucket backups prefix groundctl/" or
  // "local /srv/backups": for messages and logs. Never contains credentials.
  virtual std::string describe() const = 0;

  // Stores the regular file at `path` under `key`, replacing any object of that key, streaming
  // it (never held in memory). When this returns ok the object is durable and its size and
  // sha256 were checked against what the store reports. After an error the key holds either
  // the previous object or nothing. Errors: kInvalidArgument (bad key or sha256 text),
  // kNotFound/kPermission/kIo for the source file, kCorrupt (the file does not match
  // metadata.sha256, or the store reports something else than was sent), and the store's own
  // (kPermission, kUnavailable, kTimeout, kIo...).
  virtual Status put_file(std::string_view key, const std::string& path,
                          const ObjectMetadata& metadata) = 0;

  // Streams the object's bytes into `sink`, in order. When the object has sha256 metadata the
  // bytes are hashed on the way and a mismatch returns kCorrupt naming the key; the sink has
  // then already seen the bad bytes, so whoever drives it must discard its output on any error.
  // An error from `sink` stops the transfer and is returned as is. Errors: kNotFound, kCorrupt,
  // kPermission, kUnavailable, kTimeout, kIo.
  virtual Status get(std::string_view key, ByteSink&& sink) = 0;

  // Size, last-modified time and sha256 metadata of one object. Errors: kNotFound and the
  // store's own.
  virtual Result<ObjectInfo> head(std::string_view key) = 0;

  // Every object whose key starts with `prefix` (a plain string prefix, not a directory), in
  // byte order of their keys. Follows pagination to the end. Errors: the store's own.
  virtual Result<std::vector<ObjectInfo>> list(std::string_view prefix) = 0;

  // Deletes the object. Removing a key that does not exist is ok (as in S3). Errors: the
  // store's own.
  virtual Status remove(std::string_view key) = 0;
};

// Checks that `key` is usable by every store: 1 to 1024 bytes, no leading or trailing '/', no
// empty, "." or ".." segment, no control characters. Errors: kInvalidArgument naming the key.
Status check_key(std::string_view key);

// Checks a list() prefix: empty, or something check_key() would accept with more bytes after
// it ("db/", "db/2024"). Errors: kInvalidArgument naming the prefix.
Status check_prefix(std::string_view prefix);

// True if `text` is 64 lowercase hex digits.
bool is_sha256_hex(std::string_view text);

}  // namespace gc::storage

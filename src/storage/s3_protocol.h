// SPDX-License-Identifier: MIT
// storage/s3_protocol.h: the S3 wire format as pure functions, so S3Store stays a thin driver:
// SigV4 URI encoding and canonical queries, a small tolerant XML reader for the answers S3Store
// needs (ListObjectsV2, InitiateMultipartUpload, CompleteMultipartUpload, Error), and how an
// answer maps to an Errc and to "retry or not". No I/O.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "storage/object_store.h"

namespace gc::storage {

// SigV4's UriEncode: RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~) stay, every other
// byte becomes %XX with uppercase hex; '/' stays too when `keep_slash` (object key paths).
std::string s3_uri_encode(std::string_view text, bool keep_slash);

// The query string SigV4 signs: each name and value encoded, pairs sorted by name then value,
// "name=value" joined by '&' (a bare flag is "uploads="). curl 7.88 signs the query exactly as
// it appears in the URL, so S3Store always sends it in this form.
std::string s3_canonical_query(std::vector<std::pair<std::string, std::string>> params);

// An <Error> document from S3. Fields absent from the document are empty.
struct S3ErrorInfo {
  std::string code;  // "NoSuchKey", "SignatureDoesNotMatch"...
  std::string message;
  std::string request_id;
};

// Parses `body` if it is an S3 <Error> document; nullopt for anything else (empty, HTML from a
// proxy, a success document). Never fails.
std::optional<S3ErrorInfo> parse_s3_error(std::string_view body);

// One page of ListObjectsV2. The objects carry key, size and last_modified (no sha256).
struct S3ListPage {
  std::vector<ObjectInfo> objects;
  bool is_truncated = false;
  std::string next_continuation_token;  // Set when is_truncated.
};

// Parses a <ListBucketResult>. Errors: kInvalidArgument for malformed XML, another root
// element, or a <Contents> without a usable Key, Size or LastModified.
Result<S3ListPage> parse_list_objects_v2(std::string_view body);

// The UploadId of an <InitiateMultipartUploadResult>. Errors: kInvalidArgument.
Result<std::string> parse_initiate_multipart(std::string_view body);

// The ETag of a <CompleteMultipartUploadResult>. S3 can answer 200 with an <Error> body here
// (S3Store checks for that first, to retry it); such a body is kIo with S3's Code and Message.
// Errors: kInvalidArgument for malformed XML or another root element.
Result<std::string> parse_complete_multipart(std::string_view body);

struct S3Part {
  int number = 0;    // 1-based.
  std::string etag;  // As the UploadPart answer's ETag header had it, quotes included.
};

// The <CompleteMultipartUpload> request body for `parts`, in the given order.
std::string complete_multipart_xml(std::span<const S3Part> parts);

// Parses S3's timestamps, "2024-05-01T03:00:00.000Z" (fraction and 'Z' optional; UTC).
// Errors: kInvalidArgument.
Result<SystemTime> parse_iso8601_utc(std::string_view text);

// How an HTTP answer with `status` and S3 error `code` ("" if none) maps onto an Errc:
// XAmzContentSHA256Mismatch and BadDigest kCorrupt, 404 kNotFound, 401/403 kPermission, 409/412
// kConflict, 408 and RequestTimeout kTimeout, 429/5xx kUnavailable, 3xx kInvalidConfig (wrong
// region or addressing style), other 4xx kInvalidArgument.
Errc errc_for_s3_answer(long status, std::string_view code);

// True for answers worth repeating: 5xx, 429, 408, and 400 RequestTimeout (S3 dropped a slow
// upload). Never for auth or other client errors, which would only fail again.
bool is_retryable_s3_answer(long status, std::string_view code);

}  // namespace gc::storage

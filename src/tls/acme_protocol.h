// SPDX-License-Identifier: MIT
// tls/acme_protocol.h: the ACME (RFC 8555) and ACME Renewal Information (RFC 9773) messages the
// client reads, and what it does with each server answer. Pure: no I/O, no clock reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace gc::tls {

using SysSeconds = std::chrono::sys_seconds;

// RFC 8555 section 7.1.1. renewal_info is RFC 9773's, empty when the server has none.
struct AcmeDirectory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string renewal_info;
  std::string terms_of_service;
};

// An RFC 7807 problem document (RFC 8555 section 6.7).
struct AcmeProblem {
  std::string type;  // "urn:ietf:params:acme:error:badNonce"...
  std::string detail;
  int status = 0;
  std::vector<std::string> subproblems;  // "identifier: type: detail" each.
  // True when `type` is "urn:ietf:params:acme:error:" + name.
  bool is(std::string_view name) const;
  // "urn:ietf:params:acme:error:rateLimited: too many certificates (api.example.com: ...)".
  std::string describe() const;
};

struct AcmeChallenge {
  std::string type;  // "http-01"...
  std::string url;
  std::string token;
  std::string status;
  std::optional<AcmeProblem> error;
};

struct AcmeAuthorization {
  std::string identifier;  // The DNS name.
  std::string status;      // pending, valid, invalid, deactivated, expired, revoked.
  std::vector<AcmeChallenge> challenges;
  const AcmeChallenge* find(std::string_view type) const;
};

struct AcmeOrder {
  std::string status;  // pending, ready, processing, valid, invalid.
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;
  std::optional<AcmeProblem> error;
};

// Parsers for the server's JSON. Errors: kCorrupt naming the missing or malformed member.
Result<AcmeDirectory> parse_directory(std::string_view body);
Result<AcmeOrder> parse_order(std::string_view body);
Result<AcmeAuthorization> parse_authorization(std::string_view body);
// The account object's status ("valid", "deactivated", "revoked").
Result<std::string> parse_account_status(std::string_view body);
// A problem document, or nullopt when `body` is not one (no "type" member).
std::optional<AcmeProblem> parse_problem(std::string_view body);

// True for a token that is safe as a file name and URL path segment: 16..256 characters of the
// base64url alphabet (RFC 8555 section 8.3 asks for at least 128 bits of entropy).
bool is_valid_token(std::string_view token);

// The delay of a Retry-After value: delta-seconds or an HTTP-date (RFC 9110 section 10.2.3),
// relative to `now` and never negative. nullopt when the value is neither.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, SysSeconds now);

// The targets of Link header values with rel="`rel`" (RFC 8288), in order.
std::vector<std::string> parse_links(std::span<const std::string> link_headers,
                                     std::string_view rel);

// What the client does with one answer to a signed POST.
enum class AcmeNext {
  kOk,     // 2xx: use the response.
  kRetry,  // badNonce: sign again with the Replay-Nonce of this response.
  kFail,   // Stop: `error` says why.
};
struct AcmeVerdict {
  AcmeNext next = AcmeNext::kOk;
  bool rate_limited = false;  // A rateLimited problem: stop, and do not retry soon.
  Error error;                // For kFail.
};
// Decides on an answer with `status` and `body` to the `attempt`th try (1-based) of `what`
// ("new order for api.example.com"). badNonce is retried up to `max_attempts` tries in all;
// rateLimited fails with rate_limited set (kUnavailable); any other problem fails naming its
// type and detail (kUnavailable for 5xx, kInvalidArgument otherwise).
AcmeVerdict classify_response(long status, std::string_view body, int attempt, int max_attempts,
                              std::string_view what);

// RFC 9773 section 4.2: the server's suggested renewal window.
struct RenewalWindow {
  SysSeconds start;
  SysSeconds end;
  std::string explanation_url;
};
// Parses a renewalInfo response. Errors: kCorrupt (missing members, end before start).
Result<RenewalWindow> parse_renewal_info(std::string_view body);
// RFC 9773 section 4.1: base64url(AKI keyIdentifier) "." base64url(serial), where `serial` is
// the DER content octets of the serial number (a leading 0x00 included when its high bit is set).
std::string ari_cert_id(std::span<const std::uint8_t> aki_key_id,
                        std::span<const std::uint8_t> serial);

}  // namespace gc::tls

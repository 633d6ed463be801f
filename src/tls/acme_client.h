// SPDX-License-Identifier: MIT
// tls/acme_client.h: an ACME v2 client (RFC 8555) over libcurl: directory, nonces, signed
// requests with badNonce retries, account, orders, authorizations, challenges, polling with
// Retry-After, finalization, certificate download, and renewal information (RFC 9773).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "tls/acme_key.h"
#include "tls/acme_protocol.h"

namespace gc::tls {

struct AcmeClientOptions {
  std::string directory_url;
  std::string ca_bundle;  // PEM trust for the server's HTTPS (CURLOPT_CAINFO); "" = system.
  int max_attempts = 10;  // Tries per signed request when the server answers badNonce.
  std::chrono::seconds poll_timeout{180};         // Per wait_* call, Retry-After included.
  std::chrono::milliseconds poll_interval{1000};  // When the server sends no Retry-After.
  std::chrono::seconds http_timeout{60};          // Per HTTP request.
};

// One session with one ACME server. Move-only; not thread-safe; every call blocks on the
// network. Errors name the request and carry the server's problem (type and detail):
// kUnavailable for transport failures, 5xx and rate limits, kInvalidArgument for refusals,
// kTimeout when polling runs out of time, kCorrupt for answers that do not parse.
class AcmeClient {
 public:
  // Loads libcurl and GETs the directory.
  static Result<AcmeClient> connect(AcmeClientOptions options);
  AcmeClient(AcmeClient&&) noexcept = default;
  AcmeClient& operator=(AcmeClient&&) noexcept = default;
  ~AcmeClient();

  const AcmeDirectory& directory() const { return directory_; }
  // True once the server answered with a rateLimited problem: the caller stops and records it.
  bool rate_limited() const { return rate_limited_; }
  // How many signed requests were sent again after a badNonce answer.
  int bad_nonce_retries() const { return bad_nonce_retries_; }

  // newAccount with `key` (which must be P-256; the client keeps a reference, so it must
  // outlive the client): returns the existing account for the key or creates one, agreeing to
  // the terms of service. `email` may be empty. Sets account_url().
  Status use_account(const PrivateKey& key, const std::string& email);
  const std::string& account_url() const { return kid_; }

  // newOrder for `domains` (dns identifiers). `order_url` receives the order's Location.
  Result<AcmeOrder> new_order(const std::vector<std::string>& domains, std::string& order_url);
  Result<AcmeAuthorization> get_authorization(const std::string& url);
  // Tells the server the challenge at `url` is ready to be checked (POST {}).
  Status respond_to_challenge(const std::string& url);
  // Polls until the authorization leaves "pending"; returns it ("valid" or a failure, which is an
  // error naming the challenge's problem and the domain).
  Result<AcmeAuthorization> wait_authorization(const std::string& url);
  // Polls `order_url` while the order is "pending" (when `until_valid` is false) or
  // "pending"/"ready"/"processing" (true). An "invalid" order is an error with its problem.
  Result<AcmeOrder> wait_order(const std::string& order_url, bool until_valid);
  // POSTs the CSR (DER) to the order's finalize URL.
  Result<AcmeOrder> finalize(const AcmeOrder& order, const std::string& csr_der);
  // The PEM chain (leaf first) at the order's certificate URL.
  Result<std::string> download_certificate(const std::string& url);
  // RFC 9773: the suggested window for `cert_id` (ari_cert_id()); nullopt when the directory has
  // no renewalInfo.
  Result<std::optional<RenewalWindow>> renewal_info(const std::string& cert_id);

  // One HTTP exchange; public for the tests of this module only.
  struct Response {
    long status = 0;
    std::string body;
    std::string location;
    std::string nonce;        // Replay-Nonce.
    std::string retry_after;  // Raw Retry-After value.
    std::vector<std::string> links;
  };

 private:
  explicit AcmeClient(AcmeClientOptions options) : options_(std::move(options)) {}
  Result<Response> http(const char* method, const std::string& url, const std::string* body,
                        const char* accept = nullptr);
  Status fetch_nonce();
  // A signed POST (jwk when `use_jwk`, else kid) with badNonce retries. nullopt payload:
  // POST-as-GET.
  Result<Response> post(const std::string& url, const std::optional<nlohmann::json>& payload,
                        const std::string& what, bool use_jwk = false,
                        const char* accept = nullptr);
  // Sleeps before the next poll: Retry-After when sent, else poll_interval; false when that
  // would pass `deadline`.
  bool pause(const Response& r, std::chrono::steady_clock::time_point deadline) const;

  AcmeClientOptions options_;
  AcmeDirectory directory_;
  const PrivateKey* key_ = nullptr;
  std::string kid_;
  std::string nonce_;
  bool rate_limited_ = false;
  int bad_nonce_retries_ = 0;
};

}  // namespace gc::tls

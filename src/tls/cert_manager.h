// SPDX-License-Identifier: MIT
// tls/cert_manager.h: issues and renews the certificate of [tls] end to end: decide, talk to the
// ACME server, answer HTTP-01, install the files, validate and reload the web server, and put
// the old pair back when anything fails. What `groundctl cert issue|renew|status` run.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tls/acme_key.h"
#include "tls/cert_files.h"
#include "tls/renewal.h"

namespace gc::tls {

// Plain options, filled from [tls] by the CLI (every default already resolved).
struct CertOptions {
  std::vector<std::string> domains;  // domains[0] names the certificate.
  std::string email;
  std::string directory;
  KeyType key_type = KeyType::kEcP256;
  std::string challenge = "webroot";  // "webroot" or "standalone".
  std::string webroot;
  std::string standalone_listen = "[::]:80";
  std::string ca_bundle;
  std::string cert_dir;
  std::string accounts_dir;  // {state_dir}/tls/accounts.
  std::vector<std::string> validate_command;
  std::vector<std::string> reload_command;
  std::chrono::seconds poll_timeout{180};
  std::chrono::milliseconds poll_interval{1000};
};

// The account key of `directory`: {accounts_dir}/{first 16 hex digits of SHA-256(directory)}/
// account.key, so that staging and production accounts never mix.
std::string account_key_path(const std::string& accounts_dir, const std::string& directory);

enum class CertMode {
  kIssue,  // `cert issue`: only when no valid certificate for the domains exists (or force).
  kRenew,  // `cert renew`: only when due (or force).
};

struct CertOutcome {
  enum class Kind { kRenewed, kIssued, kNotDue, kFailed };
  Kind kind = Kind::kFailed;
  std::string error;  // For kFailed: what failed; the old certificate stays in place.
  bool rate_limited = false;
  int bad_nonce_retries = 0;  // Requests signed again after badNonce (for logs and tests).
  std::string reason;         // Why it was (not) due.
  SysSeconds not_after{};     // Of the certificate in place afterwards; epoch 0 when none.
  SysSeconds renew_at{};      // When it becomes due; epoch 0 when none.
};
std::string_view outcome_name(CertOutcome::Kind kind);  // "renewed", "issued", ...

// Runs one issue or renew attempt and records it in renewal.json. Blocks for the whole exchange
// (up to a few poll timeouts). Never leaves a half-installed pair: on any failure after the new
// files were written, the previous pair is restored and nothing is reloaded.
CertOutcome run_certificate(const CertOptions& options, CertMode mode, bool force, SysSeconds now);

// What `cert status` shows; no network.
struct CertStatus {
  std::optional<CertInfo> cert;  // nullopt: missing or unreadable (see cert_error).
  std::string cert_error;
  std::optional<RenewalRecord> last;
  RenewalDecision decision;
};
CertStatus certificate_status(const CertOptions& options, SysSeconds now);

}  // namespace gc::tls

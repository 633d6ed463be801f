// SPDX-License-Identifier: MIT
// tls/renewal.h: when a certificate is renewed. Pure: same input, same answer; `now` is passed
// in.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tls/acme_protocol.h"

namespace gc::tls {

// What the decision needs to know of the installed certificate.
struct InstalledCert {
  SysSeconds not_before;
  SysSeconds not_after;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries.
  std::string serial_hex;              // Seeds the jitter.
  bool self_signed = false;            // The placeholder `apply` installs until the first issuance.
};

enum class RenewalAction {
  kNone,   // Valid and not due.
  kRenew,  // Due: replace it.
  kIssue,  // Missing, unreadable, expired or for other names: get a new one.
};

struct RenewalDecision {
  RenewalAction action = RenewalAction::kNone;
  SysSeconds renew_at{};  // When the certificate becomes due (epoch 0 when there is none).
  std::string reason;     // "a third of the lifetime left", "names differ: ...".
};

// When `cert` is due: inside the ARI window when the server gave one (RFC 9773 section 4.2, at
// a point in the window chosen from the serial), else when a third of its lifetime is left,
// moved earlier by a per-certificate jitter of up to 2 % of the lifetime (from the serial) so
// that many servers do not renew at the same second.
SysSeconds renewal_time(const InstalledCert& cert, const std::optional<RenewalWindow>& ari);

// The decision for `cert` (nullopt: missing or unreadable) against the configured `domains`
// (order does not matter). A self-signed certificate is a placeholder: it is replaced (kIssue).
// `force` always renews (or issues when there is no certificate).
RenewalDecision decide_renewal(const std::optional<InstalledCert>& cert,
                               const std::vector<std::string>& domains,
                               const std::optional<RenewalWindow>& ari, bool force, SysSeconds now);

}  // namespace gc::tls

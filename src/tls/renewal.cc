// SPDX-License-Identifier: MIT
#include "tls/renewal.h"

#include <algorithm>
#include <cstdint>

namespace gc::tls {
namespace {

// A fraction in [0, 1) fixed by the serial: FNV-1a, so the same certificate always gets the same
// point and different certificates spread out.
double serial_fraction(const std::string& serial_hex) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : serial_hex) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<double>(h % 1000000) / 1000000.0;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

SysSeconds renewal_time(const InstalledCert& cert, const std::optional<RenewalWindow>& ari) {
  double f = serial_fraction(cert.serial_hex);
  if (ari) {
    auto span = ari->end - ari->start;
    return ari->start +
           std::chrono::seconds(static_cast<long long>(static_cast<double>(span.count()) * f));
  }
  auto lifetime = cert.not_after - cert.not_before;
  auto jitter = std::chrono::seconds(
      static_cast<long long>(static_cast<double>(lifetime.count()) * 0.02 * f));
  return cert.not_after - lifetime / 3 - jitter;
}

RenewalDecision decide_renewal(const std::optional<InstalledCert>& cert,
                               const std::vector<std::string>& domains,
                               const std::optional<RenewalWindow>& ari, bool force,
                               SysSeconds now) {
  RenewalDecision d;
  if (!cert) {
    d.action = RenewalAction::kIssue;
    d.reason = "no readable certificate";
    return d;
  }
  d.renew_at = renewal_time(*cert, ari);
  if (cert->self_signed) {
    d.action = RenewalAction::kIssue;
    d.reason = "a self-signed placeholder";
    return d;
  }
  if (sorted(cert->dns_names) != sorted(domains)) {
    d.action = RenewalAction::kIssue;
    d.reason = "the certificate's names differ from [tls] domains";
    return d;
  }
  if (cert->not_after <= now) {
    d.action = RenewalAction::kIssue;
    d.reason = "the certificate has expired";
    return d;
  }
  if (force) {
    d.action = RenewalAction::kRenew;
    d.reason = "forced";
  } else if (now >= d.renew_at) {
    d.action = RenewalAction::kRenew;
    d.reason = ari ? "inside the renewal window the ACME server suggests"
                   : "less than a third of the lifetime left";
  } else {
    d.reason = "not due";
  }
  return d;
}

}  // namespace gc::tls

// SPDX-License-Identifier: MIT
// tls/cert_files.h: the certificate directory the ACME client writes and Nginx reads:
// fullchain.pem (0644) and privkey.pem (0600), the pair they replaced under previous/, and
// renewal.json, the record of the last attempt. Also reads a certificate's details and runs the
// validate and reload commands.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "tls/acme_protocol.h"
#include "tls/renewal.h"

namespace gc::tls {

// The details `cert status` shows and the renewal decision needs.
struct CertInfo {
  std::string subject;  // Subject CN ("" without one).
  std::string issuer;   // Issuer CN, else O.
  std::vector<std::string> dns_names;
  SysSeconds not_before;
  SysSeconds not_after;
  std::string serial_hex;   // Uppercase hex of the serial's content octets.
  std::string ari_cert_id;  // RFC 9773 CertID; "" when the certificate has no AKI key id.
  // A CA never names its issuer like the leaf it signs: equal CNs mean a self-signed certificate
  // (the placeholder of provision/placeholder_cert.h).
  bool self_signed() const { return !subject.empty() && subject == issuer; }
  InstalledCert installed() const {
    return InstalledCert{not_before, not_after, dns_names, serial_hex, self_signed()};
  }
};

// The first certificate in `pem` (the leaf of a full chain). Errors: kCorrupt, kNotFound
// (libcrypto missing).
Result<CertInfo> read_cert_info(std::string_view pem);
// The same from a file. Errors follow errno, then kCorrupt; the path is in the message.
Result<CertInfo> load_cert_info(const std::string& path);

// The files in one certificate directory.
struct CertPaths {
  std::string dir;
  std::string fullchain() const { return dir + "/fullchain.pem"; }
  std::string privkey() const { return dir + "/privkey.pem"; }
  std::string previous_fullchain() const { return dir + "/previous/fullchain.pem"; }
  std::string previous_privkey() const { return dir + "/previous/privkey.pem"; }
  std::string renewal_record() const { return dir + "/renewal.json"; }
};

// Installs a new pair: copies the current pair (when there is one) to previous/, then writes
// privkey.pem (0600) and fullchain.pem (0644) atomically, creating the directory 0700 if
// needed. Nothing is reloaded. Errors follow errno, naming the file; after an error while
// writing the new pair, call restore_previous(). Blocks on disk I/O.
Status install_cert_files(const CertPaths& paths, std::string_view fullchain_pem,
                          std::string_view key_pem);
// Puts previous/'s pair back in place (atomically, same modes). Without a previous pair the new
// files are removed, so that nothing half-installed stays. Errors follow errno.
Status restore_previous(const CertPaths& paths);

// renewal.json: what the last attempt did.
struct RenewalRecord {
  SysSeconds last_attempt{};
  std::string result;  // "renewed", "issued", "not_due", "failed".
  std::string error;   // For "failed".
  bool rate_limited = false;
  SysSeconds next_due{};   // When the certificate becomes due; epoch 0 if unknown.
  SysSeconds not_after{};  // Of the certificate in place after the attempt; epoch 0 if none.
};
// nullopt when the file does not exist. Errors: kCorrupt, errno errors.
Result<std::optional<RenewalRecord>> load_renewal_record(const CertPaths& paths);
// Writes renewal.json atomically (0644). Errors follow errno.
Status save_renewal_record(const CertPaths& paths, const RenewalRecord& record);

// Runs `argv` (no shell; PATH of the sbin and bin directories) to completion. `what` names it in
// errors ("validate command"). Errors: kUnavailable with the exit status and the last lines of
// its output, kNotFound for a missing program. Blocks.
Status run_hook(const std::vector<std::string>& argv, std::string_view what);

}  // namespace gc::tls

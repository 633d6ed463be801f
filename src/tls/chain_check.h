// SPDX-License-Identifier: MIT
// tls/chain_check.h: whether a server's certificate chain is trusted and whether its leaf covers
// a name, checked apart from any handshake so that a bad chain can still be described. The
// grading probe (probe.h) and the monitor's certificate collector (monitor/tls_metrics.h) use
// them.
#pragma once

#include <string>
#include <vector>

#include "tls/ssl_api.h"

namespace gc::tls {

struct ChainVerdict {
  bool trusted = false;
  int code = 0;          // OpenSSL's X509_V_ERR_*, when the verification itself ran and failed.
  std::string error;     // OpenSSL's text ("certificate has expired"), or why it could not run.
  bool expired() const;  // The leaf or a chain certificate is outside its validity period.
};

// Verifies certs[0] (the leaf) through certs[1..] (untrusted intermediates, in any order) up to
// the trust store at the current time, for the TLS server purpose. `ca_file`: a PEM bundle to
// trust instead of the system store ("" for the system store); one that cannot be loaded gives
// an error "cannot load ca file PATH: ...". The host name is not part of it: see
// name_matches(). `certs` must not be empty. Thread-safe.
ChainVerdict verify_server_chain(const SslApi& a, const std::vector<X509Ptr>& certs,
                                 const std::string& ca_file);

// Whether `leaf` covers `name` (a DNS name or an IP address) as browsers check it:
// subjectAltName only (RFC 6125 deprecates the CN fallback, and Chrome and Firefox ignore it, so
// a CN-only certificate is a real outage), and "*" only as the whole leftmost label.
bool name_matches(const SslApi& a, X509* leaf, const std::string& name);

// Whether `name` is an IPv4 or IPv6 address literal (never sent as SNI, RFC 6066 section 3).
bool is_ip_literal(const std::string& name);

}  // namespace gc::tls

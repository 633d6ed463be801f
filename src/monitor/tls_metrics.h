// SPDX-License-Identifier: MIT
// monitor/tls_metrics.h: certificate expiry and validity of PEM files and live TLS endpoints.
// inspect_*() observe one source (OpenSSL, dlopened); add_tls_metrics() turns the observations
// into groundctl_tls_* gauges and is pure. Without libssl3 installed, every inspect_*() gives
// ok=false with an error saying what to install; the daemon goes on.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "monitor/metrics.h"

namespace gc::monitor {

// One certificate source, as observed. Failures are data here, not an Error: a source that
// cannot be read is itself the finding (probe_success 0), and a scrape reports every source.
struct CertFacts {
  std::string source;  // "file:/etc/letsencrypt/live/x/fullchain.pem", "endpoint:host:443".
  bool ok = false;     // The file was read, or the handshake succeeded.
  std::string error;   // Why not, when !ok. Names the path or endpoint; never holds a secret.
  std::string subject_cn, issuer_cn;      // Of the leaf; empty when it has no CN.
  std::vector<std::string> dns_names;     // subjectAltName DNS entries of the leaf.
  int64_t not_before = 0, not_after = 0;  // Of the leaf, in unix seconds.
  int64_t chain_not_after = 0;  // Earliest notAfter over the certificates presented or in the file.
  // The leaf verifies, through the other certificates given, up to the trust store (or
  // TlsOptions::ca_file) at the time of the call, for use by a TLS server. The host name is
  // not part of it: name_matches reports that on its own, so a wrong name and a broken chain
  // can be told apart.
  bool chain_valid = false;
  // The leaf's subjectAltName covers the expected name (a DNS name, wildcards allowed in the
  // leftmost label only, or an IP address), as browsers check it: the subject CN is ignored.
  // Files without an expected name: true.
  bool name_matches = false;
  std::string verify_error;  // OpenSSL's text ("certificate has expired") when !chain_valid.
};

// One configured source: `file`, or `endpoint` ("host:port", "[v6]:port") with an optional
// `sni` (default: the host). `expected_name` is the name files are checked against.
struct TlsTarget {
  std::string file;
  std::string endpoint;
  std::string sni;
  std::string expected_name;
};

struct TlsOptions {
  std::string ca_file;  // PEM bundle to trust instead of the system store; empty: system store.
  std::chrono::milliseconds timeout{5000};  // Connect plus handshake, per endpoint.
};

// Reads a PEM file holding a leaf and optionally its chain (fullchain.pem); other PEM blocks,
// such as a private key, are skipped. Blocks on file I/O only. Thread-safe.
CertFacts inspect_cert_file(const std::string& path, const std::string& expected_name,
                            const TlsOptions& o);

// Connects over TCP (every getaddrinfo address in turn, IPv4 or IPv6) and does a TLS handshake,
// sending `sni` (default: the host; never an IP address, per RFC 6066 section 3), then checks
// the presented chain and the name (`sni`, else the host). The whole of connect and handshake
// is bounded by o.timeout; the name lookup before it is not. A refused connection, a timeout or
// a failed handshake give ok=false with an error naming `host_port`. An untrusted or expired
// chain still gives ok=true: the facts say what is wrong with it. Blocks; call it from a
// worker thread. Thread-safe, and safe when SIGPIPE is not ignored.
CertFacts inspect_endpoint(const std::string& host_port, const std::string& sni,
                           const TlsOptions& o);

// inspect_cert_file() or inspect_endpoint(), whichever `target` names (file first).
CertFacts inspect_target(const TlsTarget& target, const TlsOptions& o);

// Pure: the samples of `facts` at `now_s` (unix seconds), labelled by source:
//   groundctl_tls_probe_success{source}            1 when ok, else 0
//   groundctl_tls_cert_valid{source}               1 when ok, chain_valid, name_matches and
//                                                  not_before <= now_s < not_after, else 0
// and, only for sources that are ok:
//   groundctl_tls_cert_expiry_timestamp_seconds{source,subject,issuer}   not_after
//   groundctl_tls_cert_not_before_timestamp_seconds{source}              not_before
//   groundctl_tls_chain_expiry_timestamp_seconds{source}                 chain_not_after
void add_tls_metrics(const std::vector<CertFacts>& facts, int64_t now_s, MetricSet& out);

// Pure: the certificates that add_tls_metrics() put in `set`, one object per source in source
// order, for `groundctl status` and the dashboard's tile: {source, ok, valid} and, when ok,
// {subject, issuer, expires_at (RFC 3339 UTC), expires_in_s (from now_s, negative once
// expired)}. An empty array when `set` has no groundctl_tls_* samples.
nlohmann::json certificates_json(const MetricSet& set, int64_t now_s);

}  // namespace gc::monitor

// SPDX-License-Identifier: MIT
// tls/probe.h: what a TLS server offers, found the way SSL Labs and sslscan find it: one
// handshake per protocol version and per accepted cipher suite, the certificate it presents,
// and the HSTS header of one HTTPS request. The facts only; grade.h turns them into a grade.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace gc::tls {

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };
inline constexpr TlsVersion kAllTlsVersions[] = {TlsVersion::kTls10, TlsVersion::kTls11,
                                                 TlsVersion::kTls12, TlsVersion::kTls13};
// "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3".
const char* version_name(TlsVersion v);

// One cipher suite the server accepted.
struct CipherSuite {
  std::string name;       // OpenSSL's name ("ECDHE-ECDSA-AES128-GCM-SHA256"), as sslscan prints.
  std::string iana_name;  // "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"; empty when unknown.
  uint16_t id = 0;        // The two-byte suite number.
  int bits = 0;           // Symmetric strength in bits (0 for NULL encryption).
  std::string kx;         // Key exchange: "ECDHE", "DHE", "RSA", "ANY" (TLS 1.3), "PSK"...
  std::string auth;       // Authentication: "RSA", "ECDSA", "ANY" (TLS 1.3), "NONE" (anonymous).
  bool forward_secrecy = false;  // Ephemeral (EC)DH key exchange; always true for TLS 1.3.
  bool aead = false;             // GCM, CCM, ChaCha20-Poly1305.
  std::string kx_group;  // Ephemeral key of this handshake: "X25519", "prime256v1", "DH"; or "".
  int kx_bits = 0;       // Its size: EC field bits or DH modulus bits; 0 when none or unknown.
};

// What one protocol version gave.
struct ProtocolProbe {
  TlsVersion version = TlsVersion::kTls12;
  bool offered = false;
  // Accepted suites in the server's order of preference when it enforces one (each entry is what
  // the server chose from every suite not yet seen), else in the order our offers found them.
  std::vector<CipherSuite> suites;
  std::string error;  // Why the first handshake failed, when not offered ("" when offered).
};

// The certificate (chain) the server presented in its best protocol's handshake.
struct CertificateProbe {
  bool present = false;
  std::string subject_cn, issuer_cn;
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries.
  std::string key_type;                   // "RSA", "EC", "ED25519", "DSA"...
  int key_bits = 0;                       // RSA modulus bits, EC field bits.
  std::string key_curve;                  // "prime256v1" for EC keys; else "".
  std::string signature_algorithm;        // OpenSSL short name: "ecdsa-with-SHA256", "RSA-SHA256".
  int64_t not_before = 0, not_after = 0;  // Unix seconds (UTC).
  int chain_length = 0;                   // Certificates presented, leaf included.
  bool trusted = false;         // The chain verifies against the trust store (or --ca) now.
  std::string verify_error;     // OpenSSL's reason when not trusted ("certificate has expired").
  bool expired = false;         // Verification failed because a certificate is out of its dates.
  bool self_signed = false;     // The leaf is its own issuer.
  bool chain_complete = false;  // The presented chain reaches a trust anchor or ends self-issued.
  std::string checked_name;     // The name matched against the certificate (SNI, else host).
  bool name_matches = false;
};

// The Strict-Transport-Security header of `GET /`.
struct HstsProbe {
  bool requested = false;  // The HTTPS request got a response.
  int http_status = 0;
  bool present = false;  // A valid header was there.
  int64_t max_age = 0;   // Seconds.
  bool include_subdomains = false;
  bool preload = false;
  std::string error;  // Why the request failed, or why the header was ignored.
};

struct ProbeResult {
  std::string host;
  int port = 0;
  std::string sni;      // Sent as server_name; "" when none was sent (an IP address host).
  std::string address;  // The address connected to: "127.0.0.1:8443".
  std::vector<ProtocolProbe> protocols;  // One per kAllTlsVersions, in that order.
  // SSLv2 and SSLv3 are not tested: Debian's OpenSSL 3 cannot send either ClientHello.
  CertificateProbe certificate;
  HstsProbe hsts;
  std::optional<bool> secure_renegotiation;  // RFC 5746, from a TLS <= 1.2 handshake.
  int handshakes = 0;                        // Connections made, for the report.
};

struct ProbeOptions {
  std::string host;  // Name or IP literal (no brackets).
  int port = 443;
  std::string sni;      // Server name to send and to match; "" = host unless host is an IP.
  std::string ca_file;  // PEM trust anchors instead of the system store.
  std::chrono::milliseconds timeout{5000};  // Per connection: connect + handshake + request.
};

// "host:port" or "[v6]:port" → host and port. Errors: kInvalidArgument naming the input.
Result<std::pair<std::string, int>> parse_host_port(const std::string& text);

// Probes the server: for each TLS version one handshake (min = max = that version, every suite
// and legacy option allowed at security level 0), then the cipher suites accepted per version,
// the certificate of the best version's handshake checked against the trust store and the name,
// and one `GET /` for HSTS. Blocks for up to about (suites + 6) × timeout in the worst case; on
// loopback a few hundred milliseconds. Errors: kNotFound (name does not resolve, libssl
// missing), kUnavailable (connection refused or no TLS version handshakes: with the last error),
// kTimeout, kInvalidArgument (bad options). Thread-safe (no shared state but libssl's).
Result<ProbeResult> probe_server(const ProbeOptions& options);

// Parses a Strict-Transport-Security header value (RFC 6797 section 6.1): max-age (required,
// once), includeSubDomains, preload; directive names are case-insensitive and max-age may be
// quoted. Returns nullopt for a header RFC 6797 says to ignore (no or repeated max-age, a value
// that is not digits). Pure.
std::optional<HstsProbe> parse_hsts(const std::string& value);

// The raw response head ("HTTP/1.1 200 OK\r\nName: value\r\n...") → status and the HSTS facts:
// the first Strict-Transport-Security header counts (RFC 6797 section 8.1). Pure.
HstsProbe parse_hsts_response(const std::string& head);

}  // namespace gc::tls

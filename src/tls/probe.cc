// SPDX-License-Identifier: MIT
// tls/probe.cc: the probe's plan: which handshakes to make, and what each one tells.
#include "tls/probe.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "tls/chain_check.h"
#include "tls/connection.h"
#include "tls/ssl_api.h"
#include "tls/x509_fields.h"

namespace gc::tls {
namespace {

// RFC 8446 appendix B.4: every TLS 1.3 suite OpenSSL implements.
constexpr const char* kTls13Suites[] = {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                                        "TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256",
                                        "TLS_AES_128_CCM_8_SHA256"};

int wire_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ":") + s;
  return out;
}

const char* kx_name(int nid) {
  switch (nid) {
    case NID_kx_ecdhe:
      return "ECDHE";
    case NID_kx_dhe:
      return "DHE";
    case NID_kx_rsa:
      return "RSA";
    case NID_kx_any:
      return "ANY";
    case NID_kx_psk:
      return "PSK";
    case NID_kx_ecdhe_psk:
      return "ECDHEPSK";
    case NID_kx_dhe_psk:
      return "DHEPSK";
    case NID_kx_rsa_psk:
      return "RSAPSK";
    case NID_kx_srp:
      return "SRP";
    default:
      return "OTHER";
  }
}

const char* auth_name(int nid) {
  switch (nid) {
    case NID_auth_rsa:
      return "RSA";
    case NID_auth_ecdsa:
      return "ECDSA";
    case NID_auth_dss:
      return "DSS";
    case NID_auth_null:
      return "NONE";
    case NID_auth_any:
      return "ANY";
    case NID_auth_psk:
      return "PSK";
    case NID_auth_srp:
      return "SRP";
    default:
      return "OTHER";
  }
}

// "prime256v1", "X25519", "ffdhe2048", or the key type when it has no group name.
std::pair<std::string, int> describe_key(const SslApi& a, EVP_PKEY* key) {
  char group[80];
  size_t len = 0;
  std::string name;
  if (a.grade_pkey_get_group_name(key, group, sizeof group, &len) == 1) name.assign(group, len);
  int id = a.grade_pkey_get_base_id(key);
  if (name.empty()) {
    name = id == EVP_PKEY_X25519 ? "X25519"
           : id == EVP_PKEY_X448 ? "X448"
           : id == EVP_PKEY_DH   ? "DH"
           : id == EVP_PKEY_EC   ? "EC"
                                 : "?";
  }
  return {name, a.grade_pkey_get_bits(key)};
}

CipherSuite describe_suite(const SslApi& a, SSL* ssl) {
  CipherSuite s;
  const SSL_CIPHER* c = a.grade_ssl_get_current_cipher(ssl);
  if (c == nullptr) return s;
  s.name = a.grade_cipher_get_name(c);
  if (const char* iana = a.grade_cipher_standard_name(c)) s.iana_name = iana;
  s.id = a.grade_cipher_get_protocol_id(c);
  s.bits = a.grade_cipher_get_bits(c, nullptr);
  int kx = a.grade_cipher_get_kx_nid(c);
  s.kx = kx_name(kx);
  s.auth = auth_name(a.grade_cipher_get_auth_nid(c));
  s.forward_secrecy = kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_any ||
                      kx == NID_kx_ecdhe_psk || kx == NID_kx_dhe_psk;
  s.aead = a.grade_cipher_is_aead(c) == 1;
  // SSL_get_peer_tmp_key is this SSL_ctrl call behind a macro; it returns a new reference.
  EVP_PKEY* key = nullptr;
  if (a.ssl_ctrl(ssl, SSL_CTRL_GET_PEER_TMP_KEY, 0, &key) == 1 && key != nullptr) {
    std::tie(s.kx_group, s.kx_bits) = describe_key(a, key);
    a.grade_pkey_free(key);
  }
  return s;
}

// Every TLS <= 1.2 suite this libssl can offer, by OpenSSL name, in its default preference.
Result<std::vector<std::string>> legacy_suites(const SslApi& a) {
  SslCtxPtr ctx(a.ssl_ctx_new(a.tls_client_method()), a.ssl_ctx_free);
  if (!ctx) return make_error(Errc::kInternal, "tls context: " + take_ssl_error(a));
  a.grade_ssl_ctx_set_security_level(ctx.get(), 0);
  a.grade_ssl_ctx_set_cipher_list(ctx.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0");
  SslPtr ssl(a.ssl_new(ctx.get()), a.ssl_free);
  if (!ssl) return make_error(Errc::kInternal, "tls session: " + take_ssl_error(a));
  std::vector<std::string> out;
  const auto* stack = reinterpret_cast<const OPENSSL_STACK*>(a.grade_ssl_get_ciphers(ssl.get()));
  for (int i = 0; stack != nullptr && i < a.sk_num(stack); ++i) {
    const auto* c = static_cast<const SSL_CIPHER*>(a.sk_value(stack, i));
    // TLS 1.3 suites (0x13xx) are configured apart, by SSL_CTX_set_ciphersuites.
    if ((a.grade_cipher_get_protocol_id(c) >> 8) == 0x13) continue;
    out.emplace_back(a.grade_cipher_get_name(c));
  }
  return out;
}

struct Prober {
  const SslApi& a;
  const ProbeOptions& o;
  Endpoint ep;
  std::string sni;
  int handshakes = 0;
  std::optional<Error> network_error;  // The first failure that was not a server's refusal.

  Clock::time_point deadline() const { return Clock::now() + o.timeout; }

  tl::expected<TlsConnection, HandshakeError> connect(HandshakeSpec spec) {
    spec.sni = sni;
    ++handshakes;
    auto c = handshake(a, ep, spec, deadline());
    if (!c && c.error().kind == HandshakeFailure::kNetwork && !network_error) {
      network_error = c.error().error;
    }
    return c;
  }

  // Offers every suite not yet accepted, records the server's pick, until it refuses them all.
  // The first handshake is also the test of whether `v` is offered at all.
  ProtocolProbe probe_version(TlsVersion v, const std::vector<std::string>& candidates,
                              std::vector<X509Ptr>* chain, std::optional<bool>* renegotiation) {
    ProtocolProbe p;
    p.version = v;
    std::vector<std::string> left = candidates;
    while (!left.empty()) {
      HandshakeSpec spec;
      spec.version = wire_version(v);
      if (v == TlsVersion::kTls13) {
        spec.ciphersuites = join(left);
      } else {
        spec.cipher_list = join(left) + ":@SECLEVEL=0";
      }
      auto c = connect(spec);
      if (!c) {
        if (!p.offered) p.error = c.error().error.message;
        break;
      }
      SSL* ssl = c->ssl.get();
      if (a.grade_ssl_version(ssl) != wire_version(v)) break;  // Defensive: pinned above.
      if (!p.offered) {
        p.offered = true;
        if (chain != nullptr) *chain = peer_chain(a, ssl);
        if (renegotiation != nullptr && v != TlsVersion::kTls13) {
          // SSL_get_secure_renegotiation_support is this SSL_ctrl call behind a macro.
          *renegotiation = a.ssl_ctrl(ssl, SSL_CTRL_GET_RI_SUPPORT, 0, nullptr) == 1;
        }
      }
      CipherSuite s = describe_suite(a, ssl);
      a.ssl_shutdown(ssl);
      a.err_clear_error();
      auto it = std::find(left.begin(), left.end(), s.name);
      if (it == left.end()) break;  // The server picked something we did not offer.
      left.erase(it);
      p.suites.push_back(std::move(s));
    }
    return p;
  }

  HstsProbe fetch_hsts(std::optional<int> version) {
    HstsProbe h;
    HandshakeSpec spec;
    spec.version = version;
    auto c = connect(spec);
    if (!c) {
      h.error = "https request: " + c.error().error.message;
      return h;
    }
    std::string host = o.sni.empty() ? o.host : o.sni;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";  // An IPv6 literal.
    if (o.port != 443) host += ":" + std::to_string(o.port);
    std::string request = "GET / HTTP/1.1\r\nHost: " + host +
                          "\r\nUser-Agent: groundctl-tls-grade\r\nAccept: */*\r\n"
                          "Connection: close\r\n\r\n";
    // The head is all we need; 64 KiB bounds a server that never ends it.
    auto got = exchange(a, *c, request, "\r\n\r\n", 64 * 1024, deadline());
    a.ssl_shutdown(c->ssl.get());
    a.err_clear_error();
    if (!got) {
      h.error = "https request: " + got.error().message;
      return h;
    }
    return parse_hsts_response(*got);
  }
};

CertificateProbe describe_chain(const SslApi& a, const std::vector<X509Ptr>& certs,
                                const std::string& ca_file, const std::string& name) {
  CertificateProbe c;
  if (certs.empty()) return c;
  X509* leaf = certs[0].get();
  c.present = true;
  c.chain_length = static_cast<int>(certs.size());
  c.subject_cn = x509_name_entry(a, a.x509_get_subject_name(leaf), NID_commonName);
  c.issuer_cn = x509_name_entry(a, a.x509_get_issuer_name(leaf), NID_commonName);
  c.dns_names = x509_dns_names(a, leaf);
  c.not_before = x509_unix_seconds(a, a.x509_get0_not_before(leaf));
  c.not_after = x509_unix_seconds(a, a.x509_get0_not_after(leaf));
  if (EVP_PKEY* key = a.grade_x509_get0_pubkey(leaf)) {  // Borrowed from the certificate.
    int id = a.grade_pkey_get_base_id(key);
    c.key_type = id == EVP_PKEY_RSA       ? "RSA"
                 : id == EVP_PKEY_RSA_PSS ? "RSA-PSS"
                 : id == EVP_PKEY_EC      ? "EC"
                 : id == EVP_PKEY_ED25519 ? "ED25519"
                 : id == EVP_PKEY_ED448   ? "ED448"
                 : id == EVP_PKEY_DSA     ? "DSA"
                                          : "OTHER";
    c.key_bits = a.grade_pkey_get_bits(key);
    if (id == EVP_PKEY_EC) c.key_curve = describe_key(a, key).first;
  }
  if (const char* sig = a.grade_obj_nid2sn(a.grade_x509_get_signature_nid(leaf))) {
    c.signature_algorithm = sig;
  }
  c.self_signed =
      a.grade_x509_name_cmp(a.x509_get_subject_name(leaf), a.x509_get_issuer_name(leaf)) == 0;
  ChainVerdict verdict = verify_server_chain(a, certs, ca_file);
  c.trusted = verdict.trusted;
  c.verify_error = verdict.error;
  c.expired = verdict.expired();
  X509* last = certs.back().get();
  c.chain_complete = c.trusted || a.grade_x509_name_cmp(a.x509_get_subject_name(last),
                                                        a.x509_get_issuer_name(last)) == 0;
  c.checked_name = name;
  c.name_matches = name_matches(a, leaf, name);
  return c;
}

}  // namespace

Result<ProbeResult> probe_server(const ProbeOptions& o) {
  if (o.host.empty() || o.port < 1 || o.port > 65535) {
    return make_error(Errc::kInvalidArgument, "tls probe: a host and a port 1-65535 are needed");
  }
  GC_ASSIGN_OR_RETURN(const SslApi* api, ssl_api());
  const SslApi& a = *api;
  SigpipeGuard sigpipe;
  ProbeResult r;
  r.host = o.host;
  r.port = o.port;
  // RFC 6066 section 3: literal IP addresses are not permitted in server_name.
  r.sni = !o.sni.empty() ? o.sni : is_ip_literal(o.host) ? "" : o.host;
  GC_ASSIGN_OR_RETURN(Endpoint ep, find_endpoint(o.host, o.port, Clock::now() + o.timeout));
  r.address = ep.text;
  Prober p{a, o, std::move(ep), r.sni, 0, std::nullopt};
  GC_ASSIGN_OR_RETURN(std::vector<std::string> legacy, legacy_suites(a));
  std::vector<std::string> modern(std::begin(kTls13Suites), std::end(kTls13Suites));
  std::vector<X509Ptr> chain;
  std::optional<int> best;
  for (TlsVersion v : kAllTlsVersions) {
    std::vector<X509Ptr> version_chain;
    ProtocolProbe pp = p.probe_version(v, v == TlsVersion::kTls13 ? modern : legacy, &version_chain,
                                       &r.secure_renegotiation);
    if (pp.offered) {
      // The best version's certificate is the one modern clients see.
      chain = std::move(version_chain);
      best = wire_version(v);
    }
    r.protocols.push_back(std::move(pp));
  }
  if (!best) {
    r.handshakes = p.handshakes;
    if (p.network_error) return *p.network_error;
    std::string why = r.protocols.back().error;
    return make_error(
        Errc::kUnavailable,
        "tls probe " + r.address + ": no TLS version 1.0-1.3 could be negotiated (" + why + ")");
  }
  r.certificate = describe_chain(a, chain, o.ca_file, r.sni.empty() ? o.host : r.sni);
  r.hsts = p.fetch_hsts(best);
  r.handshakes = p.handshakes;
  return r;
}

}  // namespace gc::tls

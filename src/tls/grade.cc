// SPDX-License-Identifier: MIT
// tls/grade.cc: the SSL Labs rating. Sources, cited at each rule:
//  [guide]  SSL Labs, "SSL Server Rating Guide" (github.com/ssllabs/research/wiki/
//           SSL-Server-Rating-Guide, version 2009q): the three category tables, the weights,
//           the score-to-letter table, the T and M grades.
//  [2014]   Qualys blog, "SSL Labs: Stricter Security Requirements for 2014" (2014-01-21):
//           TLS 1.2 required, keys below 1024 bits F, MD5 signatures F, warnings → A-, A+ for
//           long-lived HSTS with no warnings, no secure renegotiation is a warning.
//  [2015]   Qualys blog, "SSL Labs: Increased Penalty When TLS 1.2 Is Not Supported"
//           (2015-05-22, SSL Labs 1.17.10): no TLS 1.2 → C; RC4 with TLS 1.1/1.2 penalised.
//  [2018]   Qualys blog, "SSL Labs Grading Update: Forward Secrecy, Authenticated Encryption
//           and ROBOT" (2018-02-02, live 2018-03-01): no forward secrecy → B, no AEAD → B, each
//           only when clients that could do better do not get it.
//  [2020]   Qualys blog, "SSL Labs Grade Change for TLS 1.0 and TLS 1.1 Protocols"
//           (2018-11-19, live 2020-01-31): TLS 1.0 or TLS 1.1 offered → B.
//  [logjam] SSL Labs' result message "This server supports weak Diffie-Hellman (DH) key
//           exchange parameters. Grade capped to B." (DH below 2048 bits), added after Logjam.
//  [BR]     CA/Browser Forum Baseline Requirements section 6.1.5: RSA keys of at least 2048 bits
//           (since 2014). Issue #6 asks for F on a 1024-bit certificate key, the grade SSL Labs
//           gives an insecure key: [2014] made only keys under 1024 bits F, when 1024-bit
//           certificates could still be publicly trusted; under [BR] none can.
#include "tls/grade.h"

#include <algorithm>
#include <string>

namespace gc::tls {
namespace {

int rank(Grade g) { return static_cast<int>(g); }
Grade worse(Grade a, Grade b) { return rank(a) >= rank(b) ? a : b; }

bool has_warnings(const std::vector<GradeReason>& reasons) {
  return std::any_of(reasons.begin(), reasons.end(),
                     [](const GradeReason& r) { return r.cap == Grade::kAMinus; });
}

// The strength of one suite's key exchange in RSA-equivalent bits, or -1 when it cannot be
// told (the server sent no ephemeral key we could read). Anonymous suites are 0 ([guide]:
// "anonymous key exchange" rates 0 %).
int suite_kx_bits(const CipherSuite& s, int cert_rsa_bits) {
  if (s.auth == "NONE") return 0;
  if (s.kx == "RSA") return cert_rsa_bits;
  if (s.kx_bits <= 0) return -1;
  if (s.kx == "DHE") return s.kx_bits;
  return ec_to_rsa_bits(s.kx_bits);  // ECDHE, and TLS 1.3 (whose groups here are EC or X).
}

// The certificate key in RSA-equivalent bits (0 when unknown).
int cert_rsa_bits(const CertificateProbe& c) {
  if (!c.present) return 0;
  if (c.key_type == "EC" || c.key_type == "ED25519" || c.key_type == "ED448") {
    return ec_to_rsa_bits(c.key_bits);
  }
  return c.key_bits;  // RSA, DSA.
}

void add(std::vector<GradeReason>& out, std::string id, Grade cap, std::string message) {
  out.push_back(GradeReason{std::move(id), cap, std::move(message)});
}

// The first suite of the best offered protocol: what a modern client negotiates when the server
// enforces its order, and the server's first pick from our full offer otherwise.
const CipherSuite* modern_choice(const ProbeResult& p) {
  for (auto it = p.protocols.rbegin(); it != p.protocols.rend(); ++it) {
    if (it->offered && !it->suites.empty()) return &it->suites.front();
  }
  return nullptr;
}

void cipher_caps(const ProbeResult& p, std::vector<GradeReason>& out) {
  bool any_fs = false, any_aead = false, rc4_modern = false, rc4_old = false;
  int weakest_dh = 0;
  for (const ProtocolProbe& pp : p.protocols) {
    if (!pp.offered) continue;
    for (const CipherSuite& s : pp.suites) {
      any_fs = any_fs || s.forward_secrecy;
      any_aead = any_aead || s.aead;
      if (s.name.find("RC4") != std::string::npos) {
        (pp.version >= TlsVersion::kTls11 ? rc4_modern : rc4_old) = true;
      }
      if (s.kx == "DHE" && s.kx_bits > 0 && (weakest_dh == 0 || s.kx_bits < weakest_dh)) {
        weakest_dh = s.kx_bits;
      }
    }
  }
  const CipherSuite* modern = modern_choice(p);
  // [2018]: capped only when a client that can do better does not get it; a modern client is
  // the best protocol's first choice.
  if (!any_fs || (modern != nullptr && !modern->forward_secrecy)) {
    add(out, "no-forward-secrecy", Grade::kB,
        "no forward secrecy for modern clients: prefer ECDHE suites (ssl_ciphers ECDHE-...)");
  }
  if (!any_aead || (modern != nullptr && !modern->aead)) {
    add(out, "no-aead", Grade::kB,
        "no authenticated encryption (AEAD) for modern clients: offer and prefer GCM or "
        "CHACHA20-POLY1305 suites");
  }
  if (rc4_modern) {
    add(out, "rc4", Grade::kC, "RC4 accepted with TLS 1.1 or later: remove RC4 from ssl_ciphers");
  } else if (rc4_old) {
    add(out, "rc4", Grade::kB, "RC4 accepted with TLS 1.0: remove RC4 from ssl_ciphers");
  }
  if (weakest_dh > 0 && weakest_dh < 1024) {
    // [guide]: under 1024 bits the key exchange is insecure (Logjam breaks 512-bit groups).
    add(out, "weak-dh", Grade::kF,
        "DH key exchange of " + std::to_string(weakest_dh) +
            " bits: use an ssl_dhparam of 2048 bits or more, or drop DHE suites");
  } else if (weakest_dh > 0 && weakest_dh < 2048) {
    add(out, "weak-dh", Grade::kB,  // [logjam]
        "DH key exchange of " + std::to_string(weakest_dh) +
            " bits (under 2048): use an ssl_dhparam of 2048 bits or more, or drop DHE suites");
  }
}

void certificate_caps(const ProbeResult& p, std::chrono::system_clock::time_point now,
                      std::vector<GradeReason>& out) {
  const CertificateProbe& c = p.certificate;
  if (!c.present) {
    add(out, "no-certificate", Grade::kF, "the server presented no certificate");
    return;
  }
  const int64_t t =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  int rsa_bits = cert_rsa_bits(c);
  if ((c.key_type == "RSA" || c.key_type == "DSA") && c.key_bits < 2048) {
    add(out, "cert-key-insecure", Grade::kF,  // [BR], [2014]
        "certificate " + c.key_type + " key of " + std::to_string(c.key_bits) +
            " bits (under 2048): issue a new certificate with an EC P-256 or RSA 2048+ key");
  } else if (rsa_bits > 0 && rsa_bits < 2048) {
    add(out, "cert-key-insecure", Grade::kF,
        "certificate " + c.key_type + " key of " + std::to_string(c.key_bits) +
            " bits is weaker than RSA 2048: issue a new certificate with an EC P-256 key");
  }
  if (c.signature_algorithm.find("MD5") != std::string::npos ||
      c.signature_algorithm.find("md5") != std::string::npos) {
    add(out, "md5-signature", Grade::kF,  // [2014]
        "certificate signed with " + c.signature_algorithm + ": reissue it");
  }
  // [guide]: "T" when the certificate is not trusted; SSL Labs counts an expired or not yet
  // valid certificate as not trusted.
  if (t > c.not_after) {
    add(out, "cert-expired", Grade::kT, "certificate expired: renew it (groundctl cert renew)");
  } else if (t < c.not_before) {
    add(out, "cert-not-yet-valid", Grade::kT,
        "certificate not valid yet: check the clock of the issuing host");
  }
  if (!c.trusted) {
    std::string why =
        c.verify_error.empty() ? std::string("chain does not verify") : c.verify_error;
    std::string fix = c.self_signed ? "self-signed: use a certificate from a trusted CA"
                      : !c.chain_complete
                          ? "serve the full chain (fullchain.pem) or pass the CA with --ca"
                          : "use a certificate from a trusted CA, or pass its CA with --ca";
    add(out, "untrusted", Grade::kT, "certificate not trusted (" + why + "): " + fix);
  }
  if (!c.name_matches) {
    add(out, "name-mismatch", Grade::kM,  // [guide]: "M" for a certificate name mismatch.
        "certificate does not match \"" + c.checked_name +
            "\": issue one whose subjectAltName covers it, or pass the right --sni");
  }
}

void protocol_caps(const ProbeResult& p, std::vector<GradeReason>& out) {
  auto offered = [&](TlsVersion v) {
    return std::any_of(p.protocols.begin(), p.protocols.end(),
                       [&](const ProtocolProbe& x) { return x.version == v && x.offered; });
  };
  if (offered(TlsVersion::kTls10)) {
    add(out, "tls10", Grade::kB,  // [2020]
        "TLS 1.0 offered: grade capped to B; remove TLSv1 from ssl_protocols");
  }
  if (offered(TlsVersion::kTls11)) {
    add(out, "tls11", Grade::kB,  // [2020]
        "TLS 1.1 offered: grade capped to B; remove TLSv1.1 from ssl_protocols");
  }
  if (!offered(TlsVersion::kTls12) && !offered(TlsVersion::kTls13)) {
    add(out, "no-tls12", Grade::kC,  // [2015]
        "TLS 1.2 not offered: add TLSv1.2 and TLSv1.3 to ssl_protocols");
  }
  if (p.secure_renegotiation.has_value() && !*p.secure_renegotiation) {
    add(out, "no-secure-renegotiation", Grade::kAMinus,  // [2014]: a warning.
        "secure renegotiation (RFC 5746) not supported: upgrade the TLS library");
  }
}

void hsts_reasons(const ProbeResult& p, std::vector<GradeReason>& out) {
  const HstsProbe& h = p.hsts;
  // [2014]: A+ needs HSTS with a long max-age; SSL Labs has required 180 days since 2017.
  if (!h.present) {
    std::string why = h.error.empty() ? "no Strict-Transport-Security header" : h.error;
    add(out, "no-hsts", Grade::kA,
        why + ": add `add_header Strict-Transport-Security \"max-age=63072000\" always;` for A+");
  } else if (h.max_age < kHstsMinMaxAge) {
    add(out, "hsts-short", Grade::kA,
        "HSTS max-age " + std::to_string(h.max_age) + " is under " +
            std::to_string(kHstsMinMaxAge) + " s (180 days): raise it for A+");
  }
}

}  // namespace

const char* grade_name(Grade g) {
  switch (g) {
    case Grade::kAPlus:
      return "A+";
    case Grade::kA:
      return "A";
    case Grade::kAMinus:
      return "A-";
    case Grade::kB:
      return "B";
    case Grade::kC:
      return "C";
    case Grade::kD:
      return "D";
    case Grade::kE:
      return "E";
    case Grade::kF:
      return "F";
    case Grade::kM:
      return "M";
    case Grade::kT:
      return "T";
  }
  return "?";
}

// [guide] table 2. TLS 1.3 is not in the 2009q table; SSL Labs rates it 100 % like TLS 1.2.
int protocol_rating(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return 90;
    case TlsVersion::kTls11:
      return 95;
    case TlsVersion::kTls12:
    case TlsVersion::kTls13:
      return 100;
  }
  return 0;
}

// [guide] table 3 (exportable key exchange, 40 %, is covered by the < 1024 row: export suites
// use 512-bit keys).
int key_exchange_rating(int rsa_bits) {
  if (rsa_bits <= 0) return 0;
  if (rsa_bits < 512) return 20;
  if (rsa_bits < 1024) return 40;
  if (rsa_bits < 2048) return 80;
  if (rsa_bits < 4096) return 90;
  return 100;
}

// [guide] table 4.
int cipher_rating(int bits) {
  if (bits <= 0) return 0;
  if (bits < 128) return 20;
  if (bits < 256) return 80;
  return 100;
}

// [guide] table 1.
Grade grade_for_score(int score) {
  if (score >= 80) return Grade::kA;
  if (score >= 65) return Grade::kB;
  if (score >= 50) return Grade::kC;
  if (score >= 35) return Grade::kD;
  if (score >= 20) return Grade::kE;
  return Grade::kF;
}

int ec_to_rsa_bits(int ec_bits) {
  // X25519 reports 253 bits and Ed25519 256; both give 128-bit security like P-256 (RFC 7748).
  if (ec_bits >= 512) return 15360;
  if (ec_bits >= 384) return 7680;
  if (ec_bits >= 250) return 3072;
  if (ec_bits >= 224) return 2048;
  if (ec_bits >= 160) return 1024;
  return ec_bits > 0 ? 512 : 0;
}

GradeReport grade_server(const ProbeResult& p, std::chrono::system_clock::time_point now) {
  GradeReport r;
  int best_proto = -1, worst_proto = 101, strongest = -1, weakest = 101;
  const int cert_bits = cert_rsa_bits(p.certificate);
  int kx_bits = cert_bits > 0 ? cert_bits : -1;  // The server authenticates with this key.
  for (const ProtocolProbe& pp : p.protocols) {
    if (!pp.offered) continue;
    best_proto = std::max(best_proto, protocol_rating(pp.version));
    worst_proto = std::min(worst_proto, protocol_rating(pp.version));
    for (const CipherSuite& s : pp.suites) {
      strongest = std::max(strongest, cipher_rating(s.bits));
      weakest = std::min(weakest, cipher_rating(s.bits));
      int b = suite_kx_bits(s, cert_bits);
      if (b >= 0 && (kx_bits < 0 || b < kx_bits)) kx_bits = b;
    }
  }
  if (best_proto < 0) {
    add(r.reasons, "no-tls", Grade::kF, "no TLS version could be negotiated");
    r.grade = r.grade_ignoring_trust = Grade::kF;
    return r;
  }
  // [guide]: each category is the average of its best and worst; a zero anywhere zeroes all.
  r.protocol_score = (best_proto + worst_proto) / 2;
  r.key_exchange_bits = std::max(kx_bits, 0);
  r.key_exchange_score = key_exchange_rating(r.key_exchange_bits);
  r.cipher_score = strongest < 0 ? 0 : (strongest + weakest) / 2;
  if (r.protocol_score > 0 && r.key_exchange_score > 0 && r.cipher_score > 0) {
    // 0.3, 0.3, 0.4, rounded half up in integers.
    r.score = (3 * r.protocol_score + 3 * r.key_exchange_score + 4 * r.cipher_score + 5) / 10;
  }
  Grade letter = grade_for_score(r.score);
  if (letter != Grade::kA) {
    add(r.reasons, "score", letter,
        "score " + std::to_string(r.score) + " (protocols " + std::to_string(r.protocol_score) +
            ", key exchange " + std::to_string(r.key_exchange_score) + ", ciphers " +
            std::to_string(r.cipher_score) + ") gives " + grade_name(letter));
  }
  protocol_caps(p, r.reasons);
  cipher_caps(p, r.reasons);
  certificate_caps(p, now, r.reasons);
  hsts_reasons(p, r.reasons);
  add(r.reasons, "ssl2-ssl3-not-tested", Grade::kAPlus,
      "SSLv2 and SSLv3 not tested: this OpenSSL cannot offer them (nginx 1.22 with OpenSSL 3 "
      "cannot serve them either)");

  Grade trust = Grade::kAPlus;  // kT or kM when the certificate fails.
  for (const GradeReason& reason : r.reasons) {
    if (reason.cap == Grade::kT || reason.cap == Grade::kM) {
      // [guide]: T (not trusted) takes precedence over M (mismatch).
      trust = (reason.cap == Grade::kT || trust == Grade::kT) ? Grade::kT : Grade::kM;
    } else {
      letter = worse(letter, reason.cap);
    }
  }
  // [2014]: A+ for an A with no warnings and HSTS of a long max-age; the HSTS reasons cap at A.
  if (letter == Grade::kA && !has_warnings(r.reasons) &&
      std::none_of(r.reasons.begin(), r.reasons.end(), [](const GradeReason& x) {
        return x.id == "no-hsts" || x.id == "hsts-short";
      })) {
    letter = Grade::kAPlus;
  }
  r.grade_ignoring_trust = letter;
  r.grade = trust == Grade::kAPlus ? letter : trust;
  // Worst first (T and M rank after F in the enum and so come first); ties keep their order.
  std::stable_sort(
      r.reasons.begin(), r.reasons.end(),
      [](const GradeReason& a, const GradeReason& b) { return rank(a.cap) > rank(b.cap); });
  return r;
}

}  // namespace gc::tls

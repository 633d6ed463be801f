// SPDX-License-Identifier: MIT
// tls/grade.h: SSL Labs' rating of a server from the facts probe.h gathered: the numeric score
// of the SSL Server Rating Guide (protocols 30 %, key exchange 30 %, cipher strength 40 %), its
// letter, and the caps of the guide's later changes, each kept as a reason. Pure.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tls/probe.h"

namespace gc::tls {

// Best first. kT (certificate not trusted) and kM (name mismatch) are outside the A-F scale:
// they replace the letter, as SSL Labs does.
enum class Grade { kAPlus, kA, kAMinus, kB, kC, kD, kE, kF, kM, kT };
const char* grade_name(Grade g);  // "A+", "A", "A-", "B", ..., "F", "M", "T".

// One finding. `cap` is the best grade the finding allows (kAPlus when it is informational).
struct GradeReason {
  std::string id;  // Stable, for scripts and tests: "tls10", "no-forward-secrecy", "untrusted"...
  Grade cap = Grade::kAPlus;
  std::string message;  // One line for people: what was found and the fix.
};

struct GradeReport {
  Grade grade = Grade::kF;
  // The grade if the certificate were trusted and matched (SSL Labs' "if trust issues are
  // ignored"); equal to `grade` when neither T nor M applies.
  Grade grade_ignoring_trust = Grade::kF;
  int score = 0;  // 0-100: 0.3 protocol + 0.3 key exchange + 0.4 cipher, 0 if any of them is 0.
  int protocol_score = 0, key_exchange_score = 0, cipher_score = 0;
  int key_exchange_bits = 0;         // The weakest key exchange, in RSA-equivalent bits.
  std::vector<GradeReason> reasons;  // Every cap, warning and note, worst first.
  bool is_good() const { return grade == Grade::kAPlus || grade == Grade::kA; }
};

// HSTS max-age needed for A+: 180 days, as SSL Labs and the HSTS preload list require.
inline constexpr int64_t kHstsMinMaxAge = 15552000;

// Rates `probe` at `now` (used for certificate dates). With no protocol offered the grade is F
// with reason "no-tls". Pure: same input, same report.
GradeReport grade_server(const ProbeResult& probe, std::chrono::system_clock::time_point now);

// The rating guide's tables, exposed for tests and the report.
int protocol_rating(TlsVersion v);      // TLS 1.0 → 90, 1.1 → 95, 1.2 and 1.3 → 100.
int key_exchange_rating(int rsa_bits);  // < 512 → 20, < 1024 → 40, < 2048 → 80, < 4096 → 90.
int cipher_rating(int bits);            // 0 → 0, < 128 → 20, < 256 → 80, ≥ 256 → 100.
Grade grade_for_score(int score);       // ≥ 80 A, ≥ 65 B, ≥ 50 C, ≥ 35 D, ≥ 20 E, else F.
// The RSA modulus size of equal strength to an EC key of `ec_bits` (NIST SP 800-57 part 1,
// table 2): 160 → 1024, 224 → 2048, 256 → 3072, 384 → 7680, 512+ → 15360.
int ec_to_rsa_bits(int ec_bits);

}  // namespace gc::tls

// SPDX-License-Identifier: MIT
// backup/manifest.h: manifest.json, the last file written into a backup set. Its presence marks
// the set complete; it records what each artifact holds and how to check it (sizes, SHA-256 of
// the ciphertext), which keys it is encrypted to, and the row counts every verification compares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backup/pg_client.h"
#include "base/result.h"

namespace gc::backup {

inline constexpr const char* kManifestFormat = "groundctl-backup/1";
inline constexpr const char* kManifestName = "manifest.json";

enum class ArtifactKind { kDatabase, kGlobals, kMedia };

struct Artifact {
  std::string name;  // File name inside the set: "orbital.dump.zst.age".
  ArtifactKind kind = ArtifactKind::kDatabase;
  std::string database;               // kDatabase only.
  std::vector<std::string> paths;     // kMedia only: the directories archived.
  std::uint64_t files = 0;            // kMedia only: entries in the tar.
  std::uint64_t plaintext_bytes = 0;  // pg_dump / tar output.
  std::uint64_t compressed_bytes = 0;
  std::uint64_t ciphertext_bytes = 0;  // The file's size.
  std::string sha256;                  // Of the file (the ciphertext), lowercase hex.
  std::vector<TableCount> tables;      // kDatabase only: exact counts in the dump's snapshot.
};

struct RecipientInfo {
  std::string recipient;    // "age1...": public, safe to record.
  std::string fingerprint;  // crypto::recipient_fingerprint.
};

enum class VerifyResult { kNotRun, kPassed, kFailed };

struct Verification {
  std::string mode = "off";  // "stream" | "off".
  VerifyResult result = VerifyResult::kNotRun;
  std::string detail;  // Why it failed, or what was compared.
  double seconds = 0;
};

struct Manifest {
  std::string format = kManifestFormat;
  std::string id;  // "20261127T031500Z".
  std::string host;
  std::string groundctl_version;
  std::string started_at;        // RFC 3339 UTC.
  std::string finished_at;       // RFC 3339 UTC.
  std::string postgres_version;  // Server, "15.18"; empty without databases.
  std::string pg_dump_version;   // "pg_dump (PostgreSQL) 15.18 ..." first line.
  std::vector<RecipientInfo> recipients;
  std::vector<Artifact> artifacts;
  Verification verification;
};

std::string to_json(const Manifest& m);  // Pretty-printed, stable key order.
// Errors: kCorrupt naming what is missing or malformed.
Result<Manifest> parse_manifest(std::string_view text);

std::string_view kind_name(ArtifactKind k);
std::string_view verify_result_name(VerifyResult r);

}  // namespace gc::backup

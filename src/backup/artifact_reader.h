// SPDX-License-Identifier: MIT
// backup/artifact_reader.h: reading an artifact back: its checksum against the manifest, and (with
// an identity) its plaintext: file → SHA-256 → age → zstd → sink, in one pass.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "backup/manifest.h"
#include "base/byte_sink.h"
#include "base/result.h"
#include "crypto/age_keys.h"

namespace gc::backup {

// Re-reads the file and compares size and SHA-256 with the manifest. Errors: kCorrupt naming the
// artifact and what differs; kNotFound when the file is gone.
Status check_artifact_file(const std::string& path, const Artifact& a);

// Streams the artifact's plaintext into `sink`. The checksum is computed on the way and compared
// at the end, so the caller must treat everything the sink got as void on error (restore drops
// the database it was filling). Errors: kCorrupt for a checksum, age or zstd failure (naming the
// artifact), kPermission when no identity opens it, the sink's error.
Status read_artifact(const std::string& path, const Artifact& a,
                     std::span<const crypto::X25519Identity> identities, const ByteSink& sink);

}  // namespace gc::backup

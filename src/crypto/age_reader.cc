// SPDX-License-Identifier: MIT
#include "crypto/age_reader.h"

#include <sodium.h>

#include <algorithm>
#include <string_view>

#include "base/check.h"
#include "crypto/detail/age_format.h"

namespace gc::crypto {
namespace {

using detail::kCipherChunkSize;
using detail::kTagSize;
using detail::kVersionLine;

Error corrupt(std::string message) { return make_error(Errc::kCorrupt, std::move(message)); }

// Why `seen`, the start of the input, which already differs from the version line, is not an age
// v1 file.
Error not_age_error(std::string_view seen) {
  constexpr std::string_view kPrefix = "age-encryption.org/";
  if (seen.size() > kPrefix.size() && seen.starts_with(kPrefix)) {
    return corrupt("unsupported age format version: only age-encryption.org/v1 is supported");
  }
  if (seen.starts_with("-")) {
    return corrupt("not a binary age file: ASCII-armored (PEM) age files are not supported");
  }
  return corrupt("not an age file: it does not start with the age-encryption.org/v1 header");
}

std::string chunk_name(std::uint64_t counter) { return "chunk " + std::to_string(counter); }

}  // namespace

Result<AgeReader> AgeReader::create(std::span<const X25519Identity> identities, ByteSink sink) {
  if (identities.empty()) {
    return make_error(Errc::kInvalidArgument, "age decryption needs at least one identity");
  }
  GC_TRY(detail::ensure_sodium());
  return AgeReader(std::vector<X25519Identity>(identities.begin(), identities.end()),
                   std::move(sink));
}

AgeReader::~AgeReader() {
  detail::wipe(file_key_.data(), file_key_.size());
  detail::wipe(payload_key_.data(), payload_key_.size());
  if (!plain_.empty()) detail::wipe(plain_.data(), plain_.size());
}

Status AgeReader::fail(Error error) {
  detail::wipe(file_key_.data(), file_key_.size());
  detail::wipe(payload_key_.data(), payload_key_.size());
  failed_ = error;
  return error;
}

Result<std::size_t> AgeReader::take_header(std::span<const std::uint8_t> data) {
  std::size_t i = 0;
  while (i < data.size()) {
    char c = static_cast<char>(data[i++]);
    header_ += c;
    // Checking the version line as it arrives rejects a wrong file (a plain dump, an armored
    // file) at once, instead of after buffering up to kMaxHeaderSize of it.
    if (header_.size() <= kVersionLine.size() && c != kVersionLine[header_.size() - 1]) {
      return not_age_error(header_);
    }
    if (header_.size() > detail::kMaxHeaderSize) {
      return corrupt("age header larger than 1 MiB: the file is corrupt");
    }
    if (c != '\n') continue;
    // The header ends with the first line that starts with "---": no stanza line can (arguments
    // lines start with "->", body lines are base64).
    if (header_.compare(line_start_, 3, "---") == 0) {
      phase_ = Phase::kNonce;
      GC_TRY(process_header());
      return i;
    }
    line_start_ = header_.size();
  }
  return i;
}

Status AgeReader::process_header() {
  GC_ASSIGN_OR_RETURN(detail::Header header, detail::parse_header(header_));
  for (const detail::Stanza& stanza : header.stanzas) {
    if (stanza.args[0] == "scrypt") {
      return make_error(Errc::kInvalidArgument,
                        "this age file is encrypted with a passphrase (scrypt); only files "
                        "encrypted to X25519 recipients can be decrypted here");
    }
  }
  // Stanzas of other types (plugins, grease) are skipped, as the spec requires.
  std::optional<detail::FileKey> file_key;
  for (const detail::Stanza& stanza : header.stanzas) {
    if (stanza.args[0] != "X25519") continue;
    for (const X25519Identity& identity : identities_) {
      GC_ASSIGN_OR_RETURN(file_key, detail::unwrap_x25519(stanza, identity));
      if (file_key) break;
    }
    if (file_key) break;
  }
  if (!file_key)
    return make_error(Errc::kPermission, "no identity matches any recipient of this file");

  GC_ASSIGN_OR_RETURN(auto mac, detail::header_mac(*file_key, std::string_view(header_).substr(
                                                                  0, header.mac_input_size)));
  // Constant time: a timing difference would tell an attacker how much of a forged MAC is right.
  if (sodium_memcmp(mac.data(), header.mac.data(), mac.size()) != 0) {
    return corrupt("header MAC mismatch: the file header was modified");
  }
  file_key_ = file_key->bytes;
  header_.clear();
  header_.shrink_to_fit();
  return ok();
}

Status AgeReader::take_nonce(std::span<const std::uint8_t>& data) {
  std::size_t n = std::min(nonce_.size() - nonce_size_, data.size());
  std::copy_n(data.begin(), n, nonce_.begin() + static_cast<std::ptrdiff_t>(nonce_size_));
  nonce_size_ += n;
  data = data.subspan(n);
  if (nonce_size_ < nonce_.size()) return ok();
  detail::FileKey file_key;
  file_key.bytes = file_key_;
  detail::wipe(file_key_.data(), file_key_.size());
  detail::Key key;
  GC_TRY(detail::payload_key(file_key, nonce_, key));
  payload_key_ = key.bytes;
  sealed_.reserve(kCipherChunkSize);
  plain_.resize(detail::kChunkSize);
  phase_ = Phase::kPayload;
  return ok();
}

Status AgeReader::write(std::span<const std::uint8_t> ciphertext) {
  if (failed_) return *failed_;
  GC_CHECK(phase_ != Phase::kDone);  // write() after finish() is a bug.
  ciphertext_bytes_ += ciphertext.size();
  if (phase_ == Phase::kHeader) {
    Result<std::size_t> used = take_header(ciphertext);
    if (!used) return fail(used.error());
    ciphertext = ciphertext.subspan(*used);
  }
  if (phase_ == Phase::kNonce) {
    Status st = take_nonce(ciphertext);
    if (!st) return fail(st.error());
  }
  while (!ciphertext.empty()) {
    // A full chunk with more data after it cannot be the final one.
    if (sealed_.size() == kCipherChunkSize) GC_TRY(open(false));
    std::size_t n = std::min(kCipherChunkSize - sealed_.size(), ciphertext.size());
    sealed_.insert(sealed_.end(), ciphertext.begin(),
                   ciphertext.begin() + static_cast<std::ptrdiff_t>(n));
    ciphertext = ciphertext.subspan(n);
  }
  return ok();
}

Status AgeReader::open(bool at_end) {
  if (!at_end) {
    if (!detail::open_chunk(payload_key_, counter_, false, sealed_, plain_.data())) {
      // A full chunk that opens as the final one, with data after it: the file was appended to.
      if (detail::open_chunk(payload_key_, counter_, true, sealed_, plain_.data())) {
        return fail(corrupt("trailing data after the final chunk (" + chunk_name(counter_) +
                            "): the file was appended to or is corrupt"));
      }
      return fail(corrupt(chunk_name(counter_) +
                          " failed authentication: the file is corrupt or was tampered with"));
    }
  } else {
    if (sealed_.empty()) return fail(corrupt("truncated: the final chunk is missing"));
    if (!detail::open_chunk(payload_key_, counter_, true, sealed_, plain_.data())) {
      // A full chunk that opens as a non-final one: the file was cut exactly after it.
      if (sealed_.size() == kCipherChunkSize &&
          detail::open_chunk(payload_key_, counter_, false, sealed_, plain_.data())) {
        return fail(corrupt("truncated: the final chunk is missing"));
      }
      return fail(corrupt("final " + chunk_name(counter_) +
                          " failed authentication: the file is truncated, corrupt or was "
                          "tampered with"));
    }
    if (sealed_.size() == kTagSize && counter_ > 0) {
      return fail(corrupt(chunk_name(counter_) +
                          " is an empty final chunk, which age allows only for an empty file"));
    }
  }
  std::size_t size = sealed_.size() - kTagSize;
  sealed_.clear();
  ++counter_;
  if (size == 0) return ok();
  Status st = sink_(std::span(plain_.data(), size));
  if (!st) return fail(st.error());
  plaintext_bytes_ += size;
  return ok();
}

Status AgeReader::finish() {
  if (failed_) return *failed_;
  GC_CHECK(phase_ != Phase::kDone);  // finish() twice is a bug.
  switch (phase_) {
    case Phase::kHeader:
      if (header_.empty()) return fail(corrupt("not an age file: the input is empty"));
      return fail(corrupt("truncated: the file ends inside the age header"));
    case Phase::kNonce:
      return fail(corrupt("truncated: the file ends before the payload nonce is complete"));
    case Phase::kPayload:
      GC_TRY(open(true));
      phase_ = Phase::kDone;
      detail::wipe(payload_key_.data(), payload_key_.size());
      return ok();
    case Phase::kDone:
      break;
  }
  return ok();
}

}  // namespace gc::crypto

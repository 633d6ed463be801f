// SPDX-License-Identifier: MIT
#include "crypto/age_writer.h"

#include <sodium.h>

#include <algorithm>
#include <string>

#include "base/check.h"
#include "crypto/detail/age_format.h"

namespace gc::crypto {

using detail::kChunkSize;
using detail::kTagSize;

Result<AgeWriter> AgeWriter::create(std::span<const X25519Recipient> recipients, ByteSink sink) {
  if (recipients.empty()) {
    return make_error(Errc::kInvalidArgument, "age encryption needs at least one recipient");
  }
  GC_TRY(detail::ensure_sodium());
  // A fresh file key per file (the spec's "File key": never reused across files).
  detail::FileKey file_key;
  randombytes_buf(file_key.data(), file_key.size());

  std::string header(detail::kVersionLine);
  for (const X25519Recipient& recipient : recipients) {
    GC_ASSIGN_OR_RETURN(detail::Stanza stanza, detail::wrap_x25519(recipient, file_key));
    header += detail::format_stanza(stanza);
  }
  header += "---";
  GC_ASSIGN_OR_RETURN(auto mac, detail::header_mac(file_key, header));
  header += ' ';
  header += detail::base64_encode(mac);
  header += '\n';

  std::array<std::uint8_t, detail::kPayloadNonceSize> nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  header.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());

  AgeWriter writer(std::move(sink));
  detail::Key key;
  GC_TRY(detail::payload_key(file_key, nonce, key));
  writer.payload_key_ = key.bytes;
  writer.plain_.reserve(kChunkSize);
  writer.sealed_.resize(kChunkSize + kTagSize);
  GC_TRY(
      writer.emit(std::span(reinterpret_cast<const std::uint8_t*>(header.data()), header.size())));
  return writer;
}

AgeWriter::~AgeWriter() {
  detail::wipe(payload_key_.data(), payload_key_.size());
  if (!plain_.empty()) detail::wipe(plain_.data(), plain_.size());
}

Status AgeWriter::emit(std::span<const std::uint8_t> bytes) {
  Status st = sink_(bytes);
  if (!st) {
    failed_ = st.error();
    return st;
  }
  ciphertext_bytes_ += bytes.size();
  return ok();
}

Status AgeWriter::seal(bool last) {
  detail::seal_chunk(payload_key_, counter_, last, plain_, sealed_.data());
  ++counter_;
  std::size_t size = plain_.size() + kTagSize;
  detail::wipe(plain_.data(), plain_.size());
  plain_.clear();
  return emit(std::span(sealed_.data(), size));
}

Status AgeWriter::write(std::span<const std::uint8_t> plaintext) {
  GC_CHECK(!finished_);
  if (failed_) return *failed_;
  while (!plaintext.empty()) {
    // A full chunk is sealed only now that more plaintext follows: the spec puts the final-chunk
    // flag on the last full chunk when the plaintext is a multiple of 64 KiB, and allows an empty
    // final chunk only for an empty plaintext.
    if (plain_.size() == kChunkSize) GC_TRY(seal(false));
    std::size_t n = std::min(kChunkSize - plain_.size(), plaintext.size());
    plain_.insert(plain_.end(), plaintext.begin(),
                  plaintext.begin() + static_cast<std::ptrdiff_t>(n));
    plaintext = plaintext.subspan(n);
    plaintext_bytes_ += n;
  }
  return ok();
}

Status AgeWriter::finish() {
  GC_CHECK(!finished_);
  if (failed_) return *failed_;
  finished_ = true;
  return seal(true);
}

}  // namespace gc::crypto

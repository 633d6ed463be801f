// SPDX-License-Identifier: MIT
// Tests for crypto/age_writer.h, age_reader.h and age.h against our own implementation: chunking
// and the last-chunk rule, piece sizes, several recipients, and every rejection the reader owes
// (tampering, truncation, trailing data, wrong keys, hand-crafted malicious headers). Interop with
// the real age CLI is in age_interop_test.cc.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "crypto/age.h"
#include "crypto/detail/age_format.h"

namespace gc::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kCipherChunk = kChunk + 16;

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

X25519Identity new_identity() {
  auto identity = generate_identity();
  EXPECT_TRUE(identity);
  return *identity;
}

// Calls `write` on consecutive pieces of `data` of at most `piece` bytes.
template <typename Stage>
Status feed(Stage& stage, const Bytes& data, std::size_t piece) {
  std::size_t i = 0;
  while (i < data.size()) {
    std::size_t n = std::min(piece, data.size() - i);
    GC_TRY(stage.write(std::span(data).subspan(i, n)));
    i += n;
  }
  return ok();
}

Bytes encrypt(const Bytes& plain, const std::vector<X25519Recipient>& recipients,
              std::size_t piece = kAll) {
  Bytes out;
  auto writer = AgeWriter::create(recipients, [&out](std::span<const std::uint8_t> b) {
    out.insert(out.end(), b.begin(), b.end());
    return ok();
  });
  EXPECT_TRUE(writer) << writer.error().message;
  if (!writer) return out;
  EXPECT_TRUE(feed(*writer, plain, piece));
  EXPECT_TRUE(writer->finish());
  EXPECT_EQ(writer->plaintext_bytes(), plain.size());
  EXPECT_EQ(writer->ciphertext_bytes(), out.size());
  return out;
}

Bytes encrypt_to(const Bytes& plain, const X25519Identity& identity, std::size_t piece = kAll) {
  return encrypt(plain, {identity.recipient()}, piece);
}

struct Decrypted {
  Status status;
  Bytes plain;
  int sink_calls = 0;
};

Decrypted decrypt(const Bytes& cipher, const std::vector<X25519Identity>& identities,
                  std::size_t piece = kAll) {
  Decrypted d;
  auto reader = AgeReader::create(identities, [&d](std::span<const std::uint8_t> b) {
    d.plain.insert(d.plain.end(), b.begin(), b.end());
    ++d.sink_calls;
    return ok();
  });
  EXPECT_TRUE(reader) << reader.error().message;
  if (!reader) return d;
  d.status = feed(*reader, cipher, piece);
  if (d.status) d.status = reader->finish();
  if (d.status) {
    EXPECT_EQ(reader->plaintext_bytes(), d.plain.size());
  }
  return d;
}

// Expects `d` to have failed with `code` and a message starting with `prefix`.
void expect_error(const Decrypted& d, Errc code, const std::string& prefix) {
  ASSERT_FALSE(d.status) << "expected: " << prefix;
  EXPECT_EQ(d.status.error().code, code) << d.status.error().message;
  EXPECT_TRUE(d.status.error().message.starts_with(prefix))
      << "got: " << d.status.error().message << "\nexpected prefix: " << prefix;
}

// Bytes from the start of the file to the end of the MAC line, and to the end of the nonce.
std::size_t mac_line_end(const Bytes& cipher) {
  std::string_view text(reinterpret_cast<const char*>(cipher.data()), cipher.size());
  std::size_t mac = text.find("\n---");
  return text.find('\n', mac + 1) + 1;
}
std::size_t payload_start(const Bytes& cipher) { return mac_line_end(cipher) + 16; }

std::size_t chunk_count(std::size_t plain_size) {
  return std::max<std::size_t>(1, (plain_size + kChunk - 1) / kChunk);
}

TEST(AgeStream, RoundTripsAcrossChunkBoundaries) {
  X25519Identity id = new_identity();
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, kChunk - 1, kChunk, kChunk + 1,
                           3 * kChunk, 3 * kChunk + 17}) {
    Bytes plain = random_bytes(size, size);
    Bytes cipher = encrypt_to(plain, id);
    // One tag per chunk, and exactly max(1, ceil(n / 64 KiB)) chunks: a plaintext that fills its
    // last chunk ends with that full chunk flagged final, not with an extra empty chunk.
    EXPECT_EQ(cipher.size(), payload_start(cipher) + size + 16 * chunk_count(size)) << size;
    Decrypted d = decrypt(cipher, {id});
    ASSERT_TRUE(d.status) << size << ": " << d.status.error().message;
    EXPECT_EQ(d.plain, plain) << size;
  }
}

TEST(AgeStream, HeaderHasOneX25519StanzaPerRecipientAndAMac) {
  X25519Identity a = new_identity(), b = new_identity();
  Bytes cipher = encrypt_to(Bytes{1, 2, 3}, a);
  std::string header(cipher.begin(), cipher.begin() + static_cast<long>(mac_line_end(cipher)));
  EXPECT_TRUE(header.starts_with("age-encryption.org/v1\n-> X25519 ")) << header;
  auto parsed = detail::parse_header(header);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->stanzas.size(), 1u);
  EXPECT_EQ(parsed->stanzas[0].body.size(), 32u);

  Bytes two = encrypt(Bytes{1}, {a.recipient(), b.recipient()});
  auto parsed_two = detail::parse_header(
      std::string(two.begin(), two.begin() + static_cast<long>(mac_line_end(two))));
  ASSERT_TRUE(parsed_two);
  EXPECT_EQ(parsed_two->stanzas.size(), 2u);
}

TEST(AgeStream, OddWritePiecesAndOneByteReadsGiveTheSamePlaintext) {
  X25519Identity id = new_identity();
  Bytes plain = random_bytes(3 * kChunk + 12345, 7);
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, kChunk - 1, kChunk,
                            kChunk + 1, std::size_t{100003}, kAll}) {
    Bytes cipher = encrypt_to(plain, id, piece);
    EXPECT_EQ(cipher.size(), payload_start(cipher) + plain.size() + 16 * chunk_count(plain.size()));
    Decrypted whole = decrypt(cipher, {id});
    ASSERT_TRUE(whole.status) << piece << ": " << whole.status.error().message;
    EXPECT_EQ(whole.plain, plain) << piece;
  }
  Bytes cipher = encrypt_to(plain, id, 7);
  Decrypted bytewise = decrypt(cipher, {id}, 1);
  ASSERT_TRUE(bytewise.status) << bytewise.status.error().message;
  EXPECT_EQ(bytewise.plain, plain);
  // Plaintext comes out one authenticated chunk at a time, however the input is cut.
  EXPECT_EQ(bytewise.sink_calls, 4);
}

TEST(AgeStream, EachOfSeveralRecipientsDecryptsAlone) {
  std::vector<X25519Identity> ids = {new_identity(), new_identity(), new_identity()};
  Bytes plain = random_bytes(100000, 3);
  Bytes cipher = encrypt(plain, {ids[0].recipient(), ids[1].recipient(), ids[2].recipient()});
  for (const X25519Identity& id : ids) {
    Decrypted d = decrypt(cipher, {id});
    ASSERT_TRUE(d.status) << d.status.error().message;
    EXPECT_EQ(d.plain, plain);
  }
  // Any identity among several unrelated ones works too.
  Decrypted mixed = decrypt(cipher, {new_identity(), ids[2]});
  ASSERT_TRUE(mixed.status);
  EXPECT_EQ(mixed.plain, plain);
}

TEST(AgeStream, WrongKeyIsRejectedBeforeAnyPlaintext) {
  Bytes cipher = encrypt_to(random_bytes(1000, 1), new_identity());
  Decrypted d = decrypt(cipher, {new_identity(), new_identity()});
  expect_error(d, Errc::kPermission, "no identity matches any recipient of this file");
  EXPECT_EQ(d.sink_calls, 0);
}

TEST(AgeStream, TamperedHeaderIsRejectedBeforeAnyPlaintext) {
  X25519Identity id = new_identity();
  Bytes plain = random_bytes(200000, 2);
  Bytes cipher = encrypt_to(plain, id);
  std::size_t mac_end = mac_line_end(cipher);
  std::size_t mac_start = mac_end - 1 - 43;
  std::string header(cipher.begin(), cipher.begin() + static_cast<long>(mac_end));
  std::size_t stanza_body = header.find('\n', header.find("-> X25519")) + 1;

  struct Case {
    std::string name;
    Bytes file;
    Errc code;
    std::string error;
  };
  std::vector<Case> cases;
  auto with = [&](std::size_t pos, char c) {
    Bytes t = cipher;
    t[pos] = static_cast<std::uint8_t>(c);
    return t;
  };
  auto flip = [](std::uint8_t c) { return c == 'A' ? 'B' : 'A'; };
  cases.push_back({"mac", with(mac_start, flip(cipher[mac_start])), Errc::kCorrupt,
                   "header MAC mismatch: the file header was modified"});
  {
    // A well-formed extra stanza: parsed, ignored as unknown, but not covered by the MAC.
    Bytes t = cipher;
    std::string grease = "-> grease-stanza x\nAAAA\n";
    t.insert(t.begin() + static_cast<long>(mac_end - 1 - 43 - 4), grease.begin(), grease.end());
    cases.push_back(
        {"added stanza", t, Errc::kCorrupt, "header MAC mismatch: the file header was modified"});
  }
  cases.push_back({"wrapped key", with(stanza_body, static_cast<char>(flip(cipher[stanza_body]))),
                   Errc::kPermission, "no identity matches any recipient of this file"});
  cases.push_back({"version", with(20, '2'), Errc::kCorrupt, "unsupported age format version"});
  cases.push_back({"first byte", with(0, 'b'), Errc::kCorrupt, "not an age file"});
  {
    Bytes t = cipher;
    std::string_view marker = "-> X25519";
    t.insert(t.begin() + static_cast<long>(header.find(marker) + marker.size()), ' ');
    cases.push_back(
        {"double space", t, Errc::kCorrupt, "age header line 2: empty stanza argument"});
  }
  {
    // '=' padding is never canonical in age's base64.
    Bytes t = cipher;
    t.insert(t.begin() + static_cast<long>(header.find('\n', stanza_body)), '=');
    cases.push_back({"padding", t, Errc::kCorrupt,
                     "age header line 3: stanza body is not canonical unpadded base64"});
  }
  {
    Bytes t = cipher;
    t.insert(t.begin() + static_cast<long>(stanza_body), '\r');
    cases.push_back({"carriage return", t, Errc::kCorrupt, "age header line 3:"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Decrypted d = decrypt(c.file, {id});
    expect_error(d, c.code, c.error);
    EXPECT_EQ(d.sink_calls, 0);
    Decrypted bytewise = decrypt(c.file, {id}, 1);
    expect_error(bytewise, c.code, c.error);
    EXPECT_EQ(bytewise.sink_calls, 0);
  }
}

TEST(AgeStream, TamperedChunkIsRejected) {
  X25519Identity id = new_identity();
  Bytes cipher = encrypt_to(random_bytes(2 * kChunk + 100, 4), id);
  std::size_t p = payload_start(cipher);

  Bytes middle = cipher;
  middle[p + kCipherChunk + 10] ^= 1;
  Decrypted d = decrypt(middle, {id});
  expect_error(d, Errc::kCorrupt,
               "chunk 1 failed authentication: the file is corrupt or was tampered with");
  EXPECT_EQ(d.plain.size(), kChunk);  // Chunk 0 was authentic; the caller discards it.

  Bytes tag = cipher;
  tag[p + kCipherChunk - 1] ^= 0x80;
  expect_error(decrypt(tag, {id}), Errc::kCorrupt, "chunk 0 failed authentication");

  Bytes last = cipher;
  last[cipher.size() - 20] ^= 1;
  expect_error(decrypt(last, {id}), Errc::kCorrupt,
               "final chunk 2 failed authentication: the file is truncated, corrupt or was "
               "tampered with");

  Bytes nonce = cipher;
  nonce[p - 1] ^= 1;  // A different payload key: the first chunk no longer opens.
  expect_error(decrypt(nonce, {id}), Errc::kCorrupt, "chunk 0 failed authentication");
}

TEST(AgeStream, TruncatedFilesAreRejected) {
  X25519Identity id = new_identity();
  Bytes cipher = encrypt_to(random_bytes(2 * kChunk + 100, 5), id);
  std::size_t p = payload_start(cipher);
  struct Cut {
    std::size_t at;
    std::string error;
  };
  const std::vector<Cut> cuts = {
      {0, "not an age file: the input is empty"},
      {10, "truncated: the file ends inside the age header"},
      {p - 20, "truncated: the file ends inside the age header"},
      {p - 5, "truncated: the file ends before the payload nonce is complete"},
      {p, "truncated: the final chunk is missing"},
      {p + 7, "final chunk 0 failed authentication"},
      {p + kCipherChunk, "truncated: the final chunk is missing"},
      {p + kCipherChunk + 1, "final chunk 1 failed authentication"},
      {p + 2 * kCipherChunk, "truncated: the final chunk is missing"},
      {cipher.size() - 1, "final chunk 2 failed authentication"},
  };
  for (const Cut& cut : cuts) {
    SCOPED_TRACE("cut at " + std::to_string(cut.at));
    Bytes t(cipher.begin(), cipher.begin() + static_cast<long>(cut.at));
    expect_error(decrypt(t, {id}), Errc::kCorrupt, cut.error);
    expect_error(decrypt(t, {id}, 1), Errc::kCorrupt, cut.error);
  }

  // The final chunk is full when the plaintext is a multiple of 64 KiB; a cut right after the
  // previous full chunk must still be noticed.
  Bytes even = encrypt_to(random_bytes(2 * kChunk, 6), id);
  Bytes t(even.begin(), even.begin() + static_cast<long>(payload_start(even) + kCipherChunk));
  expect_error(decrypt(t, {id}), Errc::kCorrupt, "truncated: the final chunk is missing");
}

TEST(AgeStream, TrailingDataIsRejected) {
  X25519Identity id = new_identity();
  Bytes even = encrypt_to(random_bytes(2 * kChunk, 8), id);
  for (std::size_t extra : {std::size_t{1}, std::size_t{100}, kCipherChunk, 2 * kCipherChunk + 3}) {
    SCOPED_TRACE(extra);
    Bytes t = even;
    Bytes junk = random_bytes(extra, extra);
    t.insert(t.end(), junk.begin(), junk.end());
    expect_error(decrypt(t, {id}), Errc::kCorrupt,
                 "trailing data after the final chunk (chunk 1): the file was appended to");
    expect_error(decrypt(t, {id}, 1), Errc::kCorrupt, "trailing data after the final chunk");
  }
  // After a short final chunk, the boundary is unknowable: the final chunk fails instead.
  Bytes odd = encrypt_to(random_bytes(100, 9), id);
  odd.push_back(0);
  expect_error(decrypt(odd, {id}), Errc::kCorrupt, "final chunk 0 failed authentication");
  Bytes empty = encrypt_to(Bytes{}, id);
  empty.push_back(0);
  expect_error(decrypt(empty, {id}), Errc::kCorrupt, "final chunk 0 failed authentication");
}

TEST(AgeStream, RejectsInputThatIsNotABinaryAgeFile) {
  X25519Identity id = new_identity();
  std::string armored =
      "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n";
  expect_error(decrypt(Bytes(armored.begin(), armored.end()), {id}), Errc::kCorrupt,
               "not a binary age file: ASCII-armored (PEM) age files are not supported");
  std::string dump = "PGDMP\x01\x0e";
  expect_error(decrypt(Bytes(dump.begin(), dump.end()), {id}), Errc::kCorrupt, "not an age file");
}

TEST(AgeStream, ErrorsAreSticky) {
  X25519Identity id = new_identity();
  Bytes cipher = encrypt_to(random_bytes(10, 1), new_identity());
  auto reader = AgeReader::create(std::vector<X25519Identity>{id},
                                  [](std::span<const std::uint8_t>) { return ok(); });
  ASSERT_TRUE(reader);
  Status first = reader->write(cipher);
  ASSERT_FALSE(first);
  Status again = reader->write(cipher);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, first.error().message);
  EXPECT_EQ(reader->finish().error().message, first.error().message);
}

TEST(AgeStream, SinkErrorsPropagate) {
  X25519Identity id = new_identity();
  int calls = 0;
  auto writer = AgeWriter::create(std::vector<X25519Recipient>{id.recipient()},
                                  [&calls](std::span<const std::uint8_t>) -> Status {
                                    if (++calls == 2) return make_error(Errc::kIo, "disk full");
                                    return ok();
                                  });
  ASSERT_TRUE(writer);
  Bytes plain = random_bytes(3 * kChunk, 1);
  Status st = feed(*writer, plain, kAll);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "disk full");
  EXPECT_EQ(writer->finish().error().message, "disk full");

  Bytes cipher = encrypt_to(plain, id);
  auto reader = AgeReader::create(
      std::vector<X25519Identity>{id},
      [](std::span<const std::uint8_t>) -> Status { return make_error(Errc::kIo, "pipe closed"); });
  ASSERT_TRUE(reader);
  Status rs = reader->write(cipher);
  ASSERT_FALSE(rs);
  EXPECT_EQ(rs.error().code, Errc::kIo);
}

TEST(AgeStream, RejectsMissingOrUnusableKeys) {
  auto no_recipients = AgeWriter::create({}, [](std::span<const std::uint8_t>) { return ok(); });
  ASSERT_FALSE(no_recipients);
  EXPECT_EQ(no_recipients.error().code, Errc::kInvalidArgument);
  auto no_identities = AgeReader::create({}, [](std::span<const std::uint8_t>) { return ok(); });
  ASSERT_FALSE(no_identities);
  EXPECT_EQ(no_identities.error().code, Errc::kInvalidArgument);
  // The all-zero public key is a low-order point: anyone could compute the shared secret.
  std::vector<X25519Recipient> zero = {X25519Recipient(std::array<std::uint8_t, 32>{})};
  auto low_order = AgeWriter::create(zero, [](std::span<const std::uint8_t>) { return ok(); });
  ASSERT_FALSE(low_order);
  EXPECT_EQ(low_order.error().code, Errc::kInvalidArgument);
}

// Builds an age file by hand, for the shapes our writer never produces.
Bytes craft(const std::vector<detail::Stanza>& stanzas, const detail::FileKey& file_key,
            const std::vector<Bytes>& chunks, const std::vector<bool>& last) {
  std::string header(detail::kVersionLine);
  for (const detail::Stanza& s : stanzas) header += detail::format_stanza(s);
  header += "---";
  auto mac = detail::header_mac(file_key, header);
  EXPECT_TRUE(mac);
  header += " " + detail::base64_encode(*mac) + "\n";
  Bytes out(header.begin(), header.end());
  Bytes nonce(16, 0x42);
  out.insert(out.end(), nonce.begin(), nonce.end());
  detail::Key key;
  EXPECT_TRUE(detail::payload_key(file_key, nonce, key));
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    Bytes sealed(chunks[i].size() + 16);
    detail::seal_chunk(key.span(), i, last[i], chunks[i], sealed.data());
    out.insert(out.end(), sealed.begin(), sealed.end());
  }
  return out;
}

detail::FileKey test_file_key() {
  detail::FileKey key;
  for (std::size_t i = 0; i < key.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  return key;
}

detail::Stanza x25519_stanza(const X25519Identity& id, const detail::FileKey& key) {
  auto stanza = detail::wrap_x25519(id.recipient(), key);
  EXPECT_TRUE(stanza);
  return *stanza;
}

TEST(AgeCrafted, UnknownStanzasAreIgnored) {
  X25519Identity id = new_identity();
  detail::FileKey key = test_file_key();
  detail::Stanza grease{{"8#!x-grease", "Z&/", "a"}, random_bytes(70, 1)};
  detail::Stanza empty_body{{"other.example/type"}, {}};
  detail::Stanza full_line{{"full"}, random_bytes(48, 2)};  // Exactly 64 columns, then "".
  Bytes plain = random_bytes(5000, 3);
  Bytes file = craft(
      {grease, empty_body, x25519_stanza(new_identity(), key), full_line, x25519_stanza(id, key)},
      key, {plain}, {true});
  Decrypted d = decrypt(file, {id}, 1);
  ASSERT_TRUE(d.status) << d.status.error().message;
  EXPECT_EQ(d.plain, plain);
}

TEST(AgeCrafted, AllZeroSharedSecretAborts) {
  X25519Identity id = new_identity();
  detail::FileKey key = test_file_key();
  // The zero point and the point u = 1 have small order: X25519 with any clamped scalar gives 0.
  for (std::uint8_t first : {std::uint8_t{0}, std::uint8_t{1}}) {
    Bytes share(32, 0);
    share[0] = first;
    detail::Stanza evil{{"X25519", detail::base64_encode(share)}, random_bytes(32, 1)};
    Decrypted d = decrypt(craft({evil}, key, {Bytes{1, 2, 3}}, {true}), {id});
    expect_error(d, Errc::kCorrupt, "X25519 stanza yields an all-zero shared secret");
    EXPECT_EQ(d.sink_calls, 0);
  }
}

TEST(AgeCrafted, MalformedX25519StanzasAreRejected) {
  X25519Identity id = new_identity();
  detail::FileKey key = test_file_key();
  detail::Stanza good = x25519_stanza(id, key);
  detail::Stanza extra_arg = good;
  extra_arg.args.push_back("x");
  detail::Stanza short_body = good;
  short_body.body.pop_back();
  detail::Stanza short_share = good;
  short_share.args[1] = detail::base64_encode(random_bytes(31, 1));
  for (const detail::Stanza& bad : {extra_arg, short_body, short_share}) {
    Decrypted d = decrypt(craft({bad}, key, {Bytes{1}}, {true}), {id});
    expect_error(d, Errc::kCorrupt, "malformed X25519 stanza");
  }
}

TEST(AgeCrafted, EmptyFinalChunkOnlyForEmptyPlaintext) {
  X25519Identity id = new_identity();
  detail::FileKey key = test_file_key();
  Decrypted empty = decrypt(craft({x25519_stanza(id, key)}, key, {Bytes{}}, {true}), {id});
  ASSERT_TRUE(empty.status) << empty.status.error().message;
  EXPECT_TRUE(empty.plain.empty());

  Bytes full = random_bytes(kChunk, 1);
  Decrypted after_data =
      decrypt(craft({x25519_stanza(id, key)}, key, {full, Bytes{}}, {false, true}), {id});
  expect_error(after_data, Errc::kCorrupt,
               "chunk 1 is an empty final chunk, which age allows only for an empty file");

  // A short chunk not flagged final cannot be the last one.
  Decrypted unflagged = decrypt(craft({x25519_stanza(id, key)}, key, {Bytes{1, 2}}, {false}), {id});
  expect_error(unflagged, Errc::kCorrupt, "final chunk 0 failed authentication");
}

TEST(AgeCrafted, PassphraseFilesAreRefused) {
  X25519Identity id = new_identity();
  detail::FileKey key = test_file_key();
  detail::Stanza scrypt{{"scrypt", detail::base64_encode(random_bytes(16, 1)), "18"},
                        random_bytes(32, 2)};
  Decrypted d = decrypt(craft({scrypt}, key, {Bytes{1}}, {true}), {id});
  expect_error(d, Errc::kInvalidArgument, "this age file is encrypted with a passphrase (scrypt)");
}

TEST(AgeFormat, Base64IsCanonicalAndUnpadded) {
  EXPECT_EQ(detail::base64_encode(Bytes{}), "");
  EXPECT_EQ(detail::base64_encode(Bytes{'f'}), "Zg");
  EXPECT_EQ(detail::base64_encode(Bytes{'f', 'o'}), "Zm8");
  EXPECT_EQ(detail::base64_encode(Bytes{'f', 'o', 'o'}), "Zm9v");
  EXPECT_EQ(detail::base64_decode("Zm8"), (Bytes{'f', 'o'}));
  EXPECT_FALSE(detail::base64_decode("Zm8="));  // Padding.
  EXPECT_FALSE(detail::base64_decode("Zm9"));   // Non-zero trailing bits: not canonical.
  EXPECT_FALSE(detail::base64_decode("Zh"));    // Likewise.
  EXPECT_FALSE(detail::base64_decode("Z"));     // Impossible length.
  EXPECT_FALSE(detail::base64_decode("Zm-v"));  // URL alphabet.
  for (std::size_t n = 0; n < 100; ++n) {
    Bytes data = random_bytes(n, n);
    EXPECT_EQ(detail::base64_decode(detail::base64_encode(data)), data);
  }
}

TEST(AgeFiles, EncryptAndDecryptFilesAtomically) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  X25519Identity id = new_identity();
  Bytes plain = random_bytes(300000, 11);
  ASSERT_TRUE(write_file_atomic(dir->file("plain"), std::string(plain.begin(), plain.end())));
  std::vector<X25519Recipient> recipients = {id.recipient()};
  std::vector<X25519Identity> identities = {id};
  auto enc = encrypt_file(dir->file("plain"), dir->file("f.age"), recipients);
  ASSERT_TRUE(enc) << enc.error().message;
  EXPECT_EQ(enc->plaintext_bytes, plain.size());
  auto dec = decrypt_file(dir->file("f.age"), dir->file("out"), identities);
  ASSERT_TRUE(dec) << dec.error().message;
  EXPECT_EQ(dec->plaintext_bytes, plain.size());
  EXPECT_EQ(dec->ciphertext_bytes, enc->ciphertext_bytes);
  auto out = read_file(dir->file("out"));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, std::string(plain.begin(), plain.end()));

  // A file cut after its first chunk: the error names the input, and the old output survives.
  auto cipher = read_file(dir->file("f.age"));
  ASSERT_TRUE(cipher);
  Bytes cbytes(cipher->begin(), cipher->end());
  ASSERT_TRUE(write_file_atomic(dir->file("cut.age"),
                                cipher->substr(0, payload_start(cbytes) + kCipherChunk)));
  auto bad = decrypt_file(dir->file("cut.age"), dir->file("out"), identities);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "decrypt " + dir->file("cut.age") + ": truncated: the final chunk is missing");
  auto still = read_file(dir->file("out"));
  ASSERT_TRUE(still);
  EXPECT_EQ(still->size(), plain.size());
  auto fresh = decrypt_file(dir->file("cut.age"), dir->file("never"), identities);
  EXPECT_FALSE(fresh);
  EXPECT_NE(::access(dir->file("never").c_str(), F_OK), 0);

  auto missing = encrypt_file(dir->file("nope"), dir->file("x.age"), recipients);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
}

TEST(AgeFiles, EncryptAndDecryptBetweenFds) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  X25519Identity id = new_identity();
  std::string plain(kChunk * 2, 'x');
  ASSERT_TRUE(write_file_atomic(dir->file("plain"), plain));
  std::vector<X25519Recipient> recipients = {id.recipient()};
  std::vector<X25519Identity> identities = {id};
  {
    auto in = open_fd(dir->file("plain"), O_RDONLY);
    auto out = open_fd(dir->file("f.age"), O_WRONLY | O_CREAT | O_TRUNC);
    ASSERT_TRUE(in && out);
    auto stats = encrypt_fd(in->get(), out->get(), recipients);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->plaintext_bytes, plain.size());
  }
  auto in = open_fd(dir->file("f.age"), O_RDONLY);
  auto out = open_fd(dir->file("out"), O_WRONLY | O_CREAT | O_TRUNC);
  ASSERT_TRUE(in && out);
  auto stats = decrypt_fd(in->get(), out->get(), identities);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(read_file(dir->file("out")).value_or(""), plain);
}

}  // namespace
}  // namespace gc::crypto

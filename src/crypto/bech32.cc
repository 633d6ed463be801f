// SPDX-License-Identifier: MIT
#include "crypto/bech32.h"

#include <sodium.h>

#include <array>
#include <cstddef>

namespace gc::crypto {
namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::size_t kChecksumLength = 6;

// Secret keys pass through these buffers (age identities are Bech32), so every intermediate
// vector is wiped before it is freed.
void wipe(std::vector<std::uint8_t>& v) {
  if (!v.empty()) sodium_memzero(v.data(), v.size());
}

// BIP-173's BCH checksum over GF(32).
std::uint32_t polymod(std::span<const std::uint8_t> values) {
  constexpr std::array<std::uint32_t, 5> kGenerator = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                                       0x3d4233dd, 0x2a1462b3};
  std::uint32_t chk = 1;
  for (std::uint8_t v : values) {
    std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= kGenerator[static_cast<std::size_t>(i)];
    }
  }
  return chk;
}

// hrp_expand(hrp) || values: the input the checksum is computed over. `hrp` must be lowercase.
std::vector<std::uint8_t> checksum_input(std::string_view hrp,
                                         std::span<const std::uint8_t> values) {
  std::vector<std::uint8_t> out;
  out.reserve(hrp.size() * 2 + 1 + values.size() + kChecksumLength);
  for (char c : hrp) out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) & 31));
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
char to_upper(char c) { return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c; }

// Regroups `from_bits`-bit values into `to_bits`-bit values. With `pad`, leftover bits are
// zero-padded into a last value; without, leftover bits must be fewer than `from_bits` and zero.
Result<std::vector<std::uint8_t>> convert_bits(std::span<const std::uint8_t> in, int from_bits,
                                               int to_bits, bool pad) {
  std::vector<std::uint8_t> out;
  out.reserve(in.size() * static_cast<std::size_t>(from_bits) / static_cast<std::size_t>(to_bits) +
              1);
  std::uint32_t acc = 0;
  int bits = 0;
  const std::uint32_t max_value = (1u << to_bits) - 1;
  const std::uint32_t max_acc = (1u << (from_bits + to_bits - 1)) - 1;
  for (std::uint8_t v : in) {
    if ((v >> from_bits) != 0) {
      wipe(out);
      return make_error(Errc::kInvalidArgument, "bech32: value out of range");
    }
    acc = ((acc << from_bits) | v) & max_acc;
    bits += from_bits;
    while (bits >= to_bits) {
      bits -= to_bits;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & max_value));
    }
  }
  if (pad) {
    if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to_bits - bits)) & max_value));
  } else if (bits >= from_bits || ((acc << (to_bits - bits)) & max_value) != 0) {
    wipe(out);
    return make_error(Errc::kInvalidArgument, "bech32: invalid padding in the data part");
  }
  return out;
}

}  // namespace

Result<std::string> bech32_encode_5bit(std::string_view hrp, std::span<const std::uint8_t> values) {
  if (hrp.empty()) return make_error(Errc::kInvalidArgument, "bech32: empty human-readable part");
  bool has_upper = false, has_lower = false;
  for (char c : hrp) {
    if (c < 33 || c > 126) {
      return make_error(Errc::kInvalidArgument,
                        "bech32: human-readable part character out of range");
    }
    has_upper = has_upper || is_upper(c);
    has_lower = has_lower || is_lower(c);
  }
  if (has_upper && has_lower) {
    return make_error(Errc::kInvalidArgument, "bech32: mixed-case human-readable part");
  }
  for (std::uint8_t v : values) {
    if (v >= 32) return make_error(Errc::kInvalidArgument, "bech32: value out of range");
  }
  std::string lower_hrp;
  for (char c : hrp) lower_hrp += to_lower(c);
  std::vector<std::uint8_t> input = checksum_input(lower_hrp, values);
  input.resize(input.size() + kChecksumLength, 0);
  std::uint32_t mod = polymod(input) ^ 1;
  wipe(input);

  std::string out = lower_hrp;
  out.reserve(hrp.size() + 1 + values.size() + kChecksumLength);
  out += '1';
  for (std::uint8_t v : values) out += kCharset[v];
  for (std::size_t i = 0; i < kChecksumLength; ++i) {
    out += kCharset[(mod >> (5 * (kChecksumLength - 1 - i))) & 31];
  }
  if (has_upper) {
    for (char& c : out) c = to_upper(c);
  }
  return out;
}

Result<Bech32Data> bech32_decode_5bit(std::string_view text) {
  bool has_upper = false, has_lower = false;
  for (char c : text) {
    if (c < 33 || c > 126)
      return make_error(Errc::kInvalidArgument, "bech32: character out of range");
    has_upper = has_upper || is_upper(c);
    has_lower = has_lower || is_lower(c);
  }
  if (has_upper && has_lower) return make_error(Errc::kInvalidArgument, "bech32: mixed case");
  std::size_t sep = text.rfind('1');
  if (sep == std::string_view::npos) {
    return make_error(Errc::kInvalidArgument, "bech32: no separator character '1'");
  }
  if (sep == 0) return make_error(Errc::kInvalidArgument, "bech32: empty human-readable part");
  if (text.size() - sep - 1 < kChecksumLength) {
    return make_error(Errc::kInvalidArgument, "bech32: checksum too short");
  }
  Bech32Data result;
  for (char c : text.substr(0, sep)) result.hrp += to_lower(c);
  std::vector<std::uint8_t> values;
  values.reserve(text.size() - sep - 1);
  for (char c : text.substr(sep + 1)) {
    std::size_t v = kCharset.find(to_lower(c));
    if (v == std::string_view::npos) {
      wipe(values);
      return make_error(Errc::kInvalidArgument, "bech32: invalid data character");
    }
    values.push_back(static_cast<std::uint8_t>(v));
  }
  std::vector<std::uint8_t> input = checksum_input(result.hrp, values);
  bool valid = polymod(input) == 1;
  wipe(input);
  if (!valid) {
    wipe(values);
    return make_error(Errc::kInvalidArgument, "bech32: checksum mismatch");
  }
  values.resize(values.size() - kChecksumLength);
  result.data = std::move(values);
  return result;
}

Result<std::string> bech32_encode(std::string_view hrp, std::span<const std::uint8_t> bytes) {
  GC_ASSIGN_OR_RETURN(std::vector<std::uint8_t> values, convert_bits(bytes, 8, 5, true));
  Result<std::string> out = bech32_encode_5bit(hrp, values);
  wipe(values);
  return out;
}

Result<Bech32Data> bech32_decode(std::string_view text) {
  GC_ASSIGN_OR_RETURN(Bech32Data decoded, bech32_decode_5bit(text));
  Result<std::vector<std::uint8_t>> bytes = convert_bits(decoded.data, 5, 8, false);
  wipe(decoded.data);
  if (!bytes) return bytes.error();
  decoded.data = std::move(*bytes);
  return decoded;
}

}  // namespace gc::crypto

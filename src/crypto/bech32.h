// SPDX-License-Identifier: MIT
// crypto/bech32.h: Bech32 (BIP-173) strings, as age uses them for its keys: the BIP-173 checksum,
// but no 90-character limit, because an age identity with its long HRP is longer than that.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace gc::crypto {

// A decoded Bech32 string. `hrp` is always lowercase, whatever the case of the input.
struct Bech32Data {
  std::string hrp;
  std::vector<std::uint8_t> data;  // 5-bit values or bytes, per the function that returned it.
};

// Encodes 5-bit `values` (each < 32) under `hrp`. The output is uppercase when `hrp` is all
// uppercase and lowercase otherwise; the checksum is always over the lowercase form (BIP-173).
// Errors: kInvalidArgument for an empty or mixed-case HRP, an HRP character outside 33..126, or
// a value >= 32.
Result<std::string> bech32_encode_5bit(std::string_view hrp, std::span<const std::uint8_t> values);

// Splits `text` at its last '1', checks the case rule (all lower or all upper), the character set
// and the checksum, and returns the 5-bit values without the checksum. Errors: kInvalidArgument
// naming the rule that failed; the message never quotes the input, which may be a secret key.
Result<Bech32Data> bech32_decode_5bit(std::string_view text);

// Bytes in and out: 8-bit groups regrouped into 5-bit values, zero-padded on encoding. Decoding is
// strict, as in BIP-173's reference: more than 4 padding bits, or non-zero padding, is an error.
// Errors: as the 5-bit functions, plus kInvalidArgument for bad padding.
Result<std::string> bech32_encode(std::string_view hrp, std::span<const std::uint8_t> bytes);
Result<Bech32Data> bech32_decode(std::string_view text);

}  // namespace gc::crypto

// SPDX-License-Identifier: MIT
// config/detail/pm2_support.h: pieces of the PM2 importer that need no JSON: the reasons PM2
// keys are not imported, and writing TOML values as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gc::config::detail {

// Why PM2 app key `key` has no groundctl equivalent ("unknown PM2 key" for keys PM2 lacks too).
std::string_view pm2_unsupported_reason(std::string_view key);

// A TOML basic string: quoted, with ", \ and control characters escaped.
std::string toml_string(std::string_view s);

// A one-line TOML array of strings: ["a", "b"].
std::string toml_array(const std::vector<std::string>& items);

// A duration that parse_duration reads back exactly: "3s" for 3000, "1600ms" for 1600.
std::string ms_text(std::int64_t ms);

}  // namespace gc::config::detail

// SPDX-License-Identifier: MIT
// config/dotenv.h: the `.env` file format that a service's env_file names. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace gc::config {

// Parses dotenv text into (key, value) pairs in order of first appearance; a later duplicate
// key replaces the earlier value. The format:
//   KEY=value            unquoted: trimmed; " #comment" (whitespace then #) is removed
//   export KEY=value     the "export " prefix is allowed and ignored
//   KEY='literal'        single quotes: taken as is, no escapes; may span lines
//   KEY="a\nb"           double quotes: \n \t \r \" \\ escapes (others kept as written); may
//                        span lines
//   # comment            blank lines and lines starting with # are skipped
// Keys match [A-Za-z_][A-Za-z0-9_]*. After a closing quote only whitespace and a # comment may
// follow. Errors: kInvalidConfig, "FILE:LINE: problem" naming the key where there is one and
// never the value (values are secrets).
Result<std::vector<std::pair<std::string, std::string>>> parse_dotenv(std::string_view text,
                                                                      std::string_view file_name);

}  // namespace gc::config

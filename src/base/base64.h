// SPDX-License-Identifier: MIT
// base/base64.h: standard base64 (RFC 4648 section 4, with '=' padding), as HTTP Basic auth,
// MIME encoded-words and SCRAM messages carry bytes. Pure.
#pragma once

#include <string>
#include <string_view>

namespace gc {

// "Zm9vYg==" for "foob"; "" for "".
std::string base64_encode(std::string_view bytes);

}  // namespace gc

// SPDX-License-Identifier: MIT
// provision/unified_diff.h: the unified diff (GNU `diff -u` format) that `groundctl plan` shows
// for a managed file. Pure.
#pragma once

#include <string>
#include <string_view>

namespace gc::provision {

// The unified diff of `old_text` → `new_text` with 3 lines of context, headed "--- a/PATH" and
// "+++ b/PATH" (PATH without its leading '/'), hunks as GNU diff prints them (a missing file is
// diffed as empty text: "@@ -0,0 +1,N @@"). A last line without a newline is followed by
// "\ No newline at end of file". Returns "" when the texts are equal. Lines are compared with
// their terminators, from a minimal (Myers) edit script.
std::string unified_diff(std::string_view old_text, std::string_view new_text,
                         std::string_view path);

}  // namespace gc::provision

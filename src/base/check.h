// SPDX-License-Identifier: MIT
// base/check.h: GC_CHECK for our own bugs. Logs and aborts in every build type. Never use it for
// anything the environment controls: that returns an Error.
#pragma once

namespace gc::detail {
[[noreturn]] void check_failed(const char* expr, const char* file, int line);
}  // namespace gc::detail

#define GC_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::gc::detail::check_failed(#cond, __FILE__, __LINE__))

// SPDX-License-Identifier: MIT
#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace gc::detail {

void check_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "groundctl: internal error: check failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace gc::detail

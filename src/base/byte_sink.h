// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "base/result.h"

namespace gc {

// The stage after this one in a streaming pipeline (dump → compress → encrypt → file, hash,
// restore). Called with each chunk of bytes in order; an error stops the pipeline and is returned
// by whoever drives it. The span is valid only during the call.
using ByteSink = std::function<Status(std::span<const std::uint8_t>)>;

}  // namespace gc

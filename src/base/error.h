// SPDX-License-Identifier: MIT
// base/error.h: the one project-wide error type. Code branches on `code`, people read `message`.
#pragma once

#include <string>
#include <string_view>

namespace gc {

// What kind of failure happened. Kept small on purpose: callers branch on it.
enum class Errc {
  kNotFound,
  kInvalidArgument,
  kInvalidConfig,
  kPermission,
  kIo,
  kUnavailable,
  kTimeout,
  kConflict,
  kCorrupt,
  kCancelled,
  kInternal,
};

// Stable lowercase name for an Errc ("not_found"), used in --json and on the control socket.
std::string_view errc_name(Errc code);
// Inverse of errc_name; unknown names map to kInternal.
Errc errc_from_name(std::string_view name);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;  // Lowercase, no final period, names the object, never holds a secret.

  // Returns a copy whose message is "context: message".
  Error with_context(std::string_view context) const;
};

// Maps an errno from `op` on `object` to an Error: "open /etc/x: No such file or directory".
Error sys_error(std::string_view op, std::string_view object, int err);

}  // namespace gc

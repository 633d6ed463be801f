// SPDX-License-Identifier: MIT
#include "base/error.h"

#include <cerrno>
#include <cstring>

#include <array>
#include <utility>

namespace gc {
namespace {

constexpr std::array<std::pair<Errc, std::string_view>, 11> kNames = {{
    {Errc::kNotFound, "not_found"},
    {Errc::kInvalidArgument, "invalid_argument"},
    {Errc::kInvalidConfig, "invalid_config"},
    {Errc::kPermission, "permission"},
    {Errc::kIo, "io"},
    {Errc::kUnavailable, "unavailable"},
    {Errc::kTimeout, "timeout"},
    {Errc::kConflict, "conflict"},
    {Errc::kCorrupt, "corrupt"},
    {Errc::kCancelled, "cancelled"},
    {Errc::kInternal, "internal"},
}};

Errc errc_for_errno(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
    case ENOTDIR:
      return Errc::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return Errc::kPermission;
    case EINVAL:
    case ENAMETOOLONG:
      return Errc::kInvalidArgument;
    case EEXIST:
    case EADDRINUSE:
    case EBUSY:
      return Errc::kConflict;
    case ETIMEDOUT:
      return Errc::kTimeout;
    case ECONNREFUSED:
    case EAGAIN:
    case EADDRNOTAVAIL:
    case ENETUNREACH:
      return Errc::kUnavailable;
    case ECANCELED:
      return Errc::kCancelled;
    default:
      return Errc::kIo;
  }
}

}  // namespace

std::string_view errc_name(Errc code) {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "internal";
}

Errc errc_from_name(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return Errc::kInternal;
}

Error Error::with_context(std::string_view context) const {
  return Error{code, std::string(context) + ": " + message};
}

Error sys_error(std::string_view op, std::string_view object, int err) {
  std::string message(op);
  if (!object.empty()) {
    message += ' ';
    message += object;
  }
  message += ": ";
  message += std::strerror(err);
  return Error{errc_for_errno(err), std::move(message)};
}

}  // namespace gc

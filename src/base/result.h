// SPDX-License-Identifier: MIT
// base/result.h: Result<T> is a value or an Error; Status is Result<void>. The only place that
// names tl::expected, so a move to std::expected (C++23) changes this header alone.
#pragma once

#include <tl/expected.hpp>

#include <string>
#include <utility>

#include "base/error.h"

namespace gc {

// Use only the subset std::expected shares: bool, *, ->, value, error, value_or, and_then,
// or_else, transform. Never map or map_error.
template <typename T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using tl::expected<T, Error>::expected;
  Result(const Error& e) : tl::expected<T, Error>(tl::unexpect, e) {}        // NOLINT
  Result(Error&& e) : tl::expected<T, Error>(tl::unexpect, std::move(e)) {}  // NOLINT
};

using Status = Result<void>;

inline Status ok() { return {}; }
inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace gc

// Returns the error of `expr` (a Status or Result) from the enclosing function.
#define GC_TRY(expr)                                    \
  do {                                                  \
    auto gc_try_result_ = (expr);                       \
    if (!gc_try_result_) return gc_try_result_.error(); \
  } while (0)

#define GC_CONCAT_INNER_(a, b) a##b
#define GC_CONCAT_(a, b) GC_CONCAT_INNER_(a, b)
#define GC_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                               \
  if (!tmp) return tmp.error();                    \
  decl = std::move(*tmp)

// `GC_ASSIGN_OR_RETURN(auto x, f());` declares x from f()'s value or returns f()'s error.
#define GC_ASSIGN_OR_RETURN(decl, expr) \
  GC_ASSIGN_OR_RETURN_IMPL_(GC_CONCAT_(gc_assign_result_, __LINE__), decl, expr)

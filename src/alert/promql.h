// SPDX-License-Identifier: MIT
// alert/promql.h: the alert-rule expression language, a subset of PromQL with Prometheus's
// semantics. parse_expr() parses and type-checks; evaluate() reads samples through a
// SampleSource at one instant. Pure: no I/O, no clock reads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "monitor/metrics.h"

namespace gc::alert {

// The types of PromQL values. A parsed expression is a scalar or an instant vector; range
// vectors exist only as the arguments of functions like rate().
enum class ValueType { kScalar, kInstantVector, kRangeVector };
// "scalar", "instant vector", "range vector": Prometheus's names for them.
std::string_view value_type_name(ValueType type);

// A parsed, type-checked expression tree; its layout is private to promql.cc. Immutable, so
// one expression may be evaluated from several threads at once.
struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

// Parses and type-checks `text`. Supported: number literals (1, 0.2, 1e3, 0x1f, Inf, NaN),
// selectors with =, !=, =~ and !~ matchers (regexes fully anchored, ECMAScript syntax), range
// selectors x[5m], the binary operators with Prometheus precedence, bool, on/ignoring,
// group_left/group_right, and/or/unless, sum/avg/min/max/count with by/without, and the functions
// rate, increase, {avg,min,max,sum,count,last}_over_time, abs, absent, time, vector, scalar,
// clamp_min, clamp_max and histogram_quantile. Every selector needs a metric name.
// Errors: kInvalidArgument, "column N: <what is wrong>" with N the 1-based byte column, e.g.
// "column 6: rate() needs a range vector, like rate(x[5m])".
Result<ExprPtr> parse_expr(std::string_view text);

// kScalar or kInstantVector: what evaluate() returns for `e`.
ValueType value_type(const Expr& e);

// One element of an instant vector. `labels` hold "__name__" when the series has a name.
struct InstantSample {
  monitor::Labels labels;
  double value;
};
using Vector = std::vector<InstantSample>;

// An evaluation result: a scalar (`scalar` true, `number` set) or an instant vector.
struct Value {
  bool scalar = false;
  double number = 0;
  Vector vector;
};

// The points of one series over a range: (t ms, value), t ascending.
struct RangeSeries {
  monitor::Labels labels;
  std::vector<std::pair<int64_t, double>> points;
};

// What the evaluator reads; SeriesBuffer implements it, tests fake it. Both calls return every
// series of the name: the evaluator applies the label matchers itself.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  // The series named `name` that exist at `at_ms`, with their latest value at or before it.
  virtual Vector instant(const std::string& name, int64_t at_ms) const = 0;
  // Every point of each series named `name` with t in (at_ms - range_ms, at_ms].
  virtual std::vector<RangeSeries> range(const std::string& name, int64_t range_ms,
                                         int64_t at_ms) const = 0;
};

// Evaluates `e` at `at_ms` (ms since the epoch; time() returns it in seconds). A vector result is
// sorted by labels. Errors (kInvalidArgument) only for what the data reveals, e.g. "many-to-many
// matching not allowed: ..." or "vector cannot contain metrics with the same labelset: ...".
// Thread-safe if `src` is.
Result<Value> evaluate(const Expr& e, const SampleSource& src, int64_t at_ms);

// The metric names `e` reads, each with the longest range it reads it over in ms (0 = instant
// only). What a SeriesBuffer needs to keep for this expression.
std::map<std::string, int64_t> metric_ranges(const Expr& e);

}  // namespace gc::alert

// SPDX-License-Identifier: MIT
// The PromQL subset: parse errors and their columns, and evaluation against a fake source, with
// rate() and histogram_quantile() numbers worked out by hand from Prometheus's algorithms.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "alert/promql.h"
#include "alert/series_buffer.h"
#include "monitor/metrics.h"

namespace gc::alert {
namespace {

using monitor::Labels;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kSec = 1000;

// Series with whole histories, read like a TSDB with a 5-minute lookback and no staleness.
class FakeSource : public SampleSource {
 public:
  void add(const std::string& name, Labels labels, std::vector<std::pair<int64_t, double>> points) {
    labels["__name__"] = name;
    series_[name].push_back({std::move(labels), std::move(points)});
  }
  // A series with one point, at kNow.
  void set(const std::string& name, Labels labels, double v) {
    add(name, std::move(labels), {{kNow, v}});
  }

  Vector instant(const std::string& name, int64_t at_ms) const override {
    Vector out;
    auto it = series_.find(name);
    if (it == series_.end()) return out;
    for (const RangeSeries& s : it->second) {
      for (auto p = s.points.rbegin(); p != s.points.rend(); ++p) {
        if (p->first > at_ms) continue;
        if (at_ms - p->first < 5 * 60 * kSec) out.push_back({s.labels, p->second});
        break;
      }
    }
    return out;
  }

  std::vector<RangeSeries> range(const std::string& name, int64_t range_ms,
                                 int64_t at_ms) const override {
    std::vector<RangeSeries> out;
    auto it = series_.find(name);
    if (it == series_.end()) return out;
    for (const RangeSeries& s : it->second) {
      RangeSeries r{s.labels, {}};
      for (const auto& p : s.points) {
        if (p.first > at_ms - range_ms && p.first <= at_ms) r.points.push_back(p);
      }
      if (!r.points.empty()) out.push_back(std::move(r));
    }
    return out;
  }

 private:
  std::map<std::string, std::vector<RangeSeries>> series_;
};

// "name{a="1",b="2"} 3 | {c="4"} 5", or "scalar 7".
std::string show(const Value& v) {
  if (v.scalar) return "scalar " + monitor::format_value(v.number);
  std::string out;
  for (const InstantSample& s : v.vector) {
    if (!out.empty()) out += " | ";
    auto name = s.labels.find("__name__");
    if (name != s.labels.end()) out += name->second;
    out += "{";
    bool first = true;
    for (const auto& [k, val] : s.labels) {
      if (k == "__name__") continue;
      out += (first ? "" : ",") + k + "=\"" + val + "\"";
      first = false;
    }
    out += "} " + monitor::format_value(s.value);
  }
  return out;
}

// Evaluates `text` at `at`; the error message instead when parsing or evaluation fails.
std::string eval(const std::string& text, const SampleSource& src, int64_t at = kNow) {
  auto e = parse_expr(text);
  if (!e) return "parse error: " + e.error().message;
  auto v = evaluate(**e, src, at);
  if (!v) return "error: " + v.error().message;
  return show(*v);
}

// The value of a scalar or of a one-element vector; NaN otherwise or on error.
double eval_number(const std::string& text, const SampleSource& src, int64_t at = kNow) {
  auto e = parse_expr(text);
  if (!e) {
    ADD_FAILURE() << text << ": " << e.error().message;
    return NAN;
  }
  auto v = evaluate(**e, src, at);
  if (!v) {
    ADD_FAILURE() << text << ": " << v.error().message;
    return NAN;
  }
  if (v->scalar) return v->number;
  if (v->vector.size() != 1) {
    ADD_FAILURE() << text << " gave " << show(*v);
    return NAN;
  }
  return v->vector[0].value;
}

std::string parse_error(const std::string& text) {
  auto e = parse_expr(text);
  if (e) return "parsed";
  EXPECT_EQ(e.error().code, Errc::kInvalidArgument);
  return e.error().message;
}

TEST(ParseExpr, AcceptsPrometheusSyntax) {
  for (const char* text : {
           "up",
           "up{job=\"api\",}",
           "up{job='api', instance=~\"10\\\\.0\\\\..*\", env!=\"\", zone!~`eu-.*`}",
           "{__name__=\"up\", job=\"api\"}",
           "sum by (job) (rate(x_total[5m]))",
           "sum(rate(x_total[1h30m])) without (instance,)",
           "SUM(x) BY (job)",
           "count_over_time(x[1w]) + max_over_time(x[1y]) - min_over_time(x[500ms])",
           "a * on(job) group_left(team) b",
           "a / ignoring(instance) group_right b",
           "a AND b or c UNLESS d",
           "x > bool 1",
           "0x1f + Inf - nan + 1e3 + .5",
           "-x",
           "# the root filesystem\nup # trailing comment",
           "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
           "absent(up{job=\"api\"})",
           "time() - scalar(x) + vector(1)",
       }) {
    EXPECT_EQ(parse_error(text), "parsed") << text;
  }
}

TEST(ParseExpr, ErrorsNameTheColumn) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "column 1: expected an expression but found end of expression"},
      {"up{job=\"api\"", "column 13: expected ',' or '}' but found end of expression"},
      {"sum(rate(x[5m])", "column 16: expected ')' but found end of expression"},
      {"rat(x[5m])", "column 1: unknown function \"rat\""},
      {"rate(x)", "column 6: rate() needs a range vector, like rate(x[5m])"},
      {"rate(a + b)", "column 6: rate() needs a range vector, like rate(x[5m])"},
      {"abs(x[5m])", "column 5: abs() needs an instant vector, got a range vector"},
      {"histogram_quantile(x, y)",
       "column 20: histogram_quantile() argument 1 needs a scalar, got an instant vector"},
      {"vector(x)", "column 8: vector() needs a scalar, got an instant vector"},
      {"clamp_min(x)", "column 1: clamp_min() takes 2 arguments, got 1"},
      {"time(1)", "column 1: time() takes no arguments, got 1"},
      {"sum(1)", "column 5: sum() needs an instant vector, got a scalar"},
      {"up 5", "column 4: expected an operator or end of expression but found '5'"},
      {"x{job=\"a\"} $", "column 12: unexpected character '$'"},
      {"1 > 2", "column 3: comparisons between scalars need the bool modifier, like 1 > bool 0"},
      {"x + bool 1", "column 3: bool modifier can only be used on comparison operators"},
      {"1 and x", "column 3: set operator \"and\" not allowed in binary scalar expression"},
      {"1 + on(a) x", "column 3: vector matching only allowed between instant vectors"},
      {"a and on(job) group_left b", "column 3: no grouping allowed for \"and\" operation"},
      {"a + on(job) group_left(job) b",
       "column 3: label \"job\" must not occur in on and group clause"},
      {"a + group_left b", "column 5: group_left needs on(...) or ignoring(...) before it"},
      {"rate(x[5x])",
       "column 8: bad duration \"5x\": use a number and a unit (ms s m h d w y), like 5m or "
       "1h30m"},
      {"rate(x[1m5h])",
       "column 8: bad duration \"1m5h\": use a number and a unit (ms s m h d w y), like 5m or "
       "1h30m"},
      {"rate(x[5m)", "column 10: expected ']' but found ')'"},
      {"x[5m]",
       "column 1: a range vector is only allowed as a function argument, like rate(x[5m])"},
      {"x[5m] * 2",
       "column 1: a range vector is only allowed as a function argument, like rate(x[5m])"},
      {"(x)[5m]",
       "column 4: a range like [5m] must follow a metric selector, like x[5m] (subqueries are "
       "not supported)"},
      {"{job=\"a\"}",
       "column 1: a selector needs a metric name, like up{job=\"api\"} or {__name__=\"up\"}"},
      {"x{__name__=\"y\"}", "column 1: metric name must not be set twice: \"x\" or \"y\""},
      {"x{job=api}", "column 7: expected a quoted label value but found 'api'"},
      {"x{job=\"a\\q\"}", "column 9: unknown escape sequence '\\q' in string"},
      {"x{job=\"a}", "column 7: unterminated string"},
      {"sum by (job) (x) by (job)", "column 18: sum() takes only one by or without clause"},
      {"\"text\"", "column 1: a string is only allowed as a label value, like x{job=\"api\"}"},
      {"5m", "column 1: bad number \"5m\""},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(parse_error(text), message) << text;
  }
}

TEST(ParseExpr, InvalidRegexIsAParseErrorAtTheValue) {
  const std::string message = parse_error("up{job=~\"a(\"}");
  EXPECT_EQ(message.rfind("column 9: invalid regular expression \"a(\": ", 0), 0u) << message;
}

TEST(ParseExpr, MetricRangesTakeTheLongestRangePerName) {
  auto e = parse_expr("rate(a[5m]) + b + max_over_time(b[1h]) + sum(rate(a[1m])) + c");
  ASSERT_TRUE(e) << e.error().message;
  const std::map<std::string, int64_t> want = {{"a", 300'000}, {"b", 3'600'000}, {"c", 0}};
  EXPECT_EQ(metric_ranges(**e), want);
  EXPECT_EQ(value_type(**e), ValueType::kInstantVector);
  EXPECT_EQ(value_type(**parse_expr("time() * 2")), ValueType::kScalar);
  EXPECT_EQ(value_type_name(ValueType::kRangeVector), "range vector");
}

TEST(Evaluate, OperatorsFollowPrometheusPrecedence) {
  FakeSource src;
  EXPECT_DOUBLE_EQ(eval_number("2 + 3 * 4 ^ 2 ^ 0.5", src), 2 + 3 * std::pow(4, std::sqrt(2)));
  EXPECT_EQ(eval("2 ^ 3 ^ 2", src), "scalar 512");
  EXPECT_EQ(eval("-2 ^ 2", src), "scalar -4");
  EXPECT_EQ(eval("2 * -3", src), "scalar -6");
  EXPECT_EQ(eval("2 - 3 - 4", src), "scalar -5");
  EXPECT_EQ(eval("(2 - 3) * 4", src), "scalar -4");
  EXPECT_EQ(eval("7 % 4 * 2", src), "scalar 6");
  EXPECT_EQ(eval("10 / 4", src), "scalar 2.5");
  EXPECT_EQ(eval("0x1f + +1", src), "scalar 32");
  EXPECT_EQ(eval("1 + 2 > bool 2", src), "scalar 1");
  EXPECT_EQ(eval("1 > bool 2 + 3", src), "scalar 0");
  EXPECT_EQ(eval("1 == bool 1", src), "scalar 1");
  EXPECT_EQ(eval("1 != bool 1", src), "scalar 0");
  EXPECT_EQ(eval("2 <= bool 2", src), "scalar 1");
  EXPECT_EQ(eval("2 < bool 2", src), "scalar 0");
  EXPECT_EQ(eval("2 >= bool 3", src), "scalar 0");
}

TEST(Evaluate, DivisionByZeroFollowsIeee) {
  FakeSource src;
  EXPECT_EQ(eval("1 / 0", src), "scalar +Inf");
  EXPECT_EQ(eval("-1 / 0", src), "scalar -Inf");
  EXPECT_EQ(eval("0 / 0", src), "scalar NaN");
  EXPECT_EQ(eval("5 % 0", src), "scalar NaN");
  EXPECT_EQ(eval("Inf - Inf", src), "scalar NaN");
  src.set("x", {{"a", "1"}}, 0);
  EXPECT_EQ(eval("x / 0", src), "{a=\"1\"} NaN");
}

TEST(Evaluate, SelectorsApplyEachMatcherType) {
  FakeSource src;
  src.set("x", {{"job", "api"}, {"env", "prod"}}, 1);
  src.set("x", {{"job", "web"}, {"env", "dev"}}, 2);
  src.set("x", {{"job", "apix"}}, 3);
  EXPECT_EQ(eval("x{job=\"api\"}", src), "x{env=\"prod\",job=\"api\"} 1");
  EXPECT_EQ(eval("x{job!=\"api\"}", src), "x{env=\"dev\",job=\"web\"} 2 | x{job=\"apix\"} 3");
  EXPECT_EQ(eval("x{job=~\"ap.*\"}", src), "x{env=\"prod\",job=\"api\"} 1 | x{job=\"apix\"} 3");
  EXPECT_EQ(eval("x{job=~\"ap\"}", src), "");  // Fully anchored.
  EXPECT_EQ(eval("x{job!~\"api|web\"}", src), "x{job=\"apix\"} 3");
  EXPECT_EQ(eval("x{env=\"\"}", src), "x{job=\"apix\"} 3");  // Missing means empty.
  EXPECT_EQ(eval("{__name__=\"x\", env=\"dev\"}", src), "x{env=\"dev\",job=\"web\"} 2");
  EXPECT_EQ(eval("y", src), "");
}

TEST(Evaluate, ArithmeticDropsTheNameFilteringKeepsIt) {
  FakeSource src;
  src.set("x", {{"a", "1"}}, 3);
  src.set("x", {{"a", "2"}}, 1);
  EXPECT_EQ(eval("x * 2", src), "{a=\"1\"} 6 | {a=\"2\"} 2");
  EXPECT_EQ(eval("-x", src), "{a=\"1\"} -3 | {a=\"2\"} -1");
  EXPECT_EQ(eval("x > 2", src), "x{a=\"1\"} 3");
  EXPECT_EQ(eval("2 < x", src), "x{a=\"1\"} 3");  // The vector's value, whichever side.
  EXPECT_EQ(eval("x > bool 2", src), "{a=\"1\"} 1 | {a=\"2\"} 0");
  EXPECT_EQ(eval("2 ^ x", src), "{a=\"1\"} 8 | {a=\"2\"} 2");
  EXPECT_EQ(eval("10 - x", src), "{a=\"1\"} 7 | {a=\"2\"} 9");
}

TEST(Evaluate, VectorsMatchOneToOneOnAllLabelsButTheName) {
  FakeSource src;
  src.set("a", {{"job", "x"}, {"instance", "1"}}, 10);
  src.set("a", {{"job", "x"}, {"instance", "2"}}, 20);
  src.set("b", {{"job", "x"}, {"instance", "1"}}, 4);
  src.set("b", {{"job", "y"}, {"instance", "1"}}, 5);
  EXPECT_EQ(eval("a / b", src), "{instance=\"1\",job=\"x\"} 2.5");
  EXPECT_EQ(eval("a > b", src), "a{instance=\"1\",job=\"x\"} 10");
  EXPECT_EQ(eval("a < bool b", src), "{instance=\"1\",job=\"x\"} 0");
}

TEST(Evaluate, OnAndIgnoringChooseTheMatchingLabels) {
  FakeSource src;
  src.set("a", {{"job", "x"}, {"instance", "1"}}, 10);
  src.set("b", {{"job", "x"}, {"other", "q"}}, 2);
  src.set("c", {{"job", "x"}}, 5);
  EXPECT_EQ(eval("a / on(job) b", src), "{job=\"x\"} 5");
  EXPECT_EQ(eval("a - ignoring(instance) c", src), "{job=\"x\"} 5");
  EXPECT_EQ(eval("a - c", src), "");
}

TEST(Evaluate, GroupModifiersCopyLabelsFromTheOneSide) {
  FakeSource src;
  src.set("requests", {{"job", "api"}, {"instance", "1"}}, 10);
  src.set("requests", {{"job", "api"}, {"instance", "2"}}, 20);
  src.set("info", {{"job", "api"}, {"team", "core"}}, 1);
  EXPECT_EQ(eval("requests * on(job) group_left(team) info", src),
            "{instance=\"1\",job=\"api\",team=\"core\"} 10 | "
            "{instance=\"2\",job=\"api\",team=\"core\"} 20");
  EXPECT_EQ(eval("info * on(job) group_right(team) requests", src),
            "{instance=\"1\",job=\"api\",team=\"core\"} 10 | "
            "{instance=\"2\",job=\"api\",team=\"core\"} 20");
  // A filtering comparison keeps the left operand's value, here the "one" side's.
  EXPECT_EQ(eval("info < on(job) group_right requests", src),
            "requests{instance=\"1\",job=\"api\"} 1 | requests{instance=\"2\",job=\"api\"} 1");
}

TEST(Evaluate, ManyToManyMatchingIsAnError) {
  FakeSource src;
  src.set("requests", {{"job", "api"}, {"instance", "1"}}, 10);
  src.set("requests", {{"job", "api"}, {"instance", "2"}}, 20);
  src.set("info", {{"job", "api"}, {"team", "core"}}, 1);
  const std::string many = eval("info + on(job) requests", src);
  EXPECT_EQ(many.rfind("error: many-to-many matching not allowed: found duplicate series for the "
                       "match group {job=\"api\"} on the right hand-side of the operation",
                       0),
            0u)
      << many;
  const std::string implicit = eval("requests + on(job) info", src);
  EXPECT_EQ(implicit,
            "error: multiple matches for labels {job=\"api\"}: many-to-one matching must be "
            "explicit (group_left/group_right)");
  const std::string grouped = eval("requests * on(job) group_left(team) requests", src);
  EXPECT_EQ(grouped.rfind("error: many-to-many matching not allowed", 0), 0u) << grouped;
}

TEST(Evaluate, SetOperatorsMatchOnLabelsAndKeepNames) {
  FakeSource src;
  src.set("a", {{"job", "x"}}, 1);
  src.set("a", {{"job", "y"}}, 2);
  src.set("b", {{"job", "y"}}, 3);
  src.set("b", {{"job", "z"}}, 4);
  src.set("c", {{"job", "y"}, {"extra", "1"}}, 5);
  EXPECT_EQ(eval("a and b", src), "a{job=\"y\"} 2");
  EXPECT_EQ(eval("a or b", src), "a{job=\"x\"} 1 | a{job=\"y\"} 2 | b{job=\"z\"} 4");
  EXPECT_EQ(eval("a unless b", src), "a{job=\"x\"} 1");
  EXPECT_EQ(eval("a and c", src), "");
  EXPECT_EQ(eval("a and on(job) c", src), "a{job=\"y\"} 2");
  EXPECT_EQ(eval("a unless ignoring(extra) c", src), "a{job=\"x\"} 1");
  // "and" binds tighter than "or".
  EXPECT_EQ(eval("b or a and c", src), "b{job=\"y\"} 3 | b{job=\"z\"} 4");
}

TEST(Evaluate, AggregationsGroupByOrWithoutInEitherPosition) {
  FakeSource src;
  src.set("x", {{"job", "a"}, {"instance", "1"}}, 1);
  src.set("x", {{"job", "a"}, {"instance", "2"}}, 3);
  src.set("x", {{"job", "b"}, {"instance", "1"}}, 10);
  EXPECT_EQ(eval("sum by (job) (x)", src), "{job=\"a\"} 4 | {job=\"b\"} 10");
  EXPECT_EQ(eval("sum(x) by (job)", src), "{job=\"a\"} 4 | {job=\"b\"} 10");
  EXPECT_EQ(eval("sum(x)", src), "{} 14");
  EXPECT_EQ(eval("avg without (instance) (x)", src), "{job=\"a\"} 2 | {job=\"b\"} 10");
  EXPECT_EQ(eval("avg(x) without (instance)", src), "{job=\"a\"} 2 | {job=\"b\"} 10");
  EXPECT_EQ(eval("min by (instance) (x)", src), "{instance=\"1\"} 1 | {instance=\"2\"} 3");
  EXPECT_EQ(eval("min(x) by (instance)", src), "{instance=\"1\"} 1 | {instance=\"2\"} 3");
  EXPECT_EQ(eval("max without (job) (x)", src), "{instance=\"1\"} 10 | {instance=\"2\"} 3");
  EXPECT_EQ(eval("max(x)", src), "{} 10");
  EXPECT_EQ(eval("count without (job) (x)", src), "{instance=\"1\"} 2 | {instance=\"2\"} 1");
  EXPECT_EQ(eval("count(x) by (job)", src), "{job=\"a\"} 2 | {job=\"b\"} 1");
  EXPECT_EQ(eval("sum by (job) (x > 2)", src), "{job=\"a\"} 3 | {job=\"b\"} 10");
  EXPECT_EQ(eval("sum(nothing)", src), "");
}

TEST(Evaluate, MinAndMaxSkipNaNLikePrometheus) {
  FakeSource src;
  src.set("x", {{"a", "1"}}, NAN);
  src.set("x", {{"a", "2"}}, 5);
  EXPECT_EQ(eval("max(x)", src), "{} 5");
  EXPECT_EQ(eval("min(x)", src), "{} 5");
  EXPECT_EQ(eval("sum(x)", src), "{} NaN");
}

// rate() over x[1m] at kNow reads the points in (kNow - 60 s, kNow]. Each expectation below is
// Prometheus's extrapolatedRate worked by hand.
TEST(Evaluate, RateExtrapolatesToTheRangeBoundaries) {
  FakeSource src;
  // Samples every 15 s; the one exactly at the range start is outside the window. Increase 30
  // over the 45 s sampled; the first sample is 15 s from the start (< 1.1 * 15 s), so both ends
  // extrapolate fully; the zero point (45 s * 10/30 = 15 s) is not closer. 30 * 60/45 = 40.
  src.add("c_total", {{"job", "a"}},
          {{kNow - 60 * kSec, 0},
           {kNow - 45 * kSec, 10},
           {kNow - 30 * kSec, 20},
           {kNow - 15 * kSec, 30},
           {kNow, 40}});
  EXPECT_DOUBLE_EQ(eval_number("increase(c_total[1m])", src), 40);
  EXPECT_DOUBLE_EQ(eval_number("rate(c_total[1m])", src), 40.0 / 60);
  EXPECT_EQ(eval("rate(c_total[1m])", src).substr(0, 10), "{job=\"a\"} ");
}

TEST(Evaluate, IncreaseAddsBackCounterResets) {
  FakeSource src;
  // 10, 20, reset, 5, 15: 15 - 10 + 20 = 25 over 45 s, extrapolated by 60/45.
  src.add("c_total", {},
          {{kNow - 45 * kSec, 10}, {kNow - 30 * kSec, 20}, {kNow - 15 * kSec, 5}, {kNow, 15}});
  EXPECT_DOUBLE_EQ(eval_number("increase(c_total[1m])", src), 25.0 * 60 / 45);
  EXPECT_DOUBLE_EQ(eval_number("rate(c_total[1m])", src), 25.0 * 60 / 45 / 60);
}

TEST(Evaluate, RateExtrapolatesOnlyHalfAnIntervalPastAGap) {
  FakeSource src;
  // The series starts 40 s into the range, 4 average intervals (10 s) away from its start:
  // extrapolate 5 s there, fully (0 s) at the end. 20 * (20 + 5) / 20 = 25.
  src.add("late_total", {}, {{kNow - 20 * kSec, 100}, {kNow - 10 * kSec, 110}, {kNow, 120}});
  EXPECT_DOUBLE_EQ(eval_number("increase(late_total[1m])", src), 25);
  EXPECT_DOUBLE_EQ(eval_number("rate(late_total[1m])", src), 25.0 / 60);
  // The series ended 30 s before the evaluation: 5 s extrapolated there, 10 s at the start
  // (exactly the zero point, 20 s * 1/2). 2 * (20 + 10 + 5) / 20 = 3.5.
  src.add("ended_total", {}, {{kNow - 50 * kSec, 1}, {kNow - 40 * kSec, 2}, {kNow - 30 * kSec, 3}});
  EXPECT_DOUBLE_EQ(eval_number("increase(ended_total[1m])", src), 3.5);
}

TEST(Evaluate, RateNeverExtrapolatesBelowZero) {
  FakeSource src;
  // 1, 21, 41 every 20 s from 20 s into the range: 20 s to the start is within 1.1 * 20 s, but
  // the counter would reach zero 1 s before its first sample (40 s * 1/40), so only 1 s is
  // added: 40 * (40 + 1) / 40 = 41.
  src.add("new_total", {}, {{kNow - 40 * kSec, 1}, {kNow - 20 * kSec, 21}, {kNow, 41}});
  EXPECT_DOUBLE_EQ(eval_number("increase(new_total[1m])", src), 41);
}

TEST(Evaluate, RateNeedsTwoSamples) {
  FakeSource src;
  src.add("one_total", {}, {{kNow - 10 * kSec, 5}});
  EXPECT_EQ(eval("rate(one_total[1m])", src), "");
  EXPECT_EQ(eval("count_over_time(one_total[1m])", src), "{} 1");
}

TEST(Evaluate, OverTimeFunctions) {
  FakeSource src;
  src.add("g", {{"a", "1"}},
          {{kNow - 60 * kSec, 100},
           {kNow - 40 * kSec, 3},
           {kNow - 30 * kSec, 1},
           {kNow - 20 * kSec, 4},
           {kNow - 10 * kSec, 1},
           {kNow, 5}});
  EXPECT_EQ(eval("avg_over_time(g[1m])", src), "{a=\"1\"} 2.8");
  EXPECT_EQ(eval("min_over_time(g[1m])", src), "{a=\"1\"} 1");
  EXPECT_EQ(eval("max_over_time(g[1m])", src), "{a=\"1\"} 5");
  EXPECT_EQ(eval("sum_over_time(g[1m])", src), "{a=\"1\"} 14");
  EXPECT_EQ(eval("count_over_time(g[1m])", src), "{a=\"1\"} 5");
  EXPECT_EQ(eval("last_over_time(g[1m])", src), "g{a=\"1\"} 5");  // Keeps the name.
  EXPECT_EQ(eval("max_over_time(g[61s])", src), "{a=\"1\"} 100");
  EXPECT_EQ(eval("count_over_time(g[5m])", src, kNow + 10 * 60 * kSec), "");
}

TEST(Evaluate, HistogramQuantileInterpolatesWithinBuckets) {
  FakeSource src;
  for (const auto& [le, count] : std::vector<std::pair<std::string, double>>{
           {"0.1", 10}, {"0.5", 20}, {"1", 25}, {"+Inf", 30}}) {
    src.set("lat_bucket", {{"le", le}, {"job", "api"}}, count);
  }
  // Rank 15 falls in (0.1, 0.5], 5 of its 10: 0.1 + 0.4 * 5/10.
  EXPECT_DOUBLE_EQ(eval_number("histogram_quantile(0.5, lat_bucket)", src), 0.1 + 0.4 * 5 / 10);
  EXPECT_EQ(eval("histogram_quantile(0.5, lat_bucket)", src).substr(0, 12), "{job=\"api\"} ");
  // The first bucket interpolates from 0: 0.1 * 3/10.
  EXPECT_DOUBLE_EQ(eval_number("histogram_quantile(0.1, lat_bucket)", src), 0.03);
  // Rank 28.5 falls in the +Inf bucket: the highest finite bound.
  EXPECT_EQ(eval("histogram_quantile(0.95, lat_bucket)", src), "{job=\"api\"} 1");
  EXPECT_EQ(eval("histogram_quantile(-0.5, lat_bucket)", src), "{job=\"api\"} -Inf");
  EXPECT_EQ(eval("histogram_quantile(1.5, lat_bucket)", src), "{job=\"api\"} +Inf");
  EXPECT_EQ(eval("histogram_quantile(NaN, lat_bucket)", src), "{job=\"api\"} NaN");
}

TEST(Evaluate, HistogramQuantileSpecialCases) {
  FakeSource src;
  src.set("no_inf_bucket", {{"le", "0.1"}}, 1);
  src.set("no_inf_bucket", {{"le", "1"}}, 2);
  EXPECT_EQ(eval("histogram_quantile(0.5, no_inf_bucket)", src), "{} NaN");
  src.set("only_inf_bucket", {{"le", "+Inf"}}, 2);
  EXPECT_EQ(eval("histogram_quantile(0.5, only_inf_bucket)", src), "{} NaN");
  src.set("empty_bucket", {{"le", "1"}}, 0);
  src.set("empty_bucket", {{"le", "+Inf"}}, 0);
  EXPECT_EQ(eval("histogram_quantile(0.5, empty_bucket)", src), "{} NaN");
  // A lowest bucket bound at or below 0 is returned as is.
  src.set("neg_bucket", {{"le", "-1"}}, 5);
  src.set("neg_bucket", {{"le", "+Inf"}}, 10);
  EXPECT_EQ(eval("histogram_quantile(0.2, neg_bucket)", src), "{} -1");
  // Series without a numeric le are skipped; other labels split histograms.
  src.set("two_bucket", {{"le", "1"}, {"job", "a"}}, 1);
  src.set("two_bucket", {{"le", "+Inf"}, {"job", "a"}}, 2);
  src.set("two_bucket", {{"le", "1"}, {"job", "b"}}, 0);
  src.set("two_bucket", {{"le", "+Inf"}, {"job", "b"}}, 2);
  src.set("two_bucket", {{"le", "bogus"}, {"job", "b"}}, 2);
  EXPECT_EQ(eval("histogram_quantile(0.5, two_bucket)", src), "{job=\"a\"} 1 | {job=\"b\"} 1");
}

TEST(Evaluate, AbsentReturnsTheEqualityLabelsWhenNothingMatches) {
  FakeSource src;
  src.set("up", {{"job", "api"}}, 1);
  EXPECT_EQ(eval("absent(up)", src), "");
  EXPECT_EQ(eval("absent(up{job=\"api\"})", src), "");
  EXPECT_EQ(eval("absent(up{job=\"web\", instance=~\"a.*\", zone=\"eu\"})", src),
            "{job=\"web\",zone=\"eu\"} 1");
  EXPECT_EQ(eval("absent(nothing{job=\"a\", job=\"b\"})", src), "{} 1");
  EXPECT_EQ(eval("absent(sum(nothing{job=\"a\"}))", src), "{} 1");
}

TEST(Evaluate, ScalarAndVectorFunctions) {
  FakeSource src;
  src.set("x", {{"a", "1"}}, -3);
  src.set("x", {{"a", "2"}}, 7);
  src.set("one", {}, 4);
  EXPECT_DOUBLE_EQ(eval_number("time()", src), 1.7e9);
  EXPECT_EQ(eval("vector(2)", src), "{} 2");
  EXPECT_EQ(eval("scalar(one) * 2", src), "scalar 8");
  EXPECT_EQ(eval("scalar(x)", src), "scalar NaN");
  EXPECT_EQ(eval("abs(x)", src), "{a=\"1\"} 3 | {a=\"2\"} 7");
  EXPECT_EQ(eval("clamp_min(x, 0)", src), "{a=\"1\"} 0 | {a=\"2\"} 7");
  EXPECT_EQ(eval("clamp_max(x, 5)", src), "{a=\"1\"} -3 | {a=\"2\"} 5");
  EXPECT_EQ(eval("clamp_max(x, NaN)", src), "{a=\"1\"} NaN | {a=\"2\"} NaN");
}

// The rules groundctl ships, against collections fed through a SeriesBuffer every 15 s, as the
// daemon does.
class RealRules : public ::testing::Test {
 protected:
  static SeriesBuffer buffer_for(const std::vector<std::string>& rules) {
    std::map<std::string, int64_t> ranges;
    for (const std::string& rule : rules) {
      auto e = parse_expr(rule);
      EXPECT_TRUE(e) << rule << ": " << e.error().message;
      if (!e) continue;
      for (const auto& [name, range] : metric_ranges(**e)) {
        ranges[name] = std::max(ranges[name], range);
      }
    }
    return SeriesBuffer(ranges);
  }
};

TEST_F(RealRules, RootFilesystemNearlyFull) {
  const std::string rule =
      "node_filesystem_avail_bytes{mountpoint=\"/\"} / node_filesystem_size_bytes{mountpoint="
      "\"/\"} < 0.20";
  SeriesBuffer buffer = buffer_for({rule});
  auto collect = [&](double root_avail) {
    monitor::MetricSet set;
    const Labels root = {{"device", "/dev/sda1"}, {"fstype", "ext4"}, {"mountpoint", "/"}};
    const Labels boot = {{"device", "/dev/sda2"}, {"fstype", "ext4"}, {"mountpoint", "/boot"}};
    set.gauge("node_filesystem_avail_bytes", "Free.", root, root_avail);
    set.gauge("node_filesystem_size_bytes", "Size.", root, 1000);
    set.gauge("node_filesystem_avail_bytes", "Free.", boot, 1);
    set.gauge("node_filesystem_size_bytes", "Size.", boot, 1000);
    return set;
  };
  buffer.append(collect(500), kNow - 15 * kSec);
  EXPECT_EQ(eval(rule, buffer, kNow - 15 * kSec), "");
  buffer.append(collect(150), kNow);
  EXPECT_EQ(eval(rule, buffer), "{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/\"} 0.15");
}

TEST_F(RealRules, ServiceRestarting) {
  const std::string rule = "sum by (service) (rate(groundctl_service_restarts_total[5m])) > 0";
  SeriesBuffer buffer = buffer_for({rule});
  // t = 0 s .. 300 s: "web" restarts once per collection, "db" never.
  for (int i = 0; i <= 20; ++i) {
    monitor::MetricSet set;
    set.counter("groundctl_service_restarts_total", "Restarts.",
                {{"service", "web"}, {"instance", "a"}}, i);
    set.counter("groundctl_service_restarts_total", "Restarts.",
                {{"service", "db"}, {"instance", "a"}}, 0);
    buffer.append(set, kNow - 300 * kSec + i * 15 * kSec);
  }
  // Points 15 s .. 300 s are in the window: 19 over 285 s, the first 15 s from the start and
  // equally far from the counter's zero: 19 * 300/285 = 20 per 300 s.
  auto e = parse_expr(rule);
  ASSERT_TRUE(e) << e.error().message;
  auto v = evaluate(**e, buffer, kNow);
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_EQ(v->vector.size(), 1u);
  EXPECT_EQ(v->vector[0].labels, (Labels{{"service", "web"}}));
  EXPECT_DOUBLE_EQ(v->vector[0].value, 20.0 / 300);
}

TEST_F(RealRules, ProbesSlowAtThe95thPercentile) {
  const std::string rule =
      "histogram_quantile(0.95, sum by (le) (rate(groundctl_http_probe_duration_seconds_bucket["
      "5m]))) > 1";
  SeriesBuffer buffer = buffer_for({rule});
  // Per collection each of two targets adds, cumulatively, 1 probe <= 0.5 s, 3 <= 1 s and 10
  // <= 2.5 s, none slower.
  const std::pair<const char*, double> per_step[] = {
      {"0.5", 1}, {"1", 3}, {"2.5", 10}, {"+Inf", 10}};
  for (int i = 0; i <= 20; ++i) {
    monitor::MetricSet set;
    auto& family = set.family("groundctl_http_probe_duration_seconds", "Probe duration.",
                              monitor::MetricType::kHistogram);
    for (const char* target : {"a", "b"}) {
      for (const auto& [le, step] : per_step) {
        family.samples.push_back({{{"le", le}, {"target", target}}, step * i, "_bucket"});
      }
      family.samples.push_back({{{"target", target}}, 10.0 * i, "_count"});
    }
    buffer.append(set, kNow - 300 * kSec + i * 15 * kSec);
  }
  // The rates keep the ratios 1:3:10:10. Rank 9.5 of 10 falls in (1, 2.5], 6.5 of its 7.
  EXPECT_NEAR(eval_number(rule, buffer), 1 + 1.5 * 6.5 / 7, 1e-9);
  EXPECT_EQ(eval("histogram_quantile(0.2, sum by (le) (rate("
                 "groundctl_http_probe_duration_seconds_bucket[5m]))) > 1",
                 buffer),
            "");
}

}  // namespace
}  // namespace gc::alert

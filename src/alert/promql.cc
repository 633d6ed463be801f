// SPDX-License-Identifier: MIT
// alert/promql.cc: the PromQL subset. A lexer, a precedence-climbing parser that type-checks as
// it builds the tree, and a tree-walking evaluator that follows Prometheus's engine.
#include "alert/promql.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <regex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "monitor/metrics.h"

namespace gc::alert {
namespace {

using monitor::Labels;

const std::string kNameLabel = "__name__";

enum class BinOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEq,
  kNe,
  kLe,
  kLt,
  kGe,
  kGt,
  kAnd,
  kOr,
  kUnless
};

struct OpInfo {
  std::string_view text;
  BinOp op;
  int precedence;
};

// Prometheus's precedence, lowest first: or; and unless; comparisons; + -; * / %; ^.
constexpr OpInfo kOps[] = {
    {"or", BinOp::kOr, 1}, {"and", BinOp::kAnd, 2}, {"unless", BinOp::kUnless, 2},
    {"==", BinOp::kEq, 3}, {"!=", BinOp::kNe, 3},   {"<=", BinOp::kLe, 3},
    {"<", BinOp::kLt, 3},  {">=", BinOp::kGe, 3},   {">", BinOp::kGt, 3},
    {"+", BinOp::kAdd, 4}, {"-", BinOp::kSub, 4},   {"*", BinOp::kMul, 5},
    {"/", BinOp::kDiv, 5}, {"%", BinOp::kMod, 5},   {"^", BinOp::kPow, 6},
};
constexpr int kPowPrecedence = 6;

bool is_comparison(BinOp op) { return op >= BinOp::kEq && op <= BinOp::kGt; }
bool is_set_op(BinOp op) { return op >= BinOp::kAnd; }

std::string_view op_text(BinOp op) {
  for (const auto& info : kOps) {
    if (info.op == op) return info.text;
  }
  return "?";
}

enum class AggOp { kSum, kAvg, kMin, kMax, kCount };

constexpr std::pair<std::string_view, AggOp> kAggregations[] = {
    {"sum", AggOp::kSum}, {"avg", AggOp::kAvg},     {"min", AggOp::kMin},
    {"max", AggOp::kMax}, {"count", AggOp::kCount},
};

// The evaluator dispatches on the name.
struct FnSpec {
  std::string_view name;
  int arg_count;
  ValueType args[2];
  ValueType result;
};

constexpr ValueType kS = ValueType::kScalar;
constexpr ValueType kV = ValueType::kInstantVector;
constexpr ValueType kR = ValueType::kRangeVector;

constexpr FnSpec kFunctions[] = {
    {"rate", 1, {kR, kS}, kV},
    {"increase", 1, {kR, kS}, kV},
    {"avg_over_time", 1, {kR, kS}, kV},
    {"min_over_time", 1, {kR, kS}, kV},
    {"max_over_time", 1, {kR, kS}, kV},
    {"sum_over_time", 1, {kR, kS}, kV},
    {"count_over_time", 1, {kR, kS}, kV},
    {"last_over_time", 1, {kR, kS}, kV},
    {"abs", 1, {kV, kS}, kV},
    {"absent", 1, {kV, kS}, kV},
    {"time", 0, {kS, kS}, kS},
    {"vector", 1, {kS, kS}, kV},
    {"scalar", 1, {kV, kS}, kS},
    {"clamp_min", 2, {kV, kS}, kV},
    {"clamp_max", 2, {kV, kS}, kV},
    {"histogram_quantile", 2, {kS, kV}, kV},
};

enum class MatchOp { kEq, kNe, kRe, kNre };

struct Matcher {
  std::string label;
  MatchOp op = MatchOp::kEq;
  std::string value;
  std::shared_ptr<const std::regex> re;  // For kRe and kNre.
};

// How a vector-vector operation pairs series. Set operators are always many-to-many.
enum class Card { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct Matching {
  Card card = Card::kOneToOne;
  bool on = false;                   // on(labels); otherwise ignoring(labels).
  bool is_explicit = false;          // on() or ignoring() was written.
  std::vector<std::string> labels;   // Sorted, unique.
  std::vector<std::string> include;  // group_left(...)/group_right(...) labels.
};

}  // namespace

struct Expr {
  enum class Kind { kNumber, kSelector, kNegate, kBinary, kAggregate, kCall };
  Kind kind = Kind::kNumber;
  ValueType type = ValueType::kScalar;
  size_t pos = 0;  // Byte offset in the text, for type errors found by the enclosing node.
  double number = 0;
  // kSelector: the metric name and the other matchers; range_ms > 0 for a range selector.
  std::string metric;
  std::vector<Matcher> matchers;
  int64_t range_ms = 0;
  // kBinary.
  BinOp op = BinOp::kAdd;
  bool return_bool = false;
  Matching matching;
  // kAggregate.
  AggOp agg = AggOp::kSum;
  bool without = false;
  std::vector<std::string> grouping;
  // kCall.
  const FnSpec* fn = nullptr;
  // Operands: one for kNegate and kAggregate, two for kBinary, the arguments for kCall.
  std::vector<ExprPtr> args;
};

std::string_view value_type_name(ValueType type) {
  static constexpr std::string_view kNames[] = {"scalar", "instant vector", "range vector"};
  return kNames[static_cast<size_t>(type)];
}

ValueType value_type(const Expr& e) { return e.type; }

namespace {

// ---------------------------------------------------------------------------------------------
// Lexer

Error error_at(size_t pos, std::string what) {
  return make_error(Errc::kInvalidArgument, "column " + std::to_string(pos + 1) + ": " + what);
}

std::string with_article(ValueType type) {
  return (type == ValueType::kInstantVector ? "an " : "a ") + std::string(value_type_name(type));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_start(char c) { return is_alpha(c) || c == ':'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_label_name(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alpha(c) || is_digit(c); });
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// std::regex reports bad patterns (and patterns too complex to run) only by throwing; these two
// adapters are the only places here that catch. regex_match anchors at both ends, which is
// Prometheus's "^(?:re)$".
Result<std::shared_ptr<const std::regex>> compile_regex(const std::string& pattern) {
  try {
    return std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return make_error(Errc::kInvalidArgument, e.what());
  }
}

bool regex_full_match(const std::regex& re, const std::string& s) {
  try {
    return std::regex_match(s, re);
  } catch (const std::regex_error&) {
    return false;
  }
}

// Parses Prometheus's duration notation: integers with units y w d h m s ms, largest first,
// each at most once ("1h30m"). Returns nullopt for anything else.
std::optional<int64_t> parse_duration_ms(std::string_view d) {
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"y", 365 * 86400000LL}, {"w", 7 * 86400000LL}, {"d", 86400000LL}, {"h", 3600000LL},
      {"m", 60000LL},          {"s", 1000LL},         {"ms", 1LL},
  };
  // Far beyond any useful range, and small enough that the sum below cannot overflow.
  constexpr int64_t kMaxMs = 1'000'000'000'000'000;
  if (d.empty()) return std::nullopt;
  int64_t total = 0;
  size_t next_unit = 0;  // Units must come in the order of kUnits.
  size_t i = 0;
  while (i < d.size()) {
    size_t start = i;
    while (i < d.size() && is_digit(d[i])) ++i;
    if (i == start || i - start > 12) return std::nullopt;
    int64_t n = 0;
    std::from_chars(d.data() + start, d.data() + i, n);
    size_t unit_start = i;
    while (i < d.size() && !is_digit(d[i])) ++i;
    std::string_view unit = d.substr(unit_start, i - unit_start);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].first != unit) ++u;
    if (u == std::size(kUnits) || n > kMaxMs / kUnits[u].second) return std::nullopt;
    total += n * kUnits[u].second;
    if (total > kMaxMs) return std::nullopt;
    next_unit = u + 1;
  }
  return total;
}

// kSymbol: punctuation and operators, spelled in `text`.
enum class Tok { kEnd, kIdent, kNumber, kString, kSymbol };

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;    // Byte offset of the first character.
  size_t end = 0;    // Byte offset just past the token.
  std::string text;  // Identifier, symbol, or the decoded string.
  double number = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser: precedence climbing over a one-token lookahead. Every node is type-checked when it is
// built, so errors point at the column where the bad operand starts.

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<ExprPtr> parse_all() {
    GC_ASSIGN_OR_RETURN(tok_, lex(0));
    GC_ASSIGN_OR_RETURN(ExprPtr e, parse_binary(1));
    if (tok_.kind != Tok::kEnd) {
      return error_at(tok_.pos,
                      "expected an operator or end of expression but found " + describe(tok_));
    }
    if (e->type == ValueType::kRangeVector) return range_misplaced(*e);
    return e;
  }

 private:
  Result<Token> lex(size_t pos) const;
  Result<Token> lex_number(size_t pos) const;
  Result<Token> lex_string(size_t pos) const;
  Status advance() {
    GC_ASSIGN_OR_RETURN(tok_, lex(tok_.end));
    return ok();
  }
  bool at(std::string_view symbol) const {
    return tok_.kind == Tok::kSymbol && tok_.text == symbol;
  }
  Status expect(std::string_view symbol) {
    if (!at(symbol)) {
      return error_at(tok_.pos,
                      "expected '" + std::string(symbol) + "' but found " + describe(tok_));
    }
    return advance();
  }
  bool at_keyword(std::string_view keyword) const {
    return tok_.kind == Tok::kIdent && lower(tok_.text) == keyword;
  }
  std::string describe(const Token& t) const {
    if (t.kind == Tok::kEnd) return "end of expression";
    return "'" + std::string(text_.substr(t.pos, t.end - t.pos)) + "'";
  }
  static Error range_misplaced(const Expr& e) {
    return error_at(e.pos,
                    "a range vector is only allowed as a function argument, like rate(x[5m])");
  }

  std::optional<OpInfo> binary_op() const;
  Result<ExprPtr> parse_binary(int min_precedence);
  Result<ExprPtr> finish_binary(std::shared_ptr<Expr> node, ExprPtr lhs, ExprPtr rhs);
  Result<ExprPtr> parse_unary();
  Result<ExprPtr> parse_primary();
  Result<ExprPtr> parse_selector(std::string metric, size_t pos);
  Result<int64_t> parse_range();
  Result<ExprPtr> parse_aggregation(AggOp op, const std::string& name, size_t pos);
  Result<ExprPtr> parse_call(const FnSpec& spec, size_t pos);
  Result<std::vector<std::string>> parse_label_list();

  std::string_view text_;
  Token tok_;
};

Result<Token> Parser::lex(size_t pos) const {
  while (pos < text_.size()) {
    char c = text_[pos];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++pos;
    } else if (c == '#') {  // A comment runs to the end of the line, as in Prometheus.
      while (pos < text_.size() && text_[pos] != '\n') ++pos;
    } else {
      break;
    }
  }
  Token t;
  t.pos = pos;
  t.end = pos;
  if (pos >= text_.size()) return t;
  const char c = text_[pos];
  if (is_digit(c) || (c == '.' && pos + 1 < text_.size() && is_digit(text_[pos + 1]))) {
    return lex_number(pos);
  }
  if (is_ident_start(c)) {
    size_t end = pos;
    while (end < text_.size() && is_ident_char(text_[end])) ++end;
    t.kind = Tok::kIdent;
    t.end = end;
    t.text = std::string(text_.substr(pos, end - pos));
    const std::string low = lower(t.text);
    if (low == "inf" || low == "nan") {
      t.kind = Tok::kNumber;
      t.number = low == "inf" ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
    }
    return t;
  }
  if (c == '"' || c == '\'' || c == '`') return lex_string(pos);
  // Two-character symbols first, so "<=" is not read as "<".
  static constexpr std::string_view kSymbols[] = {"==", "!=", "<=", ">=", "=~", "!~", "(", ")",
                                                  "{",  "}",  "[",  "]",  ",",  "+",  "-", "*",
                                                  "/",  "%",  "^",  "<",  ">",  "="};
  for (std::string_view op : kSymbols) {
    if (text_.substr(pos, op.size()) == op) {
      t.kind = Tok::kSymbol;
      t.end = pos + op.size();
      t.text = std::string(op);
      return t;
    }
  }
  return error_at(pos, "unexpected character '" + std::string(1, c) + "'");
}

Result<Token> Parser::lex_number(size_t pos) const {
  Token t;
  t.kind = Tok::kNumber;
  t.pos = pos;
  size_t end = pos;
  const bool hex = text_[pos] == '0' && pos + 1 < text_.size() &&
                   (text_[pos + 1] == 'x' || text_[pos + 1] == 'X');
  if (hex) {
    end = pos + 2;
    while (end < text_.size() && is_hex(text_[end])) ++end;
  } else {
    while (end < text_.size() && is_digit(text_[end])) ++end;
    if (end < text_.size() && text_[end] == '.') {
      ++end;
      while (end < text_.size() && is_digit(text_[end])) ++end;
    }
    if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
      size_t e = end + 1;
      if (e < text_.size() && (text_[e] == '+' || text_[e] == '-')) ++e;
      if (e < text_.size() && is_digit(text_[e])) {
        end = e;
        while (end < text_.size() && is_digit(text_[end])) ++end;
      }
    }
  }
  size_t word_end = end;
  while (word_end < text_.size() && (is_ident_char(text_[word_end]) || text_[word_end] == '.')) {
    ++word_end;
  }
  const std::string word(text_.substr(pos, word_end - pos));
  if (word_end != end || (hex && end == pos + 2)) {
    return error_at(pos, "bad number \"" + word + "\"");
  }
  t.end = end;
  if (hex) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(text_.data() + pos + 2, text_.data() + end, n, 16);
    if (ec != std::errc()) return error_at(pos, "bad number \"" + word + "\"");
    t.number = static_cast<double>(n);
  } else {
    auto [p, ec] = std::from_chars(text_.data() + pos, text_.data() + end, t.number);
    if (ec != std::errc()) return error_at(pos, "bad number \"" + word + "\"");
  }
  return t;
}

// Quoted strings follow Go's rules, as Prometheus's do: "..." and '...' take backslash escapes,
// `...` is raw.
Result<Token> Parser::lex_string(size_t pos) const {
  Token t;
  t.kind = Tok::kString;
  t.pos = pos;
  const char quote = text_[pos];
  size_t i = pos + 1;
  while (true) {
    if (i >= text_.size() || (text_[i] == '\n' && quote != '`')) {
      return error_at(pos, "unterminated string");
    }
    const char c = text_[i];
    if (c == quote) break;
    if (c != '\\' || quote == '`') {
      t.text += c;
      ++i;
      continue;
    }
    if (i + 1 >= text_.size()) return error_at(pos, "unterminated string");
    const char e = text_[i + 1];
    static constexpr std::string_view kFrom = "abfnrtv\\'\"";
    static constexpr std::string_view kTo = "\a\b\f\n\r\t\v\\'\"";
    if (const size_t k = kFrom.find(e); k != std::string_view::npos) {
      t.text += kTo[k];
      i += 2;
      continue;
    }
    const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    if (digits > 0 && i + 2 + digits <= text_.size()) {
      uint32_t cp = 0;
      auto [p, ec] = std::from_chars(text_.data() + i + 2, text_.data() + i + 2 + digits, cp, 16);
      if (ec == std::errc() && p == text_.data() + i + 2 + digits) {
        if (e == 'x') {
          t.text += static_cast<char>(cp);
        } else {
          append_utf8(t.text, cp);
        }
        i += 2 + digits;
        continue;
      }
    }
    if (e >= '0' && e <= '7' && i + 4 <= text_.size()) {
      uint32_t v = 0;
      auto [p, ec] = std::from_chars(text_.data() + i + 1, text_.data() + i + 4, v, 8);
      if (ec == std::errc() && p == text_.data() + i + 4 && v < 256) {
        t.text += static_cast<char>(v);
        i += 4;
        continue;
      }
    }
    return error_at(i, "unknown escape sequence '\\" + std::string(1, e) + "' in string");
  }
  t.end = i + 1;
  return t;
}

std::optional<OpInfo> Parser::binary_op() const {
  if (tok_.kind != Tok::kSymbol && tok_.kind != Tok::kIdent) return std::nullopt;
  const std::string text = tok_.kind == Tok::kIdent ? lower(tok_.text) : tok_.text;
  for (const auto& info : kOps) {
    if (info.text == text) return info;
  }
  return std::nullopt;
}

Result<ExprPtr> Parser::parse_binary(int min_precedence) {
  GC_ASSIGN_OR_RETURN(ExprPtr lhs, parse_unary());
  while (true) {
    const std::optional<OpInfo> info = binary_op();
    if (!info || info->precedence < min_precedence) return lhs;
    auto node = std::make_shared<Expr>();
    node->kind = Expr::Kind::kBinary;
    node->op = info->op;
    node->pos = tok_.pos;
    GC_TRY(advance());
    if (at_keyword("bool")) {
      node->return_bool = true;
      GC_TRY(advance());
    }
    Matching& m = node->matching;
    if (at_keyword("on") || at_keyword("ignoring")) {
      m.on = at_keyword("on");
      m.is_explicit = true;
      GC_TRY(advance());
      GC_ASSIGN_OR_RETURN(m.labels, parse_label_list());
      std::sort(m.labels.begin(), m.labels.end());
      m.labels.erase(std::unique(m.labels.begin(), m.labels.end()), m.labels.end());
      if (at_keyword("group_left") || at_keyword("group_right")) {
        m.card = at_keyword("group_left") ? Card::kManyToOne : Card::kOneToMany;
        GC_TRY(advance());
        if (at("(")) {
          GC_ASSIGN_OR_RETURN(m.include, parse_label_list());
        }
      }
    } else if (at_keyword("group_left") || at_keyword("group_right")) {
      return error_at(tok_.pos, tok_.text + " needs on(...) or ignoring(...) before it");
    }
    // ^ is right-associative: its right operand may hold another ^.
    const int next = info->op == BinOp::kPow ? info->precedence : info->precedence + 1;
    GC_ASSIGN_OR_RETURN(ExprPtr rhs, parse_binary(next));
    GC_ASSIGN_OR_RETURN(lhs, finish_binary(std::move(node), std::move(lhs), std::move(rhs)));
  }
}

// The type rules of Prometheus's checkAST for binary expressions.
Result<ExprPtr> Parser::finish_binary(std::shared_ptr<Expr> node, ExprPtr lhs, ExprPtr rhs) {
  for (const ExprPtr& side : {lhs, rhs}) {
    if (side->type == ValueType::kRangeVector) return range_misplaced(*side);
  }
  const std::string op = "\"" + std::string(op_text(node->op)) + "\"";
  const bool vectors = lhs->type == kV && rhs->type == kV;
  Matching& m = node->matching;
  if (node->return_bool && !is_comparison(node->op)) {
    return error_at(node->pos, "bool modifier can only be used on comparison operators");
  }
  if (is_comparison(node->op) && !node->return_bool && lhs->type == kS && rhs->type == kS) {
    return error_at(node->pos,
                    "comparisons between scalars need the bool modifier, like 1 > bool 0");
  }
  if (is_set_op(node->op) && !vectors) {
    return error_at(node->pos, "set operator " + op + " not allowed in binary scalar expression");
  }
  if (m.is_explicit && !vectors) {
    return error_at(node->pos, "vector matching only allowed between instant vectors");
  }
  if (is_set_op(node->op)) {
    if (m.card != Card::kOneToOne) {
      return error_at(node->pos, "no grouping allowed for " + op + " operation");
    }
    m.card = Card::kManyToMany;
  }
  if (m.on) {
    for (const std::string& l : m.include) {
      if (std::binary_search(m.labels.begin(), m.labels.end(), l)) {
        return error_at(node->pos, "label \"" + l + "\" must not occur in on and group clause");
      }
    }
  }
  node->type = lhs->type == kV || rhs->type == kV ? kV : kS;
  node->pos = lhs->pos;  // Enclosing nodes report the whole expression, where it starts.
  node->args = {std::move(lhs), std::move(rhs)};
  return ExprPtr(std::move(node));
}

// Unary minus and plus bind like * in Prometheus: -2 ^ 2 is -(2 ^ 2), -2 * 3 is (-2) * 3.
Result<ExprPtr> Parser::parse_unary() {
  if (!at("-") && !at("+")) return parse_primary();
  const size_t pos = tok_.pos;
  const bool negate = at("-");
  GC_TRY(advance());
  GC_ASSIGN_OR_RETURN(ExprPtr operand, parse_binary(kPowPrecedence));
  if (operand->type == ValueType::kRangeVector) return range_misplaced(*operand);
  if (!negate) return operand;
  auto node = std::make_shared<Expr>();
  node->pos = pos;
  node->type = operand->type;
  if (operand->kind == Expr::Kind::kNumber) {
    node->number = -operand->number;
  } else {
    node->kind = Expr::Kind::kNegate;
    node->args = {std::move(operand)};
  }
  return ExprPtr(std::move(node));
}

Result<ExprPtr> Parser::parse_primary() {
  const size_t pos = tok_.pos;
  if (at("(")) {
    GC_TRY(advance());
    GC_ASSIGN_OR_RETURN(ExprPtr inner, parse_binary(1));
    GC_TRY(expect(")"));
    if (at("[")) {
      return error_at(tok_.pos,
                      "a range like [5m] must follow a metric selector, like x[5m] (subqueries "
                      "are not supported)");
    }
    return inner;
  }
  if (at("{")) return parse_selector("", pos);
  switch (tok_.kind) {
    case Tok::kNumber: {
      auto node = std::make_shared<Expr>();
      node->pos = pos;
      node->number = tok_.number;
      GC_TRY(advance());
      if (at("[")) {
        return error_at(tok_.pos, "a range like [5m] must follow a metric selector, like x[5m]");
      }
      return ExprPtr(std::move(node));
    }
    case Tok::kIdent: {
      const std::string name = tok_.text;
      GC_TRY(advance());
      const std::string low = lower(name);
      for (const auto& [agg_name, op] : kAggregations) {
        if (low == agg_name && (at("(") || at_keyword("by") || at_keyword("without"))) {
          return parse_aggregation(op, low, pos);
        }
      }
      if (at("(")) {
        for (const FnSpec& spec : kFunctions) {
          if (spec.name == name) return parse_call(spec, pos);
        }
        return error_at(pos, "unknown function \"" + name + "\"");
      }
      return parse_selector(name, pos);
    }
    case Tok::kString:
      return error_at(pos, "a string is only allowed as a label value, like x{job=\"api\"}");
    default:
      return error_at(pos, "expected an expression but found " + describe(tok_));
  }
}

Result<ExprPtr> Parser::parse_selector(std::string metric, size_t pos) {
  auto node = std::make_shared<Expr>();
  node->kind = Expr::Kind::kSelector;
  node->pos = pos;
  node->metric = std::move(metric);
  const bool named = !node->metric.empty();
  if (at("{")) {
    GC_TRY(advance());
    while (!at("}")) {
      if (tok_.kind != Tok::kIdent) {
        return error_at(tok_.pos, "expected a label name but found " + describe(tok_));
      }
      Matcher m;
      m.label = tok_.text;
      if (!is_label_name(m.label)) {
        return error_at(tok_.pos, "invalid label name \"" + m.label + "\"");
      }
      GC_TRY(advance());
      static constexpr std::pair<std::string_view, MatchOp> kMatchOps[] = {
          {"=", MatchOp::kEq}, {"!=", MatchOp::kNe}, {"=~", MatchOp::kRe}, {"!~", MatchOp::kNre}};
      bool found = false;
      for (const auto& [text, op] : kMatchOps) {
        if (at(text)) {
          m.op = op;
          found = true;
        }
      }
      if (!found) {
        return error_at(tok_.pos,
                        "expected one of '=', '!=', '=~', '!~' but found " + describe(tok_));
      }
      GC_TRY(advance());
      if (tok_.kind != Tok::kString) {
        return error_at(tok_.pos, "expected a quoted label value but found " + describe(tok_));
      }
      m.value = tok_.text;
      if (m.op == MatchOp::kRe || m.op == MatchOp::kNre) {
        auto re = compile_regex(m.value);
        if (!re) {
          return error_at(tok_.pos,
                          "invalid regular expression \"" + m.value + "\": " + re.error().message);
        }
        m.re = std::move(*re);
      }
      GC_TRY(advance());
      if (m.label == kNameLabel && named) {
        return error_at(pos, "metric name must not be set twice: \"" + node->metric + "\" or \"" +
                                 m.value + "\"");
      }
      if (m.label == kNameLabel && m.op == MatchOp::kEq && node->metric.empty()) {
        node->metric = m.value;
      } else {
        node->matchers.push_back(std::move(m));
      }
      if (at(",")) {
        GC_TRY(advance());
      } else if (!at("}")) {
        return error_at(tok_.pos, "expected ',' or '}' but found " + describe(tok_));
      }
    }
    GC_TRY(advance());
  }
  // The buffer keeps series by name, so a selector without one could not be answered.
  if (node->metric.empty()) {
    return error_at(pos,
                    "a selector needs a metric name, like up{job=\"api\"} or "
                    "{__name__=\"up\"}");
  }
  node->type = kV;
  if (at("[")) {
    GC_ASSIGN_OR_RETURN(node->range_ms, parse_range());
    node->type = kR;
  }
  return ExprPtr(std::move(node));
}

// Reads "[<duration>]" with tok_ on the '['; durations have their own lexical rules ("5m" is
// not the number 5 and the name m).
Result<int64_t> Parser::parse_range() {
  size_t p = tok_.end;
  while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
  const size_t start = p;
  while (p < text_.size() && (is_ident_char(text_[p]) || text_[p] == '.')) ++p;
  const std::string_view d = text_.substr(start, p - start);
  const std::optional<int64_t> ms = parse_duration_ms(d);
  if (!ms) {
    return error_at(start, "bad duration \"" + std::string(d) +
                               "\": use a number and a unit (ms s m h d w y), like 5m or 1h30m");
  }
  if (*ms <= 0) return error_at(start, "range must be greater than 0");
  GC_ASSIGN_OR_RETURN(tok_, lex(p));
  GC_TRY(expect("]"));
  return *ms;
}

Result<std::vector<std::string>> Parser::parse_label_list() {
  GC_TRY(expect("("));
  std::vector<std::string> labels;
  while (!at(")")) {
    if (tok_.kind != Tok::kIdent || !is_label_name(tok_.text)) {
      return error_at(tok_.pos, "expected a label name but found " + describe(tok_));
    }
    labels.push_back(tok_.text);
    GC_TRY(advance());
    if (at(",")) {
      GC_TRY(advance());
    } else if (!at(")")) {
      return error_at(tok_.pos, "expected ',' or ')' but found " + describe(tok_));
    }
  }
  GC_TRY(advance());
  return labels;
}

// sum by (a) (x) and sum(x) by (a) are both Prometheus syntax.
Result<ExprPtr> Parser::parse_aggregation(AggOp op, const std::string& name, size_t pos) {
  auto node = std::make_shared<Expr>();
  node->kind = Expr::Kind::kAggregate;
  node->agg = op;
  node->pos = pos;
  node->type = kV;
  bool grouped = false;
  if (at_keyword("by") || at_keyword("without")) {
    node->without = at_keyword("without");
    GC_TRY(advance());
    GC_ASSIGN_OR_RETURN(node->grouping, parse_label_list());
    grouped = true;
  }
  GC_TRY(expect("("));
  if (at(")")) {
    return error_at(pos, name + "() takes exactly one argument, got 0");
  }
  GC_ASSIGN_OR_RETURN(ExprPtr arg, parse_binary(1));
  if (at(",")) {
    return error_at(pos, name + "() takes exactly one argument");
  }
  GC_TRY(expect(")"));
  if (at_keyword("by") || at_keyword("without")) {
    if (grouped) return error_at(tok_.pos, name + "() takes only one by or without clause");
    node->without = at_keyword("without");
    GC_TRY(advance());
    GC_ASSIGN_OR_RETURN(node->grouping, parse_label_list());
  }
  if (arg->type != kV) {
    return error_at(arg->pos, name + "() needs an instant vector, got " + with_article(arg->type));
  }
  node->args = {std::move(arg)};
  return ExprPtr(std::move(node));
}

Result<ExprPtr> Parser::parse_call(const FnSpec& spec, size_t pos) {
  auto node = std::make_shared<Expr>();
  node->kind = Expr::Kind::kCall;
  node->fn = &spec;
  node->pos = pos;
  node->type = spec.result;
  const std::string name(spec.name);
  GC_TRY(expect("("));
  while (!at(")")) {
    GC_ASSIGN_OR_RETURN(ExprPtr arg, parse_binary(1));
    node->args.push_back(std::move(arg));
    if (at(",")) {
      GC_TRY(advance());
      if (at(")")) return error_at(tok_.pos, "expected an expression but found ')'");
    } else if (!at(")")) {
      return error_at(tok_.pos, "expected ',' or ')' but found " + describe(tok_));
    }
  }
  GC_TRY(advance());
  const size_t want = static_cast<size_t>(spec.arg_count);
  if (node->args.size() != want) {
    const std::string takes = want == 0   ? "no arguments"
                              : want == 1 ? "1 argument"
                                          : std::to_string(want) + " arguments";
    return error_at(pos, name + "() takes " + takes + ", got " + std::to_string(node->args.size()));
  }
  for (size_t i = 0; i < want; ++i) {
    const Expr& arg = *node->args[i];
    const ValueType type = spec.args[i];
    if (arg.type == type) continue;
    if (type == kR) {
      return error_at(arg.pos, name + "() needs a range vector, like " + name + "(x[5m])");
    }
    const std::string which = want == 1 ? "" : " argument " + std::to_string(i + 1);
    return error_at(arg.pos, name + "()" + which + " needs " + with_article(type) + ", got " +
                                 with_article(arg.type));
  }
  return ExprPtr(std::move(node));
}

// ---------------------------------------------------------------------------------------------
// Evaluator

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Error eval_error(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

// x{a="b", c="d"} for error messages.
std::string series_text(const Labels& labels) {
  std::string out;
  auto name = labels.find(kNameLabel);
  if (name != labels.end()) out = name->second;
  out += "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (k == kNameLabel) continue;
    if (!first) out += ", ";
    first = false;
    out += k + "=\"" + monitor::escape_label_value(v) + "\"";
  }
  return out + "}";
}

bool matches(const Matcher& m, const Labels& labels) {
  auto it = labels.find(m.label);
  static const std::string kEmpty;
  const std::string& v = it == labels.end() ? kEmpty : it->second;
  if (m.op == MatchOp::kEq || m.op == MatchOp::kNe) return (v == m.value) == (m.op == MatchOp::kEq);
  return regex_full_match(*m.re, v) == (m.op == MatchOp::kRe);
}

// Prometheus treats an empty label value as an absent label; the source may not.
std::optional<Labels> select(const Expr& sel, const Labels& raw) {
  Labels labels;
  for (const auto& [k, v] : raw) {
    if (!v.empty()) labels.emplace(k, v);
  }
  labels[kNameLabel] = sel.metric;
  for (const Matcher& m : sel.matchers) {
    if (!matches(m, labels)) return std::nullopt;
  }
  return labels;
}

Labels drop_name(Labels labels) {
  labels.erase(kNameLabel);
  return labels;
}

Status check_unique_labels(const Vector& v) {
  std::set<const Labels*, bool (*)(const Labels*, const Labels*)> seen(
      [](const Labels* a, const Labels* b) { return *a < *b; });
  for (const InstantSample& s : v) {
    if (!seen.insert(&s.labels).second) {
      return eval_error("vector cannot contain metrics with the same labelset: " +
                        series_text(s.labels));
    }
  }
  return ok();
}

// Neumaier's compensated sum, as Prometheus's kahansum.Inc.
void kahan_add(double inc, double& sum, double& c) {
  const double t = sum + inc;
  if (std::isinf(t)) {
    c = 0;
  } else if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}

// Prometheus's mean: a compensated sum divided at the end, switching to an incremental mean
// only once the sum would overflow.
class Mean {
 public:
  void add(double v) {
    count_ += 1;
    if (count_ == 1) {
      sum_ = v;
      return;
    }
    if (!incremental_) {
      double sum = sum_;
      double c = c_;
      kahan_add(v, sum, c);
      if (!std::isinf(sum)) {
        sum_ = sum;
        c_ = c;
        return;
      }
      incremental_ = true;
      mean_ = sum_ / (count_ - 1);
      c_ /= count_ - 1;
    }
    const double q = (count_ - 1) / count_;
    mean_ *= q;
    c_ *= q;
    kahan_add(v / count_, mean_, c_);
  }
  double result() const { return incremental_ ? mean_ + c_ : sum_ / count_ + c_ / count_; }

 private:
  double count_ = 0;
  double sum_ = 0;
  double c_ = 0;
  double mean_ = 0;
  bool incremental_ = false;
};

// Go's math.Max and math.Min, which Prometheus's clamp uses: NaN wins.
double go_max(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return std::max(a, b);
}
double go_min(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return std::min(a, b);
}

// The value of `a op b`, and for comparisons whether the pair is kept. Like Prometheus, a
// comparison's value is its left operand.
std::pair<double, bool> apply(BinOp op, double a, double b) {
  switch (op) {
    case BinOp::kAdd:
      return {a + b, true};
    case BinOp::kSub:
      return {a - b, true};
    case BinOp::kMul:
      return {a * b, true};
    case BinOp::kDiv:
      return {a / b, true};
    case BinOp::kMod:
      return {std::fmod(a, b), true};
    case BinOp::kPow:
      return {std::pow(a, b), true};
    case BinOp::kEq:
      return {a, a == b};
    case BinOp::kNe:
      return {a, a != b};
    case BinOp::kLe:
      return {a, a <= b};
    case BinOp::kLt:
      return {a, a < b};
    case BinOp::kGe:
      return {a, a >= b};
    case BinOp::kGt:
      return {a, a > b};
    default:
      return {kNaN, false};
  }
}

// The identity of a series for vector matching: the on() labels, or all but the ignoring()
// labels and the name.
std::string signature(const Labels& labels, const Matching& m) {
  std::string key;
  for (const auto& [k, v] : labels) {
    const bool listed = std::binary_search(m.labels.begin(), m.labels.end(), k);
    if (m.on ? !listed : (listed || k == kNameLabel)) continue;
    key += k;
    key += '\xff';
    key += v;
    key += '\xff';
  }
  return key;
}

Labels match_group(const Labels& labels, const Matching& m) {
  Labels out;
  for (const auto& [k, v] : labels) {
    const bool listed = std::binary_search(m.labels.begin(), m.labels.end(), k);
    if (m.on ? listed : (!listed && k != kNameLabel)) out.emplace(k, v);
  }
  return out;
}

// Prometheus's extrapolatedRate: the increase over the samples in the range, counter resets
// added back, extrapolated to the range boundaries when the samples reach close to them, to half
// an average interval otherwise, and never to before the counter's extrapolated zero.
std::optional<double> extrapolated_rate(const RangeSeries& s, int64_t range_ms, int64_t at_ms,
                                        bool is_rate) {
  const auto& p = s.points;
  if (p.size() < 2) return std::nullopt;
  double result = p.back().second - p.front().second;
  for (size_t i = 1; i < p.size(); ++i) {
    if (p[i].second < p[i - 1].second) result += p[i - 1].second;
  }
  const int64_t range_start = at_ms - range_ms;
  double to_start = static_cast<double>(p.front().first - range_start) / 1000;
  double to_end = static_cast<double>(at_ms - p.back().first) / 1000;
  const double sampled = static_cast<double>(p.back().first - p.front().first) / 1000;
  const double average = sampled / static_cast<double>(p.size() - 1);
  const double threshold = average * 1.1;
  if (to_start >= threshold) to_start = average / 2;
  if (result > 0 && p.front().second >= 0) {
    const double to_zero = sampled * (p.front().second / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  if (to_end >= threshold) to_end = average / 2;
  double factor = (sampled + to_start + to_end) / sampled;
  if (is_rate) factor /= static_cast<double>(range_ms) / 1000;
  return result * factor;
}

// The *_over_time functions, `fn` naming which.
double over_time(std::string_view fn, const RangeSeries& s) {
  const auto& p = s.points;
  if (fn == "avg_over_time") {
    Mean mean;
    for (const auto& pt : p) mean.add(pt.second);
    return mean.result();
  }
  if (fn == "min_over_time" || fn == "max_over_time") {
    double best = p.front().second;
    for (const auto& pt : p) {
      const double v = pt.second;
      if ((fn == "min_over_time" ? v < best : v > best) || std::isnan(best)) best = v;
    }
    return best;
  }
  if (fn == "sum_over_time") {
    double sum = 0;
    double c = 0;
    for (const auto& pt : p) kahan_add(pt.second, sum, c);
    return std::isinf(sum) ? sum : sum + c;
  }
  if (fn == "count_over_time") return static_cast<double>(p.size());
  return p.back().second;  // last_over_time.
}

struct Bucket {
  double upper;
  double count;
};

// Prometheus's bucketQuantile for classic histograms: linear interpolation within the bucket
// holding the rank, from 0 in the lowest bucket if its bound is positive, the second-highest
// bound when the rank falls in the +Inf bucket.
double bucket_quantile(double q, std::vector<Bucket> b) {
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::sort(b.begin(), b.end(), [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  if (b.empty() || b.back().upper != kInf) return kNaN;
  // Merge buckets with the same bound (e.g. le="1" and le="1.0").
  std::vector<Bucket> merged;
  for (const Bucket& x : b) {
    if (!merged.empty() && merged.back().upper == x.upper) {
      merged.back().count += x.count;
    } else {
      merged.push_back(x);
    }
  }
  b = std::move(merged);
  // Undo float noise from rate() and sum() that breaks monotonicity, then force monotonicity.
  double prev = b[0].count;
  for (size_t i = 1; i < b.size(); ++i) {
    const double delta = std::fabs(b[i].count - prev);
    if (delta == 0) continue;
    if (delta / b[i].count <= 1e-12) {
      b[i].count = prev;
    } else {
      prev = b[i].count;
    }
  }
  double highest = b[0].count;
  for (size_t i = 1; i < b.size(); ++i) {
    if (b[i].count > highest) highest = b[i].count;
    if (b[i].count < highest) b[i].count = highest;
  }
  if (b.size() < 2) return kNaN;
  const double observations = b.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  size_t i = 0;
  while (i < b.size() - 1 && !(b[i].count >= rank)) ++i;
  if (i == b.size() - 1) return b[b.size() - 2].upper;
  if (i == 0 && b[0].upper <= 0) return b[0].upper;
  double start = 0;
  double count = b[i].count;
  if (i > 0) {
    start = b[i - 1].upper;
    count -= b[i - 1].count;
    rank -= b[i - 1].count;
  }
  return start + (b[i].upper - start) * (rank / count);
}

class Evaluator {
 public:
  Evaluator(const SampleSource& src, int64_t at_ms) : src_(src), at_ms_(at_ms) {}

  Result<Value> eval(const Expr& e) const {
    switch (e.kind) {
      case Expr::Kind::kNumber:
        return scalar(e.number);
      case Expr::Kind::kSelector:
        return Value{false, 0, select_instant(e)};
      case Expr::Kind::kNegate:
        return eval_negate(e);
      case Expr::Kind::kBinary:
        return eval_binary(e);
      case Expr::Kind::kAggregate:
        return eval_aggregate(e);
      case Expr::Kind::kCall:
        return eval_call(e);
    }
    return make_error(Errc::kInternal, "unknown expression kind");
  }

 private:
  static Value scalar(double v) { return Value{true, v, {}}; }

  Vector select_instant(const Expr& sel) const {
    Vector out;
    for (const InstantSample& s : src_.instant(sel.metric, at_ms_)) {
      if (auto labels = select(sel, s.labels)) out.push_back({std::move(*labels), s.value});
    }
    return out;
  }

  std::vector<RangeSeries> select_range(const Expr& sel) const {
    std::vector<RangeSeries> out;
    for (RangeSeries& s : src_.range(sel.metric, sel.range_ms, at_ms_)) {
      auto labels = select(sel, s.labels);
      if (!labels) continue;
      // Enforce the window (at - range, at] even if the source hands out more.
      auto& p = s.points;
      p.erase(std::remove_if(p.begin(), p.end(),
                             [&](const auto& pt) {
                               return pt.first <= at_ms_ - sel.range_ms || pt.first > at_ms_;
                             }),
              p.end());
      if (p.empty()) continue;
      out.push_back({std::move(*labels), std::move(p)});
    }
    return out;
  }

  Result<Value> eval_negate(const Expr& e) const {
    GC_ASSIGN_OR_RETURN(Value v, eval(*e.args[0]));
    if (v.scalar) return scalar(-v.number);
    for (InstantSample& s : v.vector) {
      s.labels.erase(kNameLabel);
      s.value = -s.value;
    }
    GC_TRY(check_unique_labels(v.vector));
    return v;
  }

  Result<Value> eval_binary(const Expr& e) const {
    GC_ASSIGN_OR_RETURN(Value l, eval(*e.args[0]));
    GC_ASSIGN_OR_RETURN(Value r, eval(*e.args[1]));
    if (l.scalar && r.scalar) {
      auto [v, keep] = apply(e.op, l.number, r.number);
      if (is_comparison(e.op)) v = keep ? 1 : 0;  // The parser demands bool here.
      return scalar(v);
    }
    Value out;
    if (is_set_op(e.op)) {
      out.vector = set_operation(e, std::move(l.vector), std::move(r.vector));
      return out;
    }
    if (l.scalar || r.scalar) {
      out.vector = l.scalar ? vector_scalar(e, r.vector, l.number, true)
                            : vector_scalar(e, l.vector, r.number, false);
    } else {
      GC_ASSIGN_OR_RETURN(out.vector, vector_vector(e, std::move(l.vector), std::move(r.vector)));
    }
    GC_TRY(check_unique_labels(out.vector));
    return out;
  }

  static Vector set_operation(const Expr& e, Vector lhs, Vector rhs) {
    std::unordered_set<std::string> right;
    for (const InstantSample& s : rhs) right.insert(signature(s.labels, e.matching));
    Vector out;
    if (e.op == BinOp::kOr) {
      std::unordered_set<std::string> left;
      for (InstantSample& s : lhs) {
        left.insert(signature(s.labels, e.matching));
        out.push_back(std::move(s));
      }
      for (InstantSample& s : rhs) {
        if (left.count(signature(s.labels, e.matching)) == 0) out.push_back(std::move(s));
      }
      return out;
    }
    const bool want_match = e.op == BinOp::kAnd;
    for (InstantSample& s : lhs) {
      if ((right.count(signature(s.labels, e.matching)) > 0) == want_match) {
        out.push_back(std::move(s));
      }
    }
    return out;
  }

  // `scalar_left`: the scalar is the left operand. A filtering comparison keeps the vector
  // element's value whichever side it is on.
  static Vector vector_scalar(const Expr& e, const Vector& vec, double scalar_value,
                              bool scalar_left) {
    Vector out;
    for (const InstantSample& s : vec) {
      const double a = scalar_left ? scalar_value : s.value;
      const double b = scalar_left ? s.value : scalar_value;
      auto [v, keep] = apply(e.op, a, b);
      if (is_comparison(e.op)) v = s.value;
      if (e.return_bool) {
        v = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      const bool drop = !is_comparison(e.op) || e.return_bool;
      out.push_back({drop ? drop_name(s.labels) : s.labels, v});
    }
    return out;
  }

  // Prometheus's result labels: the many side's labels, reduced to the matching labels for
  // one-to-one matching, plus the group_x() labels copied from the one side.
  static Labels result_labels(const Labels& many, const Labels& one, const Expr& e) {
    const Matching& m = e.matching;
    Labels out = many;
    if (!is_comparison(e.op) || e.return_bool) out.erase(kNameLabel);
    if (m.card == Card::kOneToOne) {
      for (auto it = out.begin(); it != out.end();) {
        const bool listed = std::binary_search(m.labels.begin(), m.labels.end(), it->first);
        it = listed != m.on ? out.erase(it) : std::next(it);
      }
    }
    for (const std::string& l : m.include) {
      auto it = one.find(l);
      if (it != one.end()) {
        out[l] = it->second;
      } else {
        out.erase(l);
      }
    }
    return out;
  }

  static Result<Vector> vector_vector(const Expr& e, Vector lhs, Vector rhs) {
    const Matching& m = e.matching;
    // Work as many-to-one: for group_right the right side is the "many" side.
    const bool swapped = m.card == Card::kOneToMany;
    if (swapped) std::swap(lhs, rhs);
    std::unordered_map<std::string, const InstantSample*> one_side;
    for (const InstantSample& s : rhs) {
      auto [it, inserted] = one_side.emplace(signature(s.labels, m), &s);
      if (!inserted) {
        return eval_error(
            "many-to-many matching not allowed: found duplicate series for the match group " +
            series_text(match_group(s.labels, m)) + " on the " + (swapped ? "left" : "right") +
            " hand-side of the operation: [" + series_text(s.labels) + ", " +
            series_text(it->second->labels) + "]; matching labels must be unique on one side");
      }
    }
    std::unordered_map<std::string, std::set<Labels>> matched;
    Vector out;
    for (const InstantSample& s : lhs) {
      const std::string sig = signature(s.labels, m);
      auto it = one_side.find(sig);
      if (it == one_side.end()) continue;
      const double a = swapped ? it->second->value : s.value;
      const double b = swapped ? s.value : it->second->value;
      auto [v, keep] = apply(e.op, a, b);
      if (e.return_bool) {
        v = keep ? 1 : 0;
      } else if (!keep) {
        continue;
      }
      Labels labels = result_labels(s.labels, it->second->labels, e);
      auto [group, first] = matched.try_emplace(sig);
      if (m.card == Card::kOneToOne) {
        if (!first) {
          return eval_error("multiple matches for labels " + series_text(match_group(s.labels, m)) +
                            ": many-to-one matching must be explicit (group_left/group_right)");
        }
      } else if (!group->second.insert(labels).second) {
        return eval_error("multiple matches for labels " + series_text(labels) +
                          ": grouping labels must ensure unique matches");
      }
      out.push_back({std::move(labels), v});
    }
    return out;
  }

  Result<Value> eval_aggregate(const Expr& e) const {
    GC_ASSIGN_OR_RETURN(Value in, eval(*e.args[0]));
    struct Group {
      double value = 0;
      double c = 0;
      Mean mean;
    };
    std::map<Labels, Group> groups;
    for (const InstantSample& s : in.vector) {
      Labels key;
      for (const auto& [k, v] : s.labels) {
        const bool listed = std::find(e.grouping.begin(), e.grouping.end(), k) != e.grouping.end();
        if (e.without ? !listed && k != kNameLabel : listed) key.emplace(k, v);
      }
      auto [it, first] = groups.try_emplace(std::move(key));
      Group& g = it->second;
      g.mean.add(s.value);
      if (first) {
        g.value = e.agg == AggOp::kCount ? 1 : s.value;
        continue;
      }
      switch (e.agg) {
        case AggOp::kSum:
          kahan_add(s.value, g.value, g.c);
          break;
        case AggOp::kCount:
          g.value += 1;
          break;
        case AggOp::kMin:
          if (g.value > s.value || std::isnan(g.value)) g.value = s.value;
          break;
        case AggOp::kMax:
          if (g.value < s.value || std::isnan(g.value)) g.value = s.value;
          break;
        case AggOp::kAvg:
          break;
      }
    }
    Value out;
    for (auto& [labels, g] : groups) {
      double v = g.value;
      if (e.agg == AggOp::kSum) v += g.c;
      if (e.agg == AggOp::kAvg) v = g.mean.result();
      out.vector.push_back({labels, v});
    }
    return out;
  }

  Result<Value> eval_call(const Expr& e) const {
    const std::string_view fn = e.fn->name;
    if (fn == "time") return scalar(static_cast<double>(at_ms_) / 1000);
    if (e.fn->args[0] == kR) return eval_range_function(e);
    std::vector<Value> args;
    for (const ExprPtr& arg : e.args) {
      GC_ASSIGN_OR_RETURN(Value v, eval(*arg));
      args.push_back(std::move(v));
    }
    Value out;
    if (fn == "vector") {
      out.vector.push_back({{}, args[0].number});
    } else if (fn == "scalar") {
      return scalar(args[0].vector.size() == 1 ? args[0].vector[0].value : kNaN);
    } else if (fn == "absent") {
      if (args[0].vector.empty()) out.vector.push_back({absent_labels(*e.args[0]), 1});
    } else if (fn == "histogram_quantile") {
      out.vector = histogram_quantile(args[0].number, args[1].vector);
    } else {  // abs, clamp_min, clamp_max.
      for (const InstantSample& s : args[0].vector) {
        double v = std::fabs(s.value);
        if (fn == "clamp_min") v = go_max(args[1].number, go_min(kInf, s.value));
        if (fn == "clamp_max") v = go_max(-kInf, go_min(args[1].number, s.value));
        out.vector.push_back({drop_name(s.labels), v});
      }
    }
    GC_TRY(check_unique_labels(out.vector));
    return out;
  }

  Result<Value> eval_range_function(const Expr& e) const {
    const std::string_view fn = e.fn->name;
    const Expr& sel = *e.args[0];
    Value out;
    for (const RangeSeries& s : select_range(sel)) {
      std::optional<double> v;
      if (fn == "rate" || fn == "increase") {
        v = extrapolated_rate(s, sel.range_ms, at_ms_, fn == "rate");
      } else {
        v = over_time(fn, s);
      }
      if (!v) continue;
      // last_over_time picks a sample rather than deriving one, so it keeps the name.
      out.vector.push_back({fn == "last_over_time" ? s.labels : drop_name(s.labels), *v});
    }
    GC_TRY(check_unique_labels(out.vector));
    return out;
  }

  // Prometheus's createLabelsForAbsentFunction: the labels that equality matchers pin down
  // exactly once.
  static Labels absent_labels(const Expr& arg) {
    Labels out;
    if (arg.kind != Expr::Kind::kSelector) return out;
    std::set<std::string> seen;
    for (const Matcher& m : arg.matchers) {
      if (m.label == kNameLabel) continue;
      if (m.op == MatchOp::kEq && seen.insert(m.label).second && !m.value.empty()) {
        out[m.label] = m.value;
      } else {
        out.erase(m.label);
      }
    }
    return out;
  }

  // Classic histograms: the buckets of one histogram are the series that differ only in "le"
  // (and name). Series whose le does not parse as a number are skipped, as in Prometheus.
  static Vector histogram_quantile(double q, const Vector& in) {
    std::map<Labels, std::vector<Bucket>> histograms;
    for (const InstantSample& s : in) {
      auto le = s.labels.find("le");
      if (le == s.labels.end()) continue;
      const char* begin = le->second.c_str();
      char* end = nullptr;
      const double upper = std::strtod(begin, &end);
      if (end == begin || *end != '\0') continue;
      Labels key = drop_name(s.labels);
      key.erase("le");
      histograms[std::move(key)].push_back({upper, s.value});
    }
    Vector out;
    for (auto& [labels, buckets] : histograms) {
      out.push_back({labels, bucket_quantile(q, std::move(buckets))});
    }
    return out;
  }

  const SampleSource& src_;
  int64_t at_ms_;
};

void collect_ranges(const Expr& e, std::map<std::string, int64_t>& out) {
  if (e.kind == Expr::Kind::kSelector) {
    int64_t& range = out[e.metric];
    range = std::max(range, e.range_ms);
  }
  for (const ExprPtr& arg : e.args) collect_ranges(*arg, out);
}

}  // namespace

Result<ExprPtr> parse_expr(std::string_view text) { return Parser(text).parse_all(); }

Result<Value> evaluate(const Expr& e, const SampleSource& src, int64_t at_ms) {
  GC_ASSIGN_OR_RETURN(Value v, Evaluator(src, at_ms).eval(e));
  std::sort(v.vector.begin(), v.vector.end(),
            [](const InstantSample& a, const InstantSample& b) { return a.labels < b.labels; });
  return v;
}

std::map<std::string, int64_t> metric_ranges(const Expr& e) {
  std::map<std::string, int64_t> out;
  collect_ranges(e, out);
  return out;
}

}  // namespace gc::alert

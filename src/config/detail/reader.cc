// SPDX-License-Identifier: MIT
// config/detail/reader.cc: typed reads with diagnostics, unknown-key suggestions, path rules.
#include "config/detail/reader.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <utility>

namespace gc::config::detail {
namespace {

// Case-insensitive edit distance counting a swap of neighbours as one edit (optimal string
// alignment), since "dealy" for "delay" is the typical typo. Keys are short: O(n*m) is fine.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string_view article_for(std::string_view expected) {
  if (expected.empty()) return "";
  char c = expected.front();
  bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  return vowel ? "an " : "a ";
}

}  // namespace

std::string_view kind_name(Node::Kind kind) {
  switch (kind) {
    case Node::Kind::kString:
      return "string";
    case Node::Kind::kInteger:
      return "integer";
    case Node::Kind::kFloat:
      return "float";
    case Node::Kind::kBoolean:
      return "boolean";
    case Node::Kind::kDateTime:
      return "date-time";
    case Node::Kind::kArray:
      return "array";
    case Node::Kind::kTable:
      return "table";
  }
  return "value";
}

const Member* Node::find(std::string_view key) const {
  for (const auto& m : members) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

Checker::Checker(std::string file, std::string base_dir)
    : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

void Checker::error(Position pos, std::string message) {
  diagnostics_.push_back(Diagnostic{file_, pos.line, pos.column, std::move(message)});
}

std::vector<Diagnostic> Checker::take_diagnostics() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  return std::move(diagnostics_);
}

TableReader::TableReader(Checker& checker, const Node& table, std::string context,
                         std::string prefix, std::string where)
    : checker_(checker),
      table_(table),
      context_(std::move(context)),
      prefix_(std::move(prefix)),
      where_(std::move(where)) {}

void TableReader::reject_unknown(std::span<const std::string_view> known) {
  for (const auto& m : table_.members) {
    if (std::find(known.begin(), known.end(), m.key) != known.end()) continue;
    std::string message = context_ + "unknown key " + in_quotes(m.key) + " " + where_;
    std::string_view near = closest_match(m.key, known);
    if (!near.empty()) message += " (did you mean " + in_quotes(near) + "?)";
    checker_.error(m.key_pos, std::move(message));
  }
}

const Node* TableReader::get(std::string_view key) const {
  const Member* m = table_.find(key);
  return m ? &m->value : nullptr;
}

void TableReader::error(Position pos, std::string_view key, std::string_view problem) {
  checker_.error(pos, context_ + label(key) + ": " + std::string(problem));
}

void TableReader::type_error(const Node& value, std::string_view key, std::string_view expected) {
  error(value.pos, key,
        "expected " + std::string(article_for(expected)) + std::string(expected) + ", got " +
            std::string(kind_name(value.kind)));
}

bool TableReader::read_string(std::string_view key, std::string& out) {
  const Node* v = get(key);
  if (!v) return false;
  if (v->kind != Node::Kind::kString) {
    type_error(*v, key, "string");
    return false;
  }
  out = v->string;
  return true;
}

bool TableReader::read_bool(std::string_view key, bool& out) {
  const Node* b = get(key);
  if (!b) return false;
  if (b->kind != Node::Kind::kBoolean) {
    type_error(*b, key, "boolean (true or false)");
    return false;
  }
  out = b->boolean;
  return true;
}

bool TableReader::read_path(std::string_view key, std::string& out) {
  std::string text;
  if (!read_string(key, text)) return false;
  return path_value(*get(key), key, out);
}

bool TableReader::path_value(const Node& v, std::string_view key, std::string& out) {
  if (v.kind != Node::Kind::kString) {
    type_error(v, key, "string");
    return false;
  }
  const std::string& text = v.string;
  if (text.empty()) {
    error(v.pos, key, "must not be empty (omit the key to use the default)");
    return false;
  }
  if (text.front() == '~') {
    error(v.pos, key, "\"~\" is not expanded: write the absolute path");
    return false;
  }
  if (text.find('\0') != std::string::npos) {
    error(v.pos, key, "must not contain a NUL character");
    return false;
  }
  out = resolve_path(text, checker_.base_dir());
  return true;
}

bool TableReader::read_int(std::string_view key, int& out, int min, int max) {
  const Node* v = get(key);
  if (!v) return false;
  std::string range = std::to_string(min) + ".." + std::to_string(max);
  if (max == std::numeric_limits<int>::max()) range = ">= " + std::to_string(min);
  if (v->kind != Node::Kind::kInteger) {
    type_error(*v, key, "integer (" + range + ")");
    return false;
  }
  if (v->integer < min || v->integer > max) {
    error(v->pos, key, "must be " + range + ", got " + std::to_string(v->integer));
    return false;
  }
  out = static_cast<int>(v->integer);
  return true;
}

bool TableReader::read_duration(std::string_view key, Duration& out, bool positive) {
  const Node* v = get(key);
  if (!v) return false;
  if (v->kind != Node::Kind::kString) {
    type_error(*v, key, "duration string such as \"30s\"");
    return false;
  }
  Result<Duration> d = parse_duration(v->string);
  if (!d) {
    error(v->pos, key, d.error().message);
    return false;
  }
  if (positive && d->count() <= 0) {
    error(v->pos, key, "must be greater than 0");
    return false;
  }
  out = *d;
  return true;
}

bool TableReader::read_size(std::string_view key, std::uint64_t& out) {
  const Node* v = get(key);
  if (!v) return false;
  if (v->kind != Node::Kind::kString) {
    type_error(*v, key, "size string such as \"400MiB\"");
    return false;
  }
  Result<std::uint64_t> size = parse_size(v->string);
  if (!size) {
    error(v->pos, key, size.error().message);
    return false;
  }
  if (*size == 0) {
    error(v->pos, key, "must be greater than 0");
    return false;
  }
  out = *size;
  return true;
}

std::string resolve_path(std::string_view path, std::string_view base_dir) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
  std::string s = p.lexically_normal().string();
  // lexically_normal keeps a trailing separator ("/a/b/"); drop it so paths compare equal.
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string_view closest_match(std::string_view key, std::span<const std::string_view> candidates) {
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (std::string_view c : candidates) {
    std::size_t d = edit_distance(key, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  // Within two edits, and not so far that a short key matches anything.
  std::size_t limit = std::min<std::size_t>(2, std::max<std::size_t>(1, key.size() / 3));
  return best_distance <= limit ? best : std::string_view();
}

std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      // A quoted TOML key may hold a newline; keep every diagnostic on one line.
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

const Node* section(Checker& checker, const Node& root, std::string_view key) {
  const Member* m = root.find(key);
  if (!m) return nullptr;
  if (m->value.kind != Node::Kind::kTable) {
    TableReader top(checker, root, "", "", "");
    top.type_error(m->value, key, "table ([" + std::string(key) + "])");
    return nullptr;
  }
  return &m->value;
}

void missing(TableReader& r, std::string_view key, std::string_view example) {
  r.checker().error(r.table().pos, "missing required key " + in_quotes(r.label(key)) + " (e.g. " +
                                       std::string(example) + ")");
}

void for_each_table(TableReader& r, std::string_view key, std::string_view label,
                    const std::function<void(const Node& item, int index)>& each) {
  const Node* v = r.get(key);
  if (!v) return;
  std::string brackets = "[[" + std::string(label) + "]]";
  if (v->kind != Node::Kind::kArray) {
    r.type_error(*v, key, "array of tables (" + brackets + ")");
    return;
  }
  int index = 0;
  for (const Node& item : v->items) {
    ++index;
    if (item.kind != Node::Kind::kTable) {
      r.type_error(item, key, "table (" + brackets + ")");
      continue;
    }
    each(item, index);
  }
}

bool string_items(TableReader& r, std::string_view key, std::string_view example,
                  std::vector<const Node*>& out) {
  const Node* v = r.get(key);
  if (!v) return false;
  if (v->kind != Node::Kind::kArray) {
    r.type_error(*v, key, "array of strings such as " + std::string(example));
    return false;
  }
  for (const Node& item : v->items) {
    if (item.kind != Node::Kind::kString) {
      r.type_error(item, key, "string");
      continue;
    }
    out.push_back(&item);
  }
  return true;
}

bool is_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

}  // namespace gc::config::detail

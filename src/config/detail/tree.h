// SPDX-License-Identifier: MIT
// config/detail/tree.h: a parsed TOML document as a plain tree with source positions. loader.cc
// builds it from toml++ (the only file that includes toml++); the validators read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gc::config::detail {

// 1-based line and column of a key or value in the config file; 0:0 when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

struct Member;

// One TOML value. Only the fields of its `kind` are meaningful.
struct Node {
  enum class Kind { kString, kInteger, kFloat, kBoolean, kDateTime, kArray, kTable };

  Kind kind = Kind::kTable;
  Position pos;
  std::string string;           // kString; kDateTime holds its TOML text.
  std::int64_t integer = 0;     // kInteger.
  double number = 0;            // kFloat.
  bool boolean = false;         // kBoolean.
  std::vector<Node> items;      // kArray.
  std::vector<Member> members;  // kTable, in the order the parser reports them.

  // The member named `key` of a table, or nullptr.
  const Member* find(std::string_view key) const;
};

// A key of a table with where the key itself was written.
struct Member {
  std::string key;
  Position key_pos;
  Node value;
};

// "string", "integer", "array"...: used in "expected X, got Y" messages.
std::string_view kind_name(Node::Kind kind);

// The result of parsing TOML text: a root table, or the parser's one error and its position.
struct ParsedToml {
  std::optional<Node> root;
  Position error_pos;
  std::string error;  // Lowercase description from the parser.
};

// Parses `text`. Never throws. Defined in loader.cc, next to the toml++ include.
ParsedToml parse_toml(std::string_view text, const std::string& path);

}  // namespace gc::config::detail

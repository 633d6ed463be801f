// SPDX-License-Identifier: MIT
// config/detail/reader.h: typed, position-aware reads from a detail::Node table that report
// every problem as a Diagnostic and keep going. Shared by the validators of each section.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/units.h"
#include "config/detail/tree.h"
#include "config/loader.h"

namespace gc::config::detail {

// Collects the diagnostics of one config file. Not thread-safe; one per load.
class Checker {
 public:
  // `base_dir` is the absolute directory of the config file; relative paths resolve against it.
  Checker(std::string file, std::string base_dir);

  void error(Position pos, std::string message);
  bool has_errors() const { return !diagnostics_.empty(); }
  const std::string& base_dir() const { return base_dir_; }
  // The diagnostics in file order (line, then column; ties keep the order of reporting).
  std::vector<Diagnostic> take_diagnostics();
  // How strict this load is (config/loader.h); set before the rules run.
  void set_options(const LoadOptions& options) { options_ = options; }
  const LoadOptions& options() const { return options_; }

 private:
  std::string file_;
  std::string base_dir_;
  std::vector<Diagnostic> diagnostics_;
  LoadOptions options_;
};

// Reads the members of one table. Every message is "<context><prefix><key>: <problem>", e.g.
// `service "web": backoff.initial: invalid duration "3x": ...`. Each read_* leaves `out` alone
// and returns false when the key is absent or its value is invalid (the latter is reported).
class TableReader {
 public:
  // `context` prefixes every message (`service "web": ` or empty); `prefix` prefixes key names
  // ("backoff." for an inline table); `where` names the table in unknown-key messages
  // ("in [[service]]", "at the top level").
  TableReader(Checker& checker, const Node& table, std::string context, std::string prefix,
              std::string where);

  // Reports each key not in `known`, suggesting the closest known key when one is near.
  void reject_unknown(std::span<const std::string_view> known);

  const Node* get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key) != nullptr; }

  bool read_string(std::string_view key, std::string& out);
  bool read_bool(std::string_view key, bool& out);
  // A string that must not be empty and is made absolute: a relative path resolves against the
  // config file's directory and the result is lexically normalised.
  bool read_path(std::string_view key, std::string& out);
  // As read_path, for a string `value` found elsewhere (an array item), reported as `key`.
  bool path_value(const Node& value, std::string_view key, std::string& out);
  // An integer in [min, max].
  bool read_int(std::string_view key, int& out, int min, int max);
  // A duration string; with `positive` it must be > 0.
  bool read_duration(std::string_view key, Duration& out, bool positive);
  // A size string; it must be > 0.
  bool read_size(std::string_view key, std::uint64_t& out);

  // Reports `problem` about `key` at `pos`.
  void error(Position pos, std::string_view key, std::string_view problem);
  // Reports a type mismatch: "expected <expected>, got <kind>".
  void type_error(const Node& value, std::string_view key, std::string_view expected);
  // "<prefix><key>", e.g. "backoff.initial".
  std::string label(std::string_view key) const { return prefix_ + std::string(key); }

  Checker& checker() { return checker_; }
  const Node& table() const { return table_; }
  const std::string& context() const { return context_; }

 private:
  Checker& checker_;
  const Node& table_;
  std::string context_;
  std::string prefix_;
  std::string where_;
};

// The table at `key` of `root` (a top-level section such as [backup]), or nullptr when absent
// or after reporting a non-table.
const Node* section(Checker& checker, const Node& root, std::string_view key);
// Reports a missing required key of `r`'s table, with an example of it.
void missing(TableReader& r, std::string_view key, std::string_view example);
// The string items of the array at `key`, reporting a non-array and non-string items (which are
// skipped). Returns false when the key is absent or not an array.
bool string_items(TableReader& r, std::string_view key, std::string_view example,
                  std::vector<const Node*>& out);

// Calls each(item, index) for each table of the array of tables at `key` of `r`'s table (index
// counts from 1, non-table items included), reporting a non-array as "array of tables
// ([[label]])" and a non-table item as "table ([[label]])". Does nothing when `key` is absent.
void for_each_table(TableReader& r, std::string_view key, std::string_view label,
                    const std::function<void(const Node& item, int index)>& each);

// A DNS host name: dot-separated labels of letters, digits and '-', none starting or ending
// with '-', 1..63 characters each, 253 in all.
bool is_dns_name(std::string_view s);

// Resolves `path` against `base_dir` unless it is absolute; lexically normalised.
std::string resolve_path(std::string_view path, std::string_view base_dir);

// The entry of `candidates` closest to `key` by edit distance, or empty if none is close.
std::string_view closest_match(std::string_view key, std::span<const std::string_view> candidates);

// `"text"` for messages: quotes and backslashes escaped, control characters as \xNN.
std::string in_quotes(std::string_view text);

}  // namespace gc::config::detail

// SPDX-License-Identifier: MIT
// config/dotenv.cc: a line-oriented dotenv reader. Values are secrets: no error quotes them.
#include "config/dotenv.h"

#include <cctype>

namespace gc::config {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_valid_key(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Walks the text; `pos` indexes into it and `line` counts newlines passed.
class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : text_(text), file_(file) {}

  Result<std::vector<std::pair<std::string, std::string>>> run() {
    std::vector<std::pair<std::string, std::string>> out;
    while (pos_ < text_.size()) {
      int entry_line = line_;
      std::string_view raw = take_line();
      std::string_view rest = trim(raw);
      if (rest.empty() || rest.front() == '#') continue;
      if (rest.rfind("export", 0) == 0 && rest.size() > 6 && is_blank(rest[6])) {
        rest = trim(rest.substr(6));
      }
      std::size_t eq = rest.find('=');
      if (eq == std::string_view::npos) return fail(entry_line, "expected KEY=VALUE");
      std::string key(trim(rest.substr(0, eq)));
      if (!is_valid_key(key)) {
        return fail(entry_line, "invalid key \"" + key +
                                    "\": use letters, digits and \"_\", not starting with a "
                                    "digit");
      }
      // The value starts after '=' within `raw`; quoted values may run past this line.
      std::size_t value_offset = static_cast<std::size_t>(rest.data() - raw.data()) + eq + 1;
      std::string_view value_start = raw.substr(value_offset);
      while (!value_start.empty() && is_blank(value_start.front())) value_start.remove_prefix(1);
      std::string value;
      if (!value_start.empty() && (value_start.front() == '\'' || value_start.front() == '"')) {
        // Rewind to the opening quote so a quoted value can span lines.
        pos_ = static_cast<std::size_t>(value_start.data() - text_.data());
        line_ = entry_line;
        Result<std::string> quoted = take_quoted(key, entry_line);
        if (!quoted) return quoted.error();
        value = std::move(*quoted);
      } else {
        value = unquoted(value_start);
      }
      bool replaced = false;
      for (auto& [k, v] : out) {
        if (k == key) {
          v = value;
          replaced = true;
        }
      }
      if (!replaced) out.emplace_back(std::move(key), std::move(value));
    }
    return out;
  }

 private:
  std::string_view take_line() {
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    if (end < text_.size()) {
      pos_ = end + 1;
      ++line_;
    } else {
      pos_ = end;
    }
    return line;
  }

  static std::string unquoted(std::string_view value) {
    for (std::size_t i = 1; i < value.size(); ++i) {
      if (value[i] == '#' && is_blank(value[i - 1])) {
        value = value.substr(0, i);
        break;
      }
    }
    return std::string(trim(value));
  }

  // Reads a quoted value at pos_ (on its opening quote) and the rest of its closing line.
  Result<std::string> take_quoted(const std::string& key, int start_line) {
    char quote = text_[pos_++];
    std::string value;
    for (;;) {
      if (pos_ >= text_.size()) {
        return fail(start_line, "unterminated " + std::string(quote == '"' ? "double" : "single") +
                                    "-quoted value for \"" + key + "\"");
      }
      char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c == '\\' && quote == '"' && pos_ < text_.size()) {
        char next = text_[pos_];
        const char* escaped = next == 'n'    ? "\n"
                              : next == 't'  ? "\t"
                              : next == 'r'  ? "\r"
                              : next == '"'  ? "\""
                              : next == '\\' ? "\\"
                                             : nullptr;
        if (escaped) {
          value += escaped;
          ++pos_;
          continue;
        }
      }
      value += c;
    }
    int closing_line = line_;
    std::string_view tail = trim(take_line());
    if (!tail.empty() && tail.front() != '#') {
      return fail(closing_line, "unexpected text after the closing quote of \"" + key + "\"");
    }
    return value;
  }

  Error fail(int line, const std::string& problem) const {
    return make_error(Errc::kInvalidConfig,
                      std::string(file_) + ":" + std::to_string(line) + ": " + problem);
  }

  std::string_view text_;
  std::string_view file_;
  std::size_t pos_ = 0;
  int line_ = 1;  // The 1-based line that pos_ is on.
};

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> parse_dotenv(std::string_view text,
                                                                      std::string_view file_name) {
  return Parser(text, file_name).run();
}

}  // namespace gc::config

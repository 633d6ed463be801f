// SPDX-License-Identifier: MIT
// config/loader.cc: file reading, the toml++ adapter (the only file that includes toml++) and
// the public load functions.
#include "config/loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "base/unique_fd.h"
#include "config/detail/reader.h"
#include "config/detail/tree.h"
#include "config/detail/validate.h"

namespace gc::config {
namespace detail {
namespace {

Position position_of(const toml::source_region& region) {
  return Position{static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

template <typename T>
std::string to_text(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

Node convert(const toml::node& node) {
  Node out;
  out.pos = position_of(node.source());
  switch (node.type()) {
    case toml::node_type::table:
      out.kind = Node::Kind::kTable;
      for (auto&& [key, value] : *node.as_table()) {
        out.members.push_back(
            Member{std::string(key.str()), position_of(key.source()), convert(value)});
      }
      break;
    case toml::node_type::array:
      out.kind = Node::Kind::kArray;
      for (const toml::node& item : *node.as_array()) out.items.push_back(convert(item));
      break;
    case toml::node_type::string:
      out.kind = Node::Kind::kString;
      out.string = node.as_string()->get();
      break;
    case toml::node_type::integer:
      out.kind = Node::Kind::kInteger;
      out.integer = node.as_integer()->get();
      break;
    case toml::node_type::floating_point:
      out.kind = Node::Kind::kFloat;
      out.number = node.as_floating_point()->get();
      break;
    case toml::node_type::boolean:
      out.kind = Node::Kind::kBoolean;
      out.boolean = node.as_boolean()->get();
      break;
    case toml::node_type::date:
      out.kind = Node::Kind::kDateTime;
      out.string = to_text(node.as_date()->get());
      break;
    case toml::node_type::time:
      out.kind = Node::Kind::kDateTime;
      out.string = to_text(node.as_time()->get());
      break;
    case toml::node_type::date_time:
      out.kind = Node::Kind::kDateTime;
      out.string = to_text(node.as_date_time()->get());
      break;
    case toml::node_type::none:
      break;
  }
  return out;
}

// Reads the whole file; sets `error` ("No such file or directory") on failure.
bool read_file(const std::string& path, std::string& text, std::string& error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    error = std::strerror(errno);
    return false;
  }
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::strerror(errno);  // EISDIR for a directory.
      return false;
    }
    if (n == 0) return true;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) return path;  // The working directory is gone; keep what we were given.
  return p.lexically_normal().string();
}

std::string directory_of(const std::string& absolute) {
  std::string dir = std::filesystem::path(absolute).parent_path().string();
  return dir.empty() ? "/" : dir;
}

}  // namespace

ParsedToml parse_toml(std::string_view text, const std::string& path) {
  ParsedToml parsed;
  // toml++ reports syntax errors by throwing; this is the adapter that converts them (the Debian
  // package builds libtomlplusplus with exceptions, so TOML_EXCEPTIONS=0 is not an option).
  try {
    toml::table table = toml::parse(text, std::string_view(path));
    parsed.root = convert(table);
  } catch (const toml::parse_error& e) {
    parsed.error_pos = position_of(e.source());
    std::string description(e.description());
    constexpr std::string_view kNoise = "Error while parsing ";
    if (description.rfind(kNoise, 0) == 0) description.erase(0, kNoise.size());
    if (!description.empty()) {
      description[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(description[0])));
    }
    parsed.error = "invalid TOML: " + description;
  }
  return parsed;
}

}  // namespace detail

std::string Diagnostic::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

LoadOutcome load_config_from_string(std::string_view text, const std::string& path,
                                    const LoadOptions& options) {
  LoadOutcome outcome;
  std::string absolute = detail::absolute_path(path);
  detail::ParsedToml parsed = detail::parse_toml(text, path);
  if (!parsed.root) {
    outcome.diagnostics.push_back(
        Diagnostic{path, parsed.error_pos.line, parsed.error_pos.column, parsed.error});
    return outcome;
  }
  detail::Checker checker(path, detail::directory_of(absolute));
  checker.set_options(options);
  Config config = detail::build_config(checker, *parsed.root);
  outcome.diagnostics = checker.take_diagnostics();
  if (outcome.diagnostics.empty()) {
    config.path = absolute;
    outcome.config = std::move(config);
  }
  return outcome;
}

LoadOutcome load_config(const std::string& path, const LoadOptions& options) {
  std::string text;
  std::string error;
  if (!detail::read_file(path, text, error)) {
    LoadOutcome outcome;
    outcome.diagnostics.push_back(Diagnostic{path, 0, 0, "cannot read: " + error});
    return outcome;
  }
  return load_config_from_string(text, path, options);
}

Result<Config> load_config_or_error(const std::string& path, const LoadOptions& options) {
  LoadOutcome outcome = load_config(path, options);
  if (outcome.config) return std::move(*outcome.config);
  std::string message;
  for (const Diagnostic& d : outcome.diagnostics) {
    if (!message.empty()) message += '\n';
    message += d.to_string();
  }
  return make_error(Errc::kInvalidConfig, std::move(message));
}

namespace {

// For a file that does not even parse as TOML (a half-finished edit): finds
// `runtime_dir = "..."` inside [server] line by line, so that `groundctl config reload` still
// reaches the daemon and shows the file's errors instead of "daemon not reachable".
std::string scan_runtime_dir(std::string_view text) {
  bool in_server = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    line.remove_prefix(first);
    if (line.front() == '[') {
      in_server = line.rfind("[server]", 0) == 0;
      continue;
    }
    if (!in_server || line.rfind("runtime_dir", 0) != 0) continue;
    line.remove_prefix(11);
    size_t eq = line.find_first_not_of(" \t");
    if (eq == std::string_view::npos || line[eq] != '=') continue;
    line.remove_prefix(eq + 1);
    size_t q = line.find_first_not_of(" \t");
    if (q == std::string_view::npos || (line[q] != '"' && line[q] != '\'')) continue;
    size_t end = line.find(line[q], q + 1);
    if (end == std::string_view::npos) continue;
    std::string_view value = line.substr(q + 1, end - q - 1);
    if (value.empty() || value.find('\\') != std::string_view::npos) return "";
    return std::string(value);
  }
  return "";
}

}  // namespace

std::string control_socket_path_lenient(const std::string& path) {
  std::string fallback(kDefaultControlSocket);
  std::string text;
  std::string error;
  if (!detail::read_file(path, text, error)) return fallback;
  detail::ParsedToml parsed = detail::parse_toml(text, path);
  if (!parsed.root) {
    std::string dir = scan_runtime_dir(text);
    if (dir.empty()) return fallback;
    return detail::resolve_path(dir, detail::directory_of(detail::absolute_path(path))) +
           "/control.sock";
  }
  const detail::Member* server = parsed.root->find("server");
  if (!server || server->value.kind != detail::Node::Kind::kTable) return fallback;
  const detail::Member* dir = server->value.find("runtime_dir");
  if (!dir || dir->value.kind != detail::Node::Kind::kString || dir->value.string.empty()) {
    return fallback;
  }
  std::string base = detail::directory_of(detail::absolute_path(path));
  return detail::resolve_path(dir->value.string, base) + "/control.sock";
}

}  // namespace gc::config

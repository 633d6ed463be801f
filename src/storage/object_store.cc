// SPDX-License-Identifier: MIT
#include "storage/object_store.h"

#include <cstdio>

namespace gc::storage {
namespace {

// The key as it can be shown in a message: control bytes become \xNN.
std::string printable(std::string_view key) {
  std::string out;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Status check_key(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return make_error(Errc::kInvalidArgument,
                      "invalid object key \"" + printable(key) + "\": " + std::string(why));
  };
  // S3 limits keys to 1024 bytes of UTF-8.
  if (key.empty() || key.size() > 1024) return bad("must be 1 to 1024 bytes");
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return bad("contains a control character");
  }
  if (key.front() == '/' || key.back() == '/') return bad("must not start or end with '/'");
  // Segments are path components in LocalStore; "." and ".." would escape or alias.
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = key.find('/', start);
    std::string_view segment =
        key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (segment.empty()) return bad("contains an empty segment (\"//\")");
    if (segment == "." || segment == "..") return bad("contains a \".\" or \"..\" segment");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return ok();
}

Status check_prefix(std::string_view prefix) {
  if (prefix.empty()) return ok();
  // A prefix is an unfinished key: its last segment may still be empty ("db/").
  if (check_key(std::string(prefix) + "x")) return ok();
  return make_error(Errc::kInvalidArgument,
                    "invalid list prefix \"" + printable(prefix) +
                        "\": must not start with '/' or hold \"//\", \".\" or \"..\" segments");
}

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace gc::storage

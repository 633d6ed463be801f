// SPDX-License-Identifier: MIT
#include "storage/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>

#include "base/unique_fd.h"

namespace gc::storage {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

struct Found {
  std::optional<std::string> access_key_id;
  std::optional<std::string> secret_access_key;
};

}  // namespace

Result<S3Credentials> parse_credentials(std::string_view text, std::string_view origin,
                                        std::string_view profile) {
  Found top;      // Lines before any section header.
  Found section;  // Lines inside [profile].
  bool have_section = false;
  Found* current = &top;
  int line_no = 0;
  std::string where(origin);
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    std::string at = where + ":" + std::to_string(line_no) + ": ";
    if (line.front() == '[') {
      if (line.back() != ']') {
        return make_error(Errc::kInvalidConfig, at + "section header without a closing ']'");
      }
      std::string_view name = trim(line.substr(1, line.size() - 2));
      // ~/.aws/config spells it [profile NAME]; accept that form as well.
      if (name.substr(0, 8) == "profile ") name = trim(name.substr(8));
      if (name == profile) {
        have_section = true;
        current = &section;
      } else {
        current = nullptr;
      }
      continue;
    }
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      // The line may be a secret pasted on its own: never echo it.
      return make_error(Errc::kInvalidConfig, at + "expected \"key = value\"");
    }
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (current == nullptr) continue;
    if (key == "aws_access_key_id") {
      current->access_key_id = std::string(value);
    } else if (key == "aws_secret_access_key") {
      current->secret_access_key = std::string(value);
    }
  }
  const Found& use = have_section ? section : top;
  std::string scope = have_section ? " in [" + std::string(profile) + "]" : "";
  if (!have_section && !top.access_key_id && !top.secret_access_key) {
    return make_error(Errc::kInvalidConfig,
                      where + ": no [" + std::string(profile) +
                          "] section and no aws_access_key_id / aws_secret_access_key lines");
  }
  if (!use.access_key_id || use.access_key_id->empty()) {
    return make_error(Errc::kInvalidConfig,
                      where + ": aws_access_key_id is missing or empty" + scope);
  }
  if (!use.secret_access_key || use.secret_access_key->empty()) {
    return make_error(Errc::kInvalidConfig,
                      where + ": aws_secret_access_key is missing or empty" + scope);
  }
  return S3Credentials{*use.access_key_id, *use.secret_access_key};
}

Result<S3Credentials> load_credentials_file(const std::string& path, std::string_view profile) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return make_error(Errc::kInvalidConfig, "credentials file " + path + " is not a regular file");
  }
  // As ssh does for private keys: a secret others can read is already leaked, so refuse it
  // loudly rather than use it.
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(Errc::kPermission, "credentials file " + path +
                                             " is accessible by group or others (mode " + mode +
                                             "): run chmod 600 " + path);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read", path, errno);
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (1 << 20)) {
      return make_error(Errc::kInvalidConfig, "credentials file " + path + " is over 1 MiB");
    }
  }
  return parse_credentials(text, path, profile);
}

}  // namespace gc::storage

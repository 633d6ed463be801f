// SPDX-License-Identifier: MIT
#include "provision/accounts.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/unique_fd.h"

namespace gc::provision {
namespace {

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t p = line.find(sep, start);
    out.push_back(line.substr(start, p == std::string_view::npos ? p : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

std::optional<long> number(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    if (!line.empty() && line.front() != '#') fn(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
}

Result<std::string> read_optional(const std::string& path) {
  auto text = read_file(path);
  if (!text && text.error().code == Errc::kNotFound) return std::string();
  return text;
}

// getpwnam_r and friends want a caller buffer whose needed size only ERANGE reveals.
template <typename Entry, typename Key, typename Lookup>
bool nss_lookup(Key key, Entry& entry, std::vector<char>& buffer, Lookup lookup) {
  buffer.resize(16384);
  Entry* found = nullptr;
  for (;;) {
    int rc = lookup(key, &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    return rc == 0 && found != nullptr;
  }
}

std::optional<PasswdEntry> nss_user(const std::string& name) {
  passwd pw{};
  std::vector<char> buffer;
  if (!nss_lookup(name.c_str(), pw, buffer, ::getpwnam_r)) return std::nullopt;
  return PasswdEntry{pw.pw_name, static_cast<long>(pw.pw_uid), static_cast<long>(pw.pw_gid),
                     pw.pw_dir};
}

std::optional<GroupEntry> nss_group_by_name(const std::string& name) {
  group gr{};
  std::vector<char> buffer;
  if (!nss_lookup(name.c_str(), gr, buffer, ::getgrnam_r)) return std::nullopt;
  GroupEntry g{gr.gr_name, static_cast<long>(gr.gr_gid), {}};
  for (char** m = gr.gr_mem; m && *m; ++m) g.members.emplace_back(*m);
  return g;
}

}  // namespace

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for_each_line(text, [&](std::string_view line) {
    auto f = split(line, ':');
    if (f.size() < 7 || f[0].empty()) return;
    auto uid = number(f[2]);
    auto gid = number(f[3]);
    if (!uid || !gid) return;
    out.push_back(PasswdEntry{std::string(f[0]), *uid, *gid, std::string(f[5])});
  });
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> out;
  for_each_line(text, [&](std::string_view line) {
    auto f = split(line, ':');
    if (f.size() < 4 || f[0].empty()) return;
    auto gid = number(f[2]);
    if (!gid) return;
    GroupEntry g{std::string(f[0]), *gid, {}};
    if (!f[3].empty()) {
      for (auto m : split(f[3], ',')) {
        if (!m.empty()) g.members.emplace_back(m);
      }
    }
    out.push_back(std::move(g));
  });
  return out;
}

Result<Accounts> Accounts::read(const std::string& root) {
  Accounts a;
  a.live_ = root.empty();
  GC_ASSIGN_OR_RETURN(std::string passwd, read_optional(root + "/etc/passwd"));
  GC_ASSIGN_OR_RETURN(std::string group, read_optional(root + "/etc/group"));
  a.passwd_ = parse_passwd(passwd);
  a.group_ = parse_group(group);
  return a;
}

// root is uid and gid 0 on every Linux system, even in a root without /etc/passwd yet.
std::optional<PasswdEntry> Accounts::user(std::string_view name) const {
  for (const auto& p : passwd_) {
    if (p.name == name) return p;
  }
  if (live_) return nss_user(std::string(name));
  if (name == "root") return PasswdEntry{"root", 0, 0, "/root"};
  return std::nullopt;
}

std::optional<GroupEntry> Accounts::group(std::string_view name) const {
  for (const auto& g : group_) {
    if (g.name == name) return g;
  }
  if (live_) return nss_group_by_name(std::string(name));
  if (name == "root") return GroupEntry{"root", 0, {}};
  return std::nullopt;
}

std::optional<std::string> Accounts::user_name(long uid) const {
  for (const auto& p : passwd_) {
    if (p.uid == uid) return p.name;
  }
  if (live_) {
    passwd pw{};
    std::vector<char> buffer;
    if (nss_lookup(static_cast<uid_t>(uid), pw, buffer, ::getpwuid_r))
      return std::string(pw.pw_name);
  }
  if (uid == 0) return std::string("root");
  return std::nullopt;
}

std::optional<std::string> Accounts::group_name(long gid) const {
  for (const auto& g : group_) {
    if (g.gid == gid) return g.name;
  }
  if (live_) {
    struct group gr {};
    std::vector<char> buffer;
    if (nss_lookup(static_cast<gid_t>(gid), gr, buffer, ::getgrgid_r))
      return std::string(gr.gr_name);
  }
  if (gid == 0) return std::string("root");
  return std::nullopt;
}

std::vector<std::string> Accounts::groups_of(const PasswdEntry& user) const {
  std::vector<std::string> out;
  if (auto primary = group_name(user.gid)) out.push_back(*primary);
  for (const auto& g : group_) {
    if (std::find(g.members.begin(), g.members.end(), user.name) != g.members.end() &&
        std::find(out.begin(), out.end(), g.name) == out.end()) {
      out.push_back(g.name);
    }
  }
  if (live_) {
    // NSS groups (LDAP...) that the files do not list.
    int n = 64;
    std::vector<gid_t> gids(static_cast<std::size_t>(n));
    if (::getgrouplist(user.name.c_str(), static_cast<gid_t>(user.gid), gids.data(), &n) < 0) {
      gids.resize(static_cast<std::size_t>(n));
      (void)::getgrouplist(user.name.c_str(), static_cast<gid_t>(user.gid), gids.data(), &n);
    }
    gids.resize(static_cast<std::size_t>(std::max(n, 0)));
    for (gid_t gid : gids) {
      auto name = group_name(static_cast<long>(gid));
      if (name && std::find(out.begin(), out.end(), *name) == out.end()) out.push_back(*name);
    }
  }
  return out;
}

}  // namespace gc::provision

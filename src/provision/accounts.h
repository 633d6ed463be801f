// SPDX-License-Identifier: MIT
// provision/accounts.h: the users and groups of a target root, read from ROOT/etc/passwd and
// ROOT/etc/group, so that apply --root and the guards resolve names the way that system would.
// "root" is uid and gid 0 even when the root has no passwd file yet.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace gc::provision {

struct PasswdEntry {
  std::string name;
  long uid = -1;
  long gid = -1;
  std::string home;
};

struct GroupEntry {
  std::string name;
  long gid = -1;
  std::vector<std::string> members;  // The supplementary members listed in the group file.
};

// Parses passwd(5) / group(5) text. Malformed lines are skipped. Pure.
std::vector<PasswdEntry> parse_passwd(std::string_view text);
std::vector<GroupEntry> parse_group(std::string_view text);

// The account database of one root. With root "" (the live system) lookups that miss the files
// fall back to NSS (getpwnam_r/getgrnam_r), so LDAP or systemd-homed users are found too.
class Accounts {
 public:
  // Reads ROOT/etc/passwd and ROOT/etc/group; a missing file is an empty database. Errors: kIo
  // and friends for unreadable files.
  static Result<Accounts> read(const std::string& root);

  std::optional<PasswdEntry> user(std::string_view name) const;
  std::optional<GroupEntry> group(std::string_view name) const;
  std::optional<std::string> user_name(long uid) const;
  std::optional<std::string> group_name(long gid) const;
  // Names of the user's primary group and every group listing it as a member.
  std::vector<std::string> groups_of(const PasswdEntry& user) const;

 private:
  bool live_ = false;
  std::vector<PasswdEntry> passwd_;
  std::vector<GroupEntry> group_;
};

}  // namespace gc::provision

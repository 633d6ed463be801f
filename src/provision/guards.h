// SPDX-License-Identifier: MIT
// provision/guards.h: the lock-out guards. Before apply turns off SSH passwords, restricts
// AllowUsers or closes the firewall, it proves that someone can still log in and become root.
// The rules are pure (lockout_problems); read_guard_facts is the thin driver reading the target.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace gc::provision {

// What the target says about one user of [ssh].allow_users.
struct GuardUser {
  std::string name;
  bool exists = false;
  long uid = -1;
  std::string home;                 // As in passwd; "" when unknown.
  int authorized_keys = 0;          // Key lines in HOME/.ssh/authorized_keys.
  std::vector<std::string> groups;  // Names of the primary and supplementary groups.
};

struct GuardFacts {
  std::vector<GuardUser> users;  // One per allow_users entry, in config order.
};

// The groups whose members can become root with sudo (Debian: sudo; Ubuntu: admin; wheel).
bool is_admin_group(std::string_view group);

// The number of public-key lines in an authorized_keys text: blank lines and comments are
// skipped, leading options (`from="..",no-pty ssh-ed25519 AAAA...`) are allowed, and a line
// counts when it has a known key type followed by a base64 blob.
int count_authorized_keys(std::string_view text);

// Why applying `config` could lock the operator out, one message per problem naming the user
// and the fix; empty when it is safe. The rules:
//   - [ssh] turns password login off: some allow_users user must have an authorized key;
//   - [firewall] must allow the SSH port ([ssh].port, else 22) over tcp;
//   - [ssh] forbids root login and limits AllowUsers: some allow_users user must have a key and
//     be in an admin group (sudo, admin, wheel). A uid-0 user does not count: the drop-in sets
//     PermitRootLogin no, which sshd applies to every uid 0 account.
// Pure. There is no override: fix the server (add the key, the group) and apply again.
std::vector<std::string> lockout_problems(const config::Config& config, const GuardFacts& facts);

// Reads the facts for config.ssh->allow_users from the target: ROOT/etc/passwd, ROOT/etc/group
// and each home's .ssh/authorized_keys under ROOT ("" = the live system, where users unknown to
// /etc/passwd are also looked up through NSS). A missing passwd file means no users. Errors: kIo
// for unreadable files other than a missing authorized_keys. Blocks on file reads.
Result<GuardFacts> read_guard_facts(const config::Config& config, const std::string& root);

}  // namespace gc::provision

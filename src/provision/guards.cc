// SPDX-License-Identifier: MIT
#include "provision/guards.h"

#include <algorithm>

#include "base/unique_fd.h"
#include "provision/accounts.h"

namespace gc::provision {
namespace {

// Splits an authorized_keys line at unquoted blanks (options may hold quoted spaces).
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::size_t start = i;
    bool quoted = false;
    while (i < line.size() && (quoted || (line[i] != ' ' && line[i] != '\t'))) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        ++i;
      } else if (line[i] == '"') {
        quoted = !quoted;
      }
      ++i;
    }
    out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool is_key_type(std::string_view t) {
  for (std::string_view prefix : {"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-sha2-"}) {
    if (t.substr(0, prefix.size()) == prefix && t.size() > prefix.size()) return true;
  }
  return false;
}

// Every OpenSSH public key blob starts with the length of its type name: "AAAA" in base64.
bool is_key_blob(std::string_view b) {
  if (b.size() < 16 || b.substr(0, 4) != "AAAA") return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
  });
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool firewall_allows(const config::FirewallConfig& fw, int port) {
  std::string want = std::to_string(port) + "/tcp";
  return std::find(fw.allow.begin(), fw.allow.end(), want) != fw.allow.end();
}

std::string keys_file(const GuardUser& u) {
  return (u.home.empty() ? "/home/" + u.name : u.home) + "/.ssh/authorized_keys";
}

}  // namespace

bool is_admin_group(std::string_view group) {
  return group == "sudo" || group == "admin" || group == "wheel";
}

int count_authorized_keys(std::string_view text) {
  int count = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    auto f = fields(line);
    if (f.empty() || f[0].front() == '#') continue;
    // The key type is the first field, or the second after an options field.
    for (std::size_t i = 0; i < f.size() && i < 2; ++i) {
      if (is_key_type(f[i])) {
        if (i + 1 < f.size() && is_key_blob(f[i + 1])) ++count;
        break;
      }
    }
  }
  return count;
}

std::vector<std::string> lockout_problems(const config::Config& config, const GuardFacts& facts) {
  std::vector<std::string> problems;
  int ssh_port = config.ssh ? config.ssh->port : 22;
  if (config.firewall && !firewall_allows(*config.firewall, ssh_port)) {
    problems.push_back("refusing a firewall that blocks SSH: [firewall].allow has no \"" +
                       std::to_string(ssh_port) + "/tcp\" (the SSH port); add it to allow");
  }
  if (!config.ssh) return problems;

  std::vector<std::string> with_key, admins;
  for (const auto& u : facts.users) {
    if (!u.exists || u.authorized_keys == 0) continue;
    with_key.push_back(u.name);
    if (std::any_of(u.groups.begin(), u.groups.end(), is_admin_group)) admins.push_back(u.name);
  }
  if (with_key.empty()) {
    std::string detail;
    for (const auto& u : facts.users) {
      detail += "; ";
      detail += u.exists ? "user " + u.name + " has no key in " + keys_file(u)
                         : "user " + u.name + " does not exist";
    }
    problems.push_back("refusing to turn off SSH password login: none of [ssh].allow_users (" +
                       join(config.ssh->allow_users) + ") has an authorized key" + detail +
                       "; create the user and add its public key to ~/.ssh/authorized_keys first");
    return problems;
  }
  if (admins.empty()) {
    problems.push_back(
        "refusing to drop the last admin path: root login goes off and no user of "
        "[ssh].allow_users with a key (" +
        join(with_key) +
        ") is in the sudo, admin or wheel group; add one of them to the sudo group "
        "(usermod -aG sudo " +
        with_key.front() + ") first");
  }
  return problems;
}

Result<GuardFacts> read_guard_facts(const config::Config& config, const std::string& root) {
  GuardFacts facts;
  if (!config.ssh) return facts;
  GC_ASSIGN_OR_RETURN(Accounts accounts, Accounts::read(root));
  for (const auto& name : config.ssh->allow_users) {
    GuardUser u;
    u.name = name;
    if (auto pw = accounts.user(name)) {
      u.exists = true;
      u.uid = pw->uid;
      u.home = pw->home;
      u.groups = accounts.groups_of(*pw);
      if (!pw->home.empty()) {
        auto text = read_file(root + pw->home + "/.ssh/authorized_keys");
        if (text) {
          u.authorized_keys = count_authorized_keys(*text);
        } else if (text.error().code != Errc::kNotFound) {
          return text.error().with_context("user " + name);
        }
      }
    }
    facts.users.push_back(std::move(u));
  }
  return facts;
}

}  // namespace gc::provision

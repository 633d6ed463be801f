// SPDX-License-Identifier: MIT
// provision/sshd.cc: the sshd drop-in text. Values follow the checklist and the CIS
// Debian benchmark's SSH section; sshd uses the first value it reads for each keyword, and
// Debian's sshd_config includes sshd_config.d/*.conf on its first line, so these win.
#include "provision/sshd.h"

#include <string>

namespace gc::provision {

Component render_ssh(const config::Config& config, const Target& target) {
  const config::SshConfig& ssh = *config.ssh;
  std::string users;
  for (const std::string& u : ssh.allow_users) users += (users.empty() ? "" : " ") + u;
  std::string text =
      "# Managed by groundctl from [ssh] in " + config.path +
      ": edit the config and run `groundctl apply`; changes made here are overwritten.\n"
      "Port " +
      std::to_string(ssh.port) +
      "\n"
      "PermitRootLogin no\n"
      "PasswordAuthentication no\n"
      "KbdInteractiveAuthentication no\n"
      "PermitEmptyPasswords no\n"
      "PubkeyAuthentication yes\n"
      "AuthenticationMethods publickey\n"
      "MaxAuthTries " +
      std::to_string(ssh.max_auth_tries) +
      "\n"
      "LoginGraceTime 30\n"
      "ClientAliveInterval 300\n"
      "ClientAliveCountMax 2\n"
      "X11Forwarding no\n"
      "AllowUsers " +
      users + "\n";
  Component c;
  c.name = "ssh";
  c.files.push_back({.path = ssh.drop_in, .content = std::move(text), .mode = 0644});
  // sshd_config includes absolute paths, so only the live system's files can be checked.
  if (target.root.empty()) c.lifecycle.validate = {"sshd", "-t"};
  if (target.systemd) {
    // try-: with socket activation (Ubuntu 24.04) ssh.service may not be running, and each
    // connection's sshd reads the new file anyway.
    c.lifecycle.reload = {"systemctl", "try-reload-or-restart", "ssh"};
  } else {
    // SIGHUP makes sshd re-exec itself with the new configuration; open sessions stay.
    c.lifecycle.reload = {"sh", "-c", "kill -HUP \"$(cat /run/sshd.pid)\""};
  }
  return c;
}

}  // namespace gc::provision

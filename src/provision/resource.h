// SPDX-License-Identifier: MIT
// provision/resource.h: what provisioning manages, as plain data. Renderers (pure) turn the
// config into Components; the planner (pure) compares them with the facts a thin driver read off
// the server; apply (the driver) writes, validates, reloads and restores.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace gc::provision {

// One file groundctl owns entirely. `path` is absolute on the target system; apply --root DIR
// prefixes DIR.
struct ManagedFile {
  std::string path;
  std::string content;
  mode_t mode = 0644;
  std::string owner = "root";  // User and group names, looked up at apply time.
  std::string group = "root";
  bool secret = false;  // Content is never shown (plan prints "(secret, N bytes changed)").
  bool operator==(const ManagedFile&) const = default;
};

// A command apply runs that is not a file write: create a user, a database role, install a
// package. Decided by the planner from the facts, so that a satisfied step is not listed.
struct Step {
  std::string summary;            // Shown by plan: "create user orbital", never a secret.
  std::vector<std::string> argv;  // Run as root without a shell.
  std::string stdin_text;         // Fed to the command (SQL, a password): never shown or logged.
  // Run first (also by plan): exit 0 means the step is already satisfied and is skipped. Empty:
  // the step runs when its component's files change. Same rules as argv.
  std::vector<std::string> check;
  std::string run_as;  // Empty: root. "postgres": the OS user (peer authentication for psql).
  bool operator==(const Step&) const = default;
};

// How a component is checked and reloaded once its files changed. Each is an argv; empty means
// none. {root} in an argument is replaced with the --root directory ("" for the live system).
struct Lifecycle {
  std::vector<std::string> validate;  // Non-zero exit: the component's previous files come back.
  std::vector<std::string> reload;    // Run after a successful validate when a file changed.
  // Empty: both run as root. "postgres": as that OS user (psql by peer authentication).
  std::string run_as;
  bool operator==(const Lifecycle&) const = default;
};

// A group of files and steps applied and rolled back together: "nginx", "ssh", "firewall",
// "fail2ban", "postgres", "pgbouncer", "system".
struct Component {
  std::string name;
  std::vector<ManagedFile> files;
  std::vector<Step> steps_before;  // Packages, users: before the files are written.
  std::vector<Step> steps_after;   // Roles, grants, `ufw enable`: after validate and reload.
  Lifecycle lifecycle;
  bool operator==(const Component&) const = default;
};

// What renderers may know about the target besides the config. Set by the driver.
struct Target {
  std::string root;  // apply --root DIR; "" for the live system. Renderers emit paths without it.
  bool systemd = false;  // PID 1 is systemd: reload through systemctl, else signal the daemons.
};

}  // namespace gc::provision

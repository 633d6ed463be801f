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
  std::vector<std::string> argv;  // Run as run_as without a shell.
  std::string stdin_text;         // Fed to the command (SQL, a password): never shown or logged.
  // Decides whether the step runs. make_plan and apply run every check of every component up
  // front, before apply changes anything (so a check sees the target as it was, not as earlier
  // steps or components left it), as run_as and without a shell; with --root no check runs.
  // Exit 0: already satisfied, the step is skipped even when its component's files change.
  // Non-zero: the step runs. A check that cannot be started (missing program or run_as user)
  // fails the whole plan. It is not run again after the step. Empty: the step runs exactly when
  // a file of its component changes.
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

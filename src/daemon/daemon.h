// SPDX-License-Identifier: MIT
// daemon/daemon.h: `groundctl daemon`: loads the config, starts every service, serves the control
// socket, and on SIGTERM stops everything gracefully before exiting.
#pragma once

#include <string>

namespace gc::daemon {

// Runs in the foreground until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean
// shutdown, 2 for a bad config, 1 for a runtime failure at start (control socket in use...).
int run(const std::string& config_path);

}  // namespace gc::daemon

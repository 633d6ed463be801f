// SPDX-License-Identifier: MIT
// supervisor/listener.h: a listening TCP socket bound once by the daemon and inherited by every
// instance of a service (systemd's LISTEN_FDS protocol), so restarts and reloads never refuse a
// connection: the kernel queues it until some instance accepts.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "config/config.h"

namespace gc::supervisor {

struct Listener {
  config::ListenAddress address;
  std::string bound;  // The actual address, "127.0.0.1:41234" (differs for port 0).
  UniqueFd fd;        // Close-on-exec in the daemon; the spawn clears it in children.
};

// Binds and listens (SO_REUSEADDR, backlog 4096). Errors: kConflict for an address in use,
// kPermission for a privileged port, kUnavailable for an address not on this host.
Result<Listener> bind_listener(const config::ListenAddress& address);

// The LISTEN_FDNAMES entry for an address: systemd forbids ':' in names, so
// "127.0.0.1:3000" becomes "127.0.0.1_3000".
std::string listen_fd_name(const config::ListenAddress& address);

}  // namespace gc::supervisor

// SPDX-License-Identifier: MIT
// config/listen_address.h: the "IPv4:port" / "[IPv6]:port" notation of listen addresses.
// Pure functions; used by the config validator and by the supervisor when it binds.
#pragma once

#include <string_view>

#include "base/result.h"
#include "config/config.h"

namespace gc::config {

// Parses "127.0.0.1:3000", "0.0.0.0:80", "[::1]:3000" or "[::]:8080". The host must be a
// numeric address (host names are refused: they would need DNS at bind time); the port is
// 0..65535, 0 meaning "any free port". The result keeps `text` as written and holds `host` in
// canonical form ("::1" for "[0:0::1]"). Errors: kInvalidArgument, with a message that shows the
// expected form and does not repeat the input's context.
Result<ListenAddress> parse_listen_address(std::string_view text);

// True for 127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z).
bool is_loopback(const ListenAddress& address);

// True for 0.0.0.0 and ::.
bool is_wildcard(const ListenAddress& address);

// True if binding both addresses would collide: same family and port (port 0 never collides),
// and the same host or either one a wildcard.
bool addresses_conflict(const ListenAddress& a, const ListenAddress& b);

}  // namespace gc::config

// SPDX-License-Identifier: MIT
// provision/nginx_site.h: the Nginx site groundctl manages, rendered from [nginx]: a reverse
// proxy to the upstream service with TLS, redirects, rate limits and the ACME challenge. Pure.
#pragma once

#include <string>

#include "config/config.h"
#include "provision/resource.h"

namespace gc::provision {

// The access log format of the site, named `groundctl`: "combined" plus request and upstream
// times. Equal to monitor::kAccessLogFormat (a test holds them together) so the monitor's
// parse_access_line() reads every line the site writes.
inline constexpr std::string_view kNginxLogFormat =
    R"('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent )"
    R"("$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" )"
    R"(urt="$upstream_response_time"')";

// The "nginx" component: one file at nginx.site_file (a conf.d file, included inside http{})
// holding the log format, the limit_req zones, the upstream, an :80 server (ACME challenge from
// acme_root, stub_status at /nginx_status for loopback only, 308 to https for everything else)
// and an :443 server (Mozilla "intermediate" TLS for Nginx 1.22 + OpenSSL 3, HSTS, security
// headers, websocket, rate-limited, static and proxied locations). Its steps create acme_root;
// it validates with `nginx -t` on the live system (with target.root set it has no validate:
// nginx.conf includes absolute paths, so only the live system can be checked) and reloads through
// systemctl when target.systemd, else `nginx -s reload`.
// Requires config.nginx, whose upstream names a service with a listen address (as the loader
// guarantees). Pure.
Component render_nginx(const config::Config& config, const Target& target);

}  // namespace gc::provision

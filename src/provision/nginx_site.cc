// SPDX-License-Identifier: MIT
// provision/nginx_site.cc: the Nginx site text. TLS settings follow Mozilla's "intermediate"
// profile (ssl-config.mozilla.org, guideline 5.7) for Nginx 1.22 and OpenSSL 3.
#include "provision/nginx_site.h"

#include <string>
#include <utility>
#include <vector>

namespace gc::provision {
namespace {

// A root step with a check (and no stdin).
Step make_step(std::string summary, std::vector<std::string> argv, std::vector<std::string> check) {
  Step s;
  s.summary = std::move(summary);
  s.argv = std::move(argv);
  s.check = std::move(check);
  return s;
}

constexpr std::string_view kUpstream = "groundctl_upstream";
constexpr std::string_view kMainZone = "groundctl_main";

// Intermediate's cipher list without its DHE suites: those need an ssl_dhparam file, and every
// client that "intermediate" supports (Firefox 27, Android 4.4.2, Chrome 31, Edge, IE 11 on
// Windows 7, Java 8u31, OpenSSL 1.0.1, Opera 20, Safari 9) has ECDHE.
constexpr std::string_view kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// 63072000 s = 2 years: above the 180 days (15552000 s) the issue and HSTS preload require.
constexpr std::string_view kHsts = "max-age=63072000";

std::string limit_zone(std::size_t index) { return "groundctl_limit_" + std::to_string(index + 1); }

// A listen address as an upstream server: wildcard binds are reached over loopback.
std::string upstream_server(const config::ListenAddress& a) {
  std::string host = a.host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (a.is_ipv6) host = "[" + host + "]";
  return host + ":" + std::to_string(a.port);
}

// The proxy directives of one location. proxy_set_header is repeated in every location because
// a location that sets any header inherits none from the server.
std::string proxy_block(bool websocket) {
  std::string out = "        proxy_pass http://" + std::string(kUpstream) +
                    ";\n"
                    "        proxy_http_version 1.1;\n"
                    "        proxy_set_header Host $host;\n"
                    "        proxy_set_header X-Real-IP $remote_addr;\n"
                    "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                    "        proxy_set_header X-Forwarded-Proto $scheme;\n"
                    "        proxy_set_header X-Forwarded-Host $host;\n";
  if (websocket) {
    // A WebSocket stays open for hours; the app pings well within the read timeout.
    out +=
        "        proxy_set_header Upgrade $http_upgrade;\n"
        "        proxy_set_header Connection $groundctl_connection_upgrade;\n"
        "        proxy_read_timeout 3600s;\n"
        "        proxy_send_timeout 3600s;\n";
  } else {
    // An empty Connection header keeps the upstream connection alive (keepalive above).
    out += "        proxy_set_header Connection \"\";\n";
  }
  return out;
}

std::string limit_req(std::string_view zone, int burst) {
  return "        limit_req zone=" + std::string(zone) + " burst=" + std::to_string(burst) +
         " nodelay;\n";
}

std::string http_server(const config::NginxConfig& n) {
  // 127.0.0.1 and localhost are names of this server too, so that the monitor's
  // http://127.0.0.1/nginx_status reaches it even when another site is the default server.
  return "server {\n"
         "    listen 80;\n"
         "    listen [::]:80;\n"
         "    server_name " +
         n.domain +
         " 127.0.0.1 localhost;\n"
         "    server_tokens off;\n"
         "    access_log " +
         n.access_log +
         " groundctl;\n\n"
         "    # ACME HTTP-01 challenges (RFC 8555 section 8.3), files under acme_root.\n"
         "    location ^~ /.well-known/acme-challenge/ {\n"
         "        root " +
         n.acme_root +
         ";\n"
         "        default_type text/plain;\n"
         "        try_files $uri =404;\n"
         "    }\n\n"
         "    location = /nginx_status {\n"
         "        stub_status;\n"
         "        allow 127.0.0.1;\n"
         "        allow ::1;\n"
         "        deny all;\n"
         "        access_log off;\n"
         "    }\n\n"
         "    location / {\n"
         "        return 308 https://$host$request_uri;\n"
         "    }\n"
         "}\n";
}

std::string https_server(const config::Config& config) {
  const config::NginxConfig& n = *config.nginx;
  std::string out =
      "server {\n"
      "    listen 443 ssl http2;\n"
      "    listen [::]:443 ssl http2;\n"
      "    server_name " +
      n.domain +
      ";\n"
      "    server_tokens off;\n"
      "    access_log " +
      n.access_log + " groundctl;\n\n";
  out += "    ssl_certificate " + config::nginx_certificate_path(config) + ";\n";
  out += "    ssl_certificate_key " + config::nginx_certificate_key_path(config) + ";\n";
  out += "    ssl_protocols TLSv1.2 TLSv1.3;\n";
  out += "    ssl_ecdh_curve X25519:prime256v1:secp384r1;\n";
  out += "    ssl_ciphers " + std::string(kCiphers) + ";\n";
  out +=
      "    ssl_prefer_server_ciphers off;\n"
      "    ssl_session_timeout 1d;\n"
      "    ssl_session_cache shared:groundctl_tls:10m;\n"
      "    ssl_session_tickets off;\n\n";
  // `always`: the headers are on error pages too (a 429 or a 502 from a down upstream).
  out += "    add_header Strict-Transport-Security \"" + std::string(kHsts) + "\" always;\n";
  out +=
      "    add_header X-Content-Type-Options \"nosniff\" always;\n"
      "    add_header X-Frame-Options \"DENY\" always;\n"
      "    add_header Referrer-Policy \"strict-origin-when-cross-origin\" always;\n"
      "    add_header Permissions-Policy \"camera=(), microphone=(), geolocation=()\" always;\n\n";
  out += "    client_max_body_size " + n.client_max_body_size + ";\n";
  out += "    limit_req_status 429;\n";
  std::string main_limit = n.rate.empty() ? "" : limit_req(kMainZone, n.burst);
  for (const std::string& path : n.websocket) {
    out += "\n    location " + path + " {\n" + main_limit + proxy_block(true) + "    }\n";
  }
  for (std::size_t i = 0; i < n.limits.size(); ++i) {
    for (const std::string& path : n.limits[i].paths) {
      out += "\n    location " + path + " {\n" + limit_req(limit_zone(i), n.limits[i].burst) +
             proxy_block(false) + "    }\n";
    }
  }
  for (const config::NginxStaticConfig& s : n.statics) {
    out += "\n    location " + s.location + " {\n        root " + s.root +
           ";\n        try_files $uri =404;\n    }\n";
  }
  out += "\n    location / {\n" + main_limit + proxy_block(false) + "    }\n}\n";
  return out;
}

}  // namespace

Component render_nginx(const config::Config& config, const Target& target) {
  const config::NginxConfig& n = *config.nginx;
  std::string text =
      "# Managed by groundctl from [nginx] in " + config.path +
      ": edit the config and run `groundctl apply`; changes made here are overwritten.\n\n";
  text += "log_format groundctl " + std::string(kNginxLogFormat) + ";\n\n";
  // Zones are keyed by the binary client address (4 or 16 bytes): 10 MB holds ~160k clients.
  if (!n.rate.empty()) {
    text += "limit_req_zone $binary_remote_addr zone=" + std::string(kMainZone) +
            ":10m rate=" + n.rate + ";\n";
  }
  for (std::size_t i = 0; i < n.limits.size(); ++i) {
    text += "limit_req_zone $binary_remote_addr zone=" + limit_zone(i) +
            ":10m rate=" + n.limits[i].rate + ";\n";
  }
  text += "\nupstream " + std::string(kUpstream) + " {\n";
  if (const config::ServiceConfig* s = config.find_service(n.upstream)) {
    for (const config::ListenAddress& a : s->listen) {
      text += "    server " + upstream_server(a) + ";\n";
    }
  }
  text += "    keepalive 16;\n}\n\n";
  // Connection: upgrade for WebSocket handshakes, empty (keepalive) for everything else.
  text +=
      "map $http_upgrade $groundctl_connection_upgrade {\n"
      "    default upgrade;\n"
      "    '' '';\n"
      "}\n\n";
  text += http_server(n) + "\n" + https_server(config);

  Component c;
  c.name = "nginx";
  c.files.push_back({.path = n.site_file, .content = std::move(text), .mode = 0644});
  std::string acme_dir = target.root + n.acme_root;
  c.steps_before.push_back(
      make_step("create " + n.acme_root, {"mkdir", "-p", acme_dir}, {"test", "-d", acme_dir}));
  if (target.root.empty()) c.lifecycle.validate = {"nginx", "-t"};
  if (target.systemd) {
    c.lifecycle.reload = {"systemctl", "reload-or-restart", "nginx"};
  } else {
    c.lifecycle.reload = {"nginx", "-s", "reload"};
  }
  return c;
}

}  // namespace gc::provision

// SPDX-License-Identifier: MIT
#include "http/dashboard.h"

#include <string>

namespace gc::http {
namespace {

constexpr std::string_view kAssetPrefix = "/assets/";

Response with_dashboard_headers(Response r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kDashboardCsp));
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  // The files change with the binary: a browser must not keep a stale copy across an upgrade.
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace

const EmbeddedFile* find_embedded_file(std::string_view name) {
  for (const EmbeddedFile& f : embedded_files()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view content_type_for(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  if (name.ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

std::optional<Response> dashboard_response(std::string_view path) {
  std::string_view name;
  if (path == "/") {
    name = "index.html";
  } else if (path.starts_with(kAssetPrefix)) {
    name = path.substr(kAssetPrefix.size());
  } else {
    return std::nullopt;
  }
  const EmbeddedFile* f = find_embedded_file(name);
  if (f == nullptr) {
    return with_dashboard_headers({404, "text/plain; charset=utf-8", "not found\n", {}});
  }
  return with_dashboard_headers(
      {200, std::string(content_type_for(name)), std::string(f->data), {}});
}

}  // namespace gc::http

// SPDX-License-Identifier: MIT
// http/dashboard.h: the dashboard's static files (web/dashboard/* and uPlot), embedded into the
// binary at build time by cmake/embed_files.cmake, and the responses that serve them.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "http/server.h"

namespace gc::http {

// One embedded file: its name ("app.js") and its bytes, which live in the binary's read-only
// data for the life of the process.
struct EmbeddedFile {
  std::string_view name;
  std::string_view data;
};

// Every embedded file, in the generated source's order. Defined by the generated source.
std::span<const EmbeddedFile> embedded_files();

// The file called `name`, or nullptr.
const EmbeddedFile* find_embedded_file(std::string_view name);

// The Content-Type for a file name by its extension ("app.js" → "text/javascript;
// charset=utf-8"); "application/octet-stream" for an unknown one.
std::string_view content_type_for(std::string_view name);

// The policy every dashboard response carries: scripts, styles and API calls from this origin
// only, nothing inline, no frames, no forms, no external URLs.
inline constexpr std::string_view kDashboardCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// The answer for `path` if it is the dashboard's ("/" → index.html, "/assets/NAME" → that
// file, 404 for an unknown asset), with the CSP, Referrer-Policy and "Cache-Control: no-cache"
// headers; nullopt for any other path. Pure: reads only the embedded files.
std::optional<Response> dashboard_response(std::string_view path);

}  // namespace gc::http

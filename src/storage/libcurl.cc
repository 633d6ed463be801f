// SPDX-License-Identifier: MIT
#include "storage/libcurl.h"

#include <mutex>
#include <optional>

namespace gc::storage {
namespace {

std::optional<LibCurl>& libcurl_slot() {
  static std::optional<LibCurl> api;
  return api;
}

}  // namespace

const LibCurl& curl_api() { return *libcurl_slot(); }

Status load_libcurl() {
  // curl_global_init is not thread-safe on every build; do it once, before any handle exists.
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  static std::optional<Error> load_error;
  std::call_once(once, [] {
    auto lib = DynamicLibrary::open("libcurl.so.4", "libcurl4");
    if (!lib) {
      load_error = lib.error();
      return;
    }
    LibCurl c{std::move(*lib)};
    Status st = c.lib.bind("curl_global_init", c.global_init);
    if (st) st = c.lib.bind("curl_easy_init", c.easy_init);
    if (st) st = c.lib.bind("curl_easy_cleanup", c.easy_cleanup);
    if (st) st = c.lib.bind("curl_easy_reset", c.easy_reset);
    if (st) st = c.lib.bind("curl_easy_setopt", c.easy_setopt);
    if (st) st = c.lib.bind("curl_easy_getinfo", c.easy_getinfo);
    if (st) st = c.lib.bind("curl_easy_perform", c.easy_perform);
    if (st) st = c.lib.bind("curl_easy_strerror", c.easy_strerror);
    if (st) st = c.lib.bind("curl_slist_append", c.slist_append);
    if (st) st = c.lib.bind("curl_slist_free_all", c.slist_free_all);
    if (!st) {
      load_error = st.error();
      return;
    }
    rc = c.global_init(CURL_GLOBAL_DEFAULT);
    libcurl_slot().emplace(std::move(c));
  });
  if (load_error) return tl::unexpected(*load_error);
  if (rc != CURLE_OK) {
    return make_error(Errc::kInternal, std::string("libcurl initialisation failed: ") +
                                           curl_api().easy_strerror(rc));
  }
  return ok();
}

}  // namespace gc::storage

// SPDX-License-Identifier: MIT
// storage/libcurl.h: libcurl's easy API, opened at run time (see base/dynamic_library.h for why
// it is not linked), shared by the S3 client and the alert notifiers.
#pragma once

#include <curl/curl.h>

#include <memory>

#include "base/dynamic_library.h"
#include "base/result.h"

namespace gc::storage {

struct LibCurl {
  DynamicLibrary lib;
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

// Opens libcurl and runs curl_global_init, once per process (thread-safe). Call it before any
// other use. Errors: libcurl4 not installed, or its initialisation failed.
Status load_libcurl();
// The loaded API. Only valid after load_libcurl() succeeded.
const LibCurl& curl_api();

struct CurlFree {
  void operator()(CURL* c) const { curl_api().easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_api().slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlFree>;
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

}  // namespace gc::storage

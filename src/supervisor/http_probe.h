// SPDX-License-Identifier: MIT
// supervisor/http_probe.h: one asynchronous "GET url answers 2xx?" check, for ready = { http }.
// Plain http:// with a numeric host or "localhost"; enough for a loopback health endpoint.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <string>

#include "base/result.h"
#include "base/units.h"
#include "config/http_url.h"

namespace gc::supervisor {

using config::HttpUrl;
using config::parse_http_url;

// Calls `done(true)` if the URL answers a 2xx status within `timeout`, `done(false)` otherwise.
// Runs on `io`; `done` runs on the loop thread exactly once.
void start_http_probe(boost::asio::io_context& io, const std::string& url, Duration timeout,
                      std::function<void(bool)> done);

// The same check, reporting why it failed: `done("")` when healthy, else a short reason
// ("answered HTTP 503", "connect: Connection refused", "no answer within 5s").
void start_http_check(boost::asio::io_context& io, const std::string& url, Duration timeout,
                      std::function<void(std::string)> done);

}  // namespace gc::supervisor

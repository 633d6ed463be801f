// SPDX-License-Identifier: MIT
// http/server.h: the daemon's HTTP endpoint (Boost.Beast) on [http].listen: small GET requests,
// keep-alive, bounded sizes and timeouts, and a bearer token checked on every request when one
// is configured. What each path answers is the caller's handler.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "config/config.h"

namespace gc::http {

struct Request {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // Path and query: "/metrics", "/series?name=x".
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

// Limits a client cannot exceed: a request is a few headers and no body.
inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
inline constexpr std::size_t kMaxBodyBytes = 1024;

class Server {
 public:
  // Binds `listen` and serves on `io` (the daemon's loop; `handler` runs there). A non-empty
  // `token` is required as "Authorization: Bearer TOKEN" on every path but /healthz. Errors:
  // the bind.
  static Result<std::shared_ptr<Server>> start(boost::asio::io_context& io,
                                               const config::ListenAddress& listen,
                                               std::string token, Handler handler);
  virtual ~Server() = default;
  // "127.0.0.1:9100" as bound (the real port when the config asked for 0).
  virtual std::string bound_address() const = 0;
  virtual void stop() = 0;  // Closes the listener; open connections end with their request.
};

// Whether `header` (an Authorization value) carries `token`, compared in constant time.
bool bearer_matches(std::string_view header, std::string_view token);

}  // namespace gc::http

// SPDX-License-Identifier: MIT
// http/server.h: the daemon's HTTP endpoint (Boost.Beast) on [http].listen: small GET requests,
// keep-alive, bounded sizes and timeouts, and a bearer token checked on every request when one
// is configured (but for liveness and the dashboard's static files). What each path answers is
// the caller's handler.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace gc::http {

struct Request {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // Path and query: "/metrics", "/series?name=x".
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  Response() = default;
  // A constructor rather than aggregate initialization, so that {status, type, body} stays
  // valid (and free of missing-initializer warnings) whether `headers` is given or not.
  Response(int status_code, std::string type, std::string text, Headers extra = {})
      : status(status_code),
        content_type(std::move(type)),
        body(std::move(text)),
        headers(std::move(extra)) {}

  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Sent after the server's own headers and replacing any of the same name ("Cache-Control"
  // defaults to "no-store"), except "X-Content-Type-Options: nosniff", which every response
  // carries whatever the handler says.
  Headers headers;
};

using Handler = std::function<Response(const Request&)>;

// Limits a client cannot exceed: a request is a few headers and no body.
inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
inline constexpr std::size_t kMaxBodyBytes = 1024;

class Server {
 public:
  // Binds `listen` and serves on `io` (the daemon's loop; `handler` runs there). A non-empty
  // `token` is required as "Authorization: Bearer TOKEN" on every path for which
  // is_public_path() is false. Errors: the bind.
  static Result<std::shared_ptr<Server>> start(boost::asio::io_context& io,
                                               const config::ListenAddress& listen,
                                               std::string token, Handler handler);
  virtual ~Server() = default;
  // "127.0.0.1:9100" as bound (the real port when the config asked for 0).
  virtual std::string bound_address() const = 0;
  virtual void stop() = 0;  // Closes the listener; open connections end with their request.
};

// Paths served without the token: /healthz (liveness checks) and the dashboard's static files
// ("/" and "/assets/..."), which hold no data; a browser cannot send a bearer token when it
// loads a page, so the dashboard asks for the token and sends it with its API calls.
bool is_public_path(std::string_view path);

// Whether `header` (an Authorization value) carries `token`, compared in constant time.
bool bearer_matches(std::string_view header, std::string_view token);

}  // namespace gc::http

// SPDX-License-Identifier: MIT
// daemon/control_server.h: the control socket. Newline-delimited JSON: one request per line, one
// or more response lines. Bad input gets an error line, never a crash; an over-long line closes
// the connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/streambuf.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace gc::daemon {

// One client connection. Responses are queued and written in order.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Handler =
      std::function<void(const nlohmann::json& request, const std::shared_ptr<Session>&)>;
  Session(boost::asio::local::stream_protocol::socket socket, Handler handler);
  void begin();
  // Queues one JSON line. Safe to call after the peer left (it is dropped).
  void send(const nlohmann::json& message);
  void send_error(const Error& error);
  bool is_open() const { return open_; }
  // Keeps the session open after the response (for `logs -f`).
  void set_streaming() { streaming_ = true; }

 private:
  void read_next();
  void write_next();
  void close();
  boost::asio::local::stream_protocol::socket socket_;
  boost::asio::streambuf buffer_;
  Handler handler_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool open_ = true;
  bool streaming_ = false;
};

class ControlServer {
 public:
  // Binds `path` (mode 0600, or 0660 owned by `admin_group`). A stale socket file is replaced;
  // a live daemon on it is kConflict. Errors follow errno.
  static Result<std::unique_ptr<ControlServer>> start(boost::asio::io_context& io,
                                                      const std::string& path,
                                                      const std::string& admin_group,
                                                      Session::Handler handler);
  ~ControlServer();  // Removes the socket file.

 private:
  ControlServer(boost::asio::io_context& io, std::string path, Session::Handler handler);
  void accept_next();
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::string path_;
  Session::Handler handler_;
};

// "ok" wrapper: {"ok": true, "result": ...}.
nlohmann::json ok_response(nlohmann::json result);
// {"ok": false, "error": {"code": "...", "message": "..."}}.
nlohmann::json error_response(const Error& error);

}  // namespace gc::daemon

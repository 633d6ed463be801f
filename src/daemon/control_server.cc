// SPDX-License-Identifier: MIT
#include "daemon/control_server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <istream>

#include "base/unique_fd.h"

namespace gc::daemon {
namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

namespace {
constexpr size_t kMaxRequestBytes = 1 << 20;

// True if something accepts connections on `path`: another daemon is running.
bool socket_is_live(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}
}  // namespace

nlohmann::json ok_response(nlohmann::json result) {
  return {{"ok", true}, {"result", std::move(result)}};
}

nlohmann::json error_response(const Error& error) {
  return {{"ok", false},
          {"error", {{"code", std::string(errc_name(error.code))}, {"message", error.message}}}};
}

Session::Session(stream::socket socket, Handler handler)
    : socket_(std::move(socket)), buffer_(kMaxRequestBytes), handler_(std::move(handler)) {}

void Session::begin() { read_next(); }

void Session::read_next() {
  asio::async_read_until(
      socket_, buffer_, '\n',
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        if (ec) {
          // A line over kMaxRequestBytes, a reset, or a stream the client stopped wanting: done.
          // Plain EOF (a half-close, as `nc -N` does) still gets the replies already queued.
          // Nothing else holds the session once its replies are written: it closes on destruction.
          if (ec == asio::error::eof && !self->streaming_) return;
          self->close();
          return;
        }
        std::string line(
            asio::buffers_begin(self->buffer_.data()),
            asio::buffers_begin(self->buffer_.data()) + static_cast<std::ptrdiff_t>(n));
        self->buffer_.consume(n);
        nlohmann::json request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (request.is_discarded() || !request.is_object()) {
          self->send_error(
              make_error(Errc::kInvalidArgument, "bad request: expected one JSON object per line"));
        } else {
          // nlohmann-json throws on a field of the wrong type ({"name": 42}); this is the adapter
          // that turns that into an error reply instead of a dead daemon.
          try {
            self->handler_(request, self);
          } catch (const nlohmann::json::exception& e) {
            self->send_error(
                make_error(Errc::kInvalidArgument, std::string("bad request: ") + e.what()));
          }
        }
        self->read_next();
      });
}

void Session::send(const nlohmann::json& message) {
  if (!open_) return;
  outbox_.push_back(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (!writing_) write_next();
}

void Session::send_error(const Error& error) { send(error_response(error)); }

void Session::write_next() {
  if (outbox_.empty() || !open_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(outbox_.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      if (ec || !self->open_) {
                        self->close();
                        return;
                      }
                      self->outbox_.pop_front();
                      self->write_next();
                    });
}

void Session::close() {
  open_ = false;
  outbox_.clear();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

ControlServer::ControlServer(asio::io_context& io, std::string path, Session::Handler handler)
    : acceptor_(io), path_(std::move(path)), handler_(std::move(handler)) {}

ControlServer::~ControlServer() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  ::unlink(path_.c_str());
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(asio::io_context& io,
                                                            const std::string& path,
                                                            const std::string& admin_group,
                                                            Session::Handler handler) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error(Errc::kInvalidArgument, "control socket path too long: " + path);
  }
  if (::access(path.c_str(), F_OK) == 0) {
    if (socket_is_live(path)) {
      return make_error(Errc::kConflict, "another groundctl daemon is running on " + path);
    }
    ::unlink(path.c_str());  // Left behind by a daemon that died.
  }
  std::unique_ptr<ControlServer> server(new ControlServer(io, path, std::move(handler)));
  boost::system::error_code ec;
  server->acceptor_.open(stream(), ec);
  // Bind with a private umask so there is no window where the socket is world-connectable.
  mode_t old_mask = ::umask(0177);
  if (!ec) server->acceptor_.bind(stream::endpoint(path), ec);
  ::umask(old_mask);
  if (ec) return make_error(Errc::kIo, "bind control socket " + path + ": " + ec.message());
  server->acceptor_.listen(64, ec);
  if (ec) return make_error(Errc::kIo, "listen on control socket " + path + ": " + ec.message());
  if (!admin_group.empty()) {
    group* g = ::getgrnam(admin_group.c_str());
    if (g == nullptr)
      return make_error(Errc::kNotFound, "admin_group \"" + admin_group + "\" does not exist");
    if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0)
      return sys_error("chown", path, errno);
    if (::chmod(path.c_str(), 0660) != 0) return sys_error("chmod", path, errno);
  }
  server->accept_next();
  return server;
}

void ControlServer::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, stream::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handler_)->begin();
    accept_next();
  });
}

}  // namespace gc::daemon

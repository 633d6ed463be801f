// SPDX-License-Identifier: MIT
#include "http/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace gc::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(10);
// A keep-alive connection with nothing to say is closed after this.
constexpr auto kIdleTimeout = std::chrono::seconds(60);

class Session : public std::enable_shared_from_this<Session> {
 public:
  // Shares the token and handler, so a session may outlive the server that accepted it.
  Session(tcp::socket socket, std::shared_ptr<const std::string> token,
          std::shared_ptr<const Handler> handler)
      : stream_(std::move(socket)), token_(std::move(token)), handler_(std::move(handler)) {}

  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(first_ ? kRequestTimeout : kIdleTimeout);
    first_ = false;
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec) {
      // Oversized or malformed: answer once, then close.
      bool too_big = ec == bhttp::error::header_limit || ec == bhttp::error::body_limit;
      return reply(too_big ? 431 : 400, false,
                   {too_big ? 431 : 400, "text/plain; charset=utf-8",
                    too_big ? "request too large\n" : "bad request\n"},
                   false);
    }
    auto& req = parser_->get();
    bool keep_alive = req.keep_alive();
    Request r{std::string(req.method_string()), std::string(req.target())};
    std::string path = r.target.substr(0, r.target.find('?'));
    if (!token_->empty() && !is_public_path(path) &&
        !bearer_matches(req[bhttp::field::authorization], *token_)) {
      return reply(401, keep_alive, {401, "text/plain; charset=utf-8", "bearer token required\n"},
                   req.method() == bhttp::verb::head);
    }
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      return reply(405, keep_alive, {405, "text/plain; charset=utf-8", "only GET\n"}, false);
    }
    Response resp = (*handler_)(r);
    reply(resp.status, keep_alive, resp, req.method() == bhttp::verb::head);
  }

  void reply(int status, bool keep_alive, const Response& r, bool head) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(status), 11);
    res->set(bhttp::field::server, "groundctl");
    res->set(bhttp::field::content_type, r.content_type);
    res->set(bhttp::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->set("X-Content-Type-Options", "nosniff");
    if (status == 401) res->set(bhttp::field::www_authenticate, "Bearer");
    if (status == 405) res->set(bhttp::field::allow, "GET, HEAD");
    res->keep_alive(keep_alive);
    if (head) {
      res->content_length(r.body.size());
    } else {
      res->body() = r.body;
      res->prepare_payload();
    }
    stream_.expires_after(kRequestTimeout);
    bhttp::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) return self->close();
          self->read();
        });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<const std::string> token_;
  std::shared_ptr<const Handler> handler_;
  bool first_ = true;
};

class ServerImpl : public Server, public std::enable_shared_from_this<ServerImpl> {
 public:
  ServerImpl(asio::io_context& io, std::string token, Handler handler)
      : acceptor_(io),
        token_(std::make_shared<const std::string>(std::move(token))),
        handler_(std::make_shared<const Handler>(std::move(handler))) {}

  Status bind(const config::ListenAddress& listen) {
    beast::error_code ec;
    auto address = asio::ip::make_address(listen.host, ec);
    if (ec) return make_error(Errc::kInvalidConfig, "http.listen: " + ec.message());
    tcp::endpoint ep(address, listen.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return make_error(ec == asio::error::address_in_use ? Errc::kConflict : Errc::kIo,
                        "http.listen " + listen.text + ": " + ec.message());
    }
    return ok();
  }

  void accept() {
    acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(s), self->token_, self->handler_)->read();
      self->accept();
    });
  }

  std::string bound_address() const override {
    beast::error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    if (ec) return "";
    std::string host = ep.address().to_string();
    if (ep.address().is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(ep.port());
  }

  void stop() override {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  tcp::acceptor acceptor_;
  std::shared_ptr<const std::string> token_;
  std::shared_ptr<const Handler> handler_;
};

}  // namespace

bool is_public_path(std::string_view path) {
  return path == "/healthz" || path == "/" || path.starts_with("/assets/");
}

bool bearer_matches(std::string_view header, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty() || header.size() != kScheme.size() + token.size() ||
      header.substr(0, kScheme.size()) != kScheme) {
    return false;
  }
  unsigned char diff = 0;
  std::string_view given = header.substr(kScheme.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return diff == 0;
}

Result<std::shared_ptr<Server>> Server::start(asio::io_context& io,
                                              const config::ListenAddress& listen,
                                              std::string token, Handler handler) {
  auto s = std::make_shared<ServerImpl>(io, std::move(token), std::move(handler));
  GC_TRY(s->bind(listen));
  s->accept();
  return std::shared_ptr<Server>(s);
}

}  // namespace gc::http

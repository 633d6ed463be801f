// SPDX-License-Identifier: MIT
#include "supervisor/http_probe.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <memory>

namespace gc::supervisor {
namespace asio = boost::asio;

Result<HttpUrl> parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return make_error(Errc::kInvalidArgument, "unsupported URL \"" + url + "\": only http:// is supported");
  }
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  HttpUrl out;
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return make_error(Errc::kInvalidArgument, "invalid URL \"" + url + "\"");
    out.host = authority.substr(1, close - 1);
    out.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "80";
  } else {
    auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    out.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (out.host.empty() || out.port.empty()) return make_error(Errc::kInvalidArgument, "invalid URL \"" + url + "\"");
  return out;
}

namespace {

struct Probe {
  Probe(asio::io_context& io) : socket(io), timer(io) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  std::string request;
  std::string response;
  std::function<void(bool)> done;
  void finish(bool healthy) {
    if (!done) return;
    auto cb = std::move(done);
    done = nullptr;
    boost::system::error_code ignored;
    socket.close(ignored);
    timer.cancel();
    cb(healthy);
  }
};

}  // namespace

void start_http_probe(asio::io_context& io, const std::string& url, Duration timeout,
                      std::function<void(bool)> done) {
  auto parsed = parse_http_url(url);
  if (!parsed) {
    asio::post(io, [done = std::move(done)] { done(false); });
    return;
  }
  std::string host = parsed->host == "localhost" ? "127.0.0.1" : parsed->host;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  unsigned long port = std::strtoul(parsed->port.c_str(), nullptr, 10);
  if (ec || port == 0 || port > 65535) {
    asio::post(io, [done = std::move(done)] { done(false); });
    return;
  }
  auto p = std::make_shared<Probe>(io);
  p->done = std::move(done);
  p->request = "GET " + parsed->target + " HTTP/1.1\r\nHost: " + parsed->host + "\r\nUser-Agent: groundctl\r\nConnection: close\r\n\r\n";
  p->timer.expires_after(timeout);
  p->timer.async_wait([p](const boost::system::error_code& e) {
    if (!e) p->finish(false);
  });
  asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  p->socket.async_connect(endpoint, [p](const boost::system::error_code& e) {
    if (e) return p->finish(false);
    asio::async_write(p->socket, asio::buffer(p->request), [p](const boost::system::error_code& we, size_t) {
      if (we) return p->finish(false);
      p->response.resize(64);
      // The status line is all we need: "HTTP/1.1 200".
      asio::async_read(p->socket, asio::buffer(p->response), asio::transfer_at_least(12),
                       [p](const boost::system::error_code& re, size_t n) {
                         if (re && n < 12) return p->finish(false);
                         bool healthy = p->response.rfind("HTTP/1.", 0) == 0 && p->response[9] == '2';
                         p->finish(healthy);
                       });
    });
  });
}

}  // namespace gc::supervisor

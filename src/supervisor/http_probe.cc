// SPDX-License-Identifier: MIT
#include "supervisor/http_probe.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <memory>

namespace gc::supervisor {
namespace asio = boost::asio;

namespace {

struct Probe {
  Probe(asio::io_context& io) : socket(io), timer(io) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  std::string request;
  std::string response;
  std::function<void(std::string)> done;
  void finish(std::string problem) {
    if (!done) return;
    auto cb = std::move(done);
    done = nullptr;
    boost::system::error_code ignored;
    socket.close(ignored);
    timer.cancel();
    cb(std::move(problem));
  }
};

}  // namespace

void start_http_probe(asio::io_context& io, const std::string& url, Duration timeout,
                      std::function<void(bool)> done) {
  start_http_check(io, url, timeout,
                   [done = std::move(done)](const std::string& problem) { done(problem.empty()); });
}

void start_http_check(asio::io_context& io, const std::string& url, Duration timeout,
                      std::function<void(std::string)> done) {
  auto parsed = parse_http_url(url);
  if (!parsed) {
    asio::post(io, [done = std::move(done), e = parsed.error().message] { done(e); });
    return;
  }
  std::string host = parsed->host == "localhost" ? "127.0.0.1" : parsed->host;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  unsigned long port = std::strtoul(parsed->port.c_str(), nullptr, 10);
  if (ec || port == 0 || port > 65535) {
    asio::post(io, [done = std::move(done)] { done("not a numeric address and port"); });
    return;
  }
  auto p = std::make_shared<Probe>(io);
  p->done = std::move(done);
  // RFC 9110 section 7.2: Host is the URL's authority, so an IPv6 host keeps its brackets and a
  // non-default port is included; strict servers answer 400 to "Host: ::1".
  std::string authority =
      parsed->host.find(':') == std::string::npos ? parsed->host : "[" + parsed->host + "]";
  if (parsed->port != "80") authority += ":" + parsed->port;
  p->request = "GET " + parsed->target + " HTTP/1.1\r\nHost: " + authority +
               "\r\nUser-Agent: groundctl\r\nConnection: close\r\n\r\n";
  p->timer.expires_after(timeout);
  p->timer.async_wait([p, timeout](const boost::system::error_code& e) {
    if (!e) p->finish("no answer within " + format_duration(timeout));
  });
  asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  p->socket.async_connect(endpoint, [p](const boost::system::error_code& e) {
    if (e) return p->finish("connect: " + e.message());
    asio::async_write(
        p->socket, asio::buffer(p->request), [p](const boost::system::error_code& we, size_t) {
          if (we) return p->finish("send: " + we.message());
          p->response.resize(64);
          // The status line is all we need: "HTTP/1.1 200".
          asio::async_read(p->socket, asio::buffer(p->response), asio::transfer_at_least(12),
                           [p](const boost::system::error_code& re, size_t n) {
                             if (re && n < 12) {
                               return p->finish("no HTTP answer (" + re.message() + ")");
                             }
                             if (p->response.rfind("HTTP/1.", 0) != 0) {
                               return p->finish("not an HTTP answer");
                             }
                             if (p->response[9] == '2') return p->finish("");
                             p->finish("answered HTTP " + p->response.substr(9, 3));
                           });
        });
  });
}

}  // namespace gc::supervisor

// SPDX-License-Identifier: MIT
#include "monitor/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "base/base64.h"
#include "base/unique_fd.h"

namespace gc::monitor {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

// Far more than any status line and headers we expect; bounds what a broken server can make us
// buffer before the body.
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

// A Beast body that keeps the first `cap` bytes and counts the rest, so that a probe of a big
// page neither fails nor holds the page in memory.
struct CappedBody {
  struct value_type {
    std::string data;
    std::size_t cap = 0;
    std::size_t total = 0;
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        std::size_t room = body_.cap - std::min(body_.cap, body_.data.size());
        body_.data.append(static_cast<const char*>(b.data()), std::min(room, b.size()));
        n += b.size();
      }
      body_.total += n;
      return n;
    }
    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Control characters and spaces would let a value end the request line or a header.
bool safe_for_request(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

// Waits until `fd` is ready for `events` or `deadline` passes. Errors: kTimeout, kUnavailable.
Status wait_for(int fd, short events, Clock::time_point deadline, const std::string& what,
                std::chrono::milliseconds timeout) {
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return make_error(Errc::kTimeout,
                        what + ": timeout after " + std::to_string(timeout.count()) + " ms");
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000)));
    if (n > 0) return ok();
    if (n < 0 && errno != EINTR) return sys_error(what + ": poll", "", errno);
  }
}

// Tries each address of the URL's host in turn, within the deadline.
Result<UniqueFd> connect_to(const PlainHttpUrl& u, Clock::time_point deadline,
                            std::chrono::milliseconds timeout) {
  std::string name = u.authority();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &list);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    return make_error(rc == EAI_NONAME ? Errc::kNotFound : Errc::kUnavailable,
                      name + ": resolve: " + why);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, ::freeaddrinfo);
  Error last = make_error(Errc::kNotFound, name + ": resolve: no address");
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return sys_error(name + ": socket", "", errno);
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) {
      last = sys_error(name + ": connect", "", errno);
      continue;
    }
    GC_TRY(wait_for(fd.get(), POLLOUT, deadline, name + ": connect", timeout));
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) return fd;
    last = sys_error(name + ": connect", "", err);
  }
  return last;
}

Status send_all(int fd, std::string_view data, Clock::time_point deadline, const std::string& name,
                std::chrono::milliseconds timeout) {
  while (!data.empty()) {
    // MSG_NOSIGNAL: a peer that closed early is an error here, not a SIGPIPE.
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      GC_TRY(wait_for(fd, POLLOUT, deadline, name + ": send", timeout));
    } else if (n < 0 && errno != EINTR) {
      return sys_error(name + ": send", "", errno);
    }
  }
  return ok();
}

std::string build_request(const HttpRequest& r, const PlainHttpUrl& u) {
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (u.port != "80") host += ":" + u.port;
  std::string out = r.method + " " + u.target + " HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: " + r.user_agent + "\r\nConnection: close\r\n";
  if (!u.userinfo.empty()) {
    out += "Authorization: Basic " + base64_encode(percent_decode(u.userinfo)) + "\r\n";
  }
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT") {
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += r.body;
  return out;
}

}  // namespace

bool is_plain_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(url[i])) != kScheme[i]) return false;
  }
  return true;
}

std::string PlainHttpUrl::authority() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

Result<PlainHttpUrl> parse_plain_http_url(std::string_view url) {
  if (!is_plain_http_url(url)) return make_error(Errc::kInvalidArgument, "not an http:// url");
  std::string_view rest = url.substr(7);
  rest = rest.substr(0, rest.find('#'));
  std::size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? "" : rest.substr(end);
  PlainHttpUrl u;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    u.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return make_error(Errc::kInvalidArgument, "http url: unterminated [ in the host");
    }
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return make_error(Errc::kInvalidArgument, "http url: junk after ] in the host");
      }
      port = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return make_error(Errc::kInvalidArgument, "http url: no host");
  if (!safe_for_request(u.host) || u.host.find_first_of("/\\") != std::string::npos) {
    return make_error(Errc::kInvalidArgument, "http url: invalid character in the host");
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [end_of_number, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end_of_number != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return make_error(Errc::kInvalidArgument, "http url: the port is not a number in 1-65535");
    }
    u.port = std::string(port);
  }
  if (!target.empty()) u.target = target.front() == '?' ? "/" + std::string(target) : target;
  if (!safe_for_request(u.target)) {
    return make_error(Errc::kInvalidArgument,
                      "http url: spaces or control characters in the path: percent-encode them");
  }
  return u;
}

Result<HttpResponse> http_request(const HttpRequest& request) {
  GC_ASSIGN_OR_RETURN(PlainHttpUrl u, parse_plain_http_url(request.url));
  std::string name = u.authority();
  auto deadline = Clock::now() + request.timeout;
  GC_ASSIGN_OR_RETURN(UniqueFd fd, connect_to(u, deadline, request.timeout));
  GC_TRY(send_all(fd.get(), build_request(request, u), deadline, name, request.timeout));

  http::response_parser<CappedBody> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(boost::none);  // CappedBody bounds what is kept; the timeout the rest.
  parser.eager(true);
  if (request.method == "HEAD") parser.skip(true);
  parser.get().body().cap = request.keep_body;
  std::string buf;
  char chunk[16 * 1024];
  bool eof = false;
  while (!parser.is_done()) {
    boost::beast::error_code ec;
    if (!buf.empty()) {
      std::size_t used = parser.put(boost::asio::buffer(buf), ec);
      buf.erase(0, used);
      if (ec == http::error::need_more) {
        ec = {};
      } else if (ec) {
        return make_error(Errc::kCorrupt, name + ": bad http response: " + ec.message());
      } else if (used > 0) {
        continue;  // Parsed something: there may be more in `buf`.
      }
    }
    if (parser.is_done()) break;
    if (eof) {
      parser.put_eof(ec);
      if (ec == http::error::partial_message || (!ec && !parser.is_done())) {
        return make_error(Errc::kUnavailable,
                          name + ": connection closed before the response was complete");
      }
      if (ec) return make_error(Errc::kCorrupt, name + ": bad http response: " + ec.message());
      break;
    }
    ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
    if (n > 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      eof = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      GC_TRY(wait_for(fd.get(), POLLIN, deadline, name + ": response", request.timeout));
    } else if (errno != EINTR) {
      return sys_error(name + ": recv", "", errno);
    }
  }
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body().data);
  out.body_length = parser.get().body().total;
  return out;
}

}  // namespace gc::monitor

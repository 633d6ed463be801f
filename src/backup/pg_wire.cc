// SPDX-License-Identifier: MIT
// backup/pg_wire.cc: protocol v3 messages (PostgreSQL docs, "Frontend/Backend Protocol",
// "Message Formats").
#include "backup/pg_wire.h"

#include <charconv>
#include <cstring>

namespace gc::backup::wire {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

std::uint32_t get_u32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[at + i]);
  return v;
}

// A typed message: type byte, then a length that counts itself and the body.
std::string framed(char type, std::string_view body) {
  std::string out(1, type);
  put_u32(out, static_cast<std::uint32_t>(body.size() + 4));
  out += body;
  return out;
}

std::string cstr(std::string_view s) {
  std::string out(s);
  out += '\0';
  return out;
}

Error corrupt(const std::string& what) { return Error{Errc::kCorrupt, what}; }

// Reads a NUL-terminated string at `pos` and moves past it.
std::optional<std::string> take_cstr(std::string_view body, std::size_t& pos) {
  std::size_t end = body.find('\0', pos);
  if (end == std::string_view::npos) return std::nullopt;
  std::string s(body.substr(pos, end - pos));
  pos = end + 1;
  return s;
}

// Messages in protocol 3.0 that a server sends (the "Message Formats" section, B side).
bool is_backend_type(char t) {
  return std::strchr("RK23CdcGHWDIEVnNAtS1sTZv", t) != nullptr && t != '\0';
}

// Newlines inside a field (multi-line DETAILs) would break the one-line error rule.
std::string flatten(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (!out.empty()) out += "; ";
    } else {
      out += c == '\t' ? ' ' : c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

}  // namespace

std::string ssl_request() {
  std::string out;
  put_u32(out, 8);
  put_u32(out, 80877103);  // 1234 << 16 | 5679.
  return out;
}

std::string startup_message(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string body;
  put_u32(body, 196608);  // Protocol 3.0.
  for (const auto& [k, v] : params) body += cstr(k) + cstr(v);
  body += '\0';
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(body.size() + 4));
  return out + body;
}

std::string password_message(std::string_view password) { return framed('p', cstr(password)); }

std::string sasl_initial_response(std::string_view mechanism, std::string_view data) {
  std::string body = cstr(mechanism);
  put_u32(body, static_cast<std::uint32_t>(data.size()));
  body += data;
  return framed('p', body);
}

std::string sasl_response(std::string_view data) { return framed('p', data); }
std::string query_message(std::string_view sql) { return framed('Q', cstr(sql)); }
std::string copy_fail_message(std::string_view why) { return framed('f', cstr(why)); }
std::string terminate_message() { return framed('X', ""); }

void MessageReader::feed(std::string_view bytes) {
  // Drop what was consumed before growing, so that a long result does not accumulate.
  if (pos_ > 0 && pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<Message>> MessageReader::next() {
  if (buffered() < 5) return std::optional<Message>();
  char type = buf_[pos_];
  if (!is_backend_type(type)) {
    return corrupt("unknown message type 0x" +
                   std::string(1, "0123456789abcdef"[(static_cast<std::uint8_t>(type) >> 4)]) +
                   std::string(1, "0123456789abcdef"[static_cast<std::uint8_t>(type) & 15]));
  }
  std::uint32_t len = get_u32(buf_, pos_ + 1);
  // The length is a signed int32 on the wire: "negative" shows up here as above the cap.
  if (len < 4 || len > kMaxMessageBytes) {
    return corrupt("bad message length " + std::to_string(static_cast<std::int32_t>(len)) +
                   " for message type '" + std::string(1, type) + "'");
  }
  if (buffered() < 1 + std::size_t{len}) return std::optional<Message>();
  Message m{type, buf_.substr(pos_ + 5, len - 4)};
  pos_ += 1 + len;
  return std::optional<Message>(std::move(m));
}

ServerError parse_error(std::string_view body) {
  std::string severity, localized, message, detail, hint;
  ServerError out;
  std::size_t pos = 0;
  while (pos < body.size() && body[pos] != '\0') {
    char field = body[pos++];
    auto value = take_cstr(body, pos);
    if (!value) break;
    switch (field) {
      case 'V':
        severity = *value;
        break;
      case 'S':
        localized = *value;
        break;
      case 'C':
        out.code = *value;
        break;
      case 'M':
        message = *value;
        break;
      case 'D':
        detail = *value;
        break;
      case 'H':
        hint = *value;
        break;
      default:
        break;
    }
  }
  if (severity.empty()) severity = localized.empty() ? "ERROR" : localized;
  out.text = severity + ":  " + flatten(message);
  if (!detail.empty()) out.text += "; DETAIL:  " + flatten(detail);
  if (!hint.empty()) out.text += "; HINT:  " + flatten(hint);
  return out;
}

Result<std::pair<std::string, std::string>> parse_parameter_status(std::string_view body) {
  std::size_t pos = 0;
  auto name = take_cstr(body, pos);
  auto value = name ? take_cstr(body, pos) : std::nullopt;
  if (!value) return corrupt("malformed ParameterStatus");
  return std::pair{std::move(*name), std::move(*value)};
}

Result<int> parse_row_description(std::string_view body) {
  if (body.size() < 2) return corrupt("malformed RowDescription");
  return (static_cast<std::uint8_t>(body[0]) << 8) | static_cast<std::uint8_t>(body[1]);
}

Result<std::vector<std::string>> parse_data_row(std::string_view body) {
  if (body.size() < 2) return corrupt("malformed DataRow");
  std::size_t n = (static_cast<std::uint8_t>(body[0]) << 8) | static_cast<std::uint8_t>(body[1]);
  std::vector<std::string> row;
  row.reserve(n);
  std::size_t pos = 2;
  for (std::size_t i = 0; i < n; ++i) {
    if (body.size() - pos < 4) return corrupt("malformed DataRow");
    std::uint32_t len = get_u32(body, pos);
    pos += 4;
    if (len == 0xffffffff) {  // -1: NULL.
      row.emplace_back();
      continue;
    }
    if (len > body.size() - pos) return corrupt("malformed DataRow");
    row.emplace_back(body.substr(pos, len));
    pos += len;
  }
  return row;
}

namespace {

// A method the server asks for that we do not speak: the caller names it in its error.
AuthRequest unsupported_auth(std::string method) {
  AuthRequest r;
  r.kind = AuthRequest::Kind::kUnsupported;
  r.method = std::move(method);
  return r;
}

}  // namespace

Result<AuthRequest> parse_auth(std::string_view body) {
  if (body.size() < 4) return corrupt("malformed Authentication request");
  AuthRequest r;
  std::uint32_t code = get_u32(body, 0);
  std::string_view rest = body.substr(4);
  using K = AuthRequest::Kind;
  switch (code) {
    case 0:
      r.kind = K::kOk;
      break;
    case 3:
      r.kind = K::kCleartext;
      break;
    case 5:
      if (rest.size() != 4) return corrupt("malformed MD5 authentication request");
      r.kind = K::kMd5;
      std::memcpy(r.salt.data(), rest.data(), 4);
      break;
    case 10: {
      r.kind = K::kSasl;
      std::size_t pos = 0;
      while (auto m = take_cstr(rest, pos)) {
        if (m->empty()) break;
        r.mechanisms.push_back(std::move(*m));
      }
      break;
    }
    case 11:
      r.kind = K::kSaslContinue;
      r.data = rest;
      break;
    case 12:
      r.kind = K::kSaslFinal;
      r.data = rest;
      break;
    case 2:
      return unsupported_auth("Kerberos V5");
    case 6:
      return unsupported_auth("SCM credentials");
    case 7:
    case 8:
      return unsupported_auth("GSSAPI");
    case 9:
      return unsupported_auth("SSPI");
    default:
      return corrupt("unknown authentication request " + std::to_string(code));
  }
  return r;
}

int parse_server_version(std::string_view text) {
  // As PQserverVersion: "X.Y" from 10 on is X*10000+Y; before, "X.Y.Z" is X*10000+Y*100+Z.
  // A missing part ("16beta1", "16devel") counts as 0.
  int parts[3] = {0, 0, 0};
  int count = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (count < 3) {
    auto [next, ec] = std::from_chars(p, end, parts[count]);
    if (ec != std::errc{}) break;
    ++count;
    p = next;
    if (p == end || *p != '.') break;
    ++p;
  }
  if (count == 0) return 0;
  if (parts[0] >= 10) return parts[0] * 10000 + parts[1];
  return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

}  // namespace gc::backup::wire

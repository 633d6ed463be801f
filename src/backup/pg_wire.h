// SPDX-License-Identifier: MIT
// backup/pg_wire.h: the PostgreSQL frontend/backend protocol v3 as pure code: building frontend
// messages, framing and parsing backend messages. No I/O: pg_client.cc moves the bytes, and
// pg_auth.h answers the server's authentication requests.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace gc::backup::wire {

// The largest backend message we accept. PostgreSQL caps a field value at 1 GiB, so a bigger
// length is a broken or hostile stream, not data.
inline constexpr std::size_t kMaxMessageBytes = std::size_t{1} << 30;

// --- Frontend messages (bytes ready to send).

// The 8-byte SSLRequest sent before the StartupMessage on TCP; the server answers 'S' or 'N'.
std::string ssl_request();
// StartupMessage for protocol 3.0 with these parameters (user, database, ...).
std::string startup_message(const std::vector<std::pair<std::string, std::string>>& params);
// PasswordMessage: the cleartext or md5 password.
std::string password_message(std::string_view password);
// SASLInitialResponse and SASLResponse.
std::string sasl_initial_response(std::string_view mechanism, std::string_view data);
std::string sasl_response(std::string_view data);
// Query (the Simple Query protocol) and CopyFail.
std::string query_message(std::string_view sql);
std::string copy_fail_message(std::string_view why);
std::string terminate_message();

// --- Backend messages.

struct Message {
  char type = 0;
  std::string body;  // Without the type byte and the length.
};

// Splits a byte stream into messages. Feed it what arrives; next() returns one complete message,
// nullopt while more bytes are needed, or an error (kCorrupt) for a length below 4 or above
// kMaxMessageBytes, or a message type that protocol 3 does not define (the stream is then
// unusable: the caller closes the connection). Not thread-safe.
class MessageReader {
 public:
  void feed(std::string_view bytes);
  Result<std::optional<Message>> next();
  // Bytes received but not yet returned as messages (a partial message when the peer closed).
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  std::size_t pos_ = 0;
};

// The fields of an ErrorResponse or NoticeResponse, formatted as libpq does on one line:
// "ERROR:  relation \"x\" does not exist; DETAIL:  ...; HINT:  ...". The SQLSTATE is in `code`.
struct ServerError {
  std::string code;  // "42P01"; empty if the server sent none.
  std::string text;
};
ServerError parse_error(std::string_view body);

// ParameterStatus: (name, value). Errors: kCorrupt.
Result<std::pair<std::string, std::string>> parse_parameter_status(std::string_view body);
// RowDescription: the number of columns. Errors: kCorrupt.
Result<int> parse_row_description(std::string_view body);
// DataRow: the values as text, a NULL as "". Errors: kCorrupt (lengths past the end).
Result<std::vector<std::string>> parse_data_row(std::string_view body);

// An Authentication request ('R'), by the code the server sent.
struct AuthRequest {
  enum class Kind { kOk, kCleartext, kMd5, kSasl, kSaslContinue, kSaslFinal, kUnsupported };
  Kind kind = Kind::kOk;
  std::string method;                   // For kUnsupported: "GSSAPI", "SSPI", "Kerberos V5".
  std::array<std::uint8_t, 4> salt{};   // kMd5.
  std::vector<std::string> mechanisms;  // kSasl: "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS".
  std::string data;                     // kSaslContinue, kSaslFinal.
};
// Errors: kCorrupt (too short, unknown code).
Result<AuthRequest> parse_auth(std::string_view body);

// 150018 from "15.18 (Debian 15.18-0+deb12u1)", 160000 from "16beta1", 90624 from "9.6.24";
// 0 if `text` does not start with a number. PQserverVersion's rule.
int parse_server_version(std::string_view text);

}  // namespace gc::backup::wire

// SPDX-License-Identifier: MIT
// backup/pg_auth.h: the client side of PostgreSQL authentication as pure code: cleartext, md5 and
// SCRAM-SHA-256 without channel binding (RFC 5802, RFC 7677), and the decision what to answer to
// each request the server sends during startup. No I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "backup/pg_wire.h"
#include "base/result.h"

namespace gc::backup::wire {

// Lowercase hex MD5 (RFC 1321). Own code rather than libcrypto: see pg_auth.cc.
std::string md5_hex(std::string_view data);
// What the md5 method sends: "md5" + md5hex(md5hex(password + user) + salt).
std::string md5_password(std::string_view user, std::string_view password,
                         const std::array<std::uint8_t, 4>& salt);

// The client side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) without channel binding
// (gs2 header "n,,"). PostgreSQL ignores the user name in it (the StartupMessage's counts), so
// Authenticator passes "" as libpq does; the RFC's examples use one. The password is used as
// given, without SASLprep: the same for ASCII passwords, while one whose non-ASCII characters
// SASLprep would normalise fails to authenticate (libpq normalises it). Not thread-safe; the key
// material is wiped on destruction.
class ScramClient {
 public:
  // `nonce`: printable ASCII without ',', e.g. base64 of 18 random bytes.
  ScramClient(std::string user, std::string password, std::string nonce);
  ~ScramClient();
  ScramClient(const ScramClient&) = delete;
  ScramClient& operator=(const ScramClient&) = delete;

  // "n,,n=user,r=nonce".
  std::string client_first() const;
  // The client-final message for the server-first message. Errors: kCorrupt (an attribute
  // missing, a nonce that does not extend ours, a bad salt) or kInvalidArgument (an iteration
  // count of 0 or above kMaxIterations). The message names no secret.
  Result<std::string> client_final(std::string_view server_first);
  // Checks the server-final message's signature: proof that the server knows the verifier.
  // Errors: kPermission for a wrong signature or a server "e=" error, kCorrupt for garbage or a
  // call before client_final().
  Status verify_server_final(std::string_view server_final) const;

  // Each iteration is two HMACs; PostgreSQL's default is 4096. Far more is a server making us
  // burn CPU (the daemon's loop waits for it), not a real verifier.
  static constexpr long kMaxIterations = 1'000'000;

 private:
  std::string user_;
  std::string password_;
  std::string nonce_;
  std::string auth_message_;
  std::array<std::uint8_t, 32> server_signature_{};
  bool have_signature_ = false;
};

// Answers the server's Authentication requests during startup for `user`, with `password` ("" if
// none) and `nonce` (for SCRAM). Decides only; the driver sends what reply() returns. The
// password never appears in an error. Not thread-safe.
class Authenticator {
 public:
  Authenticator(std::string user, std::string password, std::string nonce);

  // The message to send for `req`, or "" when none is due (kOk). Errors, each naming the role:
  // kPermission when the server wants a password and we have none (the fix: password_file in
  // [postgres]), a method we do not speak (GSSAPI, SSPI, Kerberos, SCRAM-SHA-256-PLUS only: the
  // fix is peer or scram-sha-256 in pg_hba.conf), a wrong server signature, or kOk before the
  // server proved itself in a SCRAM exchange; kCorrupt for messages out of order or malformed.
  Result<std::string> reply(const AuthRequest& req);

 private:
  std::string user_;
  std::string password_;
  std::string nonce_;
  std::optional<ScramClient> scram_;
  bool scram_verified_ = false;
};

}  // namespace gc::backup::wire

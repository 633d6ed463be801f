// SPDX-License-Identifier: MIT
// backup/pg_auth.cc: MD5 (RFC 1321), SCRAM-SHA-256 (RFC 5802 sections 3 and 5, RFC 7677) and the
// PostgreSQL authentication exchange ("SASL Authentication" in the protocol chapter).
#include "backup/pg_auth.h"

#include <sodium.h>

#include <charconv>

#include "base/base64.h"

namespace gc::backup::wire {
namespace {

Error corrupt(const std::string& what) { return Error{Errc::kCorrupt, what}; }

// --- MD5 (RFC 1321). Own code: the md5 method needs one hash per connection, and loading
// libcrypto for it would map ~1.4 MiB into the daemon for as long as the collector is connected,
// which is what replacing libpq is for.

struct Md5 {
  std::uint32_t a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;

  static std::uint32_t rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

  void block(const std::uint8_t* p) {
    static constexpr std::array<int, 64> kShift = {
        7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 5,  9,  14, 20, 5,  9,
        14, 20, 5,  9,  14, 20, 5,  9,  14, 20, 4,  11, 16, 23, 4,  11, 16, 23, 4,  11, 16, 23,
        4,  11, 16, 23, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21};
    // floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4.
    static constexpr std::array<std::uint32_t, 64> kSine = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391};
    std::array<std::uint32_t, 16> m{};
    for (int i = 0; i < 16; ++i) {
      m[i] = std::uint32_t{p[i * 4]} | std::uint32_t{p[i * 4 + 1]} << 8 |
             std::uint32_t{p[i * 4 + 2]} << 16 | std::uint32_t{p[i * 4 + 3]} << 24;
    }
    std::uint32_t aa = a, bb = b, cc = c, dd = d;
    for (int i = 0; i < 64; ++i) {
      std::uint32_t f;
      int g;
      if (i < 16) {
        f = (bb & cc) | (~bb & dd);
        g = i;
      } else if (i < 32) {
        f = (dd & bb) | (~dd & cc);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = bb ^ cc ^ dd;
        g = (3 * i + 5) % 16;
      } else {
        f = cc ^ (bb | ~dd);
        g = (7 * i) % 16;
      }
      std::uint32_t next = bb + rotl(aa + f + kSine[i] + m[g], kShift[i]);
      aa = dd;
      dd = cc;
      cc = bb;
      bb = next;
    }
    a += aa;
    b += bb;
    c += cc;
    d += dd;
  }
};

// --- SCRAM-SHA-256 building blocks, on libsodium (linked statically already).

using Digest = std::array<std::uint8_t, 32>;

// One HMAC over msg from a keyed state, leaving the keyed state reusable: PBKDF2 keys once.
Digest mac_from(const crypto_auth_hmacsha256_state& keyed, std::string_view msg) {
  crypto_auth_hmacsha256_state st = keyed;
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(msg.data()),
                                msg.size());
  Digest out;
  crypto_auth_hmacsha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
  return out;
}

crypto_auth_hmacsha256_state keyed_state(std::string_view key) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  return st;
}

Digest hmac(std::string_view key, std::string_view msg) {
  crypto_auth_hmacsha256_state keyed = keyed_state(key);
  Digest out = mac_from(keyed, msg);
  sodium_memzero(&keyed, sizeof keyed);
  return out;
}

std::string_view as_view(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Hi() of RFC 5802 section 2.2: PBKDF2-HMAC-SHA-256 with one output block.
Digest salted_password(std::string_view password, std::string_view salt, long iterations) {
  crypto_auth_hmacsha256_state keyed = keyed_state(password);
  auto mac = [&keyed](std::string_view msg) { return mac_from(keyed, msg); };
  std::string first(salt);
  first.append("\0\0\0\1", 4);
  Digest u = mac(first), result = u;
  for (long i = 1; i < iterations; ++i) {
    u = mac(as_view(u));
    for (std::size_t k = 0; k < result.size(); ++k) result[k] ^= u[k];
  }
  sodium_memzero(&keyed, sizeof keyed);
  sodium_memzero(u.data(), u.size());
  return result;
}

std::optional<std::string> unbase64(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

// "n=" escaping of RFC 5802 section 5.1.
std::string saslname(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (c == '=') {
      out += "=3D";
    } else if (c == ',') {
      out += "=2C";
    } else {
      out += c;
    }
  }
  return out;
}

// The value of attribute `key` in the comma-separated `msg`, at index `index`.
std::optional<std::string_view> attribute(std::string_view msg, std::size_t index, char key) {
  for (std::size_t i = 0; i < index; ++i) {
    std::size_t comma = msg.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    msg.remove_prefix(comma + 1);
  }
  if (msg.size() < 2 || msg[0] != key || msg[1] != '=') return std::nullopt;
  msg.remove_prefix(2);
  return msg.substr(0, msg.find(','));
}

}  // namespace

std::string md5_hex(std::string_view data) {
  Md5 h;
  std::string msg(data);
  std::uint64_t bits = std::uint64_t{data.size()} * 8;
  msg += '\x80';
  while (msg.size() % 64 != 56) msg += '\0';
  for (int i = 0; i < 8; ++i) msg += static_cast<char>((bits >> (8 * i)) & 0xff);
  for (std::size_t off = 0; off < msg.size(); off += 64) {
    h.block(reinterpret_cast<const std::uint8_t*>(msg.data() + off));
  }
  sodium_memzero(msg.data(), msg.size());
  std::string out;
  for (std::uint32_t word : {h.a, h.b, h.c, h.d}) {
    for (int i = 0; i < 4; ++i) {
      std::uint8_t byte = (word >> (8 * i)) & 0xff;
      out += "0123456789abcdef"[byte >> 4];
      out += "0123456789abcdef"[byte & 15];
    }
  }
  return out;
}

std::string md5_password(std::string_view user, std::string_view password,
                         const std::array<std::uint8_t, 4>& salt) {
  std::string inner = md5_hex(std::string(password) + std::string(user));
  inner.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  return "md5" + md5_hex(inner);
}

ScramClient::ScramClient(std::string user, std::string password, std::string nonce)
    : user_(std::move(user)), password_(std::move(password)), nonce_(std::move(nonce)) {}

ScramClient::~ScramClient() {
  sodium_memzero(password_.data(), password_.size());
  sodium_memzero(server_signature_.data(), server_signature_.size());
}

std::string ScramClient::client_first() const { return "n,,n=" + saslname(user_) + ",r=" + nonce_; }

Result<std::string> ScramClient::client_final(std::string_view server_first) {
  if (server_first.starts_with("m=")) return corrupt("SCRAM: unsupported mandatory extension");
  auto nonce = attribute(server_first, 0, 'r');
  auto salt_b64 = attribute(server_first, 1, 's');
  auto iter_text = attribute(server_first, 2, 'i');
  if (!nonce || !salt_b64 || !iter_text) {
    return corrupt("SCRAM: malformed server-first message (expected r=, s=, i=)");
  }
  if (nonce->size() <= nonce_.size() || !nonce->starts_with(nonce_)) {
    return corrupt("SCRAM: the server's nonce does not extend ours");
  }
  auto salt = unbase64(*salt_b64);
  if (!salt || salt->empty()) return corrupt("SCRAM: malformed salt");
  long iterations = 0;
  auto [end, ec] =
      std::from_chars(iter_text->data(), iter_text->data() + iter_text->size(), iterations);
  if (ec != std::errc{} || end != iter_text->data() + iter_text->size()) {
    return corrupt("SCRAM: malformed iteration count");
  }
  if (iterations < 1 || iterations > kMaxIterations) {
    return tl::unexpected(Error{Errc::kInvalidArgument,
                                "SCRAM: the server asks for " + std::to_string(iterations) +
                                    " iterations (1.." + std::to_string(kMaxIterations) + ")"});
  }
  std::string without_proof = "c=biws,r=" + std::string(*nonce);  // biws: base64("n,,").
  auth_message_ = client_first().substr(3) + "," + std::string(server_first) + "," + without_proof;
  Digest salted = salted_password(password_, *salt, iterations);
  Digest client_key = hmac(as_view(salted), "Client Key");
  Digest stored_key;
  crypto_hash_sha256(stored_key.data(), client_key.data(), client_key.size());
  Digest signature = hmac(as_view(stored_key), auth_message_);
  Digest proof;
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ signature[i];
  Digest server_key = hmac(as_view(salted), "Server Key");
  server_signature_ = hmac(as_view(server_key), auth_message_);
  have_signature_ = true;
  for (Digest* d : {&salted, &client_key, &stored_key, &server_key}) {
    sodium_memzero(d->data(), d->size());
  }
  return without_proof + ",p=" + base64_encode(as_view(proof));
}

Status ScramClient::verify_server_final(std::string_view server_final) const {
  if (!have_signature_) return corrupt("SCRAM: server-final message before server-first");
  if (auto e = attribute(server_final, 0, 'e')) {
    return tl::unexpected(Error{Errc::kPermission, "SCRAM: the server says " + std::string(*e)});
  }
  auto v = attribute(server_final, 0, 'v');
  auto sig = v ? unbase64(*v) : std::nullopt;
  if (!sig || sig->size() != server_signature_.size()) {
    return corrupt("SCRAM: malformed server-final message");
  }
  if (sodium_memcmp(sig->data(), server_signature_.data(), server_signature_.size()) != 0) {
    return tl::unexpected(
        Error{Errc::kPermission,
              "SCRAM: the server's signature is wrong (it does not know the role's verifier)"});
  }
  return {};
}

Authenticator::Authenticator(std::string user, std::string password, std::string nonce)
    : user_(std::move(user)), password_(std::move(password)), nonce_(std::move(nonce)) {}

Result<std::string> Authenticator::reply(const AuthRequest& req) {
  using K = AuthRequest::Kind;
  auto refuse = [this](const std::string& why) {
    return tl::unexpected(Error{Errc::kPermission, why});
  };
  auto need_password = [&](const char* method) -> Result<std::string> {
    if (!password_.empty()) return std::string();
    return refuse("the server asks for a password for role " + user_ + " (" + method +
                  "); set password_file in [postgres], or allow peer authentication for the "
                  "role in pg_hba.conf");
  };
  switch (req.kind) {
    case K::kOk:
      // A server that skips SCRAM's last step has not proved it knows the verifier.
      if (scram_ && !scram_verified_) {
        return refuse("SCRAM: the server for role " + user_ +
                      " ended authentication without proving itself");
      }
      return std::string();
    case K::kCleartext:
      GC_TRY(need_password("password"));
      return password_message(password_);
    case K::kMd5:
      GC_TRY(need_password("md5"));
      return password_message(md5_password(user_, password_, req.salt));
    case K::kSasl: {
      bool plain = false;
      for (const auto& m : req.mechanisms) plain = plain || m == "SCRAM-SHA-256";
      if (!plain) {
        std::string list;
        for (const auto& m : req.mechanisms) list += (list.empty() ? "" : ", ") + m;
        return refuse("the server offers role " + user_ + " only SASL " + list +
                      ", which groundctl does not support; use peer or scram-sha-256 for it in "
                      "pg_hba.conf");
      }
      if (scram_) return corrupt("SCRAM: a second SASL request");
      GC_TRY(need_password("scram-sha-256"));
      // The user name inside SCRAM is ignored by PostgreSQL; libpq sends it empty too.
      scram_.emplace("", password_, nonce_);
      return sasl_initial_response("SCRAM-SHA-256", scram_->client_first());
    }
    case K::kSaslContinue: {
      if (!scram_) return corrupt("SCRAM: SASLContinue before SASL");
      GC_ASSIGN_OR_RETURN(std::string final_msg, scram_->client_final(req.data));
      return sasl_response(final_msg);
    }
    case K::kSaslFinal: {
      if (!scram_) return corrupt("SCRAM: SASLFinal before SASL");
      auto st = scram_->verify_server_final(req.data);
      if (!st) {
        return tl::unexpected(Error{st.error().code, st.error().message + " for role " + user_});
      }
      scram_verified_ = true;
      return std::string();
    }
    case K::kUnsupported:
      return refuse("the server asks for " + req.method + " authentication for role " + user_ +
                    ", which groundctl does not support; use peer or scram-sha-256 for it in "
                    "pg_hba.conf");
  }
  return corrupt("unknown authentication request");
}

}  // namespace gc::backup::wire

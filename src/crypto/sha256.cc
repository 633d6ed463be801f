// SPDX-License-Identifier: MIT
#include "crypto/sha256.h"

#include "crypto/detail/openssl_api.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/check.h"
#include "base/unique_fd.h"

namespace gc::crypto {

void Sha256::CtxDeleter::operator()(evp_md_ctx_st* ctx) const {
  detail::openssl().md_ctx_free(ctx);
}

Sha256::Sha256() : ctx_(detail::openssl().md_ctx_new()) {
  GC_CHECK(ctx_ != nullptr);
  GC_CHECK(detail::openssl().digest_init(ctx_.get(), detail::openssl().sha256(), nullptr) == 1);
}

Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::uint8_t> data) {
  GC_CHECK(ctx_ != nullptr);  // Used after being moved from.
  if (data.empty()) return;
  GC_CHECK(detail::openssl().digest_update(ctx_.get(), data.data(), data.size()) == 1);
}

void Sha256::update(std::string_view data) {
  update(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

Sha256Digest Sha256::finish() {
  GC_CHECK(ctx_ != nullptr);
  Sha256Digest digest{};
  unsigned int size = 0;
  GC_CHECK(detail::openssl().digest_final(ctx_.get(), digest.data(), &size) == 1 &&
           size == digest.size());
  GC_CHECK(detail::openssl().digest_init(ctx_.get(), detail::openssl().sha256(), nullptr) == 1);
  return digest;
}

Sha256Digest sha256(std::span<const std::uint8_t> data) {
  Sha256 hash;
  hash.update(data);
  return hash.finish();
}

Sha256Digest sha256(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.finish();
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<std::string> sha256_file(const std::string& path) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDONLY));
  Sha256 hash;
  std::vector<std::uint8_t> buf(std::size_t{64} * 1024);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read", path, errno);
    }
    if (n == 0) break;
    hash.update(std::span(buf.data(), static_cast<std::size_t>(n)));
  }
  Sha256Digest digest = hash.finish();
  return to_hex(digest);
}

}  // namespace gc::crypto

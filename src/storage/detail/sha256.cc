// SPDX-License-Identifier: MIT
#include "storage/detail/sha256.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include <openssl/evp.h>

#include "base/unique_fd.h"

namespace gc::storage::detail {

struct Sha256::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md;
};

Sha256::Sha256(std::unique_ptr<Ctx> ctx) : ctx_(std::move(ctx)) {}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

Result<Sha256> Sha256::create() {
  auto ctx = std::make_unique<Ctx>();
  ctx->md.reset(EVP_MD_CTX_new());
  if (!ctx->md || EVP_DigestInit_ex(ctx->md.get(), EVP_sha256(), nullptr) != 1) {
    return make_error(Errc::kInternal, "openssl: cannot initialise sha-256");
  }
  return Sha256(std::move(ctx));
}

void Sha256::update(std::span<const std::uint8_t> data) {
  // EVP_DigestUpdate cannot fail for an initialised software SHA-256 context.
  if (!data.empty()) EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size());
}

void Sha256::update(std::string_view data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size());
}

std::string Sha256::finish_hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md.get(), digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

Result<std::string> sha256_hex(std::string_view data) {
  GC_ASSIGN_OR_RETURN(Sha256 hash, Sha256::create());
  hash.update(data);
  return hash.finish_hex();
}

Result<std::string> sha256_file_hex(const std::string& path) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDONLY));
  GC_ASSIGN_OR_RETURN(Sha256 hash, Sha256::create());
  std::vector<std::uint8_t> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read", path, errno);
    if (n == 0) break;
    hash.update(std::span(buf.data(), static_cast<std::size_t>(n)));
  }
  return hash.finish_hex();
}

}  // namespace gc::storage::detail

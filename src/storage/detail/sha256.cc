// SPDX-License-Identifier: MIT
#include "storage/detail/sha256.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/unique_fd.h"
#include "crypto/sha256.h"

namespace gc::storage::detail {

struct Sha256::Ctx {
  crypto::Sha256 md;
};

Sha256::Sha256(std::unique_ptr<Ctx> ctx) : ctx_(std::move(ctx)) {}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

Result<Sha256> Sha256::create() { return Sha256(std::make_unique<Ctx>()); }

void Sha256::update(std::span<const std::uint8_t> data) { ctx_->md.update(data); }

void Sha256::update(std::string_view data) { ctx_->md.update(data); }

std::string Sha256::finish_hex() { return crypto::to_hex(ctx_->md.finish()); }

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

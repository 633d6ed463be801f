// SPDX-License-Identifier: MIT
#include "backup/zstd_stream.h"

#include <zstd.h>

#include <string>

namespace gc::backup {
namespace {

Error zstd_error(std::string_view what, size_t code, Errc errc = Errc::kInternal) {
  return Error{errc, std::string(what) + ": " + ZSTD_getErrorName(code)};
}

}  // namespace

void ZstdCompressor::Free::operator()(ZSTD_CCtx_s* c) const { ZSTD_freeCCtx(c); }
void ZstdDecompressor::Free::operator()(ZSTD_DCtx_s* c) const { ZSTD_freeDCtx(c); }

ZstdCompressor::ZstdCompressor(ByteSink next, ZSTD_CCtx* c)
    : next_(std::move(next)), ctx_(c), buf_(ZSTD_CStreamOutSize()) {}

Result<ZstdCompressor> ZstdCompressor::create(ByteSink next, int level, int workers) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  if (!c) return tl::unexpected(Error{Errc::kInternal, "zstd: out of memory"});
  ZstdCompressor z(std::move(next), c);
  size_t r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  if (ZSTD_isError(r)) return tl::unexpected(zstd_error("zstd level", r));
  // A checksum per frame lets `zstd -t` and our verify detect corruption below the encryption.
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
  if (workers > 0) {
    r = ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, workers);
    // A libzstd built without threads refuses: compress on this thread instead.
    (void)r;
  }
  return z;
}

Status ZstdCompressor::pump(std::span<const std::uint8_t> data, bool end) {
  ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  while (true) {
    ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
    size_t remaining = ZSTD_compressStream2(ctx_.get(), &out, &in, mode);
    if (ZSTD_isError(remaining)) return tl::unexpected(zstd_error("zstd compress", remaining));
    if (out.pos > 0) {
      out_ += out.pos;
      GC_TRY(next_(std::span<const std::uint8_t>(buf_.data(), out.pos)));
    }
    bool done = mode == ZSTD_e_continue ? in.pos == in.size : remaining == 0;
    if (done) return {};
  }
}

Status ZstdCompressor::write(std::span<const std::uint8_t> data) {
  in_ += data.size();
  return pump(data, false);
}

Status ZstdCompressor::finish() { return pump({}, true); }

ZstdDecompressor::ZstdDecompressor(ByteSink next, ZSTD_DCtx* c)
    : next_(std::move(next)), ctx_(c), buf_(ZSTD_DStreamOutSize()) {}

Result<ZstdDecompressor> ZstdDecompressor::create(ByteSink next) {
  ZSTD_DCtx* c = ZSTD_createDCtx();
  if (!c) return tl::unexpected(Error{Errc::kInternal, "zstd: out of memory"});
  return ZstdDecompressor(std::move(next), c);
}

Status ZstdDecompressor::write(std::span<const std::uint8_t> data) {
  if (!data.empty()) saw_input_ = true;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  // Until the input is consumed and zstd has nothing more to flush (a full output buffer may
  // leave decoded bytes behind). Calling it again after a frame ended would start the next one
  // and lose the "frame complete" answer (0) that finish() relies on.
  bool output_full = false;
  while (in.pos < in.size || (output_full && last_hint_ != 0)) {
    ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
    size_t hint = ZSTD_decompressStream(ctx_.get(), &out, &in);
    if (ZSTD_isError(hint)) {
      return tl::unexpected(zstd_error("zstd stream is corrupt", hint, Errc::kCorrupt));
    }
    last_hint_ = hint;
    output_full = out.pos == out.size;
    if (out.pos > 0) {
      out_ += out.pos;
      GC_TRY(next_(std::span<const std::uint8_t>(buf_.data(), out.pos)));
    }
  }
  return {};
}

Status ZstdDecompressor::finish() {
  if (!saw_input_) return tl::unexpected(Error{Errc::kCorrupt, "zstd stream is empty"});
  if (last_hint_ != 0) {
    return tl::unexpected(
        Error{Errc::kCorrupt, "zstd stream is truncated: the last frame is incomplete"});
  }
  return {};
}

}  // namespace gc::backup

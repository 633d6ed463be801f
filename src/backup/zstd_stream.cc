// SPDX-License-Identifier: MIT
#include "backup/zstd_stream.h"

#include <zstd.h>

#include <mutex>
#include <optional>
#include <string>

#include "base/dynamic_library.h"

namespace gc::backup {
namespace {

// libzstd, loaded on first use (base/dynamic_library.h says why it is not linked; and Debian's
// static libzstd.a is built without threads, so linking it statically would lose the workers).
struct LibZstd {
  decltype(&::ZSTD_createCCtx) createCCtx = nullptr;
  decltype(&::ZSTD_freeCCtx) freeCCtx = nullptr;
  decltype(&::ZSTD_CCtx_setParameter) CCtx_setParameter = nullptr;
  decltype(&::ZSTD_compressStream2) compressStream2 = nullptr;
  decltype(&::ZSTD_CStreamOutSize) CStreamOutSize = nullptr;
  decltype(&::ZSTD_createDCtx) createDCtx = nullptr;
  decltype(&::ZSTD_freeDCtx) freeDCtx = nullptr;
  decltype(&::ZSTD_decompressStream) decompressStream = nullptr;
  decltype(&::ZSTD_DStreamOutSize) DStreamOutSize = nullptr;
  decltype(&::ZSTD_isError) isError = nullptr;
  decltype(&::ZSTD_getErrorName) getErrorName = nullptr;
};

struct LoadedZstd {
  DynamicLibrary lib;
  LibZstd api;
};

Result<LoadedZstd> load_zstd() {
  GC_ASSIGN_OR_RETURN(DynamicLibrary lib, DynamicLibrary::open("libzstd.so.1", "libzstd1"));
  LibZstd z;
  GC_TRY(lib.bind("ZSTD_createCCtx", z.createCCtx));
  GC_TRY(lib.bind("ZSTD_freeCCtx", z.freeCCtx));
  GC_TRY(lib.bind("ZSTD_CCtx_setParameter", z.CCtx_setParameter));
  GC_TRY(lib.bind("ZSTD_compressStream2", z.compressStream2));
  GC_TRY(lib.bind("ZSTD_CStreamOutSize", z.CStreamOutSize));
  GC_TRY(lib.bind("ZSTD_createDCtx", z.createDCtx));
  GC_TRY(lib.bind("ZSTD_freeDCtx", z.freeDCtx));
  GC_TRY(lib.bind("ZSTD_decompressStream", z.decompressStream));
  GC_TRY(lib.bind("ZSTD_DStreamOutSize", z.DStreamOutSize));
  GC_TRY(lib.bind("ZSTD_isError", z.isError));
  GC_TRY(lib.bind("ZSTD_getErrorName", z.getErrorName));
  return LoadedZstd{std::move(lib), z};
}

Result<const LibZstd*> zstd_api() {
  static std::once_flag once;
  static std::optional<LoadedZstd> loaded;
  static Error failure;
  std::call_once(once, [] {
    auto l = load_zstd();
    if (l) {
      loaded.emplace(std::move(*l));
    } else {
      failure = l.error();
    }
  });
  if (!loaded) return tl::unexpected(failure);
  return &loaded->api;
}

// Only valid once a compressor or decompressor exists, which proves the library loaded.
const LibZstd& zs() { return **zstd_api(); }

Error zstd_error(std::string_view what, size_t code, Errc errc = Errc::kInternal) {
  return Error{errc, std::string(what) + ": " + zs().getErrorName(code)};
}

}  // namespace

void ZstdCompressor::Free::operator()(ZSTD_CCtx_s* c) const { zs().freeCCtx(c); }
void ZstdDecompressor::Free::operator()(ZSTD_DCtx_s* c) const { zs().freeDCtx(c); }

ZstdCompressor::ZstdCompressor(ByteSink next, ZSTD_CCtx* c)
    : next_(std::move(next)), ctx_(c), buf_(zs().CStreamOutSize()) {}

Result<ZstdCompressor> ZstdCompressor::create(ByteSink next, int level, int workers) {
  GC_TRY(zstd_api());
  ZSTD_CCtx* c = zs().createCCtx();
  if (!c) return tl::unexpected(Error{Errc::kInternal, "zstd: out of memory"});
  ZstdCompressor z(std::move(next), c);
  size_t r = zs().CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  if (zs().isError(r)) return tl::unexpected(zstd_error("zstd level", r));
  // A checksum per frame lets `zstd -t` and our verify detect corruption below the encryption.
  zs().CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
  if (workers > 0) {
    // A libzstd built without threads refuses: say so rather than silently compress on one
    // core (that happened once, with Debian's static libzstd.a).
    r = zs().CCtx_setParameter(c, ZSTD_c_nbWorkers, workers);
    if (zs().isError(r)) return tl::unexpected(zstd_error("zstd workers", r));
  }
  return z;
}

Status ZstdCompressor::pump(std::span<const std::uint8_t> data, bool end) {
  ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  while (true) {
    ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
    size_t remaining = zs().compressStream2(ctx_.get(), &out, &in, mode);
    if (zs().isError(remaining)) return tl::unexpected(zstd_error("zstd compress", remaining));
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
    : next_(std::move(next)), ctx_(c), buf_(zs().DStreamOutSize()) {}

Result<ZstdDecompressor> ZstdDecompressor::create(ByteSink next) {
  GC_TRY(zstd_api());
  ZSTD_DCtx* c = zs().createDCtx();
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
    size_t hint = zs().decompressStream(ctx_.get(), &out, &in);
    if (zs().isError(hint)) {
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

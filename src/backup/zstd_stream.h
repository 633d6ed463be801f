// SPDX-License-Identifier: MIT
// backup/zstd_stream.h: streaming zstd compression and decompression between ByteSinks, with
// bounded memory (zstd's own window plus one output buffer).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/byte_sink.h"
#include "base/result.h"

// zstd's context types, declared here so that this header needs no zstd include.
struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace gc::backup {

class ZstdCompressor {
 public:
  // `workers` > 0 compresses on that many zstd threads (the caller's thread then only feeds
  // them); 0 compresses on the caller's thread. Errors: kNotFound when libzstd.so.1 is missing,
  // kInternal for a level zstd refuses or a libzstd built without threads asked for workers.
  static Result<ZstdCompressor> create(ByteSink next, int level = 3, int workers = 0);
  Status write(std::span<const std::uint8_t> data);
  Status finish();  // Ends the frame and flushes everything to `next`.
  std::uint64_t bytes_in() const { return in_; }
  std::uint64_t bytes_out() const { return out_; }
  // A ByteSink that feeds this compressor. The compressor must outlive it.
  ByteSink sink() {
    return [this](std::span<const std::uint8_t> d) { return write(d); };
  }

 private:
  struct Free {
    void operator()(ZSTD_CCtx_s* c) const;
  };
  ZstdCompressor(ByteSink next, ZSTD_CCtx_s* c);
  Status pump(std::span<const std::uint8_t> data, bool end);
  ByteSink next_;
  std::unique_ptr<ZSTD_CCtx_s, Free> ctx_;
  std::vector<std::uint8_t> buf_;
  std::uint64_t in_ = 0;
  std::uint64_t out_ = 0;
};

class ZstdDecompressor {
 public:
  static Result<ZstdDecompressor> create(ByteSink next);
  // Errors: kCorrupt when the input is not a valid zstd stream.
  Status write(std::span<const std::uint8_t> data);
  // Errors: kCorrupt when the input ended inside a frame (a truncated file).
  Status finish();
  std::uint64_t bytes_out() const { return out_; }
  ByteSink sink() {
    return [this](std::span<const std::uint8_t> d) { return write(d); };
  }

 private:
  struct Free {
    void operator()(ZSTD_DCtx_s* c) const;
  };
  ZstdDecompressor(ByteSink next, ZSTD_DCtx_s* c);
  ByteSink next_;
  std::unique_ptr<ZSTD_DCtx_s, Free> ctx_;
  std::vector<std::uint8_t> buf_;
  size_t last_hint_ = 0;  // ZSTD_decompressStream's return: 0 when a frame just ended.
  bool saw_input_ = false;
  std::uint64_t out_ = 0;
};

}  // namespace gc::backup

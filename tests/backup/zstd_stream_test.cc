// SPDX-License-Identifier: MIT
#include "backup/zstd_stream.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace gc::backup {
namespace {

using Bytes = std::vector<std::uint8_t>;

ByteSink append_to(Bytes& out) {
  return [&out](std::span<const std::uint8_t> d) -> Status {
    out.insert(out.end(), d.begin(), d.end());
    return {};
  };
}

Bytes compress(const Bytes& in, int workers, size_t piece) {
  Bytes out;
  auto z = ZstdCompressor::create(append_to(out), 3, workers);
  EXPECT_TRUE(z);
  for (size_t i = 0; i < in.size(); i += piece) {
    EXPECT_TRUE(z->write(std::span(in).subspan(i, std::min(piece, in.size() - i))));
  }
  EXPECT_TRUE(z->finish());
  EXPECT_EQ(z->bytes_in(), in.size());
  EXPECT_EQ(z->bytes_out(), out.size());
  return out;
}

Result<Bytes> decompress(const Bytes& in, size_t piece) {
  Bytes out;
  GC_ASSIGN_OR_RETURN(ZstdDecompressor z, ZstdDecompressor::create(append_to(out)));
  for (size_t i = 0; i < in.size(); i += piece) {
    GC_TRY(z.write(std::span(in).subspan(i, std::min(piece, in.size() - i))));
  }
  GC_TRY(z.finish());
  return out;
}

Bytes mixed(size_t n) {
  Bytes b(n);
  std::mt19937 rng(7);
  for (size_t i = 0; i < n; ++i) b[i] = (i / 4096) % 2 ? static_cast<std::uint8_t>(rng()) : 'x';
  return b;
}

TEST(ZstdStream, RoundTripsInAnyPieceSizeAndWorkerCount) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{131072}, size_t{3'000'000}}) {
    Bytes plain = mixed(n);
    for (int workers : {0, 2}) {
      Bytes packed = compress(plain, workers, 70001);
      for (size_t piece : {size_t{1} << 20, size_t{4093}}) {
        auto back = decompress(packed, piece);
        ASSERT_TRUE(back) << back.error().message;
        EXPECT_EQ(*back, plain) << "n=" << n << " workers=" << workers << " piece=" << piece;
      }
    }
  }
}

// A small input that expands far beyond one output buffer: the decoder must keep flushing
// after the input is consumed, and still know the frame ended.
TEST(ZstdStream, HighlyCompressibleInputDrainsCompletely) {
  Bytes zeros(20 << 20, 0);
  Bytes packed = compress(zeros, 0, zeros.size());
  ASSERT_LT(packed.size(), 4096u);
  auto back = decompress(packed, packed.size());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->size(), zeros.size());
}

TEST(ZstdStream, TruncatedAndCorruptInputIsRejected) {
  Bytes packed = compress(mixed(500000), 0, 65536);
  Bytes cut(packed.begin(), packed.end() - 10);
  auto truncated = decompress(cut, 65536);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, Errc::kCorrupt);
  EXPECT_NE(truncated.error().message.find("truncated"), std::string::npos);

  Bytes bad = packed;
  bad[bad.size() / 2] ^= 0xff;
  auto corrupt = decompress(bad, 65536);
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code, Errc::kCorrupt);

  auto empty = decompress({}, 1);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::kCorrupt);
}

TEST(ZstdStream, SinkErrorsStopTheStream) {
  int calls = 0;
  auto z = ZstdCompressor::create(
      [&calls](std::span<const std::uint8_t>) -> Status {
        ++calls;
        return tl::unexpected(Error{Errc::kIo, "disk full"});
      },
      3, 0);
  ASSERT_TRUE(z);
  Bytes plain = mixed(1 << 20);
  Status st = z->write(plain);
  if (st) st = z->finish();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "disk full");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace gc::backup

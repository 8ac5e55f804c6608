// Page compression codecs: none, snappy, zstd and LZ4_RAW both ways; gzip for reading.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lakelog/parquet_options.h"
#include "lakelog/status.h"
#include "parquet_types.h"

namespace lakelog::parquet {

// The Parquet codec id written to ColumnMetaData.codec for `compression`.
format::CompressionCodec::type CodecFor(Compression compression);

// Compresses pages with one codec, reusing its context and output buffer across pages.
// Not thread-safe; one per column writer or file writer.
class PageCompressor {
 public:
  PageCompressor(Compression compression, int zstd_level);
  ~PageCompressor();
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;

  // Returns the compressed bytes of `input`: a view of `input` itself for kNone, otherwise of an
  // internal buffer that stays valid until the next call. Internal when the codec fails.
  Result<std::string_view> Compress(std::string_view input);

  Compression compression() const { return compression_; }

 private:
  Compression compression_;
  int zstd_level_;
  void* zstd_context_ = nullptr;  // ZSTD_CCtx*, created on first use
  std::string buffer_;
};

// Decompresses `input` into *out, which must come out exactly `uncompressed_size` bytes long.
// Corruption when the data is malformed or has a different size; NotSupported for codecs other
// than UNCOMPRESSED, SNAPPY, GZIP, ZSTD and LZ4_RAW. The caller bounds `uncompressed_size`.
Status DecompressPage(format::CompressionCodec::type codec, std::string_view input,
                      size_t uncompressed_size, std::string* out);

}  // namespace lakelog::parquet

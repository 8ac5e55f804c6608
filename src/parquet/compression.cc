#include "parquet/compression.h"

#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <limits>

namespace lakelog::parquet {

format::CompressionCodec::type CodecFor(Compression compression) {
  switch (compression) {
    case Compression::kNone: return format::CompressionCodec::UNCOMPRESSED;
    case Compression::kSnappy: return format::CompressionCodec::SNAPPY;
    case Compression::kZstd: return format::CompressionCodec::ZSTD;
    case Compression::kLz4Raw: return format::CompressionCodec::LZ4_RAW;
  }
  return format::CompressionCodec::UNCOMPRESSED;
}

PageCompressor::PageCompressor(Compression compression, int zstd_level)
    : compression_(compression), zstd_level_(zstd_level) {}

PageCompressor::~PageCompressor() {
  if (zstd_context_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_context_));
}

Result<std::string_view> PageCompressor::Compress(std::string_view input) {
  switch (compression_) {
    case Compression::kNone: return input;
    case Compression::kSnappy: {
      buffer_.resize(snappy::MaxCompressedLength(input.size()));
      size_t n = 0;
      snappy::RawCompress(input.data(), input.size(), buffer_.data(), &n);
      return std::string_view(buffer_.data(), n);
    }
    case Compression::kZstd: {
      if (zstd_context_ == nullptr) {
        zstd_context_ = ZSTD_createCCtx();
        if (zstd_context_ == nullptr) return Status::Internal("ZSTD_createCCtx failed");
      }
      buffer_.resize(ZSTD_compressBound(input.size()));
      size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_context_), buffer_.data(),
                                   buffer_.size(), input.data(), input.size(), zstd_level_);
      if (ZSTD_isError(n)) return Status::Internal(ZSTD_getErrorName(n));
      return std::string_view(buffer_.data(), n);
    }
    case Compression::kLz4Raw: {
      if (input.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
        return Status::Internal("page too large for LZ4");
      }
      buffer_.resize(LZ4_compressBound(static_cast<int>(input.size())));
      int n = LZ4_compress_default(input.data(), buffer_.data(), static_cast<int>(input.size()),
                                   static_cast<int>(buffer_.size()));
      if (n <= 0 && !input.empty()) return Status::Internal("LZ4 compression failed");
      return std::string_view(buffer_.data(), static_cast<size_t>(n));
    }
  }
  return Status::Internal("unknown compression");
}

namespace {

Status InflateGzip(std::string_view input, std::string* out) {
  z_stream stream{};
  // 15 + 32: accept both zlib and gzip headers.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) return Status::Internal("inflateInit2 failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  int rc = inflate(&stream, Z_FINISH);
  size_t produced = out->size() - stream.avail_out;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END || produced != out->size()) {
    return Status::Corruption("gzip page does not inflate to its declared size");
  }
  return Status::OK();
}

}  // namespace

Status DecompressPage(format::CompressionCodec::type codec, std::string_view input,
                      size_t uncompressed_size, std::string* out) {
  if (uncompressed_size > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      input.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::Corruption("page larger than 2 GiB");
  }
  switch (codec) {
    case format::CompressionCodec::UNCOMPRESSED:
      if (input.size() != uncompressed_size) {
        return Status::Corruption("uncompressed page size mismatch");
      }
      out->assign(input.data(), input.size());
      return Status::OK();
    case format::CompressionCodec::SNAPPY: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(input.data(), input.size(), &n) ||
          n != uncompressed_size) {
        return Status::Corruption("snappy page size mismatch");
      }
      out->resize(n);
      if (!snappy::RawUncompress(input.data(), input.size(), out->data())) {
        return Status::Corruption("invalid snappy page");
      }
      return Status::OK();
    }
    case format::CompressionCodec::ZSTD: {
      out->resize(uncompressed_size);
      size_t n = ZSTD_decompress(out->data(), out->size(), input.data(), input.size());
      if (ZSTD_isError(n) || n != uncompressed_size) {
        return Status::Corruption("invalid zstd page");
      }
      return Status::OK();
    }
    case format::CompressionCodec::LZ4_RAW: {
      out->resize(uncompressed_size);
      int n = LZ4_decompress_safe(input.data(), out->data(), static_cast<int>(input.size()),
                                  static_cast<int>(out->size()));
      if (n < 0 || static_cast<size_t>(n) != uncompressed_size) {
        return Status::Corruption("invalid lz4_raw page");
      }
      return Status::OK();
    }
    case format::CompressionCodec::GZIP:
      out->resize(uncompressed_size);
      return InflateGzip(input, out);
    default:
      return Status::NotSupported("parquet compression codec " +
                                  std::to_string(static_cast<int>(codec)));
  }
}

}  // namespace lakelog::parquet

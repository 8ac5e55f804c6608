// How lakelog writes Parquet data files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lakelog {

enum class Compression : uint8_t { kNone, kSnappy, kZstd, kLz4Raw };

// "none"/"uncompressed", "snappy", "zstd", "lz4_raw" (case-insensitive). False when unknown.
bool ParseCompression(std::string_view text, Compression* out);
std::string_view CompressionName(Compression compression);

struct ParquetWriteOptions {
  Compression compression = Compression::kZstd;
  // 1, as Arrow (pyarrow, and arrow-rs under delta-rs) defaults to: on log data level 3 saves
  // under 0.2% of the bytes for about a fifth more compression time (docs/BENCHMARKS.md).
  int zstd_level = 1;
  // Target uncompressed size of one data page.
  size_t page_size_bytes = 1 << 20;
  // A row group is closed once its uncompressed data reaches this size.
  size_t row_group_size_bytes = 128u << 20;
  // A column chunk falls back from RLE_DICTIONARY to PLAIN once its dictionary (PLAIN-encoded
  // size) grows past this many bytes.
  size_t dictionary_limit_bytes = 1 << 20;
};

}  // namespace lakelog

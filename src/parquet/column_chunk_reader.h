// Decodes one column chunk of a file straight into a ColumnVector: its levels and its values,
// one slot per level entry, with no per-value objects.
//
// Supported: data pages v1 and v2; PLAIN for every physical type, PLAIN_DICTIONARY and
// RLE_DICTIONARY, RLE for booleans; RLE hybrid levels; the codecs of compression.h.
// Everything read from the file is checked before it is used, and every allocation is charged
// to a DecodeBudget first, so hostile input ends in Corruption, never a crash or a huge
// allocation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "parquet/column_vector.h"
#include "parquet/schema.h"
#include "parquet_types.h"

namespace lakelog::parquet {

// Bytes of decoded output (levels, values, buffers) a read may produce. A compressed page can
// legitimately expand a lot, so the cap scales with the file size.
class DecodeBudget {
 public:
  explicit DecodeBudget(uint64_t file_size)
      : remaining_(kBaseBytes + kBytesPerFileByte * file_size) {}

  Status Charge(uint64_t bytes) {
    if (bytes > remaining_) {
      return Status::Corruption("parquet data decodes to more than the reader's memory budget");
    }
    remaining_ -= bytes;
    return Status::OK();
  }

 private:
  static constexpr uint64_t kBaseBytes = 256ull << 20;
  static constexpr uint64_t kBytesPerFileByte = 64;
  uint64_t remaining_;
};

// Buffers a reader reuses from chunk to chunk, so that reading many row groups does not
// allocate per chunk. Not thread-safe; one per reader.
struct DecodeScratch {
  std::string chunk;          // the chunk's bytes as read from the file
  std::string page;           // one decompressed page
  std::vector<uint32_t> u32;  // decoded levels or dictionary indices of one page
  std::string dictionary;     // a fixed-width dictionary page's PLAIN values
};

// Reads the chunk `chunk` of the leaf `leaf` from `file` into *out (replacing its contents;
// its buffers are reused). The column data must lie in [4, data_end). Corruption on malformed
// data; NotSupported for encodings or codecs we lack.
Status ReadColumnChunk(const RandomAccessFile& file, uint64_t data_end,
                       const format::ColumnChunk& chunk, const SchemaNode& leaf,
                       DecodeBudget* budget, DecodeScratch* scratch, ColumnVector* out);

}  // namespace lakelog::parquet

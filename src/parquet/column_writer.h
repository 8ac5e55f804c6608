// Column-chunk writers, one per physical type we write (INT64 and BYTE_ARRAY).
//
// Lifecycle per row group, after DuckDB's column writers:
//   Append*()  buffer levels and values (string values are views into caller-owned storage
//              that must stay alive until WriteChunk() returns);
//   WriteChunk():
//     analyze   build the dictionary, or give up on it once it passes dictionary_limit_bytes;
//     prepare   write the dictionary page (PLAIN);
//     write     cut data pages (v1) of about page_size_bytes at row boundaries: levels as
//               length-prefixed RLE hybrid, values RLE_DICTIONARY or PLAIN, then compress;
//     finalize  fill ColumnMetaData: offsets, sizes, encodings, statistics;
//   Clear()    drop the buffered values and keep the capacity for the next row group.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lakelog/parquet_options.h"
#include "lakelog/status.h"
#include "parquet/compression.h"
#include "parquet_types.h"

namespace lakelog::parquet {

// A leaf column as the writer sees it.
struct LeafSpec {
  std::vector<std::string> path;  // path_in_schema
  int16_t max_def = 0;
  int16_t max_rep = 0;
};

struct Int64Traits {
  using Value = int64_t;
  using Hash = std::hash<int64_t>;
  static constexpr format::Type::type kType = format::Type::INT64;
  static size_t PlainSize(int64_t) { return 8; }
  static char* WritePlain(char* dst, int64_t value);
  // Statistics encoding: 8 bytes little endian; signed order.
  static std::string StatBytes(int64_t value);
};

struct ByteArrayTraits {
  using Value = std::string_view;
  using Hash = std::hash<std::string_view>;
  static constexpr format::Type::type kType = format::Type::BYTE_ARRAY;
  static size_t PlainSize(std::string_view value) { return 4 + value.size(); }
  static char* WritePlain(char* dst, std::string_view value);
  // Statistics encoding: the raw bytes; string_view compares as unsigned bytes, which is the
  // type-defined order for BYTE_ARRAY.
  static std::string StatBytes(std::string_view value) { return std::string(value); }
};

// Running min/max/null count of one column across every chunk written so far.
template <typename Value>
struct ColumnTotals {
  std::optional<Value> min;
  std::optional<Value> max;
  int64_t null_count = 0;
};

template <typename Traits>
class TypedColumnWriter {
 public:
  using Value = typename Traits::Value;

  // `compressor` is not owned and must outlive the writer.
  TypedColumnWriter(LeafSpec spec, const ParquetWriteOptions& options,
                    PageCompressor* compressor);

  void Reserve(size_t slots) {
    def_levels_.reserve(slots);
    values_.reserve(slots);
  }
  // A present value; its definition level is max_def.
  void AppendValue(Value value, int16_t rep_level) {
    def_levels_.push_back(spec_.max_def);
    if (spec_.max_rep > 0) rep_levels_.push_back(rep_level);
    values_.push_back(value);
  }
  // A null (or empty repeated ancestor) at `def_level` < max_def.
  void AppendNull(int16_t def_level, int16_t rep_level) {
    def_levels_.push_back(def_level);
    if (spec_.max_rep > 0) rep_levels_.push_back(rep_level);
  }

  // Appends the chunk's pages to *out; `chunk_offset` is the file offset *out's current end
  // will have. Fills *chunk for the footer. Internal when compression fails.
  Status WriteChunk(uint64_t chunk_offset, std::string* out, format::ColumnChunk* chunk);
  void Clear();

  const ColumnTotals<Value>& totals() const { return totals_; }
  const LeafSpec& spec() const { return spec_; }

 private:
  void Analyze();
  Status WritePage(format::PageType::type type, std::string_view body, int32_t num_values,
                   bool dictionary_indices, std::string* out);
  void EncodePlainValues(size_t begin, size_t end);
  void EncodeDictionaryIndices(size_t begin, size_t end);

  LeafSpec spec_;
  const ParquetWriteOptions& options_;
  PageCompressor* compressor_;

  // Buffered row group. Invariant: values_.size() == count of def_levels_ equal to max_def.
  std::vector<int16_t> def_levels_;
  std::vector<int16_t> rep_levels_;  // empty when max_rep == 0
  std::vector<Value> values_;

  // Analysis of the buffered row group.
  bool use_dictionary_ = false;
  std::unordered_map<Value, uint32_t, typename Traits::Hash> dictionary_index_;
  std::vector<Value> dictionary_;
  std::vector<uint32_t> indices_;  // per value, when use_dictionary_
  std::optional<Value> chunk_min_;
  std::optional<Value> chunk_max_;

  // Per-chunk page bookkeeping.
  int64_t total_uncompressed_ = 0;
  int64_t total_compressed_ = 0;
  int32_t data_pages_ = 0;

  // Reused buffers.
  std::string page_;
  std::string levels_scratch_;
  std::string header_;

  ColumnTotals<Value> totals_;
};

using Int64ColumnWriter = TypedColumnWriter<Int64Traits>;
using ByteArrayColumnWriter = TypedColumnWriter<ByteArrayTraits>;

extern template class TypedColumnWriter<Int64Traits>;
extern template class TypedColumnWriter<ByteArrayTraits>;

}  // namespace lakelog::parquet

// Column-chunk writers, one per physical type we write (INT64 and BYTE_ARRAY).
//
// Lifecycle per row group, after DuckDB's column writers:
//   Append*()  buffer the levels and encode each value as it arrives, while the caller's event
//              is still in cache: its dictionary index, or its PLAIN bytes once the chunk has
//              given up on the dictionary; min/max follow along, copied when they change, so
//              the caller's strings need only live through the call;
//   WriteChunk():
//     decide    a dictionary that was never judged (a chunk shorter than the probe) is judged;
//     prepare   write the dictionary page (PLAIN): the dictionary's buffer as it is;
//     write     cut data pages (v1) of about page_size_bytes at row boundaries: levels as
//               length-prefixed RLE hybrid, values RLE_DICTIONARY or PLAIN, then compress;
//     finalize  fill ColumnMetaData: offsets, sizes, encodings, statistics (string min/max
//               cut to bounds of at most kStatisticsBoundBytes: parquet/statistics.h);
//   Clear()    drop the buffered row group and keep the capacity for the next one.
//
// Dictionary or PLAIN, per chunk: every chunk starts with a dictionary and falls back to PLAIN
// (re-encoding the values so far from the dictionary) when
//   - the dictionary's PLAIN size passes dictionary_limit_bytes, or
//   - at the probe, after kDictionaryProbeValues values (or at the end of a shorter chunk), the
//     dictionary does not pay: its bytes plus the bit-packed indices are not below the PLAIN
//     bytes of the same values. This is parquet-mr's "compression satisfying" test, taken after
//     a sample rather than a whole page: near-unique columns (timestamps, messages carrying ids)
//     stop hashing after the probe instead of paying for a dictionary as large as the data;
//   - or, at the probe, more than half the values are distinct (an attribute value column where
//     trace ids sit beside a repeated region): the bytes may still favour the dictionary, but
//     every distinct value is a hash insert into a table as large as the data, which cost
//     kafka-ingest more CPU than anything else, for files that came out larger after zstd
//     (docs/BENCHMARKS.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/parquet_options.h"
#include "lakelog/status.h"
#include "parquet/compression.h"
#include "parquet/dictionary_builder.h"
#include "parquet/file_format.h"
#include "parquet/physical_types.h"
#include "parquet_types.h"

namespace lakelog::parquet {

// Values after which a chunk's dictionary is judged (see above).
inline constexpr size_t kDictionaryProbeValues = 1024;

// The header of a data page v1 holding `num_values` level slots, values in `encoding`, levels
// RLE/bit-packed. The sizes are filled in by AppendPage.
format::PageHeader DataPageV1Header(int32_t num_values, format::Encoding::type encoding);

// Compresses `body` and appends the page to *out: `header` (its sizes filled in here), then the
// compressed bytes. Adds the page's uncompressed and compressed sizes, header included, to
// *uncompressed and *compressed. `header_scratch` is reused across calls.
Status AppendPage(format::PageHeader header, std::string_view body, PageCompressor* compressor,
                  std::string* header_scratch, std::string* out, int64_t* uncompressed,
                  int64_t* compressed);

// Appends the footer of a file with `num_leaves` leaf columns to *out: `meta` (version, schema,
// num_rows and row groups set by the caller) with created_by and one TYPE_ORDER column order
// per leaf filled in (readers ignore min/max statistics without them), its length, the magic.
Status AppendFooter(format::FileMetaData meta, size_t num_leaves, std::string* out);

// Buffers a column writer assembles pages in. The column writers of one thread write one chunk
// at a time, so they can share one: it then stays in cache, where a buffer per column would be
// memory touched for the first time by every column of every file.
struct PageScratch {
  std::string page;    // levels and values of the page being cut
  std::string levels;  // one level stream being encoded
  std::string header;  // the serialized page header
};

// A leaf column as the writer sees it.
struct LeafSpec {
  std::vector<std::string> path;  // path_in_schema
  int16_t max_def = 0;
  int16_t max_rep = 0;
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

  // `compressor` and `scratch` are not owned and must outlive the writer.
  TypedColumnWriter(LeafSpec spec, const ParquetWriteOptions& options, PageCompressor* compressor,
                    PageScratch* scratch);

  void Reserve(size_t slots) {
    def_levels_.reserve(slots);
    if (spec_.max_rep > 0) rep_levels_.reserve(slots);
    indices_.reserve(slots);
  }
  // A present value; its definition level is max_def.
  void AppendValue(Value value, int16_t rep_level) {
    def_levels_.push_back(spec_.max_def);
    if (spec_.max_rep > 0) rep_levels_.push_back(rep_level);
    ++num_values_;
    if (use_dictionary_) {
      AppendToDictionary(value);
    } else {
      Traits::AppendPlain(&plain_, value);
      UpdateMinMax(value);
    }
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

  const ColumnTotals<typename Traits::Owned>& totals() const { return totals_; }
  // Forgets the totals, for a writer that goes on to another file.
  void ResetTotals() { totals_ = ColumnTotals<typename Traits::Owned>(); }
  const LeafSpec& spec() const { return spec_; }
  // Whether the buffered chunk is (so far) dictionary-encoded.
  bool uses_dictionary() const { return use_dictionary_; }

 private:
  void AppendToDictionary(Value value) {
    // Consecutive repeats are common in logs (one run, one host); they skip the hash.
    if (!indices_.empty() && Traits::Equal(value, dictionary_.at(indices_.back()))) {
      indices_.push_back(indices_.back());
      return;
    }
    bool inserted = false;
    const uint32_t index = dictionary_.Insert(value, &inserted);
    indices_.push_back(index);
    if (inserted) {
      UpdateMinMax(value);
      if (dictionary_.page().size() > dictionary_limit_ ||
          (!probed_ && indices_.size() >= kDictionaryProbeValues)) {
        JudgeDictionary();
      }
    }
  }
  void UpdateMinMax(Value value) {
    if (!has_min_max_) {
      min_ = value;
      max_ = value;
      has_min_max_ = true;
    } else if (Traits::Less(value, min_)) {
      min_ = value;
    } else if (Traits::Less(max_, value)) {
      max_ = value;
    }
  }
  // Keeps the dictionary or falls back to PLAIN (see the file comment).
  void JudgeDictionary();
  void FallBackToPlain();
  Status WritePage(format::PageType::type type, std::string_view body, int32_t num_values,
                   bool dictionary_indices, std::string* out);
  int IndexBitWidth() const;

  LeafSpec spec_;
  const ParquetWriteOptions& options_;
  PageCompressor* compressor_;
  PageScratch* scratch_;
  size_t dictionary_limit_;

  // Buffered row group. Invariant: num_values_ == count of def_levels_ equal to max_def ==
  // indices_.size() while use_dictionary_, and the number of values in plain_ otherwise.
  std::vector<int16_t> def_levels_;
  std::vector<int16_t> rep_levels_;  // empty when max_rep == 0
  size_t num_values_ = 0;
  bool use_dictionary_ = true;
  bool probed_ = false;
  DictionaryBuilder<Traits> dictionary_;
  std::vector<uint32_t> indices_;  // per value, while use_dictionary_
  std::string plain_;              // PLAIN bytes of every value, once !use_dictionary_

  // Statistics of the buffered chunk, copies of the caller's values (a copy per change: a
  // few per chunk, or one per value of a column that only grows).
  bool has_min_max_ = false;
  typename Traits::Owned min_{};
  typename Traits::Owned max_{};

  // Per-chunk page bookkeeping.
  int64_t total_uncompressed_ = 0;
  int64_t total_compressed_ = 0;
  int32_t data_pages_ = 0;

  ColumnTotals<typename Traits::Owned> totals_;
};

using Int64ColumnWriter = TypedColumnWriter<Int64Traits>;
using ByteArrayColumnWriter = TypedColumnWriter<ByteArrayTraits>;

extern template class TypedColumnWriter<Int64Traits>;
extern template class TypedColumnWriter<ByteArrayTraits>;

}  // namespace lakelog::parquet

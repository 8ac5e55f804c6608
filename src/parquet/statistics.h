// Bounded min/max statistics for BYTE_ARRAY (STRING) columns.
//
// A chunk's min and max are single values, and a log message can be megabytes long: copied
// whole, one 8 MB message made a 16.7 MB footer for 305 bytes of column data, and every reader
// parses the footer before anything else. So a value longer than kStatisticsBoundBytes is
// replaced by a shorter bound, as parquet-mr's column index and arrow-rs do:
//   - min: the longest prefix of at most the limit that ends on a UTF-8 code point boundary.
//     A prefix sorts before (or equal to) the value, so it is <= every value of the chunk.
//   - max: that prefix with its last code point incremented (U+D7FF steps to U+E000: surrogates
//     are not scalar values). It sorts after the value, as UTF-8 byte order is code point order.
//     A last code point of U+10FFFF (nothing follows it) is dropped and the one before it is
//     incremented; a prefix of U+10FFFF only has no bound (the max is left out).
// Both stay valid UTF-8 when the value is, so STRING statistics stay readable text; for bytes
// that are not UTF-8 the same is done byte-wise (0xFF is the byte that cannot be incremented).
// A cut bound is written with is_min_value_exact / is_max_value_exact = false.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace lakelog::parquet {

// The longest min_value/max_value written for a BYTE_ARRAY column, in bytes. 64 is parquet-mr's
// column-index truncation length and arrow-rs's statistics truncation default; it keeps every
// short column (level, status, host, run ids, attribute keys) exact and the footer at most a
// few hundred bytes per column chunk. See docs/parquet.md, "Statistics".
inline constexpr size_t kStatisticsBoundBytes = 64;

// One side of a chunk's statistics: the bytes to write and whether they are the value itself.
struct StatisticsBound {
  std::string bytes;
  bool exact = true;
};

// A lower bound of `value` of at most `limit` bytes: `value` itself (exact) when it fits,
// otherwise its prefix as described above (possibly empty when limit < 4).
StatisticsBound MinBound(std::string_view value, size_t limit = kStatisticsBoundBytes);

// An upper bound of `value` of at most `limit` bytes: `value` itself (exact) when it fits,
// otherwise an incremented prefix as described above; nullopt when no such bound exists.
std::optional<StatisticsBound> MaxBound(std::string_view value,
                                        size_t limit = kStatisticsBoundBytes);

}  // namespace lakelog::parquet

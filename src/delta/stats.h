// The `stats` JSON of an add action, built from what the Parquet writer measured.
//
// Matches Delta's Spark writer (StatisticsCollection, dataSkippingStringPrefixLength = 32):
//   {"numRecords":N,"minValues":{...},"maxValues":{...},"nullCount":{...}}
// - ts as ISO-8601 UTC truncated to milliseconds ("2026-11-24T10:15:30.123Z"); readers widen a
//   timestamp max by 1 ms when skipping, so truncating the max is safe.
// - a string min is cut to its first 32 code points (a prefix is never greater).
// - a string max longer than 32 UTF-16 units is cut to 32 units (never splitting a surrogate
//   pair, i.e. a code point) and gets a tie-breaker that sorts after whatever was cut: U+007F
//   when the first dropped character is below U+007F, else U+10FFFF; if a dropped character is
//   U+10FFFF itself the cut moves right. If no safe cut exists the full max is kept. A max that
//   the cut pushed past 256 bytes (a run of U+10FFFF in a huge message) becomes, in
//   BuildAddStats, the first 32 characters with the last one below U+10FFFF incremented; only a
//   value starting with 32 U+10FFFF keeps its full max (there is no shorter upper bound).
// - columns whose values are all null have no min/max; nullCount covers every data column,
//   attributes included. Partition columns never appear.
// - a string min/max that is not valid UTF-8 is left out (unknown bounds are always safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parquet/log_file_writer.h"

namespace lakelog::delta {

// The number of characters Delta keeps of a string statistic.
inline constexpr size_t kStatsStringPrefixLength = 32;

std::string BuildAddStats(const parquet::DataFileStats& stats);

// "2026-11-24T10:15:30.123Z" (floor to the millisecond). nullopt outside years 0001..9999.
std::optional<std::string> FormatStatsTimestamp(int64_t ts_micros);
// Delta's min truncation (see above). Precondition: valid UTF-8.
std::string TruncateStatsMin(std::string_view value);
// Delta's max truncation with tie-breaker (see above). Precondition: valid UTF-8.
std::string TruncateStatsMax(std::string_view value);

}  // namespace lakelog::delta

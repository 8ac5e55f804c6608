#include "delta/stats.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/utf8.h"
#include "lakelog/event.h"

namespace lakelog::delta {

namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr uint32_t kAsciiMaxCharacter = 0x7F;
constexpr uint32_t kUtf8MaxCharacter = 0x10FFFF;
// A cut max is at most 33 code points (132 bytes); TruncateStatsMax returns more only when a run
// of U+10FFFF at the cut pushed it right, up to the whole value (megabytes for a huge message).
constexpr size_t kMaxStatsStringBytes = 256;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// TruncateStatsMax, bounded: a max longer than kMaxStatsStringBytes is replaced by the first 32
// characters with the last one that is not U+10FFFF incremented (U+D7FF to U+E000), which sorts
// after the value. A value whose first 32 characters are all U+10FFFF has no shorter upper bound
// and keeps its full max: leaving the max out is no option, as delta-rs then reads the file's
// bound as null and its pyarrow dataset skips the file for any filter on the column.
std::string BoundedStatsMax(std::string_view value) {
  std::string max = TruncateStatsMax(value);
  if (max.size() <= kMaxStatsStringBytes) return max;
  const std::string prefix = TruncateStatsMin(value);
  std::vector<uint32_t> code_points;
  size_t pos = 0;
  uint32_t cp;
  while (pos < prefix.size()) {
    NextCodePoint(prefix, &pos, &cp);
    code_points.push_back(cp);
  }
  while (!code_points.empty() && code_points.back() == kUtf8MaxCharacter) code_points.pop_back();
  if (code_points.empty()) return max;
  code_points.back() = code_points.back() + 1 == 0xD800 ? 0xE000 : code_points.back() + 1;
  std::string bound;
  for (uint32_t c : code_points) AppendUtf8(c, &bound);
  return bound;
}

}  // namespace

std::optional<std::string> FormatStatsTimestamp(int64_t ts_micros) {
  constexpr int64_t kMillisPerDay = 86'400'000;
  int64_t ms = FloorDiv(ts_micros, 1000);
  int64_t days = FloorDiv(ms, kMillisPerDay);
  int64_t ms_of_day = ms - days * kMillisPerDay;
  // 0001-01-01 and 9999-12-31 as days since the epoch.
  if (days < -719162 || days > 2932896) return std::nullopt;
  std::string date = FormatDate(static_cast<int32_t>(days));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%sT%02d:%02d:%02d.%03dZ", date.c_str(),
                static_cast<int>(ms_of_day / 3'600'000), static_cast<int>(ms_of_day / 60'000 % 60),
                static_cast<int>(ms_of_day / 1000 % 60), static_cast<int>(ms_of_day % 1000));
  return std::string(buf);
}

std::string TruncateStatsMin(std::string_view value) {
  size_t pos = 0;
  size_t count = 0;
  uint32_t cp;
  while (pos < value.size() && count < kStatsStringPrefixLength) {
    NextCodePoint(value, &pos, &cp);
    ++count;
  }
  return std::string(value.substr(0, pos));
}

std::string TruncateStatsMax(std::string_view value) {
  if (Utf16Length(value) <= kStatsStringPrefixLength) return std::string(value);
  // Walk to the first code point boundary at or past 32 UTF-16 units: Java's take(32) would split
  // a surrogate pair straddling the boundary, and Delta extends the cut past it instead.
  size_t pos = 0;
  size_t units = 0;
  uint32_t cp;
  while (pos < value.size() && units < kStatsStringPrefixLength) {
    NextCodePoint(value, &pos, &cp);
    units += cp >= 0x10000 ? 2 : 1;
  }
  while (pos < value.size()) {
    size_t cut = pos;
    NextCodePoint(value, &pos, &cp);  // cp is the first character dropped at `cut`
    uint32_t tie_breaker;
    if (cp < kAsciiMaxCharacter) {
      tie_breaker = kAsciiMaxCharacter;
    } else if (cp < kUtf8MaxCharacter) {
      tie_breaker = kUtf8MaxCharacter;
    } else {
      continue;  // nothing sorts after U+10FFFF: keep it and try the next cut
    }
    std::string out(value.substr(0, cut));
    AppendUtf8(tie_breaker, &out);
    return out;
  }
  return std::string(value);
}

std::string BuildAddStats(const parquet::DataFileStats& stats) {
  OrderedJson min_values = OrderedJson::object();
  OrderedJson max_values = OrderedJson::object();
  OrderedJson null_count = OrderedJson::object();
  if (stats.num_rows > 0) {
    std::optional<std::string> min_ts = FormatStatsTimestamp(stats.min_ts_micros);
    std::optional<std::string> max_ts = FormatStatsTimestamp(stats.max_ts_micros);
    if (min_ts.has_value() && max_ts.has_value()) {
      min_values["ts"] = *min_ts;
      max_values["ts"] = *max_ts;
    }
  }
  null_count["ts"] = 0;  // every event has a timestamp
  for (const parquet::StringColumnStats& column : stats.string_columns) {
    if (column.min.has_value() && column.max.has_value() && IsValidUtf8(*column.min) &&
        IsValidUtf8(*column.max)) {
      min_values[column.name] = TruncateStatsMin(*column.min);
      max_values[column.name] = BoundedStatsMax(*column.max);
    }
    null_count[column.name] = column.null_count;
  }
  null_count["attributes"] = stats.attributes_null_count;
  OrderedJson out;
  out["numRecords"] = stats.num_rows;
  out["minValues"] = std::move(min_values);
  out["maxValues"] = std::move(max_values);
  out["nullCount"] = std::move(null_count);
  return out.dump(-1, ' ', /*ensure_ascii=*/false, OrderedJson::error_handler_t::replace);
}

}  // namespace lakelog::delta

// LogEvent: one row of the pipeline_logs table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakelog {

enum class Level : uint8_t { kTrace = 0, kDebug, kInfo, kWarn, kError, kFatal };

// "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL".
std::string_view LevelName(Level level);
// Accepts the names above in any case, plus "WARNING" (any case) for WARN: the spellings
// Python's logging and log4j use. False when `text` is none of them.
bool ParseLevel(std::string_view text, Level* level);

// One event as it lands in the table. `pipeline` and the UTC date of `ts_micros` are the
// partition values; the remaining fields are the data columns. A string column that is unset
// is written as null. An empty `pipeline` is stored as a null partition value (the Delta
// protocol reads an empty partition string as null).
struct LogEvent {
  std::string pipeline;
  int64_t ts_micros = 0;  // microseconds since the Unix epoch, UTC
  Level level = Level::kInfo;
  std::optional<std::string> stage;
  std::optional<std::string> status;
  std::optional<std::string> message;
  std::optional<std::string> run_id;
  std::optional<std::string> host;
  // Free-form context, in insertion order; keys should be unique. Empty is an empty map.
  std::vector<std::pair<std::string, std::string>> attributes;
};

// The instants every Delta reader can hold: 0001-01-01T00:00:00Z ..
// 9999-12-31T23:59:59.999999Z. Outside them the UTC date has no four-digit year and delta-rs
// refuses the whole table (not just that partition), so no event outside them is ever written.
inline constexpr int64_t kMinTsMicros = -62'135'596'800'000'000;
inline constexpr int64_t kMaxTsMicros = 253'402'300'799'999'999;
// The same bounds in whole epoch milliseconds; any value within them times 1000 fits int64.
inline constexpr int64_t kMinTsMillis = kMinTsMicros / 1000;
inline constexpr int64_t kMaxTsMillis = kMaxTsMicros / 1000;
constexpr bool IsTsInRange(int64_t ts_micros) {
  return ts_micros >= kMinTsMicros && ts_micros <= kMaxTsMicros;
}

// Days since 1970-01-01 of the UTC date holding `ts_micros` (floor division, so instants
// before the epoch land on the right day).
int32_t DaysFromMicros(int64_t ts_micros);
// 19723 -> "2024-01-01".
std::string FormatDate(int32_t days_since_epoch);

}  // namespace lakelog

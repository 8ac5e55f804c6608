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
// Accepts the names above in any case, plus "WARNING". False when `text` is none of them.
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

// Days since 1970-01-01 of the UTC date holding `ts_micros` (floor division, so instants
// before the epoch land on the right day).
int32_t DaysFromMicros(int64_t ts_micros);
// 19723 -> "2024-01-01".
std::string FormatDate(int32_t days_since_epoch);

}  // namespace lakelog

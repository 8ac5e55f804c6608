#include "lakelog/event.h"

#include <cstdio>

namespace lakelog {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace: return "TRACE";
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
    case Level::kFatal: return "FATAL";
  }
  return "INFO";
}

bool ParseLevel(std::string_view text, Level* level) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"TRACE", Level::kTrace}, {"DEBUG", Level::kDebug},  {"INFO", Level::kInfo},
      {"WARN", Level::kWarn},   {"WARNING", Level::kWarn}, {"ERROR", Level::kError},
      {"FATAL", Level::kFatal},
  };
  for (const auto& [name, value] : kNames) {
    if (upper == name) {
      *level = value;
      return true;
    }
  }
  return false;
}

int32_t DaysFromMicros(int64_t ts_micros) {
  constexpr int64_t kMicrosPerDay = 86'400'000'000LL;
  int64_t days = ts_micros / kMicrosPerDay;
  if (ts_micros % kMicrosPerDay < 0) --days;
  return static_cast<int32_t>(days);
}

// Civil-from-days, after Howard Hinnant's public-domain date algorithms.
std::string FormatDate(int32_t days_since_epoch) {
  int64_t z = static_cast<int64_t>(days_since_epoch) + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

}  // namespace lakelog

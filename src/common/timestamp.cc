#include "common/timestamp.h"

#include <cstdio>

#include "lakelog/event.h"

namespace lakelog {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

}  // namespace

std::string FormatRfc3339Micros(int64_t micros) {
  int64_t seconds = micros / kMicrosPerSecond;
  int64_t frac = micros % kMicrosPerSecond;
  if (frac < 0) {
    frac += kMicrosPerSecond;
    --seconds;
  }
  int64_t days = seconds / kSecondsPerDay;
  int64_t sod = seconds % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    --days;
  }
  std::string date = FormatDate(static_cast<int32_t>(days));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%sT%02lld:%02lld:%02lld.%06lldZ", date.c_str(),
                static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                static_cast<long long>(sod % 60), static_cast<long long>(frac));
  return buf;
}

}  // namespace lakelog

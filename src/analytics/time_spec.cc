#include "analytics/time_spec.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <string>

namespace lakelog::analytics {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view text, size_t pos, size_t count, int64_t* out) {
  if (pos + count > text.size()) return false;
  int64_t value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  int64_t year, month, day;
  if (!Digits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !Digits(text, 5, 2, &month) || text[7] != '-' || !Digits(text, 8, 2, &day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  int64_t micros = DaysFromCivil(year, month, day) * 86'400 * kMicrosPerSecond;
  if (text.size() == 10) return micros;
  int64_t hour, minute, second;
  if (text.size() < 19 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !Digits(text, 11, 2, &hour) || text[13] != ':' || !Digits(text, 14, 2, &minute) ||
      text[16] != ':' || !Digits(text, 17, 2, &second) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  micros += ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t frac = 0;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) frac = frac * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) frac *= 10;
    micros += frac;
  }
  if (pos == text.size()) return micros;  // no offset: UTC, as Spark's statistics are
  if ((text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) return micros;
  if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
  const int64_t sign = text[pos] == '+' ? 1 : -1;
  int64_t off_h, off_m;
  if (text.size() != pos + 6 || !Digits(text, pos + 1, 2, &off_h) || text[pos + 3] != ':' ||
      !Digits(text, pos + 4, 2, &off_m) || off_h > 23 || off_m > 59) {
    return std::nullopt;
  }
  return micros - sign * (off_h * 60 + off_m) * 60 * kMicrosPerSecond;
}

std::optional<int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double unit = 1;
  std::string_view number = text;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86'400; break;
    case 'w': unit = 7 * 86'400; break;
    default: unit = 0; break;
  }
  if (unit != 0) {
    number.remove_suffix(1);
  } else {
    unit = 1;
  }
  if (number.empty()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value) ||
      value < 0) {
    return std::nullopt;
  }
  const double micros = value * unit * kMicrosPerSecond;
  if (micros > 1e17) return std::nullopt;  // beyond any table's time range
  return static_cast<int64_t>(std::llround(micros));
}

Result<int64_t> ParseInstant(std::string_view flag, std::string_view text, int64_t now_micros) {
  if (auto instant = ParseRfc3339(text)) return *instant;
  if (auto back = ParseDuration(text)) return now_micros - *back;
  return Status::InvalidArgument(std::string(flag) + " '" + std::string(text) +
                                 "': expected RFC 3339 (2026-11-24T10:00:00Z, 2026-11-24) or a "
                                 "duration back from now (90s, 15m, 1h, 7d, 2w)");
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatDuration(int64_t micros) {
  if (micros < 0) micros = 0;
  int64_t seconds = micros / kMicrosPerSecond;
  if (seconds == 0) return std::to_string(micros / 1000) + "ms";
  const int64_t days = seconds / 86'400, hours = seconds / 3600 % 24, minutes = seconds / 60 % 60;
  seconds %= 60;
  std::string out;
  if (days > 0) return std::to_string(days) + "d" + (hours ? std::to_string(hours) + "h" : "");
  if (hours > 0)
    return std::to_string(hours) + "h" + (minutes ? std::to_string(minutes) + "m" : "");
  if (minutes > 0) {
    return std::to_string(minutes) + "m" + (seconds ? std::to_string(seconds) + "s" : "");
  }
  return std::to_string(seconds) + "s";
}

}  // namespace lakelog::analytics

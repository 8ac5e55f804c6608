// Instants and durations as an operator types them on the command line, in an SLA file or in
// Delta statistics: RFC 3339 text ("2026-11-24T10:15:30Z", "2026-11-24T10:15:30.123+02:00",
// "2026-11-24"), or a duration back from now ("90s", "15m", "1h", "7d", "2w").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "lakelog/status.h"

namespace lakelog::analytics {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;

// "2026-11-24T10:15:30[.ffffff](Z|+hh:mm|-hh:mm)", a space instead of 'T', or a bare date
// (midnight UTC) into microseconds since the epoch. Fractions past microseconds are cut.
// nullopt when the text is none of these.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// "<number><unit>" with unit s, m, h, d or w ("1h", "90s", "1.5h"), or a bare number of
// seconds, into microseconds. nullopt on anything else, including negative values.
std::optional<int64_t> ParseDuration(std::string_view text);

// An instant flag (--since, --until, --now): RFC 3339, or a duration meaning that long before
// `now_micros`. InvalidArgument naming `flag` otherwise.
Result<int64_t> ParseInstant(std::string_view flag, std::string_view text, int64_t now_micros);

// The wall clock, in microseconds since the epoch.
int64_t NowMicros();

// "3h12m", "45s", "2d4h": a short human form of a non-negative duration.
std::string FormatDuration(int64_t micros);

}  // namespace lakelog::analytics

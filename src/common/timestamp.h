// Text forms of instants shared by every component (the JSON event format, the CLI).
#pragma once

#include <cstdint>
#include <string>

namespace lakelog {

// Formats microseconds since the epoch as "2026-11-24T10:15:30.123456Z" (UTC, always six
// fractional digits).
std::string FormatRfc3339Micros(int64_t micros);

}  // namespace lakelog

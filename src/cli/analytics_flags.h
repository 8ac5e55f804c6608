// Flags `query`, `report` and `serve` share: the time window, value lists, output formats.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analytics/output.h"
#include "analytics/scan_plan.h"
#include "lakelog/status.h"

namespace lakelog::cli {

// `--format`; InvalidArgument naming the accepted ones otherwise.
Status ParseFormatFlag(const std::string& text, analytics::OutputFormat* out);

// `--bucket`: a duration of at least a second, in microseconds; InvalidArgument otherwise.
Result<int64_t> ParseBucketFlag(const std::string& text);

// --since/--until/--now: `now` is --now when given (RFC 3339), else the clock.
struct TimeWindow {
  int64_t now_micros = 0;
  std::optional<int64_t> since_micros;
  std::optional<int64_t> until_micros;
};
Result<TimeWindow> ParseTimeWindow(const std::string& since, const std::string& until,
                                   const std::string& now);

}  // namespace lakelog::cli

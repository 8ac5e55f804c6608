#include "cli/analytics_flags.h"

#include "analytics/time_spec.h"

namespace lakelog::cli {

Status ParseFormatFlag(const std::string& text, analytics::OutputFormat* out) {
  if (analytics::ParseOutputFormat(text, out)) return Status::OK();
  return Status::InvalidArgument("unknown --format '" + text + "' (text, json, ndjson, csv)");
}

Result<int64_t> ParseBucketFlag(const std::string& text) {
  std::optional<int64_t> bucket = analytics::ParseDuration(text);
  if (!bucket || *bucket < analytics::kMicrosPerSecond) {
    return Status::InvalidArgument("--bucket '" + text + "': expected a duration of 1s or more");
  }
  return *bucket;
}

Result<TimeWindow> ParseTimeWindow(const std::string& since, const std::string& until,
                                   const std::string& now) {
  TimeWindow window;
  window.now_micros = analytics::NowMicros();
  if (!now.empty()) {
    std::optional<int64_t> parsed = analytics::ParseRfc3339(now);
    if (!parsed) {
      return Status::InvalidArgument("--now '" + now +
                                     "': expected RFC 3339 (2026-11-24T10:00:00Z)");
    }
    window.now_micros = *parsed;
  }
  if (!since.empty()) {
    auto parsed = analytics::ParseInstant("--since", since, window.now_micros);
    if (!parsed.ok()) return parsed.status();
    window.since_micros = *parsed;
  }
  if (!until.empty()) {
    auto parsed = analytics::ParseInstant("--until", until, window.now_micros);
    if (!parsed.ok()) return parsed.status();
    window.until_micros = *parsed;
  }
  if (window.since_micros && window.until_micros && *window.since_micros > *window.until_micros) {
    return Status::InvalidArgument("--since is after --until");
  }
  return window;
}

}  // namespace lakelog::cli

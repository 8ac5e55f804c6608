// The table properties (metaData.configuration) that lakelog's table maintenance obeys, with
// Delta's defaults. A value that does not parse falls back to the default, as Spark does for
// these reads (it never makes a table unreadable).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "lakelog/delta_table.h"

namespace lakelog::delta {

inline constexpr int64_t kMillisPerDay = 24LL * 60 * 60 * 1000;
inline constexpr int64_t kDefaultTombstoneRetentionMs = 7 * kMillisPerDay;
inline constexpr int64_t kDefaultLogRetentionMs = 30 * kMillisPerDay;

// Spark's CalendarInterval text as Delta uses it for durations: "interval 1 week",
// "interval 36 hours", "7 days", "interval 100 milliseconds" -> milliseconds; nullopt when not
// of that form or negative or too large.
std::optional<int64_t> ParseIntervalMs(std::string_view text);

// delta.deletedFileRetentionDuration: how long a removed file stays for time travel (VACUUM
// keeps it, a checkpoint keeps its tombstone). Default one week.
int64_t TombstoneRetentionMs(const DeltaMetadata& metadata);

// delta.logRetentionDuration: how long commits and checkpoints are kept. Default 30 days.
int64_t LogRetentionMs(const DeltaMetadata& metadata);

// delta.enableExpiredLogCleanup: whether a checkpoint is followed by log cleanup. Default true;
// only the text "false" (any case) turns it off.
bool ExpiredLogCleanupEnabled(const DeltaMetadata& metadata);

}  // namespace lakelog::delta

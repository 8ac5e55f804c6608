// Log cleanup: after a checkpoint, the commits and checkpoints older than the table's
// delta.logRetentionDuration (default 30 days; off with delta.enableExpiredLogCleanup=false)
// are deleted — but only those below the newest complete classic checkpoint whose version is
// itself older than the cutoff, so that every version still in the log can be rebuilt (from
// that checkpoint and the commits after it). A version's age is its commit file's modification
// time (the checkpoint file's, once the commit is gone).
//
// Deletion goes oldest first, so a crash part-way leaves a log that is still a contiguous run
// from a checkpoint. Readers mid-replay of a version being cleaned fail and retry, as with
// Spark's cleanup; a retention of days makes that a reader days behind.
#pragma once

#include <cstdint>

#include "delta/log_store.h"
#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::delta {

struct LogCleanupResult {
  // Versions below this one are gone from the log (-1: nothing was eligible).
  int64_t cleaned_below = -1;
  int64_t files_deleted = 0;
};

// Cleans `store`'s log per `metadata`'s properties as of `now_ms`. Files that fail to delete are
// left for the next cleanup (the error of the first is returned after the rest are tried).
Result<LogCleanupResult> CleanUpExpiredLog(FileSystem* fs, const LogStore& store,
                                           const DeltaMetadata& metadata, int64_t now_ms);

}  // namespace lakelog::delta

// VACUUM: deletes the files in a table's directory that no version inside the retention window
// can read — files no live `add` and no unexpired `remove` tombstone names (removed files, the
// orphans of crashed writers, failed commits' data) — once they are older than the retention.
//
// Rules (as Spark's Delta, docs/maintenance.md):
//   - the retention defaults to the table's delta.deletedFileRetentionDuration (one week); a
//     shorter one is refused unless forced, since it can break time travel and readers of a
//     recent version still in flight;
//   - a file is deleted only if nothing in the snapshot or its tombstones names it AND its
//     modification time is before now - retention (a writer's not-yet-committed file is young);
//   - names starting with '_' or '.' are never entered or deleted (so `_delta_log` and
//     `_change_data` are safe), except partition directories `<column>=<value>`; symbolic links
//     are never followed or deleted; nothing outside the table root is visited;
//   - directories left empty are removed (the table root never);
//   - the table's protocol must be one maintenance understands (maintenance/protocol.h);
//   - a real run writes two commits carrying only commitInfo, `VACUUM START` (what it will
//     delete) before deleting and `VACUUM END` (what it deleted) after, as Spark does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::maintenance {

struct VacuumOptions {
  // Default: the table's delta.deletedFileRetentionDuration.
  std::optional<int64_t> retention_ms;
  // Allow a retention below the table's delta.deletedFileRetentionDuration.
  bool force = false;
  // List what would be deleted; change nothing.
  bool dry_run = false;
  // The present, in milliseconds since the epoch (the caller's clock).
  int64_t now_ms = 0;
};

struct VacuumFile {
  std::string path;  // relative to the table root, as on disk
  uint64_t size = 0;
};

struct VacuumResult {
  int64_t table_version = -1;  // the snapshot judged
  int64_t retention_ms = 0;
  int64_t cutoff_ms = 0;          // files modified before this may go
  std::vector<VacuumFile> files;  // deleted, or to be deleted in a dry run; sorted
  uint64_t bytes = 0;             // their total size
  int64_t directories_removed = 0;
  int64_t delete_failures = 0;           // files that could not be deleted (left for next time)
  std::optional<int64_t> start_version;  // the VACUUM START / END commits (not in a dry run)
  std::optional<int64_t> end_version;
};

// Vacuums the table at `root`. NotFound when there is no table; InvalidArgument for a retention
// below the table's without `force`; NotSupported for a protocol maintenance does not handle.
// Files that fail to delete are counted, not fatal; the END commit records what was deleted.
Result<VacuumResult> Vacuum(FileSystem* fs, const std::string& root, const VacuumOptions& options);

}  // namespace lakelog::maintenance

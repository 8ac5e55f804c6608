// Which files of a snapshot a scan must open: partition pruning on (pipeline, log_date) and
// file skipping by the min/max statistics of the Delta log. Shared by `query` and `report`.
//
// Every decision is conservative: a file is left out only when no row of it can match. The
// statistics are read as Delta writers store them: strings may be cut to a prefix (a cut
// minimum is still a lower bound; a maximum of 32 or more characters may be a cut one and is
// not trusted), timestamps are cut to milliseconds (a maximum may be up to 999 µs low).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/status.h"

namespace lakelog::analytics {

// A string filter: the row's value must equal one of `values` (empty = no filter). A null
// value never matches.
struct ValueSet {
  std::vector<std::string> values;
  bool active() const { return !values.empty(); }
  bool Contains(std::string_view value) const;
};

// What a scan keeps. Time bounds are inclusive, in microseconds since the epoch.
struct RowFilter {
  ValueSet pipelines;  // partition column
  ValueSet stages, statuses, levels, run_ids;
  std::optional<int64_t> since_micros;
  std::optional<int64_t> until_micros;
  std::string contains;  // substring of message (case-sensitive); "" = no filter
};

// Level names as given by a user (--level, ?level=): comma-separated lists, any case, WARNING
// for WARN, and "LEVEL+" for that level and every more severe one. InvalidArgument naming an
// unknown level.
Result<std::vector<std::string>> ParseLevels(const std::vector<std::string>& values);

// The counts `--explain` prints.
struct ScanStats {
  int64_t files_total = 0;
  int64_t files_pruned_by_partition = 0;  // pipeline or log_date outside the filter
  int64_t files_skipped_by_stats = 0;     // Delta min/max/nullCount exclude every row
  int64_t files_skipped_by_limit = 0;     // newest/oldest first with the limit already met
  int64_t files_read = 0;
  int64_t row_groups_read = 0;
  int64_t row_groups_skipped = 0;  // Parquet statistics of ts exclude every row
  int64_t rows_scanned = 0;
  int64_t rows_matched = 0;
  int64_t bytes_read = 0;  // sizes of the files opened
};

// A file of the snapshot with what its statistics say about ts.
struct PlannedFile {
  const DeltaAddFile* file = nullptr;
  std::optional<std::string> pipeline;  // partition value (nullopt = null)
  std::optional<int64_t> min_ts;        // lower bound of ts, when the stats give one
  std::optional<int64_t> max_ts;        // upper bound of ts (already widened by 999 µs)
};

// The files of `snapshot` that may hold rows matching `filter`, in snapshot order; counts the
// others in *stats (files_total, files_pruned_by_partition, files_skipped_by_stats).
std::vector<PlannedFile> PlanScan(const DeltaSnapshot& snapshot, const RowFilter& filter,
                                  ScanStats* stats);

}  // namespace lakelog::analytics

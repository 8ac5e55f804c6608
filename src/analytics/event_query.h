// `lakelog query`: find events the way one greps logs. The snapshot's files are pruned by
// partition and statistics (scan_plan.h), the filter columns are decoded first and the output
// columns only for row groups where something matched; the newest (or oldest) `limit` rows are
// kept in a bounded heap, so memory follows the limit, not the table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/scan_plan.h"
#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "query/table_scan.h"

namespace lakelog::analytics {

struct EventQuery {
  RowFilter filter;
  size_t limit = 100;  // 0 = every match
  bool oldest_first = false;
};

// One matching event, every column of it (attributes with a null value left out, as the table
// scan does). Strings are nullopt when null in the table.
using EventRow = query::ScannedRow;

struct EventQueryResult {
  std::vector<EventRow> rows;  // newest first (or oldest first); rows without ts last
  ScanStats stats;
  int64_t table_version = -1;
};

// Runs `query` over `snapshot` of the table at `root`. Errors name the file that failed.
Result<EventQueryResult> QueryEvents(FileSystem* fs, const std::string& root,
                                     const DeltaSnapshot& snapshot, const EventQuery& query);

}  // namespace lakelog::analytics

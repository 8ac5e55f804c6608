// Evaluates a RowFilter on one decoded row group, column by column: a dictionary-encoded
// column is compared once per dictionary entry, never per row, and no string is copied.
#pragma once

#include <cstdint>
#include <vector>

#include "analytics/scan_plan.h"
#include "query/log_columns.h"

namespace lakelog::analytics {

// The columns `filter` reads (besides the partition columns, which come from the log).
std::vector<query::LogColumn> FilterColumns(const RowFilter& filter);

// Sets *selected to the rows in [0, rows) of the row group `reader` holds that pass `filter`,
// in ascending order. The partition filter is not checked here (PlanScan did). A column the
// file lacks reads as null, which matches no value filter.
void SelectRows(const RowFilter& filter, const query::LogColumnReader& reader, size_t rows,
                std::vector<uint32_t>* selected);

}  // namespace lakelog::analytics

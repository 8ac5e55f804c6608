// Which tables lakelog's maintenance (OPTIMIZE, VACUUM) may rewrite or clean. Maintenance reads
// the whole table's state, so a feature it does not understand could make it delete or rewrite
// data wrongly: such tables are refused with the feature named, never touched.
#pragma once

#include "lakelog/delta_table.h"
#include "lakelog/status.h"

namespace lakelog::maintenance {

// OK when every reader and writer feature of `protocol` is one whose state lakelog's snapshot
// holds whole (so no live or time-travel file can be missed); NotSupported naming the first that
// is not (deletion vectors, row tracking, v2 checkpoints, clustering, unknown ones).
Status CheckMaintainable(const DeltaProtocol& protocol);

}  // namespace lakelog::maintenance

// The Delta Lake sink: each flush round becomes ONE commit to a Delta table.
//
//   auto sink = lakelog::NewDeltaSink(lakelog::PosixFileSystem(), "/data/pipeline_logs");
#pragma once

#include <memory>
#include <string>

#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/sink.h"
#include "lakelog/status.h"

namespace lakelog {

// A sink (name "delta") that appends each round to the Delta table at `table_root` on `fs` (which
// must outlive the sink): one DeltaTable::Append per round = one file per (pipeline, log_date) and
// ONE commit. Every commit carries txn {appId = writer_id, version = round}, so a retried or
// replayed round is never committed twice. Every delta.checkpointInterval-th commit (default
// 10) also writes a checkpoint; one that cannot be written goes to ctx.warn, and the round
// stands. Opens (and by default creates) the table; when that
// fails with a retryable error (an unwritable directory, a full disk) the sink is still made
// and opens the table on its first Write(), which fails with that error until it succeeds —
// the engine retries, its WAL and buffers keep the events meanwhile. Errors that retrying
// cannot fix (not a lakelog table, a bad path) are returned here. Its CheckPipeline applies
// the table's partition-name rule (delta::CheckPipelineName).
//
// Time: the table's clock (commit timestamps, txn lastUpdated, files' modificationTime, the
// checkpoint and log-retention cut-offs, the backoff after lost races) is options.clock when
// set; otherwise the clock of the engine the sink is attached to (Sink::Attach), and the real
// clock before that. A table this call creates is therefore stamped by options.clock or the
// real clock; one opened later, by the first Write(), by the engine's.
Result<std::unique_ptr<Sink>> NewDeltaSink(FileSystem* fs, const std::string& table_root,
                                           const DeltaTableOptions& options = {});

}  // namespace lakelog

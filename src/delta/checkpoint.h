// Classic single-file checkpoints: `_delta_log/NNNNNNNNNNNNNNNNNNNN.checkpoint.parquet` and the
// `_last_checkpoint` hint (PROTOCOL.md, "Checkpoints").
//
// A checkpoint of version v holds the table as of v, one action per row: the protocol, the
// metaData, every app's txn, every active file's add, and the remove tombstones younger than
// the table's delta.deletedFileRetentionDuration (default one week) so that VACUUM still spares
// the files time travel may read. Adds and removes carry dataChange = false, as in every
// checkpoint. The Parquet schema is the one Spark writes for these actions (docs/delta-log.md);
// columns for fields lakelog never sees (deletion vectors, row tracking, clustering) are left
// out, and a table whose protocol needs them is not checkpointed (NotSupported).
//
// Writing is idempotent and safe beside other writers: the file goes in atomically (temp file,
// fsync, rename), a checkpoint of one version has one content whoever writes it, and
// `_last_checkpoint` is replaced only by a newer version. A failed checkpoint leaves the table
// as readable as before: readers replay the JSON commits.
#pragma once

#include <cstdint>
#include <string>

#include "delta/log_store.h"
#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/parquet_options.h"
#include "lakelog/status.h"

namespace lakelog::delta {

// Checkpoint every this many commits unless the table sets delta.checkpointInterval.
inline constexpr int64_t kDefaultCheckpointInterval = 10;

// The table's delta.checkpointInterval, or the default when unset or not a positive integer.
int64_t CheckpointInterval(const DeltaMetadata& metadata);

// OK when lakelog writes everything a checkpoint of a table with this protocol must hold;
// NotSupported naming the feature otherwise (e.g. domainMetadata, rowTracking, v2Checkpoint).
Status CheckCheckpointable(const DeltaProtocol& protocol);

struct CheckpointInfo {
  int64_t version = 0;
  int64_t actions = 0;     // rows of the checkpoint: `size` in _last_checkpoint
  int64_t add_files = 0;   // numOfAddFiles
  int64_t tombstones = 0;  // remove rows
  int64_t size_bytes = 0;  // sizeInBytes
};

// Writes the checkpoint of `version` (replayed from the log) and points `_last_checkpoint` at it
// unless that already names `version` or a newer one. `now_ms` decides which tombstones have
// expired.
Result<CheckpointInfo> WriteCheckpoint(FileSystem* fs, LogStore* store, int64_t version,
                                       const ParquetWriteOptions& options, int64_t now_ms);

}  // namespace lakelog::delta

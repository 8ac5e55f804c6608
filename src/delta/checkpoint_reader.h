// Reads the actions of a classic checkpoint (`NNNNNNNNNNNNNNNNNNNN.checkpoint.parquet`) column
// by column: the checkpoint's action structs are located in the file's schema, only the leaves
// the snapshot needs are decoded (parquet::ParquetFile's projection), and each row's action is
// built straight from the column vectors, with no per-row JSON objects.
//
// What is read, per action (PROTOCOL.md, "Checkpoint Schema"): protocol (reader/writer
// versions and features), metaData (id, name, description, format, schemaString,
// partitionColumns, configuration, createdTime), add and remove (path, partitionValues, size,
// modificationTime / deletionTimestamp, dataChange, extendedFileMetadata, stats, the deletion
// vector's identity) and txn (appId, version, lastUpdated). Everything else a writer may put in
// a checkpoint (stats_parsed, partitionValues_parsed, tags, commitInfo, domainMetadata,
// sidecar, row tracking columns) is neither decoded nor needed to rebuild the snapshot.
//
// The rules are those of ParseActionObject on a JSON row, so a checkpoint and the commits it
// replaces rebuild the same snapshot: a row holds the actions whose struct is non-null, a
// missing required field (add.path, txn.version, ...) or a column of the wrong physical type
// is Corruption naming the file, the row and the field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "delta/actions.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::delta {

// The actions of the checkpoint at `path`, in row order (within a row: protocol, metaData,
// add, remove, txn). `name` labels errors ("_delta_log/<name>: row 7: add: ...").
Result<std::vector<Action>> ReadCheckpointActions(FileSystem* fs, const std::string& path,
                                                  std::string_view name);

}  // namespace lakelog::delta

// The file-writer scheduler of an Append: which thread writes which group's data file, and in
// what order it reads the batch.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "delta/file_syncer.h"
#include "delta/group_index.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/parquet_options.h"
#include "lakelog/status.h"
#include "parquet/log_file_writer.h"

namespace lakelog::delta {

// The threads of a table's appends: up to kMaxWriteThreads encode files (the calling thread and
// a pool of kMaxWriteThreads - 1), kSyncThreads sync them (FileSyncer).
inline constexpr size_t kMaxWriteThreads = 4;
inline constexpr size_t kSyncThreads = 4;

// Writes the data file of every group: groups[i] of `grouping` to root/relatives[i], each file
// synced and closed (and its directory synced) before this returns. One result per group.
//
// Each thread (up to kMaxWriteThreads: the calling thread and `writers`) takes a share of the
// groups (by rows, largest first) and reads the batch once in its own order, feeding each event of
// its groups to that group's file (see DataFileSetWriter): the batch is laid out in arrival order,
// and walking it group by group would be a cache miss per event. A thread keeps at most 64 files
// open at a time (their row groups are in memory); more groups take more passes.
std::vector<Result<parquet::DataFileStats>> WriteGroupFiles(
    FileSystem* fs, const std::string& root, const ParquetWriteOptions& options,
    std::span<const LogEvent* const> events, const Grouping& grouping,
    const std::vector<std::string>& relatives, ThreadPool* writers, FileSyncer* syncer);

}  // namespace lakelog::delta

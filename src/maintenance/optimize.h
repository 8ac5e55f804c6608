// OPTIMIZE (bin-packing compaction): rewrites the small files of each partition into files near a
// target size, in ONE commit of `remove` + `add` actions with dataChange = false, as Spark's
// Delta does (docs/maintenance.md).
//
// Per (pipeline, log_date) partition matching the filter, the files below half the target
// (Delta's minFileSize) are sorted by size and packed greedily into bins of at most the target;
// a bin of one file is left alone. Each bin's rows are read and written to one new file, so the
// memory held is one bin's rows per worker thread (bounded by the target size, whatever the
// partition's size).
// The new files get full statistics. The commit is judged against every commit that landed
// since the read (delta/transaction.h): one that removed an input file, or changed the protocol
// or metaData, stops this OPTIMIZE (its new files are deleted, the table is untouched);
// appends never do, in either order.
//
// Rows are rewritten through LogEvent, so a file whose rows it cannot hold exactly (a level
// other than the six names, a null ts or attribute value) is left out of its bin, counted as
// skipped. A null attributes map is rewritten as an empty one.
//
// Z-order (zorder_by set, maintenance/zorder.h): per partition matching the filter, ALL its
// files are rewritten (minFileSize does not apply, a one-file partition too), their rows sorted
// by the Z-order key of the columns and cut into files near the target size; commitInfo's
// zOrderBy lists the columns. The rows held stay within memory_budget_bytes (plus one input
// file's rows) whatever the partition's size: see ZOrderPartition in optimize.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lakelog/clock.h"
#include "lakelog/file_system.h"
#include "lakelog/parquet_options.h"
#include "lakelog/status.h"

namespace lakelog::maintenance {

struct OptimizeProgress {
  int64_t bins_done = 0;
  int64_t bins = 0;
  int64_t rows = 0;
};

struct OptimizeOptions {
  // Partition predicate (maintenance/partition_filter.h); empty: every partition.
  std::string where;
  // Z-order columns: data columns of the table (InvalidArgument for partition columns,
  // attributes, unknown names); empty: bin-packing.
  std::vector<std::string> zorder_by;
  // Z-order: bytes of decoded rows held at once (estimated), and rows sampled per partition
  // for the range boundaries.
  uint64_t memory_budget_bytes = uint64_t{256} << 20;
  size_t zorder_sample_rows = 100000;
  // Bins rewritten at once; 0: one per hardware thread. The Z-order budget is shared out.
  // With 1 the calling thread does the work and no thread is started.
  int threads = 0;
  uint64_t target_file_size = uint64_t{128} << 20;
  ParquetWriteOptions parquet;
  int64_t now_ms = 0;
  // Whose time the backoff after a lost commit race sleeps (null: RealClock()). Not owned.
  Clock* clock = nullptr;
  // Marks the commit as auto-compaction (`auto: true` in its parameters).
  bool auto_compaction = false;
  // When not empty, only these files (paths as in the log) are candidates: auto-compaction picks
  // its files itself.
  std::set<std::string> only_paths;
  std::function<void(const OptimizeProgress&)> progress;
};

struct OptimizeResult {
  int64_t read_version = -1;
  std::optional<int64_t> version;  // the OPTIMIZE commit; nullopt when there was nothing to do
  int64_t partitions = 0;          // partitions with at least one bin (or Z-order) rewritten
  int64_t files_removed = 0;
  int64_t files_added = 0;
  uint64_t bytes_removed = 0;
  uint64_t bytes_added = 0;
  int64_t rows = 0;
  int64_t files_skipped = 0;  // left out: rows a LogEvent cannot hold exactly
  std::vector<uint64_t> added_sizes;
};

// InvalidArgument for a bad filter or target; NotFound for a missing table; NotSupported for a
// protocol or schema maintenance does not handle; Conflict when a concurrent commit removed an
// input file or changed the table's metadata (nothing was committed).
Result<OptimizeResult> Optimize(FileSystem* fs, const std::string& root,
                                const OptimizeOptions& options);

}  // namespace lakelog::maintenance

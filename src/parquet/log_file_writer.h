// Writes a batch of LogEvents as one Parquet data file of the pipeline_logs table.
//
// The file holds the data columns only (ts, level, stage, status, message, run_id, host,
// attributes); the partition columns (pipeline, log_date) live in the Delta log, as every Delta
// writer does. See docs/parquet.md for the exact layout.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/parquet_options.h"
#include "lakelog/status.h"

namespace lakelog::parquet {

// Statistics of one written file, the same values that went into the Parquet footer. The Delta
// writer turns them into the `stats` JSON of the add action.
struct StringColumnStats {
  std::string name;                // "level", "stage", "status", "message", "run_id", "host"
  std::optional<std::string> min;  // absent when every value is null; full, untruncated bytes
  std::optional<std::string> max;
  int64_t null_count = 0;
};

struct DataFileStats {
  int64_t num_rows = 0;
  uint64_t file_size_bytes = 0;
  int64_t min_ts_micros = 0;  // meaningful when num_rows > 0
  int64_t max_ts_micros = 0;
  std::vector<StringColumnStats> string_columns;  // in schema order
  int64_t attributes_null_count = 0;              // always 0: an event has a (maybe empty) map
};

// Writes `rows` (not empty) to `path` through `fs`, syncs it and closes it. On failure the file
// may be left partially written; the caller deletes it or leaves it to VACUUM as an orphan.
Result<DataFileStats> WriteLogEventsFile(FileSystem* fs, const std::string& path,
                                         std::span<const LogEvent* const> rows,
                                         const ParquetWriteOptions& options);

// Writes data files one after another with the same buffers: the column values, pages, file
// image and codec context (zstd's is over a MiB of tables) are allocated and faulted in once
// rather than once per file. It holds on to what its largest file needed until destroyed, so
// keep one for a batch of files (a flush round), not for the life of the process.
// Not thread-safe: one per writing thread.
class DataFileWriter {
 public:
  DataFileWriter();
  ~DataFileWriter();
  DataFileWriter(const DataFileWriter&) = delete;
  DataFileWriter& operator=(const DataFileWriter&) = delete;

  // As WriteLogEventsFile.
  Result<DataFileStats> Write(FileSystem* fs, const std::string& path,
                              std::span<const LogEvent* const> rows,
                              const ParquetWriteOptions& options);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;  // built on first use; rebuilt when the options change
};

// `lakelog version X.Y.Z (build HASH)`, written as FileMetaData.created_by.
std::string CreatedBy();

}  // namespace lakelog::parquet

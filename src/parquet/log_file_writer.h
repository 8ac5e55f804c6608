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

class PageCompressor;
struct PageScratch;

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

// Writes several data files side by side, fed one row at a time in any interleaving.
//
// A batch of many partitions is laid out in memory in arrival order, so a writer that walks it
// file by file reads one scattered event after another: a cache miss and a TLB miss per event,
// which cost more than the encoding. Fed in the batch's own order instead, the rows arrive
// sequentially, whichever file each one goes to. Each file holds its open row group (up to
// row_group_size_bytes of shredded values) until Finish, so the memory is about the shredded
// size of what was added and not yet finished: bound the number of files open at once.
//
// A file is created on its first write, usually in Finish (a file of one row group): open
// files hold no descriptor. Everything allocated is kept for the next files, until the writer
// is destroyed, so keep one for a batch of files (a flush round), not for the life of the
// process. Not thread-safe: one per writing thread.
class DataFileSetWriter {
 public:
  // InvalidArgument (from Begin) when a page or row group size is zero.
  explicit DataFileSetWriter(const ParquetWriteOptions& options);
  ~DataFileSetWriter();
  DataFileSetWriter(const DataFileSetWriter&) = delete;
  DataFileSetWriter& operator=(const DataFileSetWriter&) = delete;

  const ParquetWriteOptions& options() const { return options_; }

  // Starts a data file at `path` on `fs`; `expected_rows` sizes the first row group's buffers.
  // Returns the handle that Add and Finish take.
  Result<size_t> Begin(FileSystem* fs, std::string path, size_t expected_rows);
  // Shreds `row` into the file, writing out its row group once that is full. The writer keeps
  // copies of what it needs (encoded values, dictionary, statistics), so the row may be freed
  // or reused as soon as the call returns. An error sticks: the file takes no more rows and
  // Finish returns it.
  Status Add(size_t handle, const LogEvent& row);
  // What Add for each of `rows` in order would do, faster: the rows of the open row group are
  // sized first, fetching the rows ahead (rows of one file are scattered over the batch, so
  // each is a cache miss otherwise), then shredded column by column, each column writer taking
  // the whole run in one loop (1.2x events per CPU-second; docs/BENCHMARKS.md). Stops at the
  // first error, which sticks as Add's does.
  Status AddRows(size_t handle, std::span<const LogEvent* const> rows);
  // Writes the last row group and the footer, syncs and closes the file, and frees the handle.
  // Every Begin needs its Finish, failed or not. On failure the file may be left partially
  // written; the caller deletes it or leaves it to VACUUM as an orphan.
  //
  // With `unsynced`, a complete file is handed over instead of synced and closed: the caller
  // owes it Sync() and Close() (so that fsyncs, which wait on the device, can run on other
  // threads while this one encodes the next file).
  Result<DataFileStats> Finish(size_t handle, std::unique_ptr<WritableFile>* unsynced = nullptr);
  // Drops the file instead of finishing it: its buffered rows are forgotten and the handle is
  // freed, the buffers kept. A file already created (a row group written out) is closed and
  // left for the caller to delete.
  void Discard(size_t handle);

 private:
  struct File;
  Status FlushRowGroup(File* f);
  Status Spill(File* f);

  const ParquetWriteOptions options_;  // the column writers refer to this copy
  std::unique_ptr<PageCompressor> compressor_;
  std::unique_ptr<PageScratch> scratch_;  // every file's column writers share it
  // Encoded bytes of the file being flushed, not yet handed to it; shared, as files are
  // flushed one at a time, and empty between flushes.
  std::string out_;
  std::vector<std::unique_ptr<File>> files_;  // by handle; null once failed (rebuilt on reuse)
  std::vector<size_t> free_;                  // handles whose file is finished
};

// Writes one data file at a time with the same buffers (a DataFileSetWriter with one file).
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
  std::unique_ptr<DataFileSetWriter> set_;  // built on first use; rebuilt when the options change
};

// `lakelog version X.Y.Z (build HASH)`, written as FileMetaData.created_by.
std::string CreatedBy();

}  // namespace lakelog::parquet

// AppendStream: the DeltaAppendStream of a DeltaTableImpl (lakelog/delta_table.h). Each Add
// groups its events by (pipeline, log_date) and shreds each group's run into that group's file
// of one DataFileSetWriter; the table's CommitStream writes the files out and commits them.
// Internal to src/delta.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "delta/file_syncer.h"
#include "lakelog/delta_table.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/parquet_options.h"
#include "lakelog/status.h"
#include "parquet/log_file_writer.h"

namespace lakelog::delta {

class DeltaTableImpl;
struct WrittenFile;

class AppendStream final : public DeltaAppendStream {
 public:
  AppendStream(DeltaTableImpl* table, FileSystem* fs, std::string root,
               const ParquetWriteOptions& options)
      : table_(table), fs_(fs), root_(std::move(root)), writer_(options) {}
  ~AppendStream() override { Abandon(); }

  Status Add(std::span<const LogEvent* const> events) override;
  int64_t rows() const override { return rows_; }
  Result<DeltaCommitResult> Commit(const DeltaAppendOptions& options) override;
  void Abandon() override;

  // For DeltaTableImpl::CommitStream. The sticky error of Add, if any.
  const Status& error() const { return error_; }
  // Finishes every file, handing each to `syncer`, and waits for them: *files holds the written
  // files, *relatives every path a file may have been created at (to delete on failure). The
  // stream is empty afterwards, whatever the outcome.
  Status FinishFiles(FileSyncer* syncer, std::vector<WrittenFile>* files,
                     std::vector<std::string>* relatives);

 private:
  // The map key of (pipeline, day): the name, then the day's four bytes.
  static void FileKey(std::string_view pipeline, int32_t day, std::string* key);

  struct File {
    std::string pipeline;
    int32_t day = 0;
    std::string relative;
    size_t handle = 0;
    int64_t rows = 0;
  };

  DeltaTableImpl* const table_;
  FileSystem* const fs_;
  const std::string root_;
  parquet::DataFileSetWriter writer_;
  std::vector<File> files_;
  // Index into files_ by FileKey.
  std::map<std::string, size_t> file_of_;
  int64_t rows_ = 0;
  Status error_;
  // Add's scratch, kept for its capacity: per group of the call, its file and its rows.
  std::vector<size_t> call_files_;
  std::string key_;
  std::vector<std::vector<const LogEvent*>> runs_;
};

}  // namespace lakelog::delta

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
struct Grouping;
struct WrittenFile;

class AppendStream final : public DeltaAppendStream {
 public:
  AppendStream(DeltaTableImpl* table, FileSystem* fs, std::string root,
               const ParquetWriteOptions& options, size_t parts);
  ~AppendStream() override { Abandon(); }

  Status Add(std::span<const LogEvent* const> events) override;
  Status AddPart(std::span<const LogEvent* const> events, size_t part) override;
  size_t parts() const override { return parts_.size(); }
  int64_t rows() const override;
  Result<DeltaCommitResult> Commit(const DeltaAppendOptions& options) override;
  void Abandon() override;

  // For DeltaTableImpl::CommitStream. The sticky error of an Add, if any.
  Status error() const;
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
  };

  // The files of the groups whose hash falls to one part, and everything an AddPart of that part
  // touches: the parts of a stream are fed on different threads at once.
  struct Part {
    explicit Part(const ParquetWriteOptions& options) : writer(options) {}
    // Forgets the files (finished or discarded by the caller), keeping the buffers.
    void Reset() {
      files.clear();
      file_of.clear();
      rows = 0;
      error = Status::OK();
    }
    parquet::DataFileSetWriter writer;
    std::vector<File> files;
    std::map<std::string, size_t> file_of;  // index into files by FileKey
    int64_t rows = 0;
    Status error;  // sticky
    // AddPart's scratch, kept for its capacity: per group of the call, its file and its rows.
    std::vector<size_t> call_files;
    std::string key;
    std::vector<std::vector<const LogEvent*>> runs;
  };

  // Which part the group (pipeline, day) belongs to.
  size_t PartOf(std::string_view pipeline, int32_t day) const;
  // AddPart with the events already grouped (Add groups them once for every part).
  Status AddGrouped(std::span<const LogEvent* const> events, const Grouping& grouping, size_t part);

  DeltaTableImpl* const table_;
  FileSystem* const fs_;
  const std::string root_;
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace lakelog::delta

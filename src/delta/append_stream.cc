#include "delta/append_stream.h"

#include "delta/delta_table_impl.h"
#include "delta/group_index.h"

namespace lakelog {

DeltaAppendStream::~DeltaAppendStream() = default;

namespace delta {

void AppendStream::FileKey(std::string_view pipeline, int32_t day, std::string* key) {
  key->assign(pipeline);
  key->append(reinterpret_cast<const char*>(&day), sizeof(day));
}

Status AppendStream::Add(std::span<const LogEvent* const> events) {
  if (events.empty()) return Status::OK();
  LAKELOG_RETURN_IF_ERROR(error_);
  const Grouping grouping = GroupEvents(events);
  // Every group's name is checked before any row goes in: a refused call adds nothing.
  for (const Group& group : grouping.groups) {
    LAKELOG_RETURN_IF_ERROR(DeltaTableImpl::CheckPartitionValue(group.pipeline));
  }
  call_files_.clear();
  for (const Group& group : grouping.groups) {
    FileKey(group.pipeline, group.day, &key_);
    auto it = file_of_.find(key_);
    if (it == file_of_.end()) {
      File file;
      file.pipeline = std::string(group.pipeline);
      file.day = group.day;
      Result<std::string> relative = table_->NewDataFilePath(group.pipeline, group.day);
      if (!relative.ok()) return error_ = relative.status();
      file.relative = std::move(relative).value();
      Result<size_t> handle = writer_.Begin(fs_, JoinPath(root_, file.relative), group.rows);
      if (!handle.ok()) return error_ = handle.status();
      file.handle = *handle;
      it = file_of_.emplace(key_, files_.size()).first;
      files_.push_back(std::move(file));
    }
    call_files_.push_back(it->second);
  }
  if (runs_.size() < grouping.groups.size()) runs_.resize(grouping.groups.size());
  for (size_t i = 0; i < events.size(); ++i) runs_[grouping.group_of[i]].push_back(events[i]);
  for (size_t g = 0; g < grouping.groups.size(); ++g) {
    File& file = files_[call_files_[g]];
    Status st = writer_.AddRows(file.handle, runs_[g]);
    file.rows += static_cast<int64_t>(runs_[g].size());
    runs_[g].clear();
    if (!st.ok() && error_.ok()) error_ = st.WithContext("writing data file " + file.relative);
  }
  rows_ += static_cast<int64_t>(events.size());
  return error_;
}

Result<DeltaCommitResult> AppendStream::Commit(const DeltaAppendOptions& options) {
  return table_->CommitStream(this, options);
}

void AppendStream::Abandon() {
  std::vector<std::string> relatives;
  for (const File& file : files_) {
    writer_.Discard(file.handle);
    relatives.push_back(file.relative);
  }
  // Only a file with a row group written out exists; the others were never created.
  table_->DeleteFiles(relatives);
  files_.clear();
  file_of_.clear();
  rows_ = 0;
  error_ = Status::OK();
}

Status AppendStream::FinishFiles(FileSyncer* syncer, std::vector<WrittenFile>* files,
                                 std::vector<std::string>* relatives) {
  std::vector<Result<parquet::DataFileStats>> results(
      files_.size(), Result<parquet::DataFileStats>(Status::Internal("not written")));
  for (size_t i = 0; i < files_.size(); ++i) {
    const File& file = files_[i];
    relatives->push_back(file.relative);
    std::unique_ptr<WritableFile> out;
    results[i] = writer_.Finish(file.handle, &out);
    if (results[i].ok()) {
      syncer->Submit(std::move(out), JoinPath(root_, file.relative),
                     JoinPath(root_, ParentPath(file.relative)), &results[i]);
    }
  }
  syncer->WaitIdle();
  Status failed;
  for (size_t i = 0; i < files_.size(); ++i) {
    if (!results[i].ok()) {
      if (failed.ok()) failed = results[i].status();
      continue;
    }
    files->push_back(WrittenFile{files_[i].relative, files_[i].pipeline, files_[i].day,
                                 std::move(results[i]).value()});
  }
  files_.clear();
  file_of_.clear();
  rows_ = 0;
  error_ = Status::OK();
  return failed;
}

}  // namespace delta
}  // namespace lakelog

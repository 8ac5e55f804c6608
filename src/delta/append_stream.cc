#include "delta/append_stream.h"

#include <algorithm>
#include <cstdint>

#include "delta/delta_table_impl.h"
#include "delta/group_index.h"

namespace lakelog {

DeltaAppendStream::~DeltaAppendStream() = default;

namespace delta {

AppendStream::AppendStream(DeltaTableImpl* table, FileSystem* fs, std::string root,
                           const ParquetWriteOptions& options, size_t parts)
    : table_(table), fs_(fs), root_(std::move(root)) {
  for (size_t i = 0; i < std::max<size_t>(parts, 1); ++i) {
    parts_.push_back(std::make_unique<Part>(options));
  }
}

void AppendStream::FileKey(std::string_view pipeline, int32_t day, std::string* key) {
  key->assign(pipeline);
  key->append(reinterpret_cast<const char*>(&day), sizeof(day));
}

size_t AppendStream::PartOf(std::string_view pipeline, int32_t day) const {
  if (parts_.size() == 1) return 0;
  // The high half: GroupEvents' index takes its slots from the low bits.
  return static_cast<size_t>((GroupHash(pipeline, day) >> 32) % parts_.size());
}

int64_t AppendStream::rows() const {
  int64_t rows = 0;
  for (const auto& part : parts_) rows += part->rows;
  return rows;
}

Status AppendStream::error() const {
  for (const auto& part : parts_) LAKELOG_RETURN_IF_ERROR(part->error);
  return Status::OK();
}

Status AppendStream::Add(std::span<const LogEvent* const> events) {
  if (events.empty()) return Status::OK();
  const Grouping grouping = GroupEvents(events);
  if (parts_.size() > 1) {
    // Every group's name first, so that a refused call adds nothing to any part.
    for (const Group& group : grouping.groups) {
      LAKELOG_RETURN_IF_ERROR(DeltaTableImpl::CheckPartitionValue(group.pipeline));
    }
  }
  for (size_t part = 0; part < parts_.size(); ++part) {
    LAKELOG_RETURN_IF_ERROR(AddGrouped(events, grouping, part));
  }
  return Status::OK();
}

Status AppendStream::AddPart(std::span<const LogEvent* const> events, size_t part) {
  if (events.empty()) return Status::OK();
  return AddGrouped(events, GroupEvents(events), part);
}

Status AppendStream::AddGrouped(std::span<const LogEvent* const> events, const Grouping& grouping,
                                size_t part_index) {
  Part& part = *parts_[part_index];
  LAKELOG_RETURN_IF_ERROR(part.error);
  // The part's groups (the others stay kNotMine), each name checked before any row goes in:
  // a refused call adds nothing to the part.
  constexpr size_t kNotMine = SIZE_MAX, kMine = SIZE_MAX - 1;
  part.call_files.assign(grouping.groups.size(), kNotMine);
  for (size_t g = 0; g < grouping.groups.size(); ++g) {
    const Group& group = grouping.groups[g];
    if (PartOf(group.pipeline, group.day) != part_index) continue;
    LAKELOG_RETURN_IF_ERROR(DeltaTableImpl::CheckPartitionValue(group.pipeline));
    part.call_files[g] = kMine;
  }
  for (size_t g = 0; g < grouping.groups.size(); ++g) {
    const Group& group = grouping.groups[g];
    if (part.call_files[g] == kNotMine) continue;
    FileKey(group.pipeline, group.day, &part.key);
    auto it = part.file_of.find(part.key);
    if (it == part.file_of.end()) {
      File file;
      file.pipeline = std::string(group.pipeline);
      file.day = group.day;
      Result<std::string> relative = table_->NewDataFilePath(group.pipeline, group.day);
      if (!relative.ok()) return part.error = relative.status();
      file.relative = std::move(relative).value();
      Result<size_t> handle = part.writer.Begin(fs_, JoinPath(root_, file.relative), group.rows);
      if (!handle.ok()) return part.error = handle.status();
      file.handle = *handle;
      it = part.file_of.emplace(part.key, part.files.size()).first;
      part.files.push_back(std::move(file));
    }
    part.call_files[g] = it->second;
  }
  if (part.runs.size() < grouping.groups.size()) part.runs.resize(grouping.groups.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const uint32_t g = grouping.group_of[i];
    if (part.call_files[g] != kNotMine) part.runs[g].push_back(events[i]);
  }
  for (size_t g = 0; g < grouping.groups.size(); ++g) {
    if (part.call_files[g] == kNotMine) continue;
    File& file = part.files[part.call_files[g]];
    Status st = part.writer.AddRows(file.handle, part.runs[g]);
    part.rows += static_cast<int64_t>(part.runs[g].size());
    part.runs[g].clear();
    if (!st.ok() && part.error.ok())
      part.error = st.WithContext("writing data file " + file.relative);
  }
  return part.error;
}

Result<DeltaCommitResult> AppendStream::Commit(const DeltaAppendOptions& options) {
  return table_->CommitStream(this, options);
}

void AppendStream::Abandon() {
  std::vector<std::string> relatives;
  for (const auto& part : parts_) {
    for (const File& file : part->files) {
      part->writer.Discard(file.handle);
      relatives.push_back(file.relative);
    }
    part->Reset();
  }
  // Only a file with a row group written out exists; the others were never created.
  table_->DeleteFiles(relatives);
}

Status AppendStream::FinishFiles(FileSyncer* syncer, std::vector<WrittenFile>* files,
                                 std::vector<std::string>* relatives) {
  Status failed;
  for (const auto& part : parts_) {
    std::vector<Result<parquet::DataFileStats>> results(
        part->files.size(), Result<parquet::DataFileStats>(Status::Internal("not written")));
    for (size_t i = 0; i < part->files.size(); ++i) {
      const File& file = part->files[i];
      relatives->push_back(file.relative);
      std::unique_ptr<WritableFile> out;
      results[i] = part->writer.Finish(file.handle, &out);
      if (results[i].ok()) {
        syncer->Submit(std::move(out), JoinPath(root_, file.relative),
                       JoinPath(root_, ParentPath(file.relative)), &results[i]);
      }
    }
    syncer->WaitIdle();
    for (size_t i = 0; i < part->files.size(); ++i) {
      const File& file = part->files[i];
      if (!results[i].ok()) {
        if (failed.ok()) failed = results[i].status();
        continue;
      }
      files->push_back(
          WrittenFile{file.relative, file.pipeline, file.day, std::move(results[i]).value()});
    }
    part->Reset();
  }
  return failed;
}

}  // namespace delta
}  // namespace lakelog

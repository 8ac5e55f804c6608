// DeltaTable::Open and DeltaTableImpl: creation, the append path (group, write files, commit)
// and the read entry points. The pieces of an Append each have a file of their own: the
// (pipeline, day) grouping (group_index.cc), the file-writer scheduler
// (file_write_scheduler.cc), the fsync pool (file_syncer.cc) and the commit loop with its
// conflict checks (commit_loop.cc).

#include "lakelog/delta_table.h"

#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "common/build_info.h"
#include "common/utf8.h"
#include "delta/actions.h"
#include "delta/append_stream.h"
#include "delta/checkpoint.h"
#include "delta/delta_table_impl.h"
#include "delta/file_write_scheduler.h"
#include "delta/group_index.h"
#include "delta/log_cleanup.h"
#include "delta/log_store.h"
#include "delta/partition_path.h"
#include "delta/snapshot.h"
#include "delta/stats.h"
#include "delta/table_schema.h"
#include "delta/uuid.h"

namespace lakelog {
namespace delta {
namespace {

std::string EngineInfo() { return "lakelog/" + std::string(LakelogVersion()); }

std::string PartitionByJson() {
  nlohmann::json columns = LogPartitionColumns();
  return columns.dump();
}

}  // namespace

Status DeltaTableImpl::OpenOrCreate() {
  // Nobody else holds the table yet; the lock is for the analysis (LoadLocked needs it).
  MutexLock lock(&mu_);
  Result<LogListing> listing = store_.List();
  bool empty = (!listing.ok() && listing.status().IsNotFound()) ||
               (listing.ok() && listing->latest_version() < 0);
  if (!listing.ok() && !listing.status().IsNotFound()) return listing.status();
  if (empty) {
    if (!options_.create_if_missing) {
      return Status::NotFound("no Delta table at " + root_);
    }
    Status created = Create();
    // Losing the creation race to another process is fine: open its table.
    if (!created.ok() && !created.IsAlreadyExists()) return created;
  }
  return LoadLocked();
}

Result<DeltaCommitResult> DeltaTableImpl::Append(std::span<const LogEvent* const> events,
                                                 const DeltaAppendOptions& options) {
  MutexLock lock(&mu_);
  DeltaCommitResult result;
  LAKELOG_ASSIGN_OR_RETURN(const bool skipped, CheckBeforeWritingLocked(options, &result));
  if (skipped) return result;
  if (events.empty() && options.txns.empty()) return result;

  const Grouping grouping = GroupEvents(events);
  const std::vector<Group>& groups = grouping.groups;
  for (const Group& group : groups) LAKELOG_RETURN_IF_ERROR(CheckPartitionValue(group.pipeline));

  // Directories first, then every file of the round concurrently: each file ends in an
  // fsync, and the fsync latency, not the encoding, dominates a round of many partitions.
  std::vector<WrittenFile> files(groups.size());
  std::vector<std::string> relatives;
  relatives.reserve(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    files[i].pipeline = std::string(groups[i].pipeline);
    files[i].day = groups[i].day;
    LAKELOG_ASSIGN_OR_RETURN(files[i].relative, NewDataFilePath(groups[i].pipeline, groups[i].day));
    relatives.push_back(files[i].relative);
  }
  // A txn-only commit (DeltaAppendOptions::txns without events) writes no file.
  std::vector<Result<parquet::DataFileStats>> all_stats;
  if (!groups.empty())
    all_stats = WriteGroupFiles(fs_, root_, options_.parquet, events, grouping, relatives,
                                &writers_, &syncer_);
  for (size_t i = 0; i < groups.size(); ++i) {
    if (!all_stats[i].ok()) {
      DeleteFiles(relatives);  // tolerates files that were never created
      return all_stats[i].status().WithContext("writing data file " + relatives[i]);
    }
    files[i].stats = std::move(all_stats[i]).value();
  }
  LAKELOG_RETURN_IF_ERROR(CommitFilesLocked(files, options, &result));
  return result;
}

Result<DeltaCommitResult> DeltaTableImpl::CommitStream(AppendStream* stream,
                                                       const DeltaAppendOptions& options) {
  MutexLock lock(&mu_);
  DeltaCommitResult result;
  Status st = stream->error();
  Result<bool> skipped = st.ok() ? CheckBeforeWritingLocked(options, &result) : st;
  if (!skipped.ok() || *skipped || (stream->rows() == 0 && options.txns.empty())) {
    stream->Abandon();
    LAKELOG_RETURN_IF_ERROR(skipped.status());
    return result;
  }
  std::vector<WrittenFile> files;
  std::vector<std::string> relatives;
  st = stream->FinishFiles(&syncer_, &files, &relatives);
  if (!st.ok()) {
    DeleteFiles(relatives);
    return st;
  }
  LAKELOG_RETURN_IF_ERROR(CommitFilesLocked(files, options, &result));
  return result;
}

std::unique_ptr<DeltaAppendStream> DeltaTableImpl::NewAppendStream(size_t parts) {
  return std::make_unique<AppendStream>(this, fs_, root_, options_.parquet, parts);
}

Result<bool> DeltaTableImpl::CheckBeforeWritingLocked(const DeltaAppendOptions& options,
                                                      DeltaCommitResult* result) {
  mu_.AssertHeld();
  LAKELOG_RETURN_IF_ERROR(CatchUpLocked());
  LAKELOG_RETURN_IF_ERROR(valid_);
  result->version = state_.version;
  if (options.txn.has_value() && TxnCoversLocked(*options.txn)) {
    LAKELOG_RETURN_IF_ERROR(SyncLogDir());
    result->skipped = true;
    return true;
  }
  LAKELOG_RETURN_IF_ERROR(CheckTxnList(options.txns));
  switch (ClassifyTxnListLocked(options.txns)) {
    case TxnListState::kFree: break;
    case TxnListState::kAllCommitted:
      LAKELOG_RETURN_IF_ERROR(SyncLogDir());
      result->skipped = true;
      return true;
    case TxnListState::kPartlyCommitted: return TxnListConflictLocked(options.txns);
  }
  return false;
}

Status DeltaTableImpl::CheckPartitionValue(std::string_view pipeline) {
  if (!IsValidUtf8(pipeline)) return Status::InvalidArgument("pipeline name is not valid UTF-8");
  return CheckPipelineName(pipeline);
}

Result<std::string> DeltaTableImpl::NewDataFilePath(std::string_view pipeline, int32_t day) {
  std::string dir = LogPartitionDirectory(pipeline, day);
  Status st = fs_->CreateDirs(JoinPath(root_, dir));
  if (!st.ok()) return st.WithContext("creating partition directory " + dir);
  return dir + "/" + NewDataFileName(options_.parquet.compression);
}

Status DeltaTableImpl::CommitFilesLocked(const std::vector<WrittenFile>& files,
                                         const DeltaAppendOptions& options,
                                         DeltaCommitResult* result) {
  mu_.AssertHeld();
  std::vector<std::string> written;  // relative paths, for cleanup
  std::vector<Action> actions;
  actions.reserve(files.size() + options.txns.size() + 2);
  actions.emplace_back(CommitInfoAction{});  // filled in below, once the totals are known
  if (options.txn.has_value()) {
    actions.emplace_back(TxnAction{options.txn->app_id, options.txn->version, NowMs()});
  }
  for (const DeltaTxn& txn : options.txns) {
    actions.emplace_back(TxnAction{txn.app_id, txn.version, NowMs()});
  }
  for (const WrittenFile& file : files) {
    written.push_back(file.relative);
    AddAction add;
    add.file.path = file.relative;
    add.file.partition_values["pipeline"] =
        file.pipeline.empty() ? std::nullopt : std::optional<std::string>(file.pipeline);
    add.file.partition_values["log_date"] = FormatDate(file.day);
    add.file.size = static_cast<int64_t>(file.stats.file_size_bytes);
    add.file.modification_time_ms = NowMs();
    add.file.data_change = true;
    add.file.stats = BuildAddStats(file.stats);
    add.file.num_records = file.stats.num_rows;
    result->partitions.push_back(add.file.partition_values);
    result->files_written += 1;
    result->rows_written += file.stats.num_rows;
    result->bytes_written += add.file.size;
    actions.emplace_back(std::move(add));
  }

  CommitInfoAction& info = std::get<CommitInfoAction>(actions.front());
  info.info.timestamp_ms = NowMs();
  info.info.operation = options.operation;
  info.info.parameters = {{"mode", "Append"}, {"partitionBy", PartitionByJson()}};
  info.info.metrics = {{"numFiles", std::to_string(result->files_written)},
                       {"numOutputRows", std::to_string(result->rows_written)},
                       {"numOutputBytes", std::to_string(result->bytes_written)}};
  info.info.engine_info = EngineInfo();
  if (state_.version >= 0) info.read_version = state_.version;
  info.isolation_level = "Serializable";
  info.is_blind_append = true;
  info.txn_id = NewUuidV4();

  Status st = CommitLoopLocked(SerializeCommit(actions), options, result);
  if (!st.ok() || result->skipped) {
    if (result->version != kCommitOutcomeUnknown) DeleteFiles(written);
    if (result->skipped) {
      result->partitions.clear();
      result->files_written = 0;
      result->rows_written = 0;
      result->bytes_written = 0;
      result->version = state_.version;
    }
  }
  LAKELOG_RETURN_IF_ERROR(st);
  if (!result->skipped) MaybeCheckpointLocked(result);
  return Status::OK();
}

void DeltaTableImpl::MaybeCheckpointLocked(DeltaCommitResult* result) {
  mu_.AssertHeld();
  if (!options_.write_checkpoints || result->version <= 0 ||
      result->version % CheckpointInterval(state_.metadata) != 0) {
    return;
  }
  Result<CheckpointInfo> written =
      WriteCheckpoint(fs_, &store_, result->version, options_.parquet, NowMs());
  if (!written.ok()) {
    result->checkpoint_status = written.status();
    return;
  }
  result->checkpoint_version = written->version;
  // The new checkpoint may let expired commits go (delta.logRetentionDuration).
  Result<LogCleanupResult> cleaned = CleanUpExpiredLog(fs_, store_, state_.metadata, NowMs());
  if (!cleaned.ok()) result->checkpoint_status = cleaned.status();
}

Result<std::optional<int64_t>> DeltaTableImpl::TxnVersion(const std::string& app_id) {
  MutexLock lock(&mu_);
  LAKELOG_RETURN_IF_ERROR(CatchUpLocked());
  auto it = state_.app_txns.find(app_id);
  if (it == state_.app_txns.end()) return std::optional<int64_t>();
  // Callers drop their copy of what this covers (WAL segments): it must be durable.
  LAKELOG_RETURN_IF_ERROR(SyncLogDir());
  return std::optional<int64_t>(it->second);
}

Status DeltaTableImpl::Create() {
  LAKELOG_RETURN_IF_ERROR(store_.CreateLogDir());
  DeltaMetadata metadata;
  metadata.id = NewUuidV4();
  metadata.schema_string = LogSchemaString();
  metadata.partition_columns = LogPartitionColumns();
  metadata.configuration = options_.configuration;
  metadata.created_time_ms = NowMs();

  CommitInfoAction info;
  info.info.timestamp_ms = NowMs();
  info.info.operation = "CREATE TABLE";
  nlohmann::json properties = nlohmann::json::object();
  for (const auto& [k, v] : options_.configuration) properties[k] = v;
  info.info.parameters = {
      {"partitionBy", PartitionByJson()},
      {"clusterBy", "[]"},
      {"isManaged", "false"},
      {"properties", properties.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}};
  info.info.engine_info = EngineInfo();
  info.isolation_level = "Serializable";
  info.is_blind_append = true;
  info.txn_id = NewUuidV4();

  std::vector<Action> actions;
  actions.emplace_back(std::move(info));
  actions.emplace_back(DeltaProtocol{});
  actions.emplace_back(std::move(metadata));
  return store_.WriteCommit(0, SerializeCommit(actions));
}

Status DeltaTableImpl::LoadLocked() {
  mu_.AssertHeld();
  LAKELOG_ASSIGN_OR_RETURN(DeltaSnapshot snapshot,
                           ReplayLatest(fs_, store_, /*track_files=*/false));
  LAKELOG_RETURN_IF_ERROR(Validate(snapshot.protocol, snapshot.metadata));
  valid_ = Status::OK();
  state_.version = snapshot.version;
  state_.protocol = std::move(snapshot.protocol);
  state_.metadata = std::move(snapshot.metadata);
  state_.app_txns = std::move(snapshot.app_txns);
  return Status::OK();
}

Status DeltaTableImpl::Validate(const DeltaProtocol& protocol, const DeltaMetadata& metadata) {
  LAKELOG_RETURN_IF_ERROR(CheckLogTableMetadata(metadata));
  return CheckWritableProtocol(protocol, metadata);
}

void DeltaTableImpl::DeleteFiles(const std::vector<std::string>& relative_paths) {
  for (const std::string& relative : relative_paths) {
    Status st = fs_->DeleteFile(JoinPath(root_, relative));
    (void)st;  // best effort: a leftover is an orphan for VACUUM, never table data
  }
}

}  // namespace delta

Result<std::unique_ptr<DeltaTable>> DeltaTable::Open(FileSystem* fs, const std::string& root,
                                                     const DeltaTableOptions& options) {
  if (fs == nullptr || root.empty()) return Status::InvalidArgument("DeltaTable::Open: no root");
  auto table = std::make_unique<delta::DeltaTableImpl>(fs, root, options);
  LAKELOG_RETURN_IF_ERROR(table->OpenOrCreate().WithContext("open Delta table " + root));
  return std::unique_ptr<DeltaTable>(std::move(table));
}

DeltaTable::~DeltaTable() = default;

Result<DeltaSnapshot> ReadDeltaSnapshot(FileSystem* fs, const std::string& root) {
  delta::LogStore store(fs, root);
  return delta::ReplayLatest(fs, store, /*track_files=*/true);
}

}  // namespace lakelog

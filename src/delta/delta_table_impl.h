// DeltaTableImpl, the DeltaTable that DeltaTable::Open returns, shared by the files of the
// append path: delta_table.cc (open, create, the append itself, checkpoints) and commit_loop.cc
// (the writer's view of the log, the commit loop and its conflict checks). Internal to src/delta.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "common/thread_pool.h"
#include "delta/actions.h"
#include "delta/file_syncer.h"
#include "delta/file_write_scheduler.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "lakelog/delta_table.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::delta {

class AppendStream;

// A data file of an append, written out and synced: where it is and what it holds.
struct WrittenFile {
  std::string relative;  // to the table root
  std::string pipeline;
  int32_t day = 0;
  parquet::DataFileStats stats;
};

// The part of the table state the writer needs; the file list is never kept in memory.
struct WriterState {
  int64_t version = -1;
  DeltaProtocol protocol;
  DeltaMetadata metadata;
  std::map<std::string, int64_t> app_txns;
};

class DeltaTableImpl final : public DeltaTable {
 public:
  DeltaTableImpl(FileSystem* fs, std::string root, DeltaTableOptions options)
      : fs_(fs),
        root_(std::move(root)),
        options_(std::move(options)),
        clock_(options_.clock != nullptr ? options_.clock : RealClock()),
        store_(fs_, root_) {}

  const std::string& root() const override { return root_; }

  // Opens or creates the table; see DeltaTable::Open.
  Status OpenOrCreate() EXCLUDES(mu_);

  Result<DeltaCommitResult> Append(std::span<const LogEvent* const> events,
                                   const DeltaAppendOptions& options) override EXCLUDES(mu_);

  std::unique_ptr<DeltaAppendStream> NewAppendStream(size_t parts) override;
  // AppendStream::Commit: writes the stream's files out and commits them as Append does.
  Result<DeltaCommitResult> CommitStream(AppendStream* stream, const DeltaAppendOptions& options)
      EXCLUDES(mu_);
  // The relative path of a new data file of (pipeline, day), its directory created.
  Result<std::string> NewDataFilePath(std::string_view pipeline, int32_t day);
  // InvalidArgument when `pipeline` cannot be a partition value.
  static Status CheckPartitionValue(std::string_view pipeline);
  void DeleteFiles(const std::vector<std::string>& relative_paths);

  Result<DeltaSnapshot> Snapshot() override { return ReplayLatest(fs_, store_, true); }

  Result<std::optional<int64_t>> TxnVersion(const std::string& app_id) override EXCLUDES(mu_);

  Result<std::vector<DeltaCommitInfo>> History() override { return ReadHistory(store_); }

 private:
  // Marks a result whose commit may or may not have landed: its files must be kept.
  static constexpr int64_t kCommitOutcomeUnknown = -2;

  // --- delta_table.cc ---

  int64_t NowMs() const { return clock_->NowMicros() / 1000; }

  Status Create();
  // Full replay of protocol/metaData/txns (no file list), then validation.
  Status LoadLocked() REQUIRES(mu_);
  static Status Validate(const DeltaProtocol& protocol, const DeltaMetadata& metadata);
  // After commit result->version: writes the checkpoint when that version is due one.
  void MaybeCheckpointLocked(DeltaCommitResult* result) REQUIRES(mu_);
  // An append's checks before anything is written (the table caught up and valid, its txns):
  // true when the commit is to be skipped, *result saying so.
  Result<bool> CheckBeforeWritingLocked(const DeltaAppendOptions& options,
                                        DeltaCommitResult* result) REQUIRES(mu_);
  // Commits `files` (written and synced) with the options' txns: commitInfo, txn and add
  // actions, the commit loop, a due checkpoint. Deletes the files when they are not committed
  // (but keeps them when the outcome is unknown).
  Status CommitFilesLocked(const std::vector<WrittenFile>& files, const DeltaAppendOptions& options,
                           DeltaCommitResult* result) REQUIRES(mu_);

  // --- commit_loop.cc ---

  // What the commits read while resolving a lost race did to ours.
  struct ConflictCheck {
    const DeltaAppendOptions* options = nullptr;
    bool protocol_or_metadata_changed = false;
    bool txn_already_committed = false;
  };
  // Applies commit `version` to state_. `check` is set while resolving a lost race.
  Status ApplyCommitLocked(int64_t version, std::vector<Action>& actions, ConflictCheck* check)
      REQUIRES(mu_);
  // Reads the commits after state_.version. When a checkpoint newer than our version exists,
  // the commits in between may have been cleaned up, so the state is rebuilt from scratch.
  Status CatchUpLocked(ConflictCheck* check = nullptr) REQUIRES(mu_);
  std::string ProtocolAndMetadataJsonLocked() const REQUIRES(mu_);

  // A commit can be visible yet not durable: its put-if-absent failed at the final directory
  // fsync, here or in a process that died. Before a writer vouches for a commit it did not
  // durably write itself (its own commit read back after an error, a txn it skips a batch on,
  // a txn version it reports), it syncs the log directory. (Found by
  // tests/delta/fault_matrix_test.cc: EIO at the directory sync of put-if-absent.)
  Status SyncLogDir();

  enum class TxnListState { kFree, kAllCommitted, kPartlyCommitted };
  // Where the table stands on DeltaAppendOptions::txns (see its contract).
  TxnListState ClassifyTxnListLocked(const std::vector<DeltaTxn>& txns) const REQUIRES(mu_);
  Status TxnListConflictLocked(const std::vector<DeltaTxn>& txns) const REQUIRES(mu_);
  static Status CheckTxnList(const std::vector<DeltaTxn>& txns);
  bool TxnCoversLocked(const DeltaTxn& txn) const REQUIRES(mu_);

  // Tries versions until the commit lands. On success result->version is the committed version.
  // result->version is kCommitOutcomeUnknown when a failed write may have landed anyway.
  Status CommitLoopLocked(const std::string& contents, const DeltaAppendOptions& options,
                          DeltaCommitResult* result) REQUIRES(mu_);

  FileSystem* fs_;
  const std::string root_;
  const DeltaTableOptions options_;
  Clock* const clock_;
  LogStore store_;
  // Serializes Append and TxnVersion (and Open, which holds it while nobody else can).
  Mutex mu_;
  WriterState state_ GUARDED_BY(mu_);
  // Whether state_'s protocol and metaData allow lakelog's appends.
  Status valid_ GUARDED_BY(mu_);
  // The threads of Append (one round at a time); see delta/file_write_scheduler.h.
  ThreadPool writers_ GUARDED_BY(mu_){kMaxWriteThreads - 1};
  FileSyncer syncer_ GUARDED_BY(mu_){fs_, kSyncThreads};
};

}  // namespace lakelog::delta

// DeltaTable::Impl, shared by the files of the append path: delta_table.cc (open, create, the
// append itself, checkpoints) and commit_loop.cc (the writer's view of the log, the commit loop
// and its conflict checks). Internal to src/delta.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "delta/actions.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "lakelog/delta_table.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog {

namespace delta {

// The part of the table state the writer needs; the file list is never kept in memory.
struct WriterState {
  int64_t version = -1;
  DeltaProtocol protocol;
  DeltaMetadata metadata;
  std::map<std::string, int64_t> app_txns;
};

}  // namespace delta

class DeltaTable::Impl {
 public:
  Impl(FileSystem* fs, std::string root, DeltaTableOptions options)
      : fs_(fs), root_(std::move(root)), options_(std::move(options)), store_(fs_, root_) {}

  const std::string& root() const { return root_; }

  // Opens or creates the table; see DeltaTable::Open.
  Status OpenOrCreate();

  Result<DeltaCommitResult> Append(std::span<const LogEvent* const> events,
                                   const DeltaAppendOptions& options);

  Result<DeltaSnapshot> Snapshot() { return delta::ReplayLatest(fs_, store_, true); }

  Result<std::optional<int64_t>> TxnVersion(const std::string& app_id);

  Result<std::vector<DeltaCommitInfo>> History() { return delta::ReadHistory(store_); }

 private:
  // Marks a result whose commit may or may not have landed: its files must be kept.
  static constexpr int64_t kCommitOutcomeUnknown = -2;

  // --- delta_table.cc ---

  Status Create();
  // Full replay of protocol/metaData/txns (no file list), then validation.
  Status Load();
  static Status Validate(const DeltaProtocol& protocol, const DeltaMetadata& metadata);
  // After commit result->version: writes the checkpoint when that version is due one.
  void MaybeCheckpoint(DeltaCommitResult* result);
  void DeleteFiles(const std::vector<std::string>& relative_paths);

  // --- commit_loop.cc ---

  // What the commits read while resolving a lost race did to ours.
  struct ConflictCheck {
    const DeltaAppendOptions* options = nullptr;
    bool protocol_or_metadata_changed = false;
    bool txn_already_committed = false;
  };
  // Applies commit `version` to state_. `check` is set while resolving a lost race.
  Status ApplyCommit(int64_t version, std::vector<delta::Action>& actions, ConflictCheck* check);
  // Reads the commits after state_.version. When a checkpoint newer than our version exists,
  // the commits in between may have been cleaned up, so the state is rebuilt from scratch.
  Status CatchUp(ConflictCheck* check = nullptr);
  std::string ProtocolAndMetadataJson() const;

  // A commit can be visible yet not durable: its put-if-absent failed at the final directory
  // fsync, here or in a process that died. Before a writer vouches for a commit it did not
  // durably write itself (its own commit read back after an error, a txn it skips a batch on,
  // a txn version it reports), it syncs the log directory. (Found by
  // tests/delta/fault_matrix_test.cc: EIO at the directory sync of put-if-absent.)
  Status SyncLogDir();

  enum class TxnListState { kFree, kAllCommitted, kPartlyCommitted };
  // Where the table stands on DeltaAppendOptions::txns (see its contract).
  TxnListState ClassifyTxnList(const std::vector<DeltaTxn>& txns) const;
  Status TxnListConflict(const std::vector<DeltaTxn>& txns) const;
  static Status CheckTxnList(const std::vector<DeltaTxn>& txns);
  bool TxnCovers(const DeltaTxn& txn) const;

  // Tries versions until the commit lands. On success result->version is the committed version.
  // result->version is kCommitOutcomeUnknown when a failed write may have landed anyway.
  Status CommitLoop(const std::string& contents, const DeltaAppendOptions& options,
                    DeltaCommitResult* result);

  FileSystem* fs_;
  const std::string root_;
  const DeltaTableOptions options_;
  delta::LogStore store_;
  std::mutex mu_;             // serializes Append and TxnVersion
  delta::WriterState state_;  // guarded by mu_ (after Open)
  // Whether state_'s protocol and metaData allow lakelog's appends; guarded by mu_.
  Status valid_;
};

}  // namespace lakelog

// Log replay: from the newest usable checkpoint plus the JSON commits after it, to a
// DeltaSnapshot (protocol, metaData, active files, app txns).
//
// Which start is used: the newest classic single-file checkpoint `c` (the one `_last_checkpoint`
// names when it is present and listed, else the newest listed) such that commits c+1..latest all
// exist; failing that, the JSON commits 0..latest. A checkpoint that cannot be read falls back to
// the next candidate. Multi-part and v2 checkpoints are never read: a table that can only be
// reconstructed through one is NotSupported, with the file named.
//
// Replay rules (PROTOCOL.md "Action Reconciliation"): the last protocol and metaData win; a txn
// replaces the previous one of its appId (its lastUpdated too, also when the newer txn has
// none); the active files are the adds not later removed, keyed
// by the URI-decoded path, with a later add of the same path replacing the earlier one.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "delta/actions.h"
#include "delta/log_store.h"
#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::delta {

// Accumulates actions in log order.
class SnapshotBuilder {
 public:
  // With `track_files` false, add/remove are ignored (cheap replay of protocol/metaData/txn).
  // With `keep_tombstones` too, removes not followed by an add of the same path are kept (a
  // checkpoint carries them, so that VACUUM keeps the files time travel may still read).
  explicit SnapshotBuilder(bool track_files, bool keep_tombstones = false)
      : track_files_(track_files), keep_tombstones_(track_files && keep_tombstones) {}

  void Apply(Action action);
  void set_version(int64_t version) { snapshot_.version = version; }
  void set_checkpoint_version(int64_t version) { snapshot_.checkpoint_version = version; }

  bool has_protocol() const { return has_protocol_; }
  bool has_metadata() const { return has_metadata_; }

  // The snapshot, files sorted by path. Corruption when no protocol or metaData was seen;
  // NotSupported when an active file carries a deletion vector (its rows are not all live).
  // With `tombstones`, also the kept removes, sorted by path.
  Result<DeltaSnapshot> Finish(std::vector<RemoveAction>* tombstones = nullptr) &&;

 private:
  bool track_files_;
  bool keep_tombstones_;
  bool has_protocol_ = false;
  bool has_metadata_ = false;
  DeltaSnapshot snapshot_;
  std::unordered_map<std::string, AddAction> files_;          // by FileKey(path, dv id)
  std::unordered_map<std::string, RemoveAction> tombstones_;  // by FileKey(path, dv id)
};

// Reads checkpoint `file` (a classic single-file one) through the Parquet reader into `builder`.
// Corruption naming the file and row for a row that does not parse.
Status ReadCheckpoint(FileSystem* fs, const LogStore& store, const CheckpointFile& file,
                      SnapshotBuilder* builder);

// Replays the latest version of the table. NotFound when there is no table at the store's root;
// Corruption for a commit that does not parse or a gap in the versions; NotSupported as above.
Result<DeltaSnapshot> ReplayLatest(FileSystem* fs, const LogStore& store, bool track_files);

// The table as of `version`, files and tombstones (see SnapshotBuilder) included: what a
// checkpoint of that version holds. NotFound when the log ends before `version`.
Result<DeltaSnapshot> ReplayVersion(FileSystem* fs, const LogStore& store, int64_t version,
                                    std::vector<RemoveAction>* tombstones);

// Every commit's commitInfo, oldest first, for the JSON commits still present.
Result<std::vector<DeltaCommitInfo>> ReadHistory(const LogStore& store);

}  // namespace lakelog::delta

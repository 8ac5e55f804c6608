#include "delta/snapshot.h"

#include <algorithm>
#include <set>
#include <type_traits>
#include <utility>

#include "delta/checkpoint_reader.h"
#include "delta/table_schema.h"

namespace lakelog {

int64_t DeltaSnapshot::TotalRows() const {
  int64_t total = 0;
  for (const DeltaAddFile& f : files) total += f.num_records.value_or(0);
  return total;
}

int64_t DeltaSnapshot::TotalBytes() const {
  int64_t total = 0;
  for (const DeltaAddFile& f : files) total += f.size;
  return total;
}

namespace delta {

namespace {

// A logical file: its path and, when it has one, its deletion vector (PROTOCOL.md, "Action
// Reconciliation").
std::string FileKey(const std::string& path, const std::string& deletion_vector_id) {
  if (deletion_vector_id.empty()) return path;
  std::string key = path;
  key.push_back('\0');
  key += deletion_vector_id;
  return key;
}

}  // namespace

void SnapshotBuilder::Apply(Action action) {
  std::visit(
      [this](auto&& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, DeltaProtocol>) {
          snapshot_.protocol = std::move(a);
          has_protocol_ = true;
        } else if constexpr (std::is_same_v<T, DeltaMetadata>) {
          snapshot_.metadata = std::move(a);
          has_metadata_ = true;
        } else if constexpr (std::is_same_v<T, TxnAction>) {
          // The txn replaces the previous one of its appId, lastUpdated included.
          if (a.last_updated_ms.has_value()) {
            snapshot_.app_txn_last_updated_ms[a.app_id] = *a.last_updated_ms;
          } else {
            snapshot_.app_txn_last_updated_ms.erase(a.app_id);
          }
          snapshot_.app_txns[a.app_id] = a.version;
        } else if constexpr (std::is_same_v<T, AddAction>) {
          if (track_files_) {
            std::string key = FileKey(a.file.path, a.deletion_vector_id);
            if (keep_tombstones_) tombstones_.erase(key);
            files_.insert_or_assign(std::move(key), std::move(a));
          }
        } else if constexpr (std::is_same_v<T, RemoveAction>) {
          std::string key = FileKey(a.path, a.deletion_vector_id);
          if (track_files_) files_.erase(key);
          if (keep_tombstones_) tombstones_.insert_or_assign(std::move(key), std::move(a));
        }
        // commitInfo does not change the table state.
      },
      std::move(action));
}

Result<DeltaSnapshot> SnapshotBuilder::Finish(std::vector<RemoveAction>* tombstones) && {
  if (!has_protocol_) {
    return Status::Corruption("Delta log has no protocol action up to version " +
                              std::to_string(snapshot_.version));
  }
  if (!has_metadata_) {
    return Status::Corruption("Delta log has no metaData action up to version " +
                              std::to_string(snapshot_.version));
  }
  LAKELOG_RETURN_IF_ERROR(CheckReadableProtocol(snapshot_.protocol, snapshot_.metadata));
  snapshot_.files.reserve(files_.size());
  for (auto& [path, add] : files_) {
    if (add.has_deletion_vector) {
      return Status::NotSupported("file " + add.file.path +
                                  " has a deletion vector (table feature deletionVectors), which "
                                  "lakelog cannot apply");
    }
    snapshot_.files.push_back(std::move(add.file));
  }
  std::sort(snapshot_.files.begin(), snapshot_.files.end(),
            [](const DeltaAddFile& a, const DeltaAddFile& b) { return a.path < b.path; });
  if (tombstones != nullptr) {
    tombstones->clear();
    for (auto& [path, remove] : tombstones_) tombstones->push_back(std::move(remove));
    std::sort(tombstones->begin(), tombstones->end(),
              [](const RemoveAction& a, const RemoveAction& b) { return a.path < b.path; });
  }
  return std::move(snapshot_);
}

Status ReadCheckpoint(FileSystem* fs, const LogStore& store, const CheckpointFile& file,
                      SnapshotBuilder* builder) {
  if (file.kind != CheckpointKind::kClassic) {
    return Status::NotSupported("checkpoint " + file.name +
                                " is multi-part or v2; lakelog reads classic checkpoints only");
  }
  Result<std::vector<Action>> actions =
      ReadCheckpointActions(fs, JoinPath(store.log_dir(), file.name), file.name);
  if (!actions.ok()) return actions.status().WithContext("checkpoint " + file.name);
  for (Action& action : *actions) builder->Apply(std::move(action));
  builder->set_checkpoint_version(file.version);
  return Status::OK();
}

namespace {

// True when every commit first..last is listed.
bool HasCommits(const std::set<int64_t>& commits, int64_t first, int64_t last) {
  if (first > last) return true;
  auto lo = commits.lower_bound(first);
  auto hi = commits.upper_bound(last);
  return std::distance(lo, hi) == last - first + 1;
}

// Replays commits first..latest onto `builder`.
Status ReplayCommits(const LogStore& store, int64_t first, int64_t latest,
                     SnapshotBuilder* builder) {
  for (int64_t v = first; v <= latest; ++v) {
    LAKELOG_ASSIGN_OR_RETURN(std::vector<Action> actions, store.ReadCommit(v));
    for (Action& action : actions) builder->Apply(std::move(action));
  }
  return Status::OK();
}

}  // namespace

namespace {

// Replays the table up to `target` (the latest version when nullopt).
Result<DeltaSnapshot> Replay(FileSystem* fs, const LogStore& store, std::optional<int64_t> target,
                             bool track_files, std::vector<RemoveAction>* tombstones) {
  LAKELOG_ASSIGN_OR_RETURN(LogListing listing, store.List());
  int64_t latest = listing.latest_version();
  if (latest < 0) {
    return Status::NotFound("no Delta table at " + store.table_root() + " (empty _delta_log)");
  }
  if (target.has_value()) {
    if (*target > latest) {
      return Status::NotFound("table " + store.table_root() + " has no version " +
                              std::to_string(*target) + " (latest " + std::to_string(latest) + ")");
    }
    latest = *target;
  }
  std::set<int64_t> commits(listing.commits.begin(), listing.commits.end());

  // Candidate checkpoints, best first: the hinted one, then the rest newest first.
  std::vector<const CheckpointFile*> candidates;
  std::optional<LastCheckpointHint> hint = store.ReadLastCheckpoint();
  for (auto it = listing.checkpoints.rbegin(); it != listing.checkpoints.rend(); ++it) {
    if (it->version > latest || !HasCommits(commits, it->version + 1, latest)) continue;
    bool hinted = hint.has_value() && hint->version == it->version;
    if (hinted) {
      candidates.insert(candidates.begin(), &*it);
    } else {
      candidates.push_back(&*it);
    }
  }

  Status first_error;
  const CheckpointFile* unsupported = nullptr;
  for (const CheckpointFile* checkpoint : candidates) {
    if (checkpoint->kind != CheckpointKind::kClassic) {
      if (unsupported == nullptr) unsupported = checkpoint;
      continue;
    }
    SnapshotBuilder builder(track_files, tombstones != nullptr);
    Status st = ReadCheckpoint(fs, store, *checkpoint, &builder);
    if (st.ok()) st = ReplayCommits(store, checkpoint->version + 1, latest, &builder);
    if (st.ok()) {
      builder.set_version(latest);
      return std::move(builder).Finish(tombstones);
    }
    if (first_error.ok()) first_error = st;
  }

  if (HasCommits(commits, 0, latest)) {
    SnapshotBuilder builder(track_files, tombstones != nullptr);
    LAKELOG_RETURN_IF_ERROR(ReplayCommits(store, 0, latest, &builder));
    builder.set_version(latest);
    return std::move(builder).Finish(tombstones);
  }
  if (!first_error.ok()) return first_error;
  if (unsupported != nullptr) {
    return Status::NotSupported("the table can only be read through checkpoint " +
                                unsupported->name +
                                ", which is multi-part or v2; lakelog reads classic checkpoints");
  }
  int64_t missing = 0;
  while (commits.count(missing)) ++missing;
  return Status::Corruption("Delta log of " + store.table_root() +
                            " has no usable checkpoint and commit " + std::to_string(missing) +
                            " is missing");
}

}  // namespace

Result<DeltaSnapshot> ReplayLatest(FileSystem* fs, const LogStore& store, bool track_files) {
  return Replay(fs, store, std::nullopt, track_files, nullptr);
}

Result<DeltaSnapshot> ReplayVersion(FileSystem* fs, const LogStore& store, int64_t version,
                                    std::vector<RemoveAction>* tombstones) {
  return Replay(fs, store, version, /*track_files=*/true, tombstones);
}

Result<std::vector<DeltaCommitInfo>> ReadHistory(const LogStore& store) {
  LAKELOG_ASSIGN_OR_RETURN(LogListing listing, store.List());
  std::vector<DeltaCommitInfo> history;
  for (int64_t version : listing.commits) {
    Result<std::vector<Action>> actions = store.ReadCommit(version);
    if (!actions.ok()) {
      if (actions.status().IsNotFound()) continue;  // cleaned up since the listing
      return actions.status();
    }
    for (Action& action : *actions) {
      if (auto* info = std::get_if<CommitInfoAction>(&action)) {
        info->info.version = version;
        history.push_back(std::move(info->info));
        break;
      }
    }
  }
  return history;
}

}  // namespace delta
}  // namespace lakelog

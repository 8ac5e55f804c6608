#include "maintenance/vacuum.h"

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "delta/actions.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "delta/table_properties.h"
#include "delta/transaction.h"
#include "maintenance/protocol.h"

namespace lakelog::maintenance {
namespace {

// Partition directories are entered even when a value makes the name start with '_' or '.'.
bool IsPartitionDirectory(std::string_view name, const std::vector<std::string>& columns) {
  for (const std::string& column : columns) {
    if (name.size() > column.size() && name.substr(0, column.size()) == column &&
        name[column.size()] == '=') {
      return true;
    }
  }
  return false;
}

bool IsHidden(std::string_view name, const std::vector<std::string>& partition_columns) {
  if (name.empty()) return true;
  if (name.front() != '_' && name.front() != '.') return false;
  return !IsPartitionDirectory(name, partition_columns);
}

// A path the log names, as a path relative to the root, or "" for one outside the table (an
// absolute URI elsewhere: a shallow clone's source; never ours to delete either way).
std::string RelativeToRoot(const std::string& path, const std::string& root) {
  std::string p = path;
  if (p.rfind("file://", 0) == 0) p = p.substr(7);
  if (p.empty() || (p.front() != '/' && p.find("://") == std::string::npos)) return p;
  std::string prefix = root;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  prefix += '/';
  if (p.rfind(prefix, 0) == 0) return p.substr(prefix.size());
  return "";
}

struct Walk {
  FileSystem* fs;
  std::string root;
  const std::vector<std::string>* partition_columns;
  const std::unordered_set<std::string>* referenced;
  int64_t cutoff_ms;
  std::vector<VacuumFile>* candidates;
  std::vector<std::string>* directories;  // every directory entered, parents before children

  // Walks root/relative. A directory or file that vanishes meanwhile is skipped.
  Status Visit(const std::string& relative) {
    Result<std::vector<std::string>> names = fs->ListDir(JoinPath(root, relative));
    if (!names.ok()) {
      if (names.status().IsNotFound()) return Status::OK();
      return names.status();
    }
    std::sort(names->begin(), names->end());
    for (const std::string& name : *names) {
      if (IsHidden(name, *partition_columns)) continue;
      const std::string child = relative.empty() ? name : relative + "/" + name;
      Result<FileInfo> info = fs->Stat(JoinPath(root, child));
      if (!info.ok()) {
        if (info.status().IsNotFound()) continue;
        return info.status();
      }
      if (info->is_symlink) continue;
      if (info->is_directory) {
        directories->push_back(child);
        LAKELOG_RETURN_IF_ERROR(Visit(child));
        continue;
      }
      if (referenced->count(child)) continue;
      if (info->modification_time_ms >= cutoff_ms) continue;
      candidates->push_back(VacuumFile{child, info->size});
    }
    return Status::OK();
  }
};

delta::CommitInfoAction VacuumCommitInfo(std::string operation, int64_t now_ms) {
  delta::CommitInfoAction info;
  info.info.timestamp_ms = now_ms;
  info.info.operation = std::move(operation);
  info.info.engine_info = "lakelog";
  info.isolation_level = "SnapshotIsolation";
  info.is_blind_append = false;
  return info;
}

}  // namespace

Result<VacuumResult> Vacuum(FileSystem* fs, const std::string& root, const VacuumOptions& options) {
  delta::LogStore store(fs, root);
  LAKELOG_ASSIGN_OR_RETURN(delta::LogListing listing, store.List());
  if (listing.latest_version() < 0) return Status::NotFound("no Delta table at " + root);
  std::vector<delta::RemoveAction> tombstones;
  LAKELOG_ASSIGN_OR_RETURN(DeltaSnapshot snapshot,
                           delta::ReplayVersion(fs, store, listing.latest_version(), &tombstones));
  LAKELOG_RETURN_IF_ERROR(CheckMaintainable(snapshot.protocol));

  VacuumResult result;
  result.table_version = snapshot.version;
  const int64_t table_retention = delta::TombstoneRetentionMs(snapshot.metadata);
  result.retention_ms = options.retention_ms.value_or(table_retention);
  if (result.retention_ms < 0) return Status::InvalidArgument("a negative retention");
  if (result.retention_ms < table_retention && !options.force) {
    return Status::InvalidArgument(
        "a retention of " + std::to_string(result.retention_ms / 3'600'000) +
        "h is below the table's delta.deletedFileRetentionDuration (" +
        std::to_string(table_retention / 3'600'000) +
        "h): readers of older versions and writers still in flight could lose files; pass "
        "--force to vacuum anyway");
  }
  result.cutoff_ms = options.now_ms - result.retention_ms;

  // What a version inside the window may read: the live files, and the removed ones whose
  // tombstones have not expired (a tombstone without a timestamp never expires).
  std::unordered_set<std::string> referenced;
  for (const DeltaAddFile& file : snapshot.files) {
    std::string relative = RelativeToRoot(file.path, root);
    if (!relative.empty()) referenced.insert(std::move(relative));
  }
  for (const delta::RemoveAction& removed : tombstones) {
    if (removed.deletion_timestamp_ms.value_or(INT64_MAX) <= result.cutoff_ms) continue;
    std::string relative = RelativeToRoot(removed.path, root);
    if (!relative.empty()) referenced.insert(std::move(relative));
  }

  std::vector<std::string> directories;
  Walk walk{fs,
            root,
            &snapshot.metadata.partition_columns,
            &referenced,
            result.cutoff_ms,
            &result.files,
            &directories};
  LAKELOG_RETURN_IF_ERROR(walk.Visit(""));
  for (const VacuumFile& file : result.files) result.bytes += file.size;
  if (options.dry_run) return result;

  delta::CommitInfoAction start = VacuumCommitInfo("VACUUM START", options.now_ms);
  start.info.parameters = {{"retentionCheckEnabled", options.force ? "false" : "true"},
                           {"defaultRetentionMillis", std::to_string(table_retention)},
                           {"specifiedRetentionMillis", std::to_string(result.retention_ms)}};
  start.info.metrics = {{"numFilesToDelete", std::to_string(result.files.size())},
                        {"sizeOfDataToDelete", std::to_string(result.bytes)}};
  LAKELOG_ASSIGN_OR_RETURN(
      result.start_version,
      delta::CommitActions(&store, snapshot.version, {std::move(start)}, delta::NoDataChangeCheck));

  std::vector<VacuumFile> deleted;
  deleted.reserve(result.files.size());
  for (VacuumFile& file : result.files) {
    if (fs->DeleteFile(JoinPath(root, file.path)).ok()) {
      deleted.push_back(std::move(file));
    } else {
      ++result.delete_failures;
    }
  }
  result.files = std::move(deleted);
  result.bytes = 0;
  for (const VacuumFile& file : result.files) result.bytes += file.size;
  // Children before parents, so a parent emptied by its children's removal goes too. DeleteDir
  // refuses a directory that is not empty (a writer's new file in it), which is what we want.
  for (auto it = directories.rbegin(); it != directories.rend(); ++it) {
    Result<std::vector<std::string>> names = fs->ListDir(JoinPath(root, *it));
    if (names.ok() && names->empty() && fs->DeleteDir(JoinPath(root, *it)).ok()) {
      ++result.directories_removed;
    }
  }

  delta::CommitInfoAction end = VacuumCommitInfo("VACUUM END", options.now_ms);
  end.info.parameters = {{"status", "COMPLETED"}};
  end.info.metrics = {{"numDeletedFiles", std::to_string(result.files.size())},
                      {"numVacuumedDirectories", std::to_string(result.directories_removed)}};
  LAKELOG_ASSIGN_OR_RETURN(result.end_version,
                           delta::CommitActions(&store, *result.start_version, {std::move(end)},
                                                delta::NoDataChangeCheck));
  return result;
}

}  // namespace lakelog::maintenance

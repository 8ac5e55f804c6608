// The files of `<table>/_delta_log`: naming, listing, reading and put-if-absent writing.
//
// Names (PROTOCOL.md):
//   00000000000000000007.json                           commit 7
//   00000000000000000010.checkpoint.parquet             classic single-file checkpoint
//   00000000000000000010.checkpoint.0000000001.0000000002.parquet   multi-part (not supported)
//   00000000000000000010.checkpoint.<uuid>.{json,parquet}           v2 (not supported)
//   _last_checkpoint                                    hint: the newest checkpoint
// Anything else (.crc files, _staged_commits/, compacted logs, temp files) is ignored.
//
// Thread-safety: stateless apart from the FileSystem, which is thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delta/actions.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::delta {

enum class CheckpointKind : uint8_t { kClassic, kMultiPart, kV2 };

struct CheckpointFile {
  int64_t version = 0;
  CheckpointKind kind = CheckpointKind::kClassic;
  std::string name;  // file name inside _delta_log
};

struct LogListing {
  std::vector<int64_t> commits;             // versions with a JSON commit, ascending
  std::vector<CheckpointFile> checkpoints;  // ascending by version
  int64_t latest_version() const;           // -1 when the log is empty
};

// The `_last_checkpoint` file.
struct LastCheckpointHint {
  int64_t version = 0;
  std::optional<int64_t> size;        // actions (rows) in the checkpoint
  std::optional<int64_t> size_bytes;  // sizeInBytes
  std::optional<int64_t> add_files;   // numOfAddFiles
  std::optional<int64_t> parts;       // present for a multi-part checkpoint
  bool v2 = false;                    // a v2Checkpoint member is present
};

class LogStore {
 public:
  // `fs` is not owned and must outlive the store.
  LogStore(FileSystem* fs, std::string table_root);

  const std::string& table_root() const { return table_root_; }
  const std::string& log_dir() const { return log_dir_; }

  // "00000000000000000007.json".
  static std::string CommitFileName(int64_t version);
  // "00000000000000000010.checkpoint.parquet": the classic checkpoint of `version`.
  static std::string CheckpointFileName(int64_t version);
  // The version of a commit file name, or nullopt for any other name.
  static std::optional<int64_t> ParseCommitFileName(std::string_view name);
  // The checkpoint a file name denotes, or nullopt for any other name.
  static std::optional<CheckpointFile> ParseCheckpointFileName(std::string_view name);

  // Lists the log. NotFound when `_delta_log` does not exist.
  Result<LogListing> List() const;

  // The `_last_checkpoint` hint; nullopt when absent or unreadable. The protocol makes it a hint
  // only, so a torn or garbage file must not make the table unreadable: callers list instead.
  std::optional<LastCheckpointHint> ReadLastCheckpoint() const;
  // Replaces `_last_checkpoint` atomically with `hint` (a classic checkpoint: no parts, no v2).
  Status WriteLastCheckpoint(const LastCheckpointHint& hint);

  // The raw bytes of commit `version`. NotFound when it does not exist.
  Result<std::string> ReadCommitBytes(int64_t version) const;
  // Commit `version`, parsed. NotFound when missing; Corruption (naming the file and line) when
  // it does not parse.
  Result<std::vector<Action>> ReadCommit(int64_t version) const;

  // Creates commit `version` holding `contents`, atomically and only if absent. AlreadyExists
  // when another writer committed that version first; any other error leaves it unknown whether
  // the commit landed (see DeltaTable's commit loop, which reads it back).
  Status WriteCommit(int64_t version, std::string_view contents);

  // Creates `_delta_log` (and the table root) if missing.
  Status CreateLogDir();

 private:
  FileSystem* fs_;
  std::string table_root_;
  std::string log_dir_;
};

}  // namespace lakelog::delta

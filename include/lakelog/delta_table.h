// DeltaTable: append LogEvents to a Delta Lake table, and read its state.
//
// The table is the pipeline_logs schema of DESIGN.md, partitioned by (pipeline, log_date). One
// Append() writes one Parquet file per (pipeline, log_date) present in the batch and publishes
// all of them in ONE atomic commit. Commits are put-if-absent through the FileSystem seam;
// losing the race for a version retries at the next one (blind appends never conflict).
//
// Thread-safety: a DeltaTable may be used from several threads; Append() calls serialize on an
// internal mutex. Several processes may append to one table at once. The table owns the threads
// an Append() writes and syncs its files on (started when an Append() first needs them).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lakelog/clock.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/parquet_options.h"
#include "lakelog/status.h"

namespace lakelog {

struct DeltaProtocol {
  int min_reader_version = 1;
  int min_writer_version = 2;
  std::vector<std::string> reader_features;
  std::vector<std::string> writer_features;
};

struct DeltaMetadata {
  std::string id;  // GUID
  // The table's user-facing name and description (Spark keeps `COMMENT '...'` in the latter).
  // nullopt when the log has none (JSON absent or null), which is not the same as "".
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::map<std::string, std::string> format_options;  // format.options; provider is "parquet"
  std::string schema_string;                          // Spark StructType JSON
  std::vector<std::string> partition_columns;
  std::map<std::string, std::string> configuration;
  std::optional<int64_t> created_time_ms;
};

struct DeltaAddFile {
  std::string path;  // relative to the table root, URI-decoded
  std::map<std::string, std::optional<std::string>> partition_values;  // nullopt = null
  int64_t size = 0;
  int64_t modification_time_ms = 0;
  bool data_change = true;
  std::optional<std::string> stats;  // the raw stats JSON, when present
  // numRecords from stats, when present.
  std::optional<int64_t> num_records;
};

struct DeltaCommitInfo {
  int64_t version = 0;
  std::optional<int64_t> timestamp_ms;
  std::string operation;                          // "WRITE", "CREATE TABLE", "OPTIMIZE", ...
  std::map<std::string, std::string> parameters;  // values as JSON text
  std::map<std::string, std::string> metrics;     // operationMetrics, values as text
  std::optional<std::string> engine_info;
};

// The table as of one version: the replay of checkpoint + JSON commits.
struct DeltaSnapshot {
  int64_t version = -1;
  DeltaProtocol protocol;
  DeltaMetadata metadata;
  std::vector<DeltaAddFile> files;          // active files, sorted by path
  std::map<std::string, int64_t> app_txns;  // txn appId -> latest version
  // txn appId -> lastUpdated (ms) of that appId's latest txn, for those whose latest txn has
  // one. Kept apart from app_txns so that a checkpoint carries it; the writer needs only the
  // version.
  std::map<std::string, int64_t> app_txn_last_updated_ms;
  std::optional<int64_t> checkpoint_version;  // the checkpoint the replay started from

  int64_t TotalRows() const;   // sum of num_records (files without stats count 0)
  int64_t TotalBytes() const;  // sum of size
};

// An idempotent-write marker: the commit carries txn {app_id, version}. When the table already
// holds a txn for `app_id` at `version` or above, Append() writes nothing and reports a skip.
struct DeltaTxn {
  std::string app_id;
  int64_t version = 0;
  // Only for DeltaAppendOptions::txns: the lowest version the batch covers (a Kafka partition's
  // first offset in it). A table holding app_id at a version in [first_version, version) has
  // part of the batch already, so the append is refused with Conflict. nullopt = no check.
  std::optional<int64_t> first_version = std::nullopt;
};

struct DeltaAppendOptions {
  std::optional<DeltaTxn> txn;
  // Several txns in ONE commit (the Kafka ingest daemon: one per topic-partition), besides or
  // instead of `txn`. The app ids must differ. The commit is skipped when the table already
  // holds every one of them (at or above its version); it is refused with Conflict when it
  // holds only some, or one overlaps its first_version, before or after losing a race, since
  // committing would then duplicate rows and skipping would lose them. The caller re-reads
  // the table's txn versions and builds the batch again.
  std::vector<DeltaTxn> txns;
  // Recorded in commitInfo.operationParameters / engineInfo.
  std::string operation = "WRITE";
  // Versions tried before giving up with Conflict. Each lost race re-reads the winners and
  // retries: at once for the first three losses in a row, then after a full-jitter backoff
  // (1 ms doubling to 100 ms) slept on the table's clock. Under many hot writers on object
  // storage a writer can lose dozens of races in a row, so the bound is high: it only stops a
  // writer that can never win.
  int max_commit_attempts = 1000;
};

struct DeltaCommitResult {
  int64_t version = -1;  // the version committed (or, when skipped, the table's version)
  bool skipped = false;  // idempotent duplicate: nothing was written
  int files_written = 0;
  int64_t rows_written = 0;
  int64_t bytes_written = 0;
  int attempts = 0;  // 1 when the first version tried was free
  // The partition values of each file written (one per (pipeline, log_date) of the batch).
  std::vector<std::map<std::string, std::optional<std::string>>> partitions;
  // The checkpoint this commit was due to write (every delta.checkpointInterval versions,
  // default 10), when it was written.
  std::optional<int64_t> checkpoint_version;
  // Why a due checkpoint was not written. The commit stands either way: readers replay the
  // JSON commits since the previous checkpoint.
  Status checkpoint_status;
};

// Auto-compaction of the partitions a long-running writer (the engine's Delta sink) appends to,
// in the background (docs/maintenance.md). Size-tiered: a partition's files below half the
// target are put in tiers by size (tier 0 below 4x its smallest file, then each tier
// `fan_in` times larger); when a tier holds `fan_in` files, it and every smaller tier are
// rewritten as one file (an OPTIMIZE commit with `auto: true`). Each file is rewritten about
// log_fan_in(hour's bytes / flush's bytes) times, and a partition keeps a handful of files.
struct AutoCompactionOptions {
  // Unset: on when the table property delta.autoOptimize.autoCompact is "true" or "auto".
  std::optional<bool> enabled;
  int fan_in = 4;
  uint64_t target_file_size = uint64_t{128} << 20;
};

struct DeltaTableOptions {
  ParquetWriteOptions parquet;
  bool create_if_missing = true;
  // Extra table properties for a newly created table's metaData.configuration.
  std::map<std::string, std::string> configuration;
  // Write a classic checkpoint after every commit whose version is a multiple of the table's
  // delta.checkpointInterval (default 10), as Delta writers do.
  bool write_checkpoints = true;
  // Used by the engine's Delta sink (NewDeltaSink), which also writes its checkpoints in the
  // background rather than inside the flush round that is due one.
  AutoCompactionOptions auto_compaction;
  // The table's time (null: RealClock()): commit timestamps, txn lastUpdated, files'
  // modificationTime, the checkpoint's tombstone and the log's retention cut-offs, and the
  // backoff after lost commit races (slept through Clock::SleepForMicros). Not owned. The
  // engine's Delta sink (NewDeltaSink) leaves a null clock to the engine's EngineOptions::clock.
  Clock* clock = nullptr;
};

// One Append fed in parts, for a writer whose batch is larger than it wants to hold as events
// (the Kafka ingest daemon): Add shreds its events into their (pipeline, log_date) file's
// column buffers at once, so the caller may reuse them as soon as it returns, and Commit writes
// the files out and commits them as Append would, with the same options and outcomes (skipped,
// Conflict). A group's rows go to its file in the order they were added. After Commit, whatever
// its outcome, or Abandon the stream is empty and takes the next batch; it keeps its buffers,
// so a writer that keeps its streams hardly allocates after its first batches. The files of a
// batch that is not committed are deleted (those of an unknown outcome left to VACUUM).
//
// A stream of several parts (NewAppendStream(parts)) splits the batch's (pipeline, log_date)
// files between them by a hash of the pair: AddPart(events, k) shreds only the events of part
// k's files, and the parts may be fed on different threads at once, each with every event (a
// group's rows still go to its one file in the order they were added).
//
// Thread-safety: a stream is used by one thread at a time, except AddPart of different parts.
// The streams of one table may be fed and committed on different threads at once; their commits
// are serialized by the table. A stream must not outlive its table.
class DeltaAppendStream {
 public:
  virtual ~DeltaAppendStream();
  // Shreds `events` into the batch. InvalidArgument for an event whose pipeline name cannot be
  // a partition value (as Append); nothing of that call is added then. An I/O error (a row group
  // over row_group_size_bytes is written out as it fills) sticks until Commit or Abandon.
  virtual Status Add(std::span<const LogEvent* const> events) = 0;
  // What Add does for the events of part `part`'s files (below parts()); the other events are
  // skipped. Refuses (InvalidArgument) only for an invalid name among those files' events.
  virtual Status AddPart(std::span<const LogEvent* const> events, size_t part) = 0;
  virtual size_t parts() const = 0;
  // The events added since the last Commit or Abandon.
  virtual int64_t rows() const = 0;
  virtual Result<DeltaCommitResult> Commit(const DeltaAppendOptions& options = {}) = 0;
  // Forgets the batch: nothing is written, files already created are deleted.
  virtual void Abandon() = 0;

 protected:
  DeltaAppendStream() = default;
};

// An interface: Open() returns the implementation (src/delta/delta_table_impl.h), which callers
// only ever hold as a DeltaTable.
class DeltaTable {
 public:
  // Opens the table at `root` (a directory path on `fs`, which must outlive the table), creating
  // it (version 0: protocol, metaData, commitInfo) when `create_if_missing` and absent. Fails
  // with InvalidArgument when an existing table's schema or partitioning is not pipeline_logs'.
  static Result<std::unique_ptr<DeltaTable>> Open(FileSystem* fs, const std::string& root,
                                                  const DeltaTableOptions& options);
  virtual ~DeltaTable();
  DeltaTable(const DeltaTable&) = delete;
  DeltaTable& operator=(const DeltaTable&) = delete;

  virtual const std::string& root() const = 0;

  // Appends the events: one data file per (pipeline, log_date) and one commit. An empty batch
  // commits nothing (but a txn still is checked).
  virtual Result<DeltaCommitResult> Append(std::span<const LogEvent* const> events,
                                           const DeltaAppendOptions& options = {}) = 0;

  // An empty stream to append a batch in parts (see DeltaAppendStream), its files split into
  // `parts` parts (at least 1) that may be fed on as many threads.
  virtual std::unique_ptr<DeltaAppendStream> NewAppendStream(size_t parts = 1) = 0;

  // The latest snapshot, replayed from the log.
  virtual Result<DeltaSnapshot> Snapshot() = 0;
  // The latest committed txn version for `app_id`, if any.
  virtual Result<std::optional<int64_t>> TxnVersion(const std::string& app_id) = 0;
  // Every commit's commitInfo, oldest first (versions that have one).
  virtual Result<std::vector<DeltaCommitInfo>> History() = 0;

 protected:
  DeltaTable() = default;
};

// Reads a snapshot without opening for write (no creation). NotFound when there is no table.
Result<DeltaSnapshot> ReadDeltaSnapshot(FileSystem* fs, const std::string& root);

}  // namespace lakelog

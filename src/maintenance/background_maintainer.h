// BackgroundMaintainer: the table upkeep of a long-running writer, off its write path. After each
// commit the writer tells it the version and the partitions written; one worker thread then
//   - writes the checkpoint that became due (every delta.checkpointInterval versions), followed
//     by log cleanup, so no flush round waits on an O(live files) checkpoint;
//   - auto-compacts the partitions written, size-tiered (AutoCompactionOptions in
//     lakelog/delta_table.h): an OPTIMIZE commit with `auto: true` of the files of the full tiers.
// Appends never conflict with those commits, and the worker never holds up the writer: work
// arriving while it is busy is merged into the next pass (latest version, union of partitions).
// Memory is one compaction bin (maintenance/optimize.h). Errors are kept for the writer to
// report (TakeErrors) and counted in stats().
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lakelog/clock.h"
#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::maintenance {

using PartitionValues = std::map<std::string, std::optional<std::string>>;

struct MaintainerStats {
  int64_t checkpoints = 0;
  int64_t checkpoint_failures = 0;
  int64_t compactions = 0;
  int64_t compaction_failures = 0;  // conflicts included (the next pass retries)
  int64_t files_in = 0;
  int64_t files_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  double compaction_seconds = 0;
};

struct MaintainerOptions {
  ParquetWriteOptions parquet;
  AutoCompactionOptions compaction;
  bool checkpoints = true;
  // The maintainer's time (null: RealClock()): commit timestamps, retention cut-offs, and the
  // backoff of a compaction's lost commit races (slept through Clock::SleepForMicros). Not
  // owned; outlives the maintainer.
  Clock* clock = nullptr;
};

class BackgroundMaintainer {
 public:
  BackgroundMaintainer(FileSystem* fs, std::string root, MaintainerOptions options);
  // Finishes the pass in progress (not the queued work) and stops the worker.
  ~BackgroundMaintainer();
  BackgroundMaintainer(const BackgroundMaintainer&) = delete;
  BackgroundMaintainer& operator=(const BackgroundMaintainer&) = delete;

  // The writer committed `version`, writing into `partitions`.
  void Committed(int64_t version, const std::vector<PartitionValues>& partitions);
  // Returns true once every piece of work handed over before the call is done, false when
  // `timeout` passes first (the work goes on).
  bool Drain(std::chrono::milliseconds timeout);
  // The errors since the last call, oldest first.
  std::vector<Status> TakeErrors();
  MaintainerStats stats() const;

  // Which of a partition's files (path, size) auto-compaction would rewrite now: the files of
  // the lowest full tier and every smaller tier; empty when no tier is full. Exposed for tests.
  static std::vector<std::string> PickFiles(std::vector<std::pair<std::string, uint64_t>> files,
                                            const AutoCompactionOptions& options);

 private:
  void Run();
  void Pass(int64_t version, const std::set<PartitionValues>& partitions);
  void Checkpoint(int64_t version);
  void Compact(const std::set<PartitionValues>& partitions);
  void Fail(Status status);
  void RecordErrorLocked(Status status);

  FileSystem* const fs_;
  const std::string root_;
  int64_t NowMs() const {
    return (options_.clock ? options_.clock : RealClock())->NowMicros() / 1000;
  }

  const MaintainerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t pending_version_ = -1;                  // guarded by mu_; -1: nothing pending
  std::set<PartitionValues> pending_partitions_;  // guarded by mu_
  uint64_t submitted_ = 0;                        // guarded by mu_: Committed() calls
  uint64_t done_ = 0;           // guarded by mu_: calls covered by finished passes
  std::vector<Status> errors_;  // guarded by mu_
  MaintainerStats stats_;       // guarded by mu_
  int64_t checkpointed_ = -1;   // worker thread only: newest checkpoint written
  std::thread worker_;
};

}  // namespace lakelog::maintenance

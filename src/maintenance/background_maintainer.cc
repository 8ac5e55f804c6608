#include "maintenance/background_maintainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "delta/checkpoint.h"
#include "delta/log_cleanup.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "maintenance/optimize.h"

namespace lakelog::maintenance {
namespace {

bool CompactionEnabled(const AutoCompactionOptions& options, const DeltaMetadata& metadata) {
  if (options.enabled.has_value()) return *options.enabled;
  auto it = metadata.configuration.find("delta.autoOptimize.autoCompact");
  if (it == metadata.configuration.end()) return false;
  std::string value = it->second;
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value == "true" || value == "auto";
}

}  // namespace

BackgroundMaintainer::BackgroundMaintainer(FileSystem* fs, std::string root,
                                           MaintainerOptions options)
    : fs_(fs), root_(std::move(root)), options_(std::move(options)) {
  worker_ = std::thread([this] { Run(); });
}

BackgroundMaintainer::~BackgroundMaintainer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void BackgroundMaintainer::Committed(int64_t version,
                                     const std::vector<PartitionValues>& partitions) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_version_ = std::max(pending_version_, version);
    pending_partitions_.insert(partitions.begin(), partitions.end());
    ++submitted_;
  }
  cv_.notify_all();
}

bool BackgroundMaintainer::Drain(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = submitted_;
  return cv_.wait_for(lock, timeout, [&] { return done_ >= target || stop_; });
}

std::vector<Status> BackgroundMaintainer::TakeErrors() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(errors_, {});
}

MaintainerStats BackgroundMaintainer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void BackgroundMaintainer::Fail(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  RecordErrorLocked(std::move(status));
}

void BackgroundMaintainer::RecordErrorLocked(Status status) {
  // Bounded: a writer that never asks keeps only the latest few.
  constexpr size_t kMaxErrors = 64;
  if (errors_.size() >= kMaxErrors) errors_.erase(errors_.begin());
  errors_.push_back(std::move(status));
}

void BackgroundMaintainer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || pending_version_ >= 0; });
    if (stop_) return;
    const int64_t version = std::exchange(pending_version_, -1);
    std::set<PartitionValues> partitions = std::exchange(pending_partitions_, {});
    const uint64_t covered = submitted_;
    lock.unlock();
    Pass(version, partitions);
    lock.lock();
    done_ = covered;
    cv_.notify_all();
  }
}

void BackgroundMaintainer::Pass(int64_t version, const std::set<PartitionValues>& partitions) {
  if (options_.checkpoints) Checkpoint(version);
  if (!partitions.empty()) Compact(partitions);
}

void BackgroundMaintainer::Checkpoint(int64_t version) {
  delta::LogStore store(fs_, root_);
  Result<DeltaSnapshot> table = delta::ReplayLatest(fs_, store, /*track_files=*/false);
  if (!table.ok()) {
    Fail(table.status().WithContext("background checkpoint: reading " + root_));
    return;
  }
  const int64_t interval = delta::CheckpointInterval(table->metadata);
  // The newest version due a checkpoint that this writer's commits reached.
  const int64_t due = version - version % interval;
  if (due <= 0 || due <= checkpointed_ ||
      (table->checkpoint_version.has_value() && *table->checkpoint_version >= due)) {
    return;
  }
  const int64_t now_ms = NowMs();
  Result<delta::CheckpointInfo> written =
      delta::WriteCheckpoint(fs_, &store, due, options_.parquet, now_ms);
  Status st = written.status();
  if (st.ok()) {
    checkpointed_ = due;
    Result<delta::LogCleanupResult> cleaned =
        delta::CleanUpExpiredLog(fs_, store, table->metadata, now_ms);
    st = cleaned.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (written.ok()) {
    ++stats_.checkpoints;
  } else {
    ++stats_.checkpoint_failures;
  }
  if (!st.ok()) {
    RecordErrorLocked(st.WithContext("background checkpoint of version " + std::to_string(due) +
                                     " of " + root_ + " (the commits stand)"));
  }
}

std::vector<std::string> BackgroundMaintainer::PickFiles(
    std::vector<std::pair<std::string, uint64_t>> files, const AutoCompactionOptions& options) {
  const uint64_t small = options.target_file_size / 2;
  files.erase(std::remove_if(files.begin(), files.end(),
                             [small](const auto& f) { return f.second >= small; }),
              files.end());
  if (files.size() < 2) return {};
  const size_t fan_in = static_cast<size_t>(std::max(2, options.fan_in));
  uint64_t smallest = UINT64_MAX;
  for (const auto& f : files) smallest = std::min(smallest, std::max<uint64_t>(1, f.second));
  const double base = 4.0 * static_cast<double>(smallest);
  auto tier = [&](uint64_t size) {
    if (static_cast<double>(size) < base) return 0;
    return static_cast<int>(std::log(static_cast<double>(size) / base) /
                            std::log(static_cast<double>(fan_in)));
  };
  std::map<int, size_t> counts;
  for (const auto& f : files) ++counts[tier(f.second)];
  for (const auto& [t, n] : counts) {
    if (n < fan_in) continue;
    std::vector<std::string> picked;
    for (const auto& f : files) {
      if (tier(f.second) <= t) picked.push_back(f.first);
    }
    return picked;
  }
  return {};
}

void BackgroundMaintainer::Compact(const std::set<PartitionValues>& partitions) {
  delta::LogStore store(fs_, root_);
  // A compaction's output joins a bigger tier, which may fill in turn: a few rounds, each on
  // the table as the previous one left it.
  constexpr int kMaxRounds = 4;
  for (int round = 0; round < kMaxRounds; ++round) {
    Result<DeltaSnapshot> snapshot = delta::ReplayLatest(fs_, store, /*track_files=*/true);
    if (!snapshot.ok()) {
      Fail(snapshot.status().WithContext("auto-compaction: reading " + root_));
      return;
    }
    if (!CompactionEnabled(options_.compaction, snapshot->metadata)) return;
    std::map<PartitionValues, std::vector<std::pair<std::string, uint64_t>>> by_partition;
    for (const DeltaAddFile& file : snapshot->files) {
      if (!partitions.count(file.partition_values)) continue;
      by_partition[file.partition_values].emplace_back(
          file.path, static_cast<uint64_t>(std::max<int64_t>(0, file.size)));
    }
    bool compacted = false;
    for (auto& [partition, files] : by_partition) {
      std::vector<std::string> picked = PickFiles(std::move(files), options_.compaction);
      if (picked.empty()) continue;
      OptimizeOptions optimize;
      optimize.parquet = options_.parquet;
      optimize.target_file_size = options_.compaction.target_file_size;
      optimize.auto_compaction = true;
      // On this thread: auto-compaction takes one core and starts no threads of its own.
      optimize.threads = 1;
      optimize.now_ms = NowMs();
      optimize.clock = options_.clock;
      optimize.only_paths.insert(picked.begin(), picked.end());
      const auto start = std::chrono::steady_clock::now();
      Result<OptimizeResult> result = Optimize(fs_, root_, optimize);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::lock_guard<std::mutex> lock(mu_);
      stats_.compaction_seconds += seconds;
      if (!result.ok()) {
        // A conflict (another compaction removed an input) is retried by the next pass.
        ++stats_.compaction_failures;
        RecordErrorLocked(result.status().WithContext("auto-compaction of " + root_));
        continue;
      }
      if (!result->version.has_value()) continue;
      compacted = true;
      ++stats_.compactions;
      stats_.files_in += result->files_removed;
      stats_.files_out += result->files_added;
      stats_.bytes_in += result->bytes_removed;
      stats_.bytes_out += result->bytes_added;
    }
    if (!compacted) return;
  }
}

}  // namespace lakelog::maintenance

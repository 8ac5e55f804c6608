// DeltaTable: creation, the append path (group, write files, commit) and the read entry points.
//
// Commit protocol (docs/delta-log.md): the writer keeps the table's version, protocol, metaData
// and txns current by reading the commits after the version it knows, then tries version V+1
// with put-if-absent. Losing the race means reading the winners: a protocol or metaData change
// is a Conflict, a txn of our appId at or above ours means our batch is already in the table
// (skip), anything else is another blind append and we retry at the next version after a
// full-jitter backoff.

#include "lakelog/delta_table.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/build_info.h"
#include "common/utf8.h"
#include "delta/actions.h"
#include "delta/checkpoint.h"
#include "delta/log_cleanup.h"
#include "delta/log_store.h"
#include "delta/partition_path.h"
#include "delta/snapshot.h"
#include "delta/stats.h"
#include "delta/table_schema.h"
#include "delta/uuid.h"
#include "parquet/log_file_writer.h"
#include "parquet/physical_types.h"

namespace lakelog {

namespace {

using delta::Action;
using delta::AddAction;
using delta::CommitInfoAction;
using delta::TxnAction;

std::string EngineInfo() { return "lakelog/" + std::string(LakelogVersion()); }

constexpr auto kBackoffBase = std::chrono::microseconds(1000);
constexpr auto kBackoffCap = std::chrono::microseconds(100'000);

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string PartitionByJson() {
  nlohmann::json columns = delta::LogPartitionColumns();
  return columns.dump();
}

// Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))].
void SleepBackoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t ceiling = kBackoffBase.count() << std::min(attempt - 1, 20);
  ceiling = std::min<int64_t>(ceiling, kBackoffCap.count());
  std::uniform_int_distribution<int64_t> dist(0, ceiling);
  std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
}

// CPUs this process may run on (its affinity mask), at least 1.
size_t UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

// A (pipeline, log_date) group of the batch. `pipeline` views an event's string.
struct Group {
  std::string_view pipeline;
  int32_t day = 0;
  size_t rows = 0;
  size_t first = 0;  // index in the batch of the group's first event
  size_t last = 0;   // and of its last
};

// The batch's events by group: groups sorted by key, and for each event its group's index.
struct Grouping {
  std::vector<Group> groups;
  std::vector<uint32_t> group_of;
};

// Where each (pipeline, day) group of a batch is: open addressing over indices into the group
// list, at most half full. A batch holds few groups (tens to thousands) and every event looks
// one up, so the lookup is one hash and usually one probe, with no division and no node chasing.
class GroupIndex {
 public:
  // The index of the group of (pipeline, day) in `groups`; appends a new group when absent.
  size_t FindOrAdd(std::string_view pipeline, int32_t day, std::vector<Group>* groups) {
    const uint64_t hash = Hash(pipeline, day);
    size_t slot = hash & mask_;
    while (true) {
      const uint32_t entry = slots_[slot];
      if (entry == kEmpty) break;
      const Group& group = (*groups)[entry];
      if (group.day == day && group.pipeline == pipeline) return entry;
      slot = (slot + 1) & mask_;
    }
    const size_t index = groups->size();
    groups->push_back(Group{pipeline, day});
    slots_[slot] = static_cast<uint32_t>(index);
    if (groups->size() * 2 > slots_.size()) Grow(*groups);
    return index;
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  static uint64_t Hash(std::string_view pipeline, int32_t day) {
    return parquet::HashBytes(pipeline.data(), pipeline.size()) ^
           (static_cast<uint64_t>(static_cast<uint32_t>(day)) * 0x9E3779B97F4A7C15ULL);
  }

  void Grow(const std::vector<Group>& groups) {
    slots_.assign(slots_.size() * 2, kEmpty);
    mask_ = slots_.size() - 1;
    for (size_t i = 0; i < groups.size(); ++i) {
      size_t slot = Hash(groups[i].pipeline, groups[i].day) & mask_;
      while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
      slots_[slot] = static_cast<uint32_t>(i);
    }
  }

  std::vector<uint32_t> slots_ = std::vector<uint32_t>(64, kEmpty);
  size_t mask_ = 63;
};

// Groups by (pipeline, UTC day of ts); groups come back sorted by key. Consecutive events of
// one group (the common case) skip the hash lookup.
Grouping GroupEvents(std::span<const LogEvent* const> events) {
  Grouping grouping;
  std::vector<Group>& groups = grouping.groups;
  grouping.group_of.resize(events.size());
  GroupIndex index;
  size_t last = SIZE_MAX;
  // Every event is read here for the first time and they may be scattered over the heap:
  // fetch the event kPrefetchEvents ahead, and the pipeline bytes of the one half as far ahead.
  constexpr size_t kPrefetchEvents = 8;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i + kPrefetchEvents < events.size()) {
      __builtin_prefetch(events[i + kPrefetchEvents]);
      __builtin_prefetch(&events[i + kPrefetchEvents]->ts_micros);
    }
    if (i + kPrefetchEvents / 2 < events.size()) {
      __builtin_prefetch(events[i + kPrefetchEvents / 2]->pipeline.data());
    }
    const LogEvent* event = events[i];
    const std::string_view pipeline = event->pipeline;
    const int32_t day = DaysFromMicros(event->ts_micros);
    if (last == SIZE_MAX || groups[last].day != day || groups[last].pipeline != pipeline) {
      last = index.FindOrAdd(pipeline, day, &groups);
      if (groups[last].rows == 0) groups[last].first = i;
    }
    Group& group = groups[last];
    ++group.rows;
    group.last = i;
    grouping.group_of[i] = static_cast<uint32_t>(last);
  }
  std::vector<uint32_t> order(groups.size());
  for (uint32_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(), [&groups](uint32_t a, uint32_t b) {
    const Group& x = groups[a];
    const Group& y = groups[b];
    return x.pipeline != y.pipeline ? x.pipeline < y.pipeline : x.day < y.day;
  });
  std::vector<uint32_t> rank(groups.size());
  std::vector<Group> sorted;
  sorted.reserve(groups.size());
  for (uint32_t r = 0; r < order.size(); ++r) {
    rank[order[r]] = r;
    sorted.push_back(groups[order[r]]);
  }
  groups = std::move(sorted);
  for (uint32_t& g : grouping.group_of) g = rank[g];
  return grouping;
}

}  // namespace

// Syncs and closes finished data files, and syncs their directories, on threads of its own: the
// threads that encode files never wait on the device, and the fsyncs of a round overlap.
// At most kMaxWaiting files wait at a time (each holds a descriptor); Submit blocks beyond.
class FileSyncer {
 public:
  FileSyncer(FileSystem* fs, size_t threads) : fs_(fs) {
    for (size_t t = 0; t < threads; ++t) threads_.emplace_back([this] { Run(); });
  }
  ~FileSyncer() { Drain(); }

  // Syncs and closes `file`, the data file at `path`, then syncs `dir`; a failure replaces
  // *result, which the caller reads only after Drain().
  void Submit(std::unique_ptr<WritableFile> file, std::string path, std::string dir,
              Result<parquet::DataFileStats>* result) {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [this] { return queue_.size() < kMaxWaiting; });
    queue_.push_back(Job{std::move(file), std::move(path), std::move(dir), result});
    work_.notify_one();
  }

  // Waits for every submitted file, and stops the threads.
  void Drain() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    work_.notify_all();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }

 private:
  static constexpr size_t kMaxWaiting = 16;

  struct Job {
    std::unique_ptr<WritableFile> file;
    std::string path;
    std::string dir;
    Result<parquet::DataFileStats>* result;
  };

  void Run() {
    while (true) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [this] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        room_.notify_one();
      }
      Status status = job.file->Sync();
      Status closed = job.file->Close();
      if (status.ok()) status = closed;
      if (!status.ok()) {
        *job.result = status.WithContext(job.path);
        continue;
      }
      // The file's fsync does not make its name durable: without the directory's fsync a
      // power loss after the commit can leave an add that points at no file. (Found by
      // tests/delta/fault_matrix_test.cc, CleanAppendSurvivesPowerLoss.)
      Status synced = fs_->SyncDir(job.dir);
      if (!synced.ok()) *job.result = synced.WithContext("syncing the directory of " + job.path);
    }
  }

  FileSystem* fs_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable room_;
  std::deque<Job> queue_;  // guarded by mu_
  bool done_ = false;      // guarded by mu_
  std::vector<std::thread> threads_;
};

// The part of the table state the writer needs; the file list is never kept in memory.
struct WriterState {
  int64_t version = -1;
  DeltaProtocol protocol;
  DeltaMetadata metadata;
  std::map<std::string, int64_t> app_txns;
};

class DeltaTable::Impl {
 public:
  Impl(FileSystem* fs, std::string root, DeltaTableOptions options)
      : fs_(fs), root_(std::move(root)), options_(std::move(options)), store_(fs_, root_) {}

  const std::string& root() const { return root_; }

  // Opens or creates the table; see DeltaTable::Open.
  Status OpenOrCreate() {
    Result<delta::LogListing> listing = store_.List();
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
    return Load();
  }

  Result<DeltaCommitResult> Append(std::span<const LogEvent* const> events,
                                   const DeltaAppendOptions& options) {
    std::lock_guard<std::mutex> lock(mu_);
    LAKELOG_RETURN_IF_ERROR(CatchUp());
    LAKELOG_RETURN_IF_ERROR(valid_);
    DeltaCommitResult result;
    result.version = state_.version;
    if (options.txn.has_value() && TxnCovers(*options.txn)) {
      LAKELOG_RETURN_IF_ERROR(SyncLogDir());
      result.skipped = true;
      return result;
    }
    LAKELOG_RETURN_IF_ERROR(CheckTxnList(options.txns));
    switch (ClassifyTxnList(options.txns)) {
      case TxnListState::kFree: break;
      case TxnListState::kAllCommitted:
        LAKELOG_RETURN_IF_ERROR(SyncLogDir());
        result.skipped = true;
        return result;
      case TxnListState::kPartlyCommitted: return TxnListConflict(options.txns);
    }
    if (events.empty() && options.txns.empty()) return result;

    const Grouping grouping = GroupEvents(events);
    const std::vector<Group>& groups = grouping.groups;
    for (const Group& group : groups) {
      if (!IsValidUtf8(group.pipeline)) {
        return Status::InvalidArgument("pipeline name is not valid UTF-8");
      }
      LAKELOG_RETURN_IF_ERROR(delta::CheckPipelineName(group.pipeline));
    }

    std::vector<std::string> written;  // relative paths, for cleanup
    std::vector<Action> actions;
    actions.reserve(groups.size() + 2);
    actions.emplace_back(CommitInfoAction{});  // filled in below, once the totals are known
    if (options.txn.has_value()) {
      actions.emplace_back(TxnAction{options.txn->app_id, options.txn->version, NowMs()});
    }
    for (const DeltaTxn& txn : options.txns) {
      actions.emplace_back(TxnAction{txn.app_id, txn.version, NowMs()});
    }
    // Directories first, then every file of the round concurrently: each file ends in an
    // fsync, and the fsync latency, not the encoding, dominates a round of many partitions.
    std::vector<std::string> relatives;
    relatives.reserve(groups.size());
    for (const Group& group : groups) {
      std::string dir = delta::LogPartitionDirectory(group.pipeline, group.day);
      relatives.push_back(dir + "/" + delta::NewDataFileName(options_.parquet.compression));
      Status st = fs_->CreateDirs(JoinPath(root_, dir));
      if (!st.ok()) return st.WithContext("creating partition directory " + dir);
    }
    written = relatives;  // cleanup on failure tolerates files that were never created
    // A txn-only commit (DeltaAppendOptions::txns without events) writes no file.
    std::vector<Result<parquet::DataFileStats>> all_stats;
    if (!groups.empty()) all_stats = WriteFilesConcurrently(events, grouping, relatives);
    for (size_t i = 0; i < groups.size(); ++i) {
      const Group& group = groups[i];
      const std::string& relative = relatives[i];
      const Result<parquet::DataFileStats>& stats = all_stats[i];
      if (!stats.ok()) {
        DeleteFiles(written);
        return stats.status().WithContext("writing data file " + relative);
      }
      AddAction add;
      add.file.path = relative;
      add.file.partition_values["pipeline"] =
          group.pipeline.empty() ? std::nullopt : std::optional<std::string>(group.pipeline);
      add.file.partition_values["log_date"] = FormatDate(group.day);
      add.file.size = static_cast<int64_t>(stats->file_size_bytes);
      add.file.modification_time_ms = NowMs();
      add.file.data_change = true;
      add.file.stats = delta::BuildAddStats(*stats);
      add.file.num_records = stats->num_rows;
      result.partitions.push_back(add.file.partition_values);
      result.files_written += 1;
      result.rows_written += stats->num_rows;
      result.bytes_written += add.file.size;
      actions.emplace_back(std::move(add));
    }

    CommitInfoAction& info = std::get<CommitInfoAction>(actions.front());
    info.info.timestamp_ms = NowMs();
    info.info.operation = options.operation;
    info.info.parameters = {{"mode", "Append"}, {"partitionBy", PartitionByJson()}};
    info.info.metrics = {{"numFiles", std::to_string(result.files_written)},
                         {"numOutputRows", std::to_string(result.rows_written)},
                         {"numOutputBytes", std::to_string(result.bytes_written)}};
    info.info.engine_info = EngineInfo();
    if (state_.version >= 0) info.read_version = state_.version;
    info.isolation_level = "Serializable";
    info.is_blind_append = true;
    info.txn_id = delta::NewUuidV4();

    Status st = CommitLoop(delta::SerializeCommit(actions), options, &result);
    if (!st.ok() || result.skipped) {
      if (result.version != kCommitOutcomeUnknown) DeleteFiles(written);
      if (result.skipped) {
        result.partitions.clear();
        result.files_written = 0;
        result.rows_written = 0;
        result.bytes_written = 0;
        result.version = state_.version;
      }
    }
    if (!st.ok()) return st;
    if (!result.skipped) MaybeCheckpoint(&result);
    return result;
  }

  // After commit result->version: writes the checkpoint when that version is due one.
  void MaybeCheckpoint(DeltaCommitResult* result) {
    if (!options_.write_checkpoints || result->version <= 0 ||
        result->version % delta::CheckpointInterval(state_.metadata) != 0) {
      return;
    }
    Result<delta::CheckpointInfo> written =
        delta::WriteCheckpoint(fs_, &store_, result->version, options_.parquet, NowMs());
    if (!written.ok()) {
      result->checkpoint_status = written.status();
      return;
    }
    result->checkpoint_version = written->version;
    // The new checkpoint may let expired commits go (delta.logRetentionDuration).
    Result<delta::LogCleanupResult> cleaned =
        delta::CleanUpExpiredLog(fs_, store_, state_.metadata, NowMs());
    if (!cleaned.ok()) result->checkpoint_status = cleaned.status();
  }

  Result<DeltaSnapshot> Snapshot() { return delta::ReplayLatest(fs_, store_, true); }

  Result<std::optional<int64_t>> TxnVersion(const std::string& app_id) {
    std::lock_guard<std::mutex> lock(mu_);
    LAKELOG_RETURN_IF_ERROR(CatchUp());
    auto it = state_.app_txns.find(app_id);
    if (it == state_.app_txns.end()) return std::optional<int64_t>();
    // Callers drop their copy of what this covers (WAL segments): it must be durable.
    LAKELOG_RETURN_IF_ERROR(SyncLogDir());
    return std::optional<int64_t>(it->second);
  }

  Result<std::vector<DeltaCommitInfo>> History() { return delta::ReadHistory(store_); }

 private:
  // Marks a result whose commit may or may not have landed: its files must be kept.
  static constexpr int64_t kCommitOutcomeUnknown = -2;

  Status Create() {
    LAKELOG_RETURN_IF_ERROR(store_.CreateLogDir());
    DeltaMetadata metadata;
    metadata.id = delta::NewUuidV4();
    metadata.schema_string = delta::LogSchemaString();
    metadata.partition_columns = delta::LogPartitionColumns();
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
    info.txn_id = delta::NewUuidV4();

    std::vector<Action> actions;
    actions.emplace_back(std::move(info));
    actions.emplace_back(DeltaProtocol{});
    actions.emplace_back(std::move(metadata));
    return store_.WriteCommit(0, delta::SerializeCommit(actions));
  }

  // Full replay of protocol/metaData/txns (no file list), then validation.
  Status Load() {
    LAKELOG_ASSIGN_OR_RETURN(DeltaSnapshot snapshot,
                             delta::ReplayLatest(fs_, store_, /*track_files=*/false));
    LAKELOG_RETURN_IF_ERROR(Validate(snapshot.protocol, snapshot.metadata));
    valid_ = Status::OK();
    state_.version = snapshot.version;
    state_.protocol = std::move(snapshot.protocol);
    state_.metadata = std::move(snapshot.metadata);
    state_.app_txns = std::move(snapshot.app_txns);
    return Status::OK();
  }

  Status Validate(const DeltaProtocol& protocol, const DeltaMetadata& metadata) {
    LAKELOG_RETURN_IF_ERROR(delta::CheckLogTableMetadata(metadata));
    return delta::CheckWritableProtocol(protocol, metadata);
  }

  // Applies commit `version` to state_. `conflict_check` is set while resolving a lost race.
  struct ConflictCheck {
    const DeltaAppendOptions* options = nullptr;
    bool protocol_or_metadata_changed = false;
    bool txn_already_committed = false;
  };
  Status ApplyCommit(int64_t version, std::vector<Action>& actions, ConflictCheck* check) {
    bool metadata_changed = false;
    for (Action& action : actions) {
      if (auto* p = std::get_if<DeltaProtocol>(&action)) {
        state_.protocol = std::move(*p);
        metadata_changed = true;
      } else if (auto* m = std::get_if<DeltaMetadata>(&action)) {
        state_.metadata = std::move(*m);
        metadata_changed = true;
      } else if (auto* t = std::get_if<TxnAction>(&action)) {
        if (check != nullptr && check->options->txn.has_value() &&
            t->app_id == check->options->txn->app_id &&
            t->version >= check->options->txn->version) {
          check->txn_already_committed = true;
        }
        state_.app_txns[t->app_id] = t->version;
      }
    }
    state_.version = version;
    if (metadata_changed) {
      if (check != nullptr) check->protocol_or_metadata_changed = true;
      valid_ = Validate(state_.protocol, state_.metadata);
    }
    return Status::OK();
  }

  // Reads the commits after state_.version. When a checkpoint newer than our version exists,
  // the commits in between may have been cleaned up, so the state is rebuilt from scratch.
  Status CatchUp(ConflictCheck* check = nullptr) {
    std::optional<delta::LastCheckpointHint> hint = store_.ReadLastCheckpoint();
    if (hint.has_value() && hint->version > state_.version) {
      std::string before = ProtocolAndMetadataJson();
      LAKELOG_RETURN_IF_ERROR(Load());
      if (check != nullptr) {
        // The commits in between are gone; judge them by the state they led to.
        if (ProtocolAndMetadataJson() != before) check->protocol_or_metadata_changed = true;
        if (check->options->txn.has_value() && TxnCovers(*check->options->txn)) {
          check->txn_already_committed = true;
        }
      }
    }
    while (true) {
      Result<std::vector<Action>> actions = store_.ReadCommit(state_.version + 1);
      if (!actions.ok()) {
        if (actions.status().IsNotFound()) return Status::OK();
        return actions.status();
      }
      LAKELOG_RETURN_IF_ERROR(ApplyCommit(state_.version + 1, *actions, check));
    }
  }

  std::string ProtocolAndMetadataJson() const {
    return delta::SerializeAction(state_.protocol) + delta::SerializeAction(state_.metadata);
  }

  // A commit can be visible yet not durable: its put-if-absent failed at the final directory
  // fsync, here or in a process that died. Before a writer vouches for a commit it did not
  // durably write itself (its own commit read back after an error, a txn it skips a batch on,
  // a txn version it reports), it syncs the log directory. (Found by
  // tests/delta/fault_matrix_test.cc: EIO at the directory sync of put-if-absent.)
  Status SyncLogDir() {
    Status st = fs_->SyncDir(store_.log_dir());
    return st.ok() ? st : st.WithContext("syncing " + store_.log_dir());
  }

  enum class TxnListState { kFree, kAllCommitted, kPartlyCommitted };

  // Where the table stands on DeltaAppendOptions::txns (see its contract).
  TxnListState ClassifyTxnList(const std::vector<DeltaTxn>& txns) const {
    if (txns.empty()) return TxnListState::kFree;
    size_t covered = 0;
    bool overlap = false;
    for (const DeltaTxn& txn : txns) {
      auto it = state_.app_txns.find(txn.app_id);
      if (it == state_.app_txns.end()) continue;
      if (it->second >= txn.version) {
        ++covered;
      } else if (txn.first_version.has_value() && it->second >= *txn.first_version) {
        overlap = true;
      }
    }
    if (covered == txns.size()) return TxnListState::kAllCommitted;
    if (covered > 0 || overlap) return TxnListState::kPartlyCommitted;
    return TxnListState::kFree;
  }

  Status TxnListConflict(const std::vector<DeltaTxn>& txns) const {
    std::string held;
    for (const DeltaTxn& txn : txns) {
      auto it = state_.app_txns.find(txn.app_id);
      if (it == state_.app_txns.end()) continue;
      if (it->second >= txn.first_version.value_or(txn.version)) {
        held += (held.empty() ? "" : ", ") + txn.app_id + " at " + std::to_string(it->second);
      }
    }
    return Status::Conflict("the table already holds part of this batch (txn " + held +
                            "); re-read the txn versions and rebuild the batch");
  }

  static Status CheckTxnList(const std::vector<DeltaTxn>& txns) {
    for (size_t i = 0; i < txns.size(); ++i) {
      if (txns[i].app_id.empty()) return Status::InvalidArgument("txn with an empty appId");
      for (size_t j = 0; j < i; ++j) {
        if (txns[j].app_id == txns[i].app_id) {
          return Status::InvalidArgument("two txns with appId " + txns[i].app_id);
        }
      }
    }
    return Status::OK();
  }

  bool TxnCovers(const DeltaTxn& txn) const {
    auto it = state_.app_txns.find(txn.app_id);
    return it != state_.app_txns.end() && it->second >= txn.version;
  }

  // Tries versions until the commit lands. On success result->version is the committed version.
  // result->version is kCommitOutcomeUnknown when a failed write may have landed anyway.
  Status CommitLoop(const std::string& contents, const DeltaAppendOptions& options,
                    DeltaCommitResult* result) {
    const int max_attempts = std::max(1, options.max_commit_attempts);
    for (int attempt = 1; attempt <= max_attempts; ++attempt) {
      const int64_t version = state_.version + 1;
      result->attempts = attempt;
      Status st = store_.WriteCommit(version, contents);
      if (!st.ok() && !st.IsAlreadyExists()) {
        // put-if-absent failed, but it may have failed after the commit became visible (e.g. the
        // directory fsync). The commit bytes (with their unique txnId) tell.
        Result<std::string> landed = store_.ReadCommitBytes(version);
        if (landed.ok() && *landed == contents) {
          st = SyncLogDir();
          if (!st.ok()) {
            result->version = kCommitOutcomeUnknown;  // visible; durable only if a sync succeeds
            return st.WithContext("commit " + std::to_string(version));
          }
        } else if (landed.ok()) {
          st = Status::AlreadyExists("lost the race");
        } else {
          if (!landed.status().IsNotFound()) result->version = kCommitOutcomeUnknown;
          return st.WithContext("commit " + std::to_string(version));
        }
      }
      if (st.ok()) {
        std::vector<Action> ours;
        if (options.txn.has_value()) {
          ours.emplace_back(TxnAction{options.txn->app_id, options.txn->version, std::nullopt});
        }
        for (const DeltaTxn& txn : options.txns) {
          ours.emplace_back(TxnAction{txn.app_id, txn.version, std::nullopt});
        }
        LAKELOG_RETURN_IF_ERROR(ApplyCommit(version, ours, nullptr));
        result->version = version;
        return Status::OK();
      }
      // Lost the race: read every winner, then decide.
      ConflictCheck check;
      check.options = &options;
      LAKELOG_RETURN_IF_ERROR(CatchUp(&check));
      if (check.txn_already_committed) {
        LAKELOG_RETURN_IF_ERROR(SyncLogDir());
        result->skipped = true;
        return Status::OK();
      }
      if (check.protocol_or_metadata_changed) {
        return Status::Conflict("a concurrent commit changed the table's protocol or metaData");
      }
      switch (ClassifyTxnList(options.txns)) {
        case TxnListState::kFree: break;
        case TxnListState::kAllCommitted:
          LAKELOG_RETURN_IF_ERROR(SyncLogDir());
          result->skipped = true;
          return Status::OK();
        case TxnListState::kPartlyCommitted: return TxnListConflict(options.txns);
      }
      if (attempt < max_attempts) SleepBackoff(attempt);
    }
    return Status::Conflict("gave up committing after " + std::to_string(max_attempts) +
                            " attempts; other writers kept winning");
  }

  // Writes groups[i] to relatives[i] with up to kMaxWriteThreads threads; one result per group.
  // Writes the data file of every group. Each thread takes a share of the groups (by rows,
  // largest first) and reads the batch once in its own order, feeding each event of its
  // groups to that group's file (see DataFileSetWriter): the batch is laid out in arrival
  // order, and walking it group by group would be a cache miss per event. A thread keeps at
  // most kMaxOpenFiles files open at a time (their row groups are in memory); more groups
  // take more passes.
  std::vector<Result<parquet::DataFileStats>> WriteFilesConcurrently(
      std::span<const LogEvent* const> events, const Grouping& grouping,
      const std::vector<std::string>& relatives) {
    constexpr size_t kMaxWriteThreads = 4;
    constexpr size_t kSyncThreads = 4;
    constexpr size_t kMaxOpenFiles = 64;
    constexpr size_t kWindowEvents = 2048;
    const std::vector<Group>& groups = grouping.groups;
    std::vector<Result<parquet::DataFileStats>> results(
        groups.size(), Result<parquet::DataFileStats>(Status::Internal("not written")));
    const size_t threads = std::min({kMaxWriteThreads, groups.size(), UsableCpus()});
    // Largest groups first, each to the thread with the fewest rows so far.
    std::vector<uint32_t> by_size(groups.size());
    for (uint32_t g = 0; g < by_size.size(); ++g) by_size[g] = g;
    std::stable_sort(by_size.begin(), by_size.end(),
                     [&groups](uint32_t a, uint32_t b) { return groups[a].rows > groups[b].rows; });
    std::vector<std::vector<uint32_t>> shares(threads);
    std::vector<size_t> load(threads, 0);
    for (uint32_t g : by_size) {
      const size_t t =
          static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      shares[t].push_back(g);
      load[t] += groups[g].rows;
    }

    FileSyncer syncer(fs_, std::min(kSyncThreads, groups.size()));
    auto work = [&](const std::vector<uint32_t>& share) {
      // One writer per thread for the round: its buffers serve every file the thread writes,
      // and are freed when the round ends.
      parquet::DataFileSetWriter writer(options_.parquet);
      constexpr size_t kNone = SIZE_MAX;
      std::vector<size_t> handle_of(groups.size(), kNone);
      std::vector<std::vector<const LogEvent*>> buckets;  // by handle: the window's rows
      for (size_t begin = 0; begin < share.size(); begin += kMaxOpenFiles) {
        const size_t end = std::min(share.size(), begin + kMaxOpenFiles);
        size_t first = SIZE_MAX, last = 0;
        for (size_t k = begin; k < end; ++k) {
          const uint32_t g = share[k];
          auto handle = writer.Begin(fs_, JoinPath(root_, relatives[g]), groups[g].rows);
          if (!handle.ok()) {
            results[g] = handle.status();
            continue;
          }
          handle_of[g] = *handle;
          if (buckets.size() <= *handle) buckets.resize(*handle + 1);
          first = std::min(first, groups[g].first);
          last = std::max(last, groups[g].last);
        }
        // Window by window: the window's events are bucketed by file, then each file takes its
        // bucket. A window's events lie close together in memory and stay cached while the
        // files take them, and each file's column writers (the larger working set: buffers
        // and dictionaries) take a run of rows rather than one row at a time.
        for (size_t w = first; w <= last && first != SIZE_MAX; w += kWindowEvents) {
          const size_t w_end = std::min(last + 1, w + kWindowEvents);
          for (size_t i = w; i < w_end; ++i) {
            const size_t handle = handle_of[grouping.group_of[i]];
            if (handle != kNone) buckets[handle].push_back(events[i]);
          }
          for (size_t handle = 0; handle < buckets.size(); ++handle) {
            // A failed file keeps its error for Finish and takes no more rows.
            (void)writer.AddRows(handle, buckets[handle]);
            buckets[handle].clear();
          }
        }
        for (size_t k = begin; k < end; ++k) {
          const uint32_t g = share[k];
          if (handle_of[g] == kNone) continue;
          std::unique_ptr<WritableFile> file;
          results[g] = writer.Finish(handle_of[g], &file);
          handle_of[g] = kNone;
          if (results[g].ok()) {
            syncer.Submit(std::move(file), JoinPath(root_, relatives[g]),
                          JoinPath(root_, ParentPath(relatives[g])), &results[g]);
          }
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, std::cref(shares[t]));
    work(shares[0]);  // the calling thread takes a share too
    for (std::thread& thread : pool) thread.join();
    syncer.Drain();
    return results;
  }

  void DeleteFiles(const std::vector<std::string>& relative_paths) {
    for (const std::string& relative : relative_paths) {
      Status st = fs_->DeleteFile(JoinPath(root_, relative));
      (void)st;  // best effort: a leftover is an orphan for VACUUM, never table data
    }
  }

  FileSystem* fs_;
  const std::string root_;
  const DeltaTableOptions options_;
  delta::LogStore store_;
  std::mutex mu_;      // serializes Append and TxnVersion
  WriterState state_;  // guarded by mu_ (after Open)
  // Whether state_'s protocol and metaData allow lakelog's appends; guarded by mu_.
  Status valid_;
};

Result<std::unique_ptr<DeltaTable>> DeltaTable::Open(FileSystem* fs, const std::string& root,
                                                     const DeltaTableOptions& options) {
  if (fs == nullptr || root.empty()) return Status::InvalidArgument("DeltaTable::Open: no root");
  auto impl = std::make_unique<Impl>(fs, root, options);
  LAKELOG_RETURN_IF_ERROR(impl->OpenOrCreate().WithContext("open Delta table " + root));
  return std::unique_ptr<DeltaTable>(new DeltaTable(std::move(impl)));
}

DeltaTable::DeltaTable(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeltaTable::~DeltaTable() = default;

const std::string& DeltaTable::root() const { return impl_->root(); }

Result<DeltaCommitResult> DeltaTable::Append(std::span<const LogEvent* const> events,
                                             const DeltaAppendOptions& options) {
  return impl_->Append(events, options);
}

Result<DeltaSnapshot> DeltaTable::Snapshot() { return impl_->Snapshot(); }

Result<std::optional<int64_t>> DeltaTable::TxnVersion(const std::string& app_id) {
  return impl_->TxnVersion(app_id);
}

Result<std::vector<DeltaCommitInfo>> DeltaTable::History() { return impl_->History(); }

Result<DeltaSnapshot> ReadDeltaSnapshot(FileSystem* fs, const std::string& root) {
  delta::LogStore store(fs, root);
  return delta::ReplayLatest(fs, store, /*track_files=*/true);
}

}  // namespace lakelog

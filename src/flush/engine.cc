// Engine: pipelines, the flush scheduler (shared pool of flush threads), group commit of one
// sink Write() per round, retries, Flush/Stop, and metrics wiring.
//
// A flush round:
//   1. plan (under mu_): pick, round-robin, every pipeline with data that is due (or at least
//      half-way to due, so it joins the commit instead of needing its own); take a round number.
//   2. drain (no lock; one builder at a time): up to batch_events/batch_bytes per pipeline.
//   3. wait for the turn: rounds are written strictly in round-number order, so a retried
//      round keeps its place and its idempotency key.
//   4. write with retries (no lock), then record what is committed and wake Flush() waiters.
//
// Invariant: for every pipeline, everything below committed_head has been written to the sink
// or counted as dropped.
//
// With a WAL (EngineOptions::wal_dir), step 2 also appends the round's events to the WAL while
// the round is being built (so WAL order = round order, and the round's key = its last WAL
// sequence increases with the round number), and syncs it per the sync mode after; everything
// below durable_head is then durable. Before the first round, the engine replays what the WAL
// holds beyond the sink's committed key (RecoverWal), so old events commit before new ones.
#include "lakelog/engine.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "buffer/event_batch.h"
#include "buffer/pipeline_buffer.h"
#include "flush/backoff.h"
#include "http/metrics_server.h"
#include "metrics/engine_metrics.h"
#include "wal/event_codec.h"
#include "wal/wal.h"
#include "wal/wal_owner.h"

namespace lakelog {

using internal::PipelineBuffer;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

std::string RandomHex(int digits) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out.push_back(kHex[rng() % 16]);
  return out;
}

struct PipelineEntry {
  std::shared_ptr<PipelineBuffer> buffer;
  // Scheduler state, guarded by Engine::Impl::mu_.
  int64_t interval_micros = 0;  // adaptive; flush_interval .. max_latency
  uint64_t errors_at_last_drain = 0;
  uint64_t committed_head = 0;
  uint64_t durable_head = 0;  // >= committed_head
  std::atomic<int64_t> last_flush_micros{0};
};

struct PipelinePart {
  size_t index;
  uint64_t events = 0;
  uint64_t bytes = 0;
};

struct Round {
  int64_t seq = 0;
  bool forced = false;
  internal::EventBatch events;  // storage recycled across rounds (see TakeBatchLocked)
  std::vector<PipelinePart> parts;
  std::vector<uint64_t> heads;  // ring head of every pipeline after the drain
  uint64_t bytes = 0;
  uint64_t wal_last_seq = 0;  // WAL sequence of the last event (0 without a WAL)
  Status wal_status;          // why the round is not durable in the WAL
};

struct FlushWaiter {
  std::vector<uint64_t> targets;  // ring tail of each pipeline at the Flush() call
  int64_t min_seq = 0;            // a round built after the call must commit too
  bool durable_only = false;      // Sync(): durable in the WAL is enough
  bool done = false;
  Status error;  // Sync(): a round it waited for is not durable
};

// A recycled round keeps strings up to this capacity, and is kept only under kMaxSpareBytes
// (see KeepBatchLocked).
constexpr size_t kMaxKeptStringBytes = 256;
constexpr size_t kMaxSpareBytes = 4u << 20;
// A replay commits at most this much per sink write.
constexpr size_t kReplayBatchEvents = 65536;
constexpr uint64_t kReplayBatchBytes = 32ull << 20;

uint64_t PayloadBytes(const LogEvent& e) {
  auto len = [](const std::optional<std::string>& v) { return v ? v->size() : 0; };
  uint64_t n = len(e.stage) + len(e.status) + len(e.message) + len(e.run_id) + len(e.host);
  for (const auto& [k, v] : e.attributes) n += k.size() + v.size() + 8;
  return n;
}

}  // namespace

class Engine::Impl {
 public:
  Impl(EngineOptions options, std::unique_ptr<Sink> sink)
      : options_(std::move(options)),
        sink_(std::move(sink)),
        clock_(options_.clock ? options_.clock : RealClock()),
        host_(options_.host.empty() ? HostName() : options_.host),
        writer_id_(options_.writer_id.empty() ? "lakelog-" + host_ + "-" + RandomHex(12)
                                              : options_.writer_id),
        backoff_(options_.retry_initial_backoff, options_.retry_max_backoff,
                 std::hash<std::string>()(writer_id_)),
        metrics_([this] { return Snapshot(); }, [this] { return SnapshotWal(); }) {}

  Status Start() {
    if (!options_.wal_dir.empty()) LAKELOG_RETURN_IF_ERROR(OpenWal());
    if (options_.metrics_port != 0) {
      LAKELOG_ASSIGN_OR_RETURN(
          server_, internal::MetricsServer::Start(options_.metrics_bind_address,
                                                  options_.metrics_port, metrics_.collectables()));
    }
    for (int i = 0; i < options_.flush_threads; ++i) {
      threads_.emplace_back([this] { ThreadLoop(); });
    }
    return Status::OK();
  }

  ~Impl() { (void)Stop(StopOptions{.timeout = options_.stop_timeout}); }

  Result<Logger> GetLogger(std::string_view pipeline, const LoggerOptions& options) {
    if (options.capacity_events == 0 || options.capacity_bytes == 0 || options.batch_events == 0 ||
        options.batch_bytes == 0 || options.flush_interval.count() <= 0) {
      return Status::InvalidArgument(
          "logger options: capacities, batches and interval must be > 0");
    }
    // A name the table cannot hold would fail every round it joins, and with it the other
    // pipelines' events of that round: refuse it here, once, with the reason.
    LAKELOG_RETURN_IF_ERROR(sink_->CheckPipeline(pipeline));
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_requested_) return Status::Unavailable("engine is stopped");
    auto it = by_name_.find(pipeline);
    if (it != by_name_.end()) {
      const auto& buffer = pipelines_[it->second]->buffer;
      if (!(buffer->options() == options)) {
        return Status::InvalidArgument("pipeline '" + std::string(pipeline) +
                                       "' already has a logger with other options");
      }
      return Logger(buffer);
    }
    auto entry = std::make_unique<PipelineEntry>();
    entry->buffer = std::make_shared<PipelineBuffer>(std::string(pipeline), options, clock_, host_,
                                                     [this] { Wake(); });
    entry->interval_micros = options.flush_interval.count() * 1000;
    by_name_.emplace(std::string(pipeline), pipelines_.size());
    pipelines_.push_back(std::move(entry));
    return Logger(pipelines_.back()->buffer);
  }

  Status Flush(std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    Status st = WaitForCommit(deadline, /*durable_only=*/false);
    if (!st.ok()) return st;
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    return sink_->Flush(std::max(left, std::chrono::milliseconds(0)));
  }

  Status Sync(std::chrono::milliseconds timeout) {
    if (!wal_) return Flush(timeout);
    return WaitForCommit(SteadyClock::now() + timeout, /*durable_only=*/true);
  }

  Result<int> RunDueRounds() {
    int written = 0;
    // Bounded: a producer outrunning the loop must not keep the caller here forever.
    for (int i = 0; i < 100000; ++i) {
      std::unique_lock<std::mutex> lock(mu_);
      if (!recovered_) {
        if (recovering_) break;
        RunRecovery(lock);
        if (!recovered_) break;
      }
      if (building_ || !AnyDueLocked(clock_->NowMicros())) break;
      if (RunRound(lock)) ++written;
    }
    return written;
  }

  Status Stop(const StopOptions& options) {
    std::vector<std::shared_ptr<PipelineBuffer>> buffers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_requested_) return Status::OK();
      stop_requested_ = true;
      for (auto& p : pipelines_) buffers.push_back(p->buffer);
    }
    if (options.append_final_event) {
      for (auto& b : buffers) {
        LoggerStats s = b->Stats();
        std::string accepted = std::to_string(s.accepted + 1);
        std::string dropped = std::to_string(s.dropped_total());
        Attribute attrs[] = {{"events_accepted", accepted}, {"events_dropped", dropped}};
        EventFields f;
        f.level = Level::kInfo;
        f.stage = "lakelog";
        f.status = options.final_status;
        f.message = options.final_message;
        f.attributes = attrs;
        (void)b->LogInternal(f);
      }
    }
    for (auto& b : buffers) b->Close();
    const auto deadline = SteadyClock::now() + options.timeout;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_deadline_ = deadline;
    }
    Status st = WaitForCommit(deadline, /*durable_only=*/false);
    if (st.ok()) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      st = sink_->Flush(std::max(left, std::chrono::milliseconds(0)));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      give_up_ = true;  // rounds still retrying count their events as sink_error
      exit_ = true;
    }
    work_cv_.notify_all();
    commit_cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    // Whatever is still buffered (the deadline passed) goes to the WAL, to be committed by the
    // next engine on it, or is counted as dropped: never lost silently.
    for (auto& b : buffers) {
      std::vector<LogEvent> rest;
      uint64_t bytes = 0;
      size_t n = b->Drain(SIZE_MAX, UINT64_MAX, &rest, &bytes);
      n += b->HarvestRepeats(0, /*all=*/true, &rest);
      if (n == 0) continue;
      if (wal_ && AppendEventsToWal(rest).ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        left_in_wal_ += static_cast<int64_t>(n);
      } else {
        b->CountDropped(DropReason::kSinkError, n);
      }
    }
    if (wal_) {
      Status closed = wal_->Close();
      if (!closed.ok()) {
        ReportError(closed.WithContext("lakelog: closing the WAL"));
        if (st.ok()) st = closed;
      }
      int64_t left;
      {
        std::lock_guard<std::mutex> lock(mu_);
        left = left_in_wal_;
      }
      if (left > 0) {
        st = Status::Unavailable(
            "lakelog: the sink did not take every event before Stop()'s deadline; " +
            std::to_string(left) + " events are kept in the WAL at " + options_.wal_dir +
            " and are committed when an engine next opens it (or by `lakelog recover`)" +
            (st.ok() ? std::string() : "; the sink's error: " + st.ToString()));
      }
    }
    server_.reset();
    return st;
  }

  std::vector<std::string> Pipelines() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& p : pipelines_) out.push_back(p->buffer->pipeline());
    return out;
  }

  Result<LoggerStats> Stats(std::string_view pipeline) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(pipeline);
    if (it == by_name_.end())
      return Status::NotFound("no pipeline '" + std::string(pipeline) + "'");
    return pipelines_[it->second]->buffer->Stats();
  }

  int64_t rounds_written() const { return rounds_written_.load(std::memory_order_relaxed); }

  Engine::WalInfo wal_info() const {
    Engine::WalInfo info;
    if (!wal_) return info;
    info.enabled = true;
    std::lock_guard<std::mutex> lock(mu_);
    info.recovered = recovered_ && !wal_parked_;
    info.replayed_events = replayed_events_;
    info.replay_writes = replay_writes_;
    info.corrupt_records = corrupt_records_;
    info.corrupt_bytes = corrupt_bytes_;
    info.durable_sequence = wal_->DurableSequence();
    info.committed_sequence = wal_committed_;
    info.append_failures = wal_->stats().append_failures;
    info.events_left_in_wal = left_in_wal_;
    return info;
  }
  // wal_info() plus the WAL's own counters, for the lakelog_wal_* series.
  std::optional<internal::WalSnapshot> SnapshotWal() const {
    const Engine::WalInfo info = wal_info();
    if (!info.enabled) return std::nullopt;
    const WalStats stats = wal_->stats();
    internal::WalSnapshot s;
    s.appended_records = stats.appends;
    s.append_failures = info.append_failures;
    s.syncs = stats.syncs;
    s.sync_failures = stats.sync_failures;
    s.segments = wal_->SegmentNumbers().size();
    s.last_sequence = wal_->LastSequence();
    s.durable_sequence = info.durable_sequence;
    s.committed_sequence = info.committed_sequence;
    s.replayed_events = info.replayed_events;
    s.corrupt_records = info.corrupt_records;
    return s;
  }
  std::string MetricsText() const { return metrics_.Text(); }
  int metrics_port() const { return server_ ? server_->port() : 0; }
  const std::string& writer_id() const { return writer_id_; }

 private:
  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake_ = true;
    }
    work_cv_.notify_all();
  }

  // What a sink reports without failing a write goes where errors go.
  std::function<void(const Status&)> SinkWarning() {
    if (!options_.error_handler) return {};
    return [this](const Status& status) { ReportError(status); };
  }

  void ReportError(const Status& status) {
    if (options_.error_handler) options_.error_handler(status);
  }

  // --- write-ahead log ---

  // Opens the WAL and settles the writer id it belongs to (engine.json in its directory).
  Status OpenWal() {
    FileSystem* fs = options_.wal_fs ? options_.wal_fs : PosixFileSystem();
    const std::string& dir = options_.wal_dir;
    // Read-only first, so a directory the engine may not own gets nothing written into it (not
    // even a LOCK); the check is repeated under the WAL's lock against a writer racing in.
    auto entries = fs->ListDir(dir);
    if (entries.ok()) {
      LAKELOG_RETURN_IF_ERROR(wal::CheckEngineMayOwn(fs, dir, *entries));
    } else if (!entries.status().IsNotFound()) {
      return entries.status().WithContext("lakelog: listing the WAL directory " + dir);
    }
    bool fresh = false;
    LAKELOG_ASSIGN_OR_RETURN(
        wal_, Wal::Open(fs, dir, options_.wal, [&](const std::vector<std::string>& names) {
          LAKELOG_RETURN_IF_ERROR(wal::CheckEngineMayOwn(fs, dir, names));
          return ClaimWalDir(fs, dir, &fresh);
        }));
    // A new id has nothing committed anywhere: no replay needed before the first round.
    recovered_ = fresh;
    return Status::OK();
  }

  // Reads the writer id from engine.json, or makes one and writes it (*fresh) before the WAL
  // writes its first segment, so no segment ever exists without the id it commits under.
  Status ClaimWalDir(FileSystem* fs, const std::string& dir, bool* fresh) {
    const std::string meta_path = JoinPath(dir, wal::kEngineMetaFile);
    std::string text;
    Status read = fs->ReadFile(meta_path, &text);
    if (read.ok()) {
      nlohmann::json meta = nlohmann::json::parse(text, nullptr, false);
      if (meta.is_discarded() || !meta.is_object() || !meta["writer_id"].is_string() ||
          meta["writer_id"].get<std::string>().empty()) {
        return Status::Corruption(meta_path +
                                  " is damaged; it names the writer id the WAL's events commit "
                                  "under, so the engine cannot continue without it");
      }
      writer_id_ = meta["writer_id"].get<std::string>();
      return Status::OK();
    }
    if (!read.IsNotFound()) return read.WithContext("lakelog: reading " + meta_path);
    const std::string prefix = options_.writer_id.empty() ? "lakelog-" + host_ : options_.writer_id;
    writer_id_ = prefix + "-wal-" + RandomHex(16);
    nlohmann::json meta = {{"writer_id", writer_id_}};
    LAKELOG_RETURN_IF_ERROR(fs->WriteFileAtomic(meta_path, meta.dump(2) + "\n"));
    *fresh = true;
    return Status::OK();
  }

  // Appends events to the WAL, one record each, in batches of about kWalBatchBytes (one write
  // each). Only the round builder (or Stop() after the flush threads ended) calls it, so WAL
  // order is round order. Returns the first error; the batches after a failed one are still
  // tried (the WAL rolls to a fresh segment), and every event consumes its sequence.
  Status AppendEventsToWal(std::span<const LogEvent> events) {
    constexpr size_t kWalBatchBytes = 1u << 20;
    Status first;
    size_t begin = 0;
    while (begin < events.size()) {
      wal_batch_.Clear();
      size_t end = begin;
      while (end < events.size() && (end == begin || wal_batch_.bytes() < kWalBatchBytes)) {
        EncodeLogEvent(events[end++], wal_batch_.buffer());
        wal_batch_.EndRecord();
      }
      auto last = wal_->AppendBatch(wal_batch_.records());
      if (!last.ok() && first.ok()) first = last.status();
      begin = end;
    }
    return first;
  }

  // Runs the start-up replay; on failure waits a backoff (the next call tries again). Called
  // with `lock` held, !recovered_ and !recovering_; returns with it held.
  void RunRecovery(std::unique_lock<std::mutex>& lock) {
    recovering_ = true;
    const int attempt = ++recovery_attempts_;
    lock.unlock();
    Status st = RecoverWal();
    if (!st.ok()) {
      ReportError(st.WithContext("lakelog: replaying the WAL at " + options_.wal_dir +
                                 " (attempt " + std::to_string(attempt) + ")"));
    }
    lock.lock();
    if (st.ok()) {
      recovered_ = true;
    } else if (!st.retryable()) {
      // Nothing will fix it: new events go on to the WAL but not to the sink, whose key would
      // otherwise pass the WAL's unreplayed records. Stop() reports them as kept in the WAL.
      recovered_ = wal_parked_ = true;
      wal_park_reason_ = st;
    } else {
      auto until = SteadyClock::now() + backoff_.Next(attempt - 1);
      if (stop_deadline_ && *stop_deadline_ < until) until = *stop_deadline_;
      commit_cv_.wait_until(lock, until, [&] { return give_up_; });
      if (give_up_ || (stop_deadline_ && SteadyClock::now() >= *stop_deadline_)) {
        recovered_ = wal_parked_ = true;
        wal_park_reason_ = st;
      }
    }
    recovering_ = false;
    work_cv_.notify_all();
    commit_cv_.notify_all();
  }

  // Commits, in batches, every WAL record above the sink's committed key for this writer.
  // Idempotent: each batch is keyed on its last sequence, so a retry after a partial replay
  // skips what already landed.
  Status RecoverWal() {
    auto committed = sink_->CommittedRound(writer_id_);
    if (!committed.ok()) return committed.status().WithContext("reading the committed round");
    const uint64_t watermark = static_cast<uint64_t>(std::max<int64_t>(0, *committed));
    // Also moves the WAL's numbering above the watermark, so no new record reuses a key.
    MarkWalCommitted(watermark);
    std::vector<LogEvent> batch;
    uint64_t batch_bytes = 0;
    uint64_t last_seq = 0;
    uint64_t undecodable = 0, undecodable_bytes = 0;
    auto write = [&]() -> Status {
      if (batch.empty()) return Status::OK();
      std::vector<const LogEvent*> rows;
      rows.reserve(batch.size());
      for (const LogEvent& e : batch) rows.push_back(&e);
      SinkWriteContext ctx{writer_id_, static_cast<int64_t>(last_seq), 1, SinkWarning()};
      Status st = sink_->Write(rows, ctx);
      if (!st.ok()) return st;
      MarkWalCommitted(last_seq);
      {
        std::lock_guard<std::mutex> lock(mu_);
        replayed_events_ += static_cast<int64_t>(batch.size());
        ++replay_writes_;
      }
      batch.clear();
      batch_bytes = 0;
      return Status::OK();
    };
    auto replayed = wal_->Replay(
        [&](uint64_t seq, std::string_view record) -> Status {
          LogEvent event;
          if (!DecodeLogEvent(record, &event).ok()) {
            // Passed its checksum yet does not decode: damaged beyond the CRC's reach or from
            // another version. Counted and reported, never guessed at.
            ++undecodable;
            undecodable_bytes += record.size();
            return Status::OK();
          }
          batch_bytes += PayloadBytes(event);
          batch.push_back(std::move(event));
          last_seq = seq;
          if (batch.size() >= kReplayBatchEvents || batch_bytes >= kReplayBatchBytes) {
            return write();
          }
          return Status::OK();
        },
        watermark);
    if (!replayed.ok()) return replayed.status();
    LAKELOG_RETURN_IF_ERROR(write());
    const uint64_t damaged = replayed->corruptions + undecodable;
    if (damaged > 0) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        corrupt_records_ += damaged;
        corrupt_bytes_ += replayed->dropped_bytes + undecodable_bytes;
      }
      std::string why =
          replayed->reasons.empty() ? "records that do not decode" : replayed->reasons.front();
      ReportError(Status::Corruption("lakelog: the WAL at " + options_.wal_dir + " had " +
                                     std::to_string(damaged) + " damaged records (" +
                                     std::to_string(replayed->dropped_bytes + undecodable_bytes) +
                                     " bytes) that could not be replayed; first: " + why));
    }
    return Status::OK();
  }

  // Lets the WAL delete segments the sink now holds; a failure only delays the deletion.
  void MarkWalCommitted(uint64_t sequence) {
    Status st = wal_->MarkCommitted(sequence);
    if (!st.ok()) ReportError(st.WithContext("lakelog: releasing committed WAL segments"));
    std::lock_guard<std::mutex> lock(mu_);
    wal_committed_ = std::max(wal_committed_, sequence);
  }

  // --- scheduling (all *Locked methods need mu_) ---

  int64_t EffectiveIntervalLocked(const PipelineEntry& p) const {
    const LoggerOptions& o = p.buffer->options();
    int64_t interval = p.interval_micros;
    if (p.buffer->error_events() - p.errors_at_last_drain >= o.error_burst_events) {
      interval = std::min<int64_t>(interval, o.error_flush_interval.count() * 1000);
    }
    return interval;
  }

  // When the pipeline must flush by its interval; INT64_MAX when it holds nothing.
  int64_t DueAtLocked(const PipelineEntry& p) const {
    const LoggerOptions& o = p.buffer->options();
    int64_t interval = EffectiveIntervalLocked(p);
    int64_t due = INT64_MAX;
    int64_t ring = p.buffer->RingOldestTs();
    if (ring != INT64_MAX) due = ring + interval;
    int64_t held = p.buffer->HeldOldestTs();
    if (held != INT64_MAX) {
      due = std::min(due, held + std::max<int64_t>(interval, o.aggregate_window.count() * 1000));
    }
    return due;
  }

  bool DueLocked(const PipelineEntry& p, int64_t now) const {
    const LoggerOptions& o = p.buffer->options();
    if (p.buffer->buffered_events() >= o.batch_events) return true;
    if (p.buffer->buffered_bytes() >= o.batch_bytes) return true;
    return now >= DueAtLocked(p);
  }

  // A Flush() waiter still needs a round to be built.
  bool ForcedLocked() const {
    for (const FlushWaiter* w : waiters_) {
      if (w->done) continue;
      if (next_seq_ <= w->min_seq) return true;
      for (size_t i = 0; i < w->targets.size(); ++i) {
        if (pipelines_[i]->buffer->head() < w->targets[i]) return true;
      }
    }
    return false;
  }

  bool AnyDueLocked(int64_t now) const {
    if (ForcedLocked()) return true;
    for (const auto& p : pipelines_) {
      if (p->buffer->HasData() && DueLocked(*p, now)) return true;
    }
    return false;
  }

  // Builds, writes and finishes one round. Called with `lock` held and building_ false;
  // returns with it held. True when the round wrote to the sink successfully.
  bool RunRound(std::unique_lock<std::mutex>& lock) {
    const int64_t now = clock_->NowMicros();
    Round round;
    round.events = TakeBatchLocked();
    round.forced = ForcedLocked();
    round.seq = next_seq_++;
    std::vector<size_t> plan;
    const size_t n = pipelines_.size();
    for (size_t k = 0; k < n; ++k) {
      size_t i = (rr_start_ + k) % n;
      PipelineEntry& p = *pipelines_[i];
      if (!p.buffer->HasData()) continue;
      // Half-way to due joins this commit rather than needing its own soon after.
      int64_t half = EffectiveIntervalLocked(p) / 2;
      int64_t due_at = DueAtLocked(p);
      bool join =
          round.forced || DueLocked(p, now) || (due_at != INT64_MAX && now >= due_at - half);
      if (join) plan.push_back(i);
    }
    if (n > 0) rr_start_ = (rr_start_ + 1) % n;
    std::vector<PipelineEntry*> entries;
    for (auto& p : pipelines_) entries.push_back(p.get());
    building_ = true;
    lock.unlock();

    for (size_t i : plan) {
      PipelineEntry& p = *entries[i];
      const LoggerOptions& o = p.buffer->options();
      PipelinePart part{i};
      part.events = p.buffer->Drain(o.batch_events, o.batch_bytes, &round.events, &part.bytes);
      part.events += p.buffer->HarvestRepeats(now, round.forced, &round.events);
      round.bytes += part.bytes;
      if (part.events > 0) round.parts.push_back(part);
    }
    round.heads.reserve(entries.size());
    for (PipelineEntry* p : entries) round.heads.push_back(p->buffer->head());
    if (wal_ && !round.events.empty()) {
      // Still the only builder: WAL order is round order. The sync (group commit) waits until
      // the next round may be built.
      round.wal_status = AppendEventsToWal(round.events.events());
      round.wal_last_seq = wal_->LastSequence();
    }

    lock.lock();
    building_ = false;
    for (size_t i : plan) {
      PipelineEntry& p = *entries[i];
      p.errors_at_last_drain = p.buffer->error_events();
    }
    if (!round.forced) AdaptLocked(round, entries);
    work_cv_.notify_all();  // another thread may build the next round meanwhile
    if (wal_ && !round.events.empty()) {
      lock.unlock();
      if (round.wal_status.ok()) round.wal_status = wal_->Sync();
      if (round.wal_status.ok() && options_.wal.sync_mode == WalSyncMode::kInterval) {
        // Durable in this mode means covered by one of the WAL's interval fsyncs.
        const auto step = std::chrono::milliseconds(
            std::clamp<uint32_t>(options_.wal.sync_interval_ms / 4, 1, 10));
        while (round.wal_status.ok() && wal_->DurableSequence() < round.wal_last_seq) {
          std::this_thread::sleep_for(step);
          round.wal_status = wal_->Sync();
        }
      }
      if (!round.wal_status.ok()) {
        ReportError(round.wal_status.WithContext("lakelog: WAL append/sync of round " +
                                                 std::to_string(round.seq) +
                                                 " (its events go to the sink unprotected)"));
      }
      lock.lock();
    }
    if (round.wal_status.ok()) {
      durable_seq_ = std::max(durable_seq_, round.seq);
      for (size_t i = 0; i < round.heads.size(); ++i) {
        entries[i]->durable_head = std::max(entries[i]->durable_head, round.heads[i]);
      }
    } else {
      // Sync() callers waiting on this round learn that it is not durable.
      for (FlushWaiter* w : waiters_) {
        if (!w->done && w->durable_only) {
          w->error = round.wal_status;
          w->done = true;
        }
      }
    }
    UpdateWaitersLocked();
    commit_cv_.wait(lock, [&] { return committed_seq_ == round.seq - 1; });
    lock.unlock();

    bool ok = WriteRound(round, entries);
    // Outside the lock: a pass over the round's storage (see KeepBatchLocked), not needed for
    // a round whose events alone are over the limit of a spare.
    const size_t footprint = round.events.capacity() * sizeof(LogEvent) > kMaxSpareBytes
                                 ? SIZE_MAX
                                 : round.events.Trim(kMaxKeptStringBytes);

    lock.lock();
    committed_seq_ = round.seq;
    for (size_t i = 0; i < round.heads.size(); ++i) {
      entries[i]->committed_head = std::max(entries[i]->committed_head, round.heads[i]);
      entries[i]->durable_head = std::max(entries[i]->durable_head, entries[i]->committed_head);
    }
    UpdateWaitersLocked();
    const bool wrote = ok && !round.events.empty();
    KeepBatchLocked(std::move(round.events), footprint);
    return wrote;
  }

  // A flush round's event storage: a recycled one when a finished round left it (a round's
  // strings keep their capacity, so draining a steady stream into them does not allocate).
  internal::EventBatch TakeBatchLocked() {
    if (spare_batches_.empty()) return {};
    internal::EventBatch batch = std::move(spare_batches_.back());
    spare_batches_.pop_back();
    return batch;
  }

  // Keeps a finished round's storage for the next one: at most one spare per flush thread,
  // each with a footprint (EventBatch::Trim(kMaxKeptStringBytes): events and their strings'
  // heap blocks, once strings that grew past that size for a rare big message gave them back)
  // under kMaxSpareBytes. A spare is memory the configured buffer sizes do not show.
  void KeepBatchLocked(internal::EventBatch batch, size_t footprint) {
    const size_t max_spares = static_cast<size_t>(std::max(options_.flush_threads, 1));
    if (footprint > kMaxSpareBytes || spare_batches_.size() >= max_spares) return;
    batch.Clear();
    spare_batches_.push_back(std::move(batch));
  }

  // Marks Flush()/Sync() waiters done once every pipeline's committed (or durable) head
  // passed their targets, and wakes them.
  void UpdateWaitersLocked() {
    for (FlushWaiter* w : waiters_) {
      if (w->done) continue;
      const int64_t seq = w->durable_only ? std::max(durable_seq_, committed_seq_) : committed_seq_;
      if (seq < w->min_seq) continue;
      bool all = true;
      for (size_t i = 0; i < w->targets.size() && all; ++i) {
        const PipelineEntry& p = *pipelines_[i];
        all = (w->durable_only ? p.durable_head : p.committed_head) >= w->targets[i];
      }
      w->done = all;
    }
    commit_cv_.notify_all();
  }

  // Batches far below the target file size double the interval (up to max_latency); batches
  // above it halve it again (down to flush_interval).
  void AdaptLocked(const Round& round, const std::vector<PipelineEntry*>& entries) {
    for (const PipelinePart& part : round.parts) {
      PipelineEntry& p = *entries[part.index];
      const LoggerOptions& o = p.buffer->options();
      if (o.target_file_bytes == 0) continue;
      const int64_t lo = o.flush_interval.count() * 1000;
      const int64_t hi = std::max(lo, static_cast<int64_t>(o.max_latency.count()) * 1000);
      if (part.bytes < o.target_file_bytes / 2) {
        p.interval_micros = std::min(hi, p.interval_micros * 2);
      } else if (part.bytes > o.target_file_bytes) {
        p.interval_micros = std::max(lo, p.interval_micros / 2);
      }
    }
  }

  // Writes with retries until success, a final error, or Stop() giving up. No lock held.
  bool WriteRound(const Round& round, const std::vector<PipelineEntry*>& entries) {
    if (round.events.empty()) return true;
    std::vector<const LogEvent*> batch;
    batch.reserve(round.events.size());
    for (const LogEvent& e : round.events.events()) batch.push_back(&e);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (wal_parked_) {
        // The sink may not see rounds above the WAL's unreplayed records (see RunRecovery).
        ++rounds_given_up_;
        last_give_up_ =
            Status::Unavailable("lakelog: the WAL's replay did not finish (" +
                                wal_park_reason_.ToString() + "); events stay in the WAL");
        if (round.wal_status.ok()) {
          left_in_wal_ += static_cast<int64_t>(round.events.size());
        } else {
          for (const PipelinePart& part : round.parts) {
            entries[part.index]->buffer->CountDropped(DropReason::kSinkError, part.events);
          }
        }
        return false;
      }
    }
    for (int attempt = 1;; ++attempt) {
      auto start = SteadyClock::now();
      Status st = wal_ ? Status::OK() : EnsureTxnBase();
      if (st.ok()) {
        const int64_t key =
            wal_ ? static_cast<int64_t>(round.wal_last_seq) : *txn_base_ + round.seq;
        SinkWriteContext ctx{writer_id_, key, attempt, SinkWarning()};
        st = sink_->Write(batch, ctx);
      }
      double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
      if (st.ok()) {
        if (wal_) MarkWalCommitted(round.wal_last_seq);
        metrics_.RecordWrite(internal::RoundResult::kOk, seconds, batch.size(), round.bytes);
        rounds_written_.fetch_add(1, std::memory_order_relaxed);
        const int64_t now = clock_->NowMicros();
        for (const PipelinePart& part : round.parts) {
          entries[part.index]->buffer->CountFlushed(part.events);
          entries[part.index]->last_flush_micros.store(now, std::memory_order_relaxed);
        }
        return true;
      }
      if (st.IsConflict()) metrics_.RecordConflict();
      if (options_.error_handler) {
        options_.error_handler(st.WithContext("lakelog: sink '" + std::string(sink_->name()) +
                                              "' round " + std::to_string(round.seq)));
      }
      bool give_up = !st.retryable();
      if (!give_up) {
        std::unique_lock<std::mutex> lock(mu_);
        auto until = SteadyClock::now() + backoff_.Next(attempt - 1);
        if (stop_deadline_ && *stop_deadline_ < until) until = *stop_deadline_;
        commit_cv_.wait_until(lock, until, [&] { return give_up_; });
        give_up = give_up_ || (stop_deadline_ && SteadyClock::now() >= *stop_deadline_);
      }
      if (give_up) {
        bool kept_in_wal = false;
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++rounds_given_up_;
          last_give_up_ = st.retryable()
                              ? Status::TimedOut("lakelog: sink retries ran past the deadline: " +
                                                 st.ToString())
                              : st;
          // Stop()'s deadline with a WAL: the events wait there for the next engine, and no
          // later round may reach the sink before them (its key would pass theirs).
          if (wal_ && st.retryable()) {
            wal_parked_ = true;
            wal_park_reason_ = st;
            if (round.wal_status.ok()) {
              left_in_wal_ += static_cast<int64_t>(round.events.size());
              kept_in_wal = true;
            }
          }
        }
        metrics_.RecordWrite(internal::RoundResult::kGivenUp, seconds, batch.size(), round.bytes);
        if (kept_in_wal) return false;
        for (const PipelinePart& part : round.parts) {
          entries[part.index]->buffer->CountDropped(DropReason::kSinkError, part.events);
        }
        return false;
      }
      metrics_.RecordWrite(internal::RoundResult::kError, seconds, batch.size(), round.bytes);
      metrics_.RecordRetry();
    }
  }

  // Without a WAL: the round key is base + round number, where base is the key the sink already
  // holds for this writer (so a restarted writer with a stable id keeps going above it).
  Status EnsureTxnBase() {
    if (txn_base_) return Status::OK();
    auto committed = sink_->CommittedRound(writer_id_);
    if (!committed.ok()) return committed.status().WithContext("reading the committed round");
    txn_base_ = std::max<int64_t>(0, *committed);
    return Status::OK();
  }

  // Registers a waiter for everything logged so far and waits (running rounds inline when
  // there are no flush threads) until it is committed (or, durable_only, durable in the WAL)
  // or the deadline passes.
  Status WaitForCommit(SteadyClock::time_point deadline, bool durable_only) {
    FlushWaiter waiter;
    waiter.durable_only = durable_only;
    std::unique_lock<std::mutex> lock(mu_);
    const int64_t given_up_before = rounds_given_up_;
    waiter.min_seq = next_seq_;
    for (const auto& p : pipelines_) waiter.targets.push_back(p->buffer->tail());
    waiters_.push_back(&waiter);
    wake_ = true;
    work_cv_.notify_all();
    while (!waiter.done) {
      if (SteadyClock::now() >= deadline) break;
      if (threads_.empty() && !recovered_ && !recovering_) {
        RunRecovery(lock);
        continue;
      }
      if (threads_.empty() && recovered_ && !building_ && ForcedLocked()) {
        RunRound(lock);
        continue;
      }
      commit_cv_.wait_until(lock, std::min(deadline, SteadyClock::now() + options_.poll_interval));
    }
    waiters_.remove(&waiter);
    if (!waiter.done) return Status::TimedOut("lakelog: flush did not finish before its deadline");
    if (!waiter.error.ok()) return waiter.error;
    // Rounds given up meanwhile had their events counted as sink_error; say so.
    if (rounds_given_up_ != given_up_before) return last_give_up_;
    return Status::OK();
  }

  void ThreadLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!exit_) {
      if (!recovered_ && !recovering_) {
        RunRecovery(lock);
        continue;
      }
      if (recovered_ && !building_ && AnyDueLocked(clock_->NowMicros())) {
        RunRound(lock);
        continue;
      }
      wake_ = false;
      work_cv_.wait_for(lock, options_.poll_interval, [&] { return wake_ || exit_; });
    }
  }

  std::vector<internal::PipelineSnapshot> Snapshot() const {
    std::vector<const PipelineEntry*> entries;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& p : pipelines_) entries.push_back(p.get());
    }
    const int64_t now = clock_->NowMicros();
    std::vector<internal::PipelineSnapshot> out;
    for (const PipelineEntry* p : entries) {
      internal::PipelineSnapshot s;
      s.pipeline = p->buffer->pipeline();
      s.stats = p->buffer->Stats();
      s.capacity_events = p->buffer->options().capacity_events;
      s.capacity_bytes = p->buffer->options().capacity_bytes;
      int64_t oldest = p->buffer->OldestTs();
      s.oldest_unflushed_age_seconds =
          oldest == INT64_MAX ? 0 : std::max<int64_t>(0, now - oldest) / 1e6;
      s.last_flush_timestamp_seconds = p->last_flush_micros.load(std::memory_order_relaxed) / 1e6;
      out.push_back(std::move(s));
    }
    return out;
  }

  const EngineOptions options_;
  const std::unique_ptr<Sink> sink_;
  Clock* const clock_;
  const std::string host_;
  std::string writer_id_;      // set before the flush threads start
  internal::Backoff backoff_;  // guarded by mu_
  internal::EngineMetrics metrics_;
  std::unique_ptr<internal::MetricsServer> server_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;    // flush threads wait for due work
  std::condition_variable commit_cv_;  // round turns, Flush() waiters, retry sleeps
  // Append-only, so indexes stay valid; entries live as long as the engine.
  std::vector<std::unique_ptr<PipelineEntry>> pipelines_;
  std::map<std::string, size_t, std::less<>> by_name_;
  std::list<FlushWaiter*> waiters_;
  size_t rr_start_ = 0;
  bool building_ = false;
  int64_t next_seq_ = 1;
  int64_t committed_seq_ = 0;
  bool wake_ = false;
  bool stop_requested_ = false;
  bool give_up_ = false;
  int64_t rounds_given_up_ = 0;
  Status last_give_up_;
  // Set by Stop(): retries end at this point.
  std::optional<SteadyClock::time_point> stop_deadline_;
  bool exit_ = false;
  std::atomic<int64_t> rounds_written_{0};
  std::vector<std::thread> threads_;

  // Without a WAL: the sink's key for this writer before the first round (see EnsureTxnBase).
  // Used by the round writer only (one at a time, in round order).
  std::optional<int64_t> txn_base_;

  // The WAL (null without one); its methods are thread-safe.
  std::unique_ptr<Wal> wal_;
  // Event storage of finished rounds, for the next ones (TakeBatchLocked/KeepBatchLocked).
  std::vector<internal::EventBatch> spare_batches_;  // guarded by mu_
  // Encoding scratch of the round builder: the WAL records of a batch.
  WalRecordBatch wal_batch_;
  // Guarded by mu_:
  bool recovered_ = true;  // the start-up replay finished (or there is no WAL)
  bool recovering_ = false;
  int recovery_attempts_ = 0;
  // The sink must not see new rounds (the replay could not finish); events stay in the WAL.
  bool wal_parked_ = false;
  Status wal_park_reason_;
  int64_t durable_seq_ = 0;
  int64_t replayed_events_ = 0;
  int64_t replay_writes_ = 0;
  uint64_t corrupt_records_ = 0;
  uint64_t corrupt_bytes_ = 0;
  uint64_t wal_committed_ = 0;
  int64_t left_in_wal_ = 0;
};

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options, std::unique_ptr<Sink> sink) {
  if (sink == nullptr) return Status::InvalidArgument("Engine::Open: sink is null");
  if (options.flush_threads < 0 || options.flush_threads > 64) {
    return Status::InvalidArgument("Engine::Open: flush_threads must be 0..64");
  }
  if (options.poll_interval.count() <= 0) options.poll_interval = std::chrono::milliseconds(10);
  auto impl = std::make_unique<Impl>(std::move(options), std::move(sink));
  LAKELOG_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<Logger> Engine::GetLogger(std::string_view pipeline, const LoggerOptions& options) {
  return impl_->GetLogger(pipeline, options);
}
Status Engine::Flush(std::chrono::milliseconds timeout) { return impl_->Flush(timeout); }
Status Engine::Sync(std::chrono::milliseconds timeout) { return impl_->Sync(timeout); }
Engine::WalInfo Engine::wal_info() const { return impl_->wal_info(); }
Result<int> Engine::RunDueRounds() { return impl_->RunDueRounds(); }
Status Engine::Stop(const StopOptions& options) { return impl_->Stop(options); }
std::vector<std::string> Engine::Pipelines() const { return impl_->Pipelines(); }
Result<LoggerStats> Engine::Stats(std::string_view pipeline) const {
  return impl_->Stats(pipeline);
}
int64_t Engine::rounds_written() const { return impl_->rounds_written(); }
std::string Engine::MetricsText() const { return impl_->MetricsText(); }
int Engine::metrics_port() const { return impl_->metrics_port(); }
const std::string& Engine::writer_id() const { return impl_->writer_id(); }

}  // namespace lakelog

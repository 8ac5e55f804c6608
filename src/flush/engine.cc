// EngineImpl, the Engine that Engine::Open returns: pipelines, the flush threads that build
// rounds, the fan-out of every round to every sink, Flush/Sync/Stop, and metrics wiring. The
// pieces it joins each live in a file of their own: the scheduler's decisions (scheduler.h),
// building a round and logging it to the WAL (round.h), one sink's delivery with its progress,
// retries, backlog and WAL catch-up (sink_delivery.h), and the WAL directory with its writer id
// (engine_wal.h).
//
// A flush round:
//   1. plan (under mu_): pick, round-robin, every pipeline with data that is due (or at least
//      half-way to due, so it joins the commit instead of needing its own); take a round number.
//   2. build (no lock; one builder at a time): drain up to batch_events/batch_bytes per
//      pipeline; with a WAL, append the round's events to it (so WAL order = round order, and
//      the round's key = its last WAL sequence increases with the round number), then sync it
//      per the sync mode (outside the builder's turn).
//   3. hand over, strictly in round-number order, to every sink's delivery, which writes it
//      (with its own retries) on its own thread.
//   4. once every sink has settled the round (written it, kept it in the WAL for a catch-up,
//      or given it up), its pipelines' committed heads move and Flush() waiters wake.
//
// Invariant: for every pipeline, everything below committed_head is settled with every sink
// (written, kept in the WAL for it, or counted as dropped), and below durable_head durable in
// the WAL. Before the first round with a WAL, the engine reads every sink's committed key and
// moves the WAL's numbering above the highest (RunRecovery); each delivery then catches up on
// the WAL's records above its own key before taking new rounds.
#include "lakelog/engine.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <deque>
#include <exception>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "buffer/event_batch.h"
#include "buffer/pipeline_buffer.h"
#include "common/backoff.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "flush/engine_wal.h"
#include "flush/round.h"
#include "flush/scheduler.h"
#include "flush/sink_delivery.h"
#include "http/metrics_server.h"
#include "metrics/engine_metrics.h"

namespace lakelog {
namespace flush {

using buffer::PipelineBuffer;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

struct FlushWaiter {
  std::vector<buffer::LanePositions> targets;  // lane tails of each pipeline at the Flush() call
  int64_t min_seq = 0;                         // a round built after the call must settle too
  bool durable_only = false;                   // Sync(): durable in the WAL is enough
  bool done = false;
  Status error;  // Sync(): a round it waited for is not durable
};

// A round handed to the sinks, until every one has settled it.
struct InFlight {
  std::shared_ptr<Round> round;
  size_t pending = 0;  // sinks that have not settled it
  bool dropped = false;
  DropReason reason = DropReason::kSinkError;
};

// A recycled round keeps strings up to this capacity, and is kept only under kMaxSpareBytes
// (see KeepBatchLocked).
constexpr size_t kMaxKeptStringBytes = 256;
constexpr size_t kMaxSpareBytes = 4u << 20;

}  // namespace

// The Engine behind Engine::Open.
class EngineImpl final : public Engine {
 public:
  EngineImpl(EngineOptions options, std::vector<std::unique_ptr<Sink>> sinks)
      : options_(std::move(options)),
        sinks_to_start_(std::move(sinks)),
        clock_(options_.clock ? options_.clock : RealClock()),
        host_(options_.host.empty() ? HostName() : options_.host),
        writer_id_(options_.writer_id.empty() ? "lakelog-" + host_ + "-" + RandomHex(12)
                                              : options_.writer_id),
        backoff_(options_.retry_initial_backoff, options_.retry_max_backoff,
                 std::hash<std::string>()(writer_id_)),
        metrics_([this] { return Snapshot(); }, [this] { return SnapshotWal(); }) {}

  Status Start() {
    // Before anything else reaches a sink: its time is the engine's (sink.h).
    for (auto& sink : sinks_to_start_) {
      try {
        sink->Attach(SinkAttachContext{.clock = clock_});
      } catch (const std::exception& e) {
        return Status::Internal("sink '" + std::string(sink->name()) +
                                "' Attach() threw: " + e.what());
      }
    }
    if (!options_.wal_dir.empty()) {
      FileSystem* fs = options_.wal_fs ? options_.wal_fs : PosixFileSystem();
      const std::string prefix =
          options_.writer_id.empty() ? "lakelog-" + host_ : options_.writer_id;
      LAKELOG_ASSIGN_OR_RETURN(EngineWal opened,
                               OpenEngineWal(fs, options_.wal_dir, options_.wal, prefix));
      wal_ = std::move(opened.wal);
      writer_id_ = opened.writer_id;
      // A new id has nothing committed anywhere: no replay needed before the first round.
      MutexLock lock(&mu_);  // no flush thread runs yet; the lock is for the analysis
      recovered_ = opened.fresh;
    }
    for (auto& sink : sinks_to_start_) {
      DeliveryConfig config;
      config.writer_id = writer_id_;
      config.wal = wal_.get();
      config.wal_dir = options_.wal_dir;
      config.retry_initial_backoff = options_.retry_initial_backoff;
      config.retry_max_backoff = options_.retry_max_backoff;
      config.backlog_bytes = options_.sink_backlog_bytes;
      config.metrics = metrics_.ForSink(sink->name());
      DeliveryHooks hooks;
      hooks.settled = [this](size_t, int64_t seq, Settlement how, DropReason reason) {
        OnSettled(seq, how, reason);
      };
      hooks.progressed = [this] { OnProgressed(); };
      hooks.report = [this](const Status& status) { ReportError(status); };
      hooks.gave_up = [this](const Status& status) {
        MutexLock lock(&mu_);
        ++rounds_given_up_;
        last_give_up_ = status;
      };
      deliveries_.push_back(std::make_unique<SinkDelivery>(deliveries_.size(), std::move(sink),
                                                           std::move(config), std::move(hooks)));
    }
    sinks_to_start_.clear();
    if (options_.metrics_port != 0) {
      LAKELOG_ASSIGN_OR_RETURN(
          server_, http::MetricsServer::Start(options_.metrics_bind_address, options_.metrics_port,
                                              metrics_.collectables()));
    }
    if (options_.flush_threads > 0) {
      for (auto& d : deliveries_) d->StartThread();
    }
    for (int i = 0; i < options_.flush_threads; ++i) {
      threads_.emplace_back([this] { ThreadLoop(); });
    }
    return Status::OK();
  }

  ~EngineImpl() override { (void)Stop(StopOptions{.timeout = options_.stop_timeout}); }

  Result<Logger> GetLogger(std::string_view pipeline, const LoggerOptions& options) override {
    if (options.capacity_events == 0 || options.capacity_bytes == 0 || options.batch_events == 0 ||
        options.batch_bytes == 0 || options.flush_interval.count() <= 0) {
      return Status::InvalidArgument(
          "logger options: capacities, batches and interval must be > 0");
    }
    // A name a sink cannot store would fail every round it joins, and with it the other
    // pipelines' events of that round: refuse it here, once, with the reason.
    for (auto& d : deliveries_) {
      Status st;
      try {
        st = d->sink()->CheckPipeline(pipeline);
      } catch (const std::exception& e) {
        st = Status::Internal(std::string("sink CheckPipeline() threw: ") + e.what());
      }
      if (!st.ok()) return st;
    }
    MutexLock lock(&mu_);
    if (stop_requested_) return Status::Unavailable("engine is stopped");
    auto it = by_name_.find(pipeline);
    if (it != by_name_.end()) {
      const auto& buffer = pipelines_[it->second]->buffer;
      if (!(buffer->options() == options)) {
        return Status::InvalidArgument("pipeline '" + std::string(pipeline) +
                                       "' already has a logger with other options");
      }
      return MakeLogger(buffer);
    }
    auto entry = std::make_unique<PipelineEntry>();
    entry->buffer = std::make_shared<PipelineBuffer>(std::string(pipeline), options, clock_, host_,
                                                     [this] { Wake(); });
    entry->interval_micros = options.flush_interval.count() * 1000;
    by_name_.emplace(std::string(pipeline), pipelines_.size());
    pipelines_.push_back(std::move(entry));
    return MakeLogger(pipelines_.back()->buffer);
  }

  Status Flush(std::chrono::milliseconds timeout) override {
    const auto deadline = SteadyClock::now() + timeout;
    Status st = WaitForCommit(deadline, /*durable_only=*/false);
    if (!st.ok()) return st;
    return FlushSinks(deadline);
  }

  Status Sync(std::chrono::milliseconds timeout) override {
    if (!wal_) return Flush(timeout);
    return WaitForCommit(SteadyClock::now() + timeout, /*durable_only=*/true);
  }

  Result<int> RunDueRounds() override {
    const int64_t written_before = rounds_written();
    // Bounded: a producer outrunning the loop must not keep the caller here forever.
    for (int i = 0; i < 100000; ++i) {
      MutexLock lock(&mu_);
      if (!recovered_) {
        if (recovering_) break;
        RunRecoveryLocked();
        if (!recovered_) break;
      }
      if (building_ || !AnyDueLocked(clock_->NowMicros())) break;
      RunRoundLocked();
    }
    if (threads_.empty()) DeliverInline();
    return static_cast<int>(rounds_written() - written_before);
  }

  Status Stop(const StopOptions& options) override {
    std::vector<std::shared_ptr<PipelineBuffer>> buffers;
    {
      MutexLock lock(&mu_);
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
      MutexLock lock(&mu_);
      stop_deadline_ = deadline;
    }
    for (auto& d : deliveries_) d->SetDeadline(deadline);
    Status st = WaitForCommit(deadline, /*durable_only=*/false);
    if (st.ok()) st = FlushSinks(deadline);
    {
      MutexLock lock(&mu_);
      give_up_ = true;  // rounds still retrying are given up (or kept in the WAL)
      exit_ = true;
    }
    work_cv_.SignalAll();
    commit_cv_.SignalAll();
    for (auto& t : threads_) t.join();
    threads_.clear();
    for (auto& d : deliveries_) d->GiveUp();
    DeliverInline();  // without threads: settles what is queued, at once
    for (auto& d : deliveries_) d->Join();
    // Whatever is still buffered (the deadline passed) goes to the WAL, to be committed by the
    // next engine on it, or is counted as dropped: never lost silently.
    for (auto& b : buffers) {
      std::vector<LogEvent> rest;
      uint64_t bytes = 0;
      size_t n = b->Drain(SIZE_MAX, UINT64_MAX, &rest, &bytes);
      n += b->HarvestRepeats(0, /*all=*/true, &rest);
      if (n == 0) continue;
      if (wal_ && wal_appender_.Append(wal_.get(), rest, nullptr).ok()) {
        MutexLock lock(&mu_);
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
      std::string behind;
      int64_t left = 0;
      {
        MutexLock lock(&mu_);
        left = left_in_wal_;
      }
      int64_t most_left_for_one_sink = 0;
      for (auto& d : deliveries_) {
        const DeliveryStats s = d->stats();
        most_left_for_one_sink = std::max(most_left_for_one_sink, s.left_in_wal);
        if (s.left_in_wal > 0 || !s.caught_up || s.parked) {
          behind += (behind.empty() ? "" : ", ") + std::string(d->name());
        }
      }
      left += most_left_for_one_sink;
      if (left > 0 || !behind.empty()) {
        st = Status::Unavailable(
            "lakelog: " + (behind.empty() ? std::string("the sinks") : "sink " + behind) +
            " did not take every event before Stop()'s deadline; " + std::to_string(left) +
            " events are kept in the WAL at " + options_.wal_dir +
            " and are committed when an engine next opens it (or by `lakelog recover`)" +
            (st.ok() ? std::string() : "; the sink's error: " + st.ToString()));
      }
    }
    server_.reset();
    return st;
  }

  std::vector<std::string> Pipelines() const override {
    MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& p : pipelines_) out.push_back(p->buffer->pipeline());
    return out;
  }

  Result<LoggerStats> Stats(std::string_view pipeline) const override {
    MutexLock lock(&mu_);
    auto it = by_name_.find(pipeline);
    if (it == by_name_.end())
      return Status::NotFound("no pipeline '" + std::string(pipeline) + "'");
    return pipelines_[it->second]->buffer->Stats();
  }

  int64_t rounds_written() const override {
    return rounds_written_.load(std::memory_order_relaxed);
  }

  WalInfo wal_info() const override {
    WalInfo info;
    if (!wal_) return info;
    info.enabled = true;
    bool all_caught_up = true;
    uint64_t committed = UINT64_MAX;
    for (const auto& d : deliveries_) {
      const DeliveryStats s = d->stats();
      all_caught_up = all_caught_up && s.caught_up && !s.parked;
      committed = std::min(committed, s.committed_key);
      info.replayed_events += s.replayed_events;
      info.replay_writes += s.replay_writes;
      info.corrupt_records = std::max(info.corrupt_records, s.corrupt_records);
      info.corrupt_bytes = std::max(info.corrupt_bytes, s.corrupt_bytes);
      info.events_left_in_wal = std::max(info.events_left_in_wal, s.left_in_wal);
    }
    MutexLock lock(&mu_);
    info.recovered = recovered_ && all_caught_up;
    info.durable_sequence = wal_->DurableSequence();
    info.committed_sequence = std::max(wal_committed_, committed == UINT64_MAX ? 0 : committed);
    info.append_failures = wal_->stats().append_failures;
    info.events_left_in_wal += left_in_wal_;
    return info;
  }
  // wal_info() plus the WAL's own counters, for the lakelog_wal_* series.
  std::optional<metrics::WalSnapshot> SnapshotWal() const {
    const WalInfo info = wal_info();
    if (!info.enabled) return std::nullopt;
    const wal::WalStats stats = wal_->stats();
    metrics::WalSnapshot s;
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
  std::string MetricsText() const override { return metrics_.Text(); }
  int metrics_port() const override { return server_ ? server_->port() : 0; }
  const std::string& writer_id() const override { return writer_id_; }

 private:
  void Wake() {
    {
      MutexLock lock(&mu_);
      wake_ = true;
    }
    work_cv_.SignalAll();
  }

  // Hands a background error to error_handler. A handler that throws cannot take the flush
  // thread (and the process) down: the error and what it threw go to stderr instead.
  void ReportError(const Status& status) {
    if (!options_.error_handler) return;
    try {
      options_.error_handler(status);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lakelog: error_handler threw (%s) while reporting: %s\n", e.what(),
                   status.ToString().c_str());
    } catch (...) {
      std::fprintf(stderr, "lakelog: error_handler threw while reporting: %s\n",
                   status.ToString().c_str());
    }
  }

  // Every sink's Flush(), within what is left until `deadline`; the first error.
  Status FlushSinks(SteadyClock::time_point deadline) {
    Status first;
    for (auto& d : deliveries_) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      Status st;
      try {
        st = d->sink()->Flush(std::max(left, std::chrono::milliseconds(0)));
      } catch (const std::exception& e) {
        st = Status::Internal(std::string("sink Flush() threw: ") + e.what());
      }
      if (!st.ok() && first.ok()) {
        first = st.WithContext("lakelog: flushing sink '" + std::string(d->name()) + "'");
      }
    }
    return first;
  }

  // Without flush threads the caller's thread delivers (and waits out retries).
  void DeliverInline() {
    if (!threads_.empty() || options_.flush_threads > 0) return;
    for (auto& d : deliveries_) d->RunUntilIdle();
  }

  // --- write-ahead log ---

  // Before the first round: reads every sink's committed key, moves the WAL's numbering above
  // the highest (so no new record reuses a key any sink holds) and tells each delivery what it
  // must catch up on. On a retryable failure waits a backoff (the next call tries again).
  // Called with mu_ held, !recovered_ and !recovering_; returns with it held, having dropped it
  // while reading the sinks.
  void RunRecoveryLocked() REQUIRES(mu_) {
    mu_.AssertHeld();
    recovering_ = true;
    const int attempt = ++recovery_attempts_;
    mu_.Unlock();
    std::vector<std::optional<uint64_t>> marks(deliveries_.size());
    std::vector<size_t> later;  // down for now: they read their key themselves
    Status st, down;
    for (size_t i = 0; i < deliveries_.size(); ++i) {
      auto committed = deliveries_[i]->CommittedRound();
      if (committed.ok()) {
        marks[i] = static_cast<uint64_t>(std::max<int64_t>(0, *committed));
      } else if (!committed.status().retryable()) {
        // Nothing will fix it: new events go on to the WAL but not to this sink, whose key
        // would otherwise pass the WAL's unreplayed records. Stop() reports them as kept.
        ReportError(committed.status().WithContext(
            "lakelog: reading the committed round of sink '" + std::string(deliveries_[i]->name()) +
            "'; it gets no events until restarted"));
        deliveries_[i]->Park(committed.status());
      } else {
        later.push_back(i);
        if (down.ok()) {
          down = committed.status().WithContext("reading the committed round of sink '" +
                                                std::string(deliveries_[i]->name()) + "'");
        }
      }
    }
    const bool any_known = std::any_of(marks.begin(), marks.end(), [](auto& m) { return m; });
    // A sink that is down must not hold the others back: once one sink has answered, the
    // rest start later on their own. (With none answering there is nothing to start.)
    if (!later.empty() && !any_known) st = down;
    if (st.ok()) {
      uint64_t highest = 0, lowest = UINT64_MAX;
      for (const auto& m : marks) {
        highest = std::max(highest, m.value_or(0));
        lowest = std::min(lowest, m.value_or(0));
      }
      const uint64_t through = wal_->LastSequence();
      wal_->ReserveThrough(highest);
      bool whole_wal = true;  // one delivery reads all of it, to count damage once
      for (size_t i = 0; i < deliveries_.size(); ++i) {
        if (!marks[i]) continue;
        deliveries_[i]->SetStart(*marks[i], through, whole_wal);
        whole_wal = false;
      }
      for (size_t i : later) {
        deliveries_[i]->SetStartLater(through, std::max(highest, through));
      }
      if (!later.empty()) {
        ReportError(
            down.WithContext("lakelog: the other sinks go on; it catches up from the "
                             "WAL at " +
                             options_.wal_dir + " when it answers"));
      }
      if (lowest != UINT64_MAX) MarkWalCommitted(lowest);
    } else {
      ReportError(st.WithContext("lakelog: replaying the WAL at " + options_.wal_dir +
                                 " (attempt " + std::to_string(attempt) + ")"));
    }
    mu_.Lock();
    if (st.ok()) {
      recovered_ = true;
    } else {
      auto until = SteadyClock::now() + backoff_.Next(attempt - 1);
      if (stop_deadline_ && *stop_deadline_ < until) until = *stop_deadline_;
      while (!give_up_ && commit_cv_.WaitUntil(&mu_, until)) {
      }
      if (give_up_ || (stop_deadline_ && SteadyClock::now() >= *stop_deadline_)) {
        recovered_ = true;
        for (auto& d : deliveries_) d->Park(st);
      }
    }
    recovering_ = false;
    work_cv_.SignalAll();
    commit_cv_.SignalAll();
  }

  // Lets the WAL delete segments every sink now holds; a failure only delays the deletion.
  void MarkWalCommitted(uint64_t sequence) {
    Status st = wal_->MarkCommitted(sequence);
    if (!st.ok()) ReportError(st.WithContext("lakelog: releasing committed WAL segments"));
    MutexLock lock(&mu_);
    wal_committed_ = std::max(wal_committed_, sequence);
  }

  // A delivery's key moved or its catch-up ended.
  void OnProgressed() {
    if (wal_) {
      uint64_t lowest = UINT64_MAX;
      for (const auto& d : deliveries_) lowest = std::min(lowest, d->stats().committed_key);
      bool advance;
      {
        MutexLock lock(&mu_);
        advance = recovered_ && lowest != UINT64_MAX && lowest > wal_committed_;
      }
      if (advance) MarkWalCommitted(lowest);
    }
    MutexLock lock(&mu_);
    UpdateWaitersLocked();
  }

  // --- scheduling (all *Locked methods need mu_) ---

  std::vector<PipelineEntry*> EntriesLocked() const REQUIRES(mu_) {
    mu_.AssertHeld();
    std::vector<PipelineEntry*> entries;
    entries.reserve(pipelines_.size());
    for (const auto& p : pipelines_) entries.push_back(p.get());
    return entries;
  }

  // A Flush() waiter still needs a round to be built.
  bool ForcedLocked() const REQUIRES(mu_) {
    mu_.AssertHeld();
    for (const FlushWaiter* w : waiters_) {
      if (w->done) continue;
      if (next_seq_ <= w->min_seq) return true;
      for (size_t i = 0; i < w->targets.size(); ++i) {
        if (!pipelines_[i]->buffer->HeadCovers(w->targets[i])) return true;
      }
    }
    return false;
  }

  bool AnyDueLocked(int64_t now) const REQUIRES(mu_) {
    mu_.AssertHeld();
    if (ForcedLocked()) return true;
    for (const auto& p : pipelines_) {
      if (p->buffer->HasData() && IsDue(*p, now)) return true;
    }
    return false;
  }

  // Builds one round and hands it to every sink. Called with mu_ held and building_ false;
  // returns with it held, having dropped it while draining, syncing and handing over.
  void RunRoundLocked() REQUIRES(mu_) {
    mu_.AssertHeld();
    const int64_t now = clock_->NowMicros();
    auto round = std::make_shared<Round>();
    round->events = TakeBatchLocked();
    round->forced = ForcedLocked();
    round->seq = next_seq_++;
    const std::vector<PipelineEntry*> entries = EntriesLocked();
    const std::vector<size_t> plan = PlanRound(entries, rr_start_, now, round->forced);
    if (!entries.empty()) rr_start_ = (rr_start_ + 1) % entries.size();
    building_ = true;
    mu_.Unlock();

    DrainRound(plan, entries, now, round.get());
    if (wal_ && !round->empty()) {
      // Still the only builder: WAL order is round order. The sync (group commit) waits until
      // the next round may be built.
      round->wal_status =
          wal_appender_.Append(wal_.get(), round->events.events(), &round->wal_sequences);
      round->wal_last_seq = wal_->LastSequence();
    }

    mu_.Lock();
    building_ = false;
    for (size_t i : plan) entries[i]->errors_at_last_drain = entries[i]->buffer->error_events();
    if (!round->forced) AdaptIntervals(round->parts, entries);
    work_cv_.SignalAll();  // another thread may build the next round meanwhile
    if (wal_ && !round->empty()) {
      mu_.Unlock();
      SyncRound(round.get());
      mu_.Lock();
    }
    if (round->wal_status.ok()) {
      durable_seq_ = std::max(durable_seq_, round->seq);
      for (size_t i = 0; i < round->heads.size(); ++i) {
        entries[i]->durable_head.Raise(round->heads[i]);
      }
    } else {
      // Sync() callers waiting on this round learn that it is not durable.
      for (FlushWaiter* w : waiters_) {
        if (!w->done && w->durable_only) {
          w->error = round->wal_status;
          w->done = true;
        }
      }
    }
    UpdateWaitersLocked();

    // The hand-over, strictly in round order: a sink sees its rounds' keys increase.
    while (handed_over_seq_ != round->seq - 1) commit_cv_.Wait(&mu_);
    in_flight_.push_back(InFlight{round, round->empty() ? 0 : deliveries_.size()});
    if (round->empty()) {
      FinishSettledLocked();
    } else {
      mu_.Unlock();
      for (auto& d : deliveries_) d->Enqueue(round);
      mu_.Lock();
    }
    handed_over_seq_ = round->seq;
    commit_cv_.SignalAll();
  }

  // Makes the round's WAL records durable per the sync mode; no lock held.
  void SyncRound(Round* round) {
    if (round->wal_status.ok()) round->wal_status = wal_->Sync();
    if (round->wal_status.ok() && options_.wal.sync_mode == WalSyncMode::kInterval) {
      // Durable in this mode means covered by one of the WAL's interval fsyncs.
      const auto step =
          std::chrono::milliseconds(std::clamp<uint32_t>(options_.wal.sync_interval_ms / 4, 1, 10));
      while (round->wal_status.ok() && wal_->DurableSequence() < round->wal_last_seq) {
        std::this_thread::sleep_for(step);
        round->wal_status = wal_->Sync();
      }
    }
    if (!round->wal_status.ok()) {
      ReportError(round->wal_status.WithContext("lakelog: WAL append/sync of round " +
                                                std::to_string(round->seq) +
                                                " (its events go to the sinks unprotected)"));
    }
  }

  // A sink settled round `seq`.
  void OnSettled(int64_t seq, Settlement how, DropReason reason) {
    MutexLock lock(&mu_);
    wake_ = true;  // a sink took a round: a builder held back by SinksKeepUpLocked may go on
    work_cv_.SignalAll();
    // Invariant: a round is in flight from its hand-over until every sink settled it.
    const int64_t index = seq - in_flight_.front().round->seq;
    assert(index >= 0 && index < static_cast<int64_t>(in_flight_.size()));
    InFlight& f = in_flight_[static_cast<size_t>(index)];
    assert(f.pending > 0);
    --f.pending;
    if (how == Settlement::kDropped && !f.dropped) {
      f.dropped = true;
      f.reason = reason;
    }
    FinishSettledLocked();
  }

  // Retires the rounds every sink has settled, in round order: counts their events, moves the
  // committed heads, wakes Flush() waiters and keeps the storage for the next rounds.
  void FinishSettledLocked() REQUIRES(mu_) {
    mu_.AssertHeld();
    bool any = false;
    while (!in_flight_.empty() && in_flight_.front().pending == 0) {
      InFlight f = std::move(in_flight_.front());
      in_flight_.pop_front();
      Round& round = *f.round;
      const int64_t now = clock_->NowMicros();
      for (const PipelinePart& part : round.parts) {
        PipelineEntry& p = *pipelines_[part.index];
        if (f.dropped) {
          p.buffer->CountDropped(f.reason, part.events);
        } else {
          p.buffer->CountFlushed(part.events);
          p.last_flush_micros.store(now, std::memory_order_relaxed);
        }
      }
      for (size_t i = 0; i < round.heads.size(); ++i) {
        PipelineEntry& p = *pipelines_[i];
        p.committed_head.Raise(round.heads[i]);
        p.durable_head.Raise(p.committed_head);
      }
      // Invariant (top of file): rounds are handed over, so retired, strictly in round order;
      // this is what lets committed_seq_ and the committed heads stand for everything below.
      assert(round.seq == committed_seq_ + 1);
      committed_seq_ = std::max(committed_seq_, round.seq);
      if (!round.empty() && !f.dropped) rounds_written_.fetch_add(1, std::memory_order_relaxed);
      if (f.round.use_count() == 1) {
        const size_t footprint = round.events.capacity() * sizeof(LogEvent) > kMaxSpareBytes
                                     ? SIZE_MAX
                                     : round.events.Trim(kMaxKeptStringBytes);
        KeepBatchLocked(std::move(round.events), footprint);
      }
      any = true;
    }
    if (any) UpdateWaitersLocked();
  }

  // A flush round's event storage: a recycled one when a finished round left it (a round's
  // strings keep their capacity, so draining a steady stream into them does not allocate).
  buffer::EventBatch TakeBatchLocked() REQUIRES(mu_) {
    mu_.AssertHeld();
    if (spare_batches_.empty()) return {};
    buffer::EventBatch batch = std::move(spare_batches_.back());
    spare_batches_.pop_back();
    return batch;
  }

  // Keeps a finished round's storage for the next one: at most one spare per flush thread,
  // each with a footprint (EventBatch::Trim(kMaxKeptStringBytes): events and their strings'
  // heap blocks, once strings that grew past that size for a rare big message gave them back)
  // under kMaxSpareBytes. A spare is memory the configured buffer sizes do not show.
  void KeepBatchLocked(buffer::EventBatch batch, size_t footprint) REQUIRES(mu_) {
    mu_.AssertHeld();
    const size_t max_spares = static_cast<size_t>(std::max(options_.flush_threads, 1));
    if (footprint > kMaxSpareBytes || spare_batches_.size() >= max_spares) return;
    batch.Clear();
    spare_batches_.push_back(std::move(batch));
  }

  // No sink has WAL records left to catch up on (a parked one counts as done: its records
  // wait for the next engine).
  bool AllCaughtUpLocked() const REQUIRES(mu_) {
    mu_.AssertHeld();
    for (const auto& d : deliveries_) {
      if (!d->stats().caught_up) return false;
    }
    return true;
  }

  // Marks Flush()/Sync() waiters done once every pipeline's committed (or durable) head
  // passed their targets, and wakes them.
  void UpdateWaitersLocked() REQUIRES(mu_) {
    mu_.AssertHeld();
    bool caught_up_known = false, caught_up = false;
    for (FlushWaiter* w : waiters_) {
      if (w->done) continue;
      const int64_t seq = w->durable_only ? std::max(durable_seq_, committed_seq_) : committed_seq_;
      if (seq < w->min_seq) continue;
      bool all = true;
      for (size_t i = 0; i < w->targets.size() && all; ++i) {
        const PipelineEntry& p = *pipelines_[i];
        all = (w->durable_only ? p.durable_head : p.committed_head).Covers(w->targets[i]);
      }
      if (all && !w->durable_only) {
        if (!caught_up_known) {
          caught_up = AllCaughtUpLocked();
          caught_up_known = true;
        }
        all = caught_up;
      }
      w->done = all;
    }
    commit_cv_.SignalAll();
  }

  // Registers a waiter for everything logged so far and waits (building and delivering rounds
  // inline when there are no flush threads) until it is settled with every sink (or,
  // durable_only, durable in the WAL) or the deadline passes. A flush (not durable_only) also
  // reports rounds given up since the previous flush returned: a round that failed on a flush
  // thread between two Flush() calls would otherwise go unreported to the caller.
  Status WaitForCommit(SteadyClock::time_point deadline, bool durable_only) {
    FlushWaiter waiter;
    waiter.durable_only = durable_only;
    MutexLock lock(&mu_);
    const int64_t given_up_before = durable_only ? rounds_given_up_ : give_ups_reported_;
    waiter.min_seq = next_seq_;
    for (const auto& p : pipelines_) waiter.targets.push_back(p->buffer->tail());
    waiters_.push_back(&waiter);
    UpdateWaitersLocked();
    wake_ = true;
    work_cv_.SignalAll();
    while (!waiter.done) {
      if (SteadyClock::now() >= deadline) break;
      if (threads_.empty() && !recovered_ && !recovering_) {
        RunRecoveryLocked();
        continue;
      }
      if (threads_.empty() && recovered_ && !building_ && ForcedLocked()) {
        RunRoundLocked();
        continue;
      }
      if (threads_.empty() && options_.flush_threads == 0 && !AllIdleLocked()) {
        mu_.Unlock();
        DeliverInline();
        mu_.Lock();
        UpdateWaitersLocked();
        continue;
      }
      commit_cv_.WaitUntil(&mu_, std::min(deadline, SteadyClock::now() + options_.poll_interval));
      if (!waiter.done && !durable_only) UpdateWaitersLocked();
    }
    waiters_.remove(&waiter);
    if (!waiter.done) return Status::TimedOut("lakelog: flush did not finish before its deadline");
    if (!waiter.error.ok()) return waiter.error;
    // Rounds given up meanwhile had their events counted as dropped; say so.
    const bool gave_up = rounds_given_up_ != given_up_before;
    if (!durable_only) give_ups_reported_ = rounds_given_up_;
    return gave_up ? last_give_up_ : Status::OK();
  }

  bool AllIdleLocked() const REQUIRES(mu_) {
    mu_.AssertHeld();
    for (const auto& d : deliveries_) {
      if (!d->Idle()) return false;
    }
    return true;
  }

  // Without a WAL, a new round is built only while some sink has nothing waiting (the fastest
  // sink sets the pace; one round is being written, the next one built). Otherwise rounds
  // would pile up in memory behind slow sinks while the buffers, drained, never apply their
  // overflow policy. With a WAL, rounds go to the WAL and a backlog is let go from memory.
  bool SinksKeepUpLocked() const REQUIRES(mu_) {
    mu_.AssertHeld();
    if (wal_) return true;
    for (const auto& d : deliveries_) {
      if (d->queued_rounds() == 0) return true;
    }
    return deliveries_.empty();
  }

  void ThreadLoop() {
    MutexLock lock(&mu_);
    while (!exit_) {
      if (!recovered_ && !recovering_) {
        RunRecoveryLocked();
        continue;
      }
      if (recovered_ && !building_ && AnyDueLocked(clock_->NowMicros()) && SinksKeepUpLocked()) {
        RunRoundLocked();
        continue;
      }
      wake_ = false;
      const auto until = SteadyClock::now() + options_.poll_interval;
      while (!wake_ && !exit_ && work_cv_.WaitUntil(&mu_, until)) {
      }
    }
  }

  std::vector<metrics::PipelineSnapshot> Snapshot() const {
    std::vector<const PipelineEntry*> entries;
    {
      MutexLock lock(&mu_);
      for (const auto& p : pipelines_) entries.push_back(p.get());
    }
    const int64_t now = clock_->NowMicros();
    std::vector<metrics::PipelineSnapshot> out;
    for (const PipelineEntry* p : entries) {
      metrics::PipelineSnapshot s;
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
  std::vector<std::unique_ptr<Sink>> sinks_to_start_;  // until Start() made the deliveries
  Clock* const clock_;
  const std::string host_;
  std::string writer_id_;            // set before the flush threads start
  Backoff backoff_ GUARDED_BY(mu_);  // start-up retries
  metrics::EngineMetrics metrics_;
  std::unique_ptr<http::MetricsServer> server_;
  // One per sink, made by Start() and fixed after; each is thread-safe.
  std::vector<std::unique_ptr<SinkDelivery>> deliveries_;

  mutable Mutex mu_;
  CondVar work_cv_;    // flush threads wait for due work
  CondVar commit_cv_;  // hand-over turns, Flush() waiters, start-up retries
  // Append-only, so indexes stay valid; entries live as long as the engine.
  std::vector<std::unique_ptr<PipelineEntry>> pipelines_ GUARDED_BY(mu_);
  std::map<std::string, size_t, std::less<>> by_name_ GUARDED_BY(mu_);
  std::list<FlushWaiter*> waiters_ GUARDED_BY(mu_);
  // Rounds handed to the sinks and not yet settled by all, in round order.
  std::deque<InFlight> in_flight_ GUARDED_BY(mu_);
  size_t rr_start_ GUARDED_BY(mu_) = 0;
  bool building_ GUARDED_BY(mu_) = false;
  int64_t next_seq_ GUARDED_BY(mu_) = 1;
  int64_t handed_over_seq_ GUARDED_BY(mu_) = 0;
  // Every round up to here is settled with every sink.
  int64_t committed_seq_ GUARDED_BY(mu_) = 0;
  bool wake_ GUARDED_BY(mu_) = false;
  bool stop_requested_ GUARDED_BY(mu_) = false;
  bool give_up_ GUARDED_BY(mu_) = false;
  int64_t rounds_given_up_ GUARDED_BY(mu_) = 0;
  // rounds_given_up_ when the last flush that saw every round settled returned.
  int64_t give_ups_reported_ GUARDED_BY(mu_) = 0;
  Status last_give_up_ GUARDED_BY(mu_);
  // Set by Stop(): retries end at this point.
  std::optional<SteadyClock::time_point> stop_deadline_ GUARDED_BY(mu_);
  bool exit_ GUARDED_BY(mu_) = false;
  std::atomic<int64_t> rounds_written_{0};
  std::vector<std::thread> threads_;

  // The WAL (null without one); its methods are thread-safe.
  std::unique_ptr<wal::Wal> wal_;
  // Encoding scratch of the round builder (one at a time) and of Stop().
  WalAppender wal_appender_;
  // Event storage of finished rounds, for the next ones (TakeBatchLocked/KeepBatchLocked).
  std::vector<buffer::EventBatch> spare_batches_ GUARDED_BY(mu_);
  // Every sink's key is read (or there is no WAL).
  bool recovered_ GUARDED_BY(mu_) = true;
  bool recovering_ GUARDED_BY(mu_) = false;
  int recovery_attempts_ GUARDED_BY(mu_) = 0;
  int64_t durable_seq_ GUARDED_BY(mu_) = 0;
  // Every sink holds every WAL record up to here.
  uint64_t wal_committed_ GUARDED_BY(mu_) = 0;
  int64_t left_in_wal_ GUARDED_BY(mu_) = 0;  // drained into the WAL by Stop()
};

}  // namespace flush

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options, std::unique_ptr<Sink> sink) {
  if (sink == nullptr) return Status::InvalidArgument("Engine::Open: sink is null");
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(sink));
  return Open(std::move(options), std::move(sinks));
}

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options,
                                             std::vector<std::unique_ptr<Sink>> sinks) {
  if (sinks.empty()) return Status::InvalidArgument("Engine::Open: no sink");
  std::set<std::string, std::less<>> names;
  for (const auto& sink : sinks) {
    if (sink == nullptr) return Status::InvalidArgument("Engine::Open: a sink is null");
    if (!names.emplace(sink->name()).second) {
      return Status::InvalidArgument("Engine::Open: two sinks are named '" +
                                     std::string(sink->name()) +
                                     "'; names label the metrics and must be unique");
    }
  }
  if (options.flush_threads < 0 || options.flush_threads > 64) {
    return Status::InvalidArgument("Engine::Open: flush_threads must be 0..64");
  }
  if (options.sink_backlog_bytes == 0) {
    return Status::InvalidArgument("Engine::Open: sink_backlog_bytes must be > 0");
  }
  if (options.poll_interval.count() <= 0) options.poll_interval = std::chrono::milliseconds(10);
  auto engine = std::make_unique<flush::EngineImpl>(std::move(options), std::move(sinks));
  LAKELOG_RETURN_IF_ERROR(engine->Start());
  return std::unique_ptr<Engine>(std::move(engine));
}

Engine::~Engine() = default;

}  // namespace lakelog

#include "flush/sink_delivery.h"

#include <algorithm>
#include <exception>

#include "wal/record_codec.h"

namespace lakelog::flush {
namespace {

// A catch-up writes at most this much per sink write.
constexpr size_t kReplayBatchEvents = 65536;
constexpr uint64_t kReplayBatchBytes = 32ull << 20;

Status FromException(std::string_view what, std::string_view call) {
  return Status::Internal("lakelog: sink " + std::string(call) + " threw: " + std::string(what));
}

}  // namespace

SinkDelivery::SinkDelivery(size_t index, std::unique_ptr<Sink> sink, DeliveryConfig config,
                           DeliveryHooks hooks)
    : index_(index),
      sink_(std::move(sink)),
      config_(std::move(config)),
      hooks_(std::move(hooks)),
      backoff_(config_.retry_initial_backoff, config_.retry_max_backoff,
               std::hash<std::string>()(config_.writer_id) + index) {}

SinkDelivery::~SinkDelivery() { Join(); }

void SinkDelivery::SetStart(uint64_t watermark, uint64_t through, bool read_whole_wal) {
  {
    MutexLock lock(&mu_);
    committed_key_ = watermark;
    read_whole_wal_ = read_whole_wal;
    catch_up_through_ = std::max(catch_up_through_, through);
  }
  cv_.SignalAll();  // the thread has a catch-up to do
}

void SinkDelivery::SetStartLater(uint64_t through, uint64_t reserved) {
  {
    MutexLock lock(&mu_);
    key_unknown_ = true;
    reserved_ = reserved;
    catch_up_through_ = std::max(catch_up_through_, through);
  }
  cv_.SignalAll();  // the thread has a key to read
}

void SinkDelivery::Park(const Status& why) {
  {
    MutexLock lock(&mu_);
    parked_ = true;
    park_reason_ = why;
  }
  cv_.SignalAll();
}

void SinkDelivery::StartThread() {
  thread_ = std::thread([this] {
    MutexLock lock(&mu_);
    while (true) {
      while (!exit_ && !HasWorkLocked()) cv_.Wait(&mu_);
      if (!HasWorkLocked()) break;  // exit_ and nothing left
      StepLocked();
    }
  });
}

void SinkDelivery::RunUntilIdle() {
  MutexLock lock(&mu_);
  // Another caller (a Flush() beside RunDueRounds()) may be stepping: wait for it.
  while (busy_) cv_.Wait(&mu_);
  while (HasWorkLocked()) StepLocked();
}

void SinkDelivery::SetDeadline(SteadyClock::time_point deadline) {
  {
    MutexLock lock(&mu_);
    deadline_ = deadline;
  }
  cv_.SignalAll();
}

void SinkDelivery::GiveUp() {
  {
    MutexLock lock(&mu_);
    give_up_ = true;
  }
  cv_.SignalAll();
}

void SinkDelivery::Join() {
  {
    MutexLock lock(&mu_);
    exit_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

size_t SinkDelivery::queued_rounds() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

bool SinkDelivery::Idle() const {
  MutexLock lock(&mu_);
  return !busy_ && !HasWorkLocked();
}

DeliveryStats SinkDelivery::stats() const {
  MutexLock lock(&mu_);
  DeliveryStats s = stats_;
  s.committed_key = committed_key_;
  s.parked = parked_;
  s.caught_up = parked_ || !NeedsCatchUpLocked();
  return s;
}

bool SinkDelivery::NeedsCatchUpLocked() const {
  mu_.AssertHeld();
  return config_.wal != nullptr && !parked_ &&
         (key_unknown_ || catch_up_through_ > committed_key_ || read_whole_wal_);
}

bool SinkDelivery::HasWorkLocked() const {
  mu_.AssertHeld();
  return !queue_.empty() || NeedsCatchUpLocked();
}

void SinkDelivery::Enqueue(std::shared_ptr<const Round> round) {
  std::vector<std::shared_ptr<const Round>> let_go;
  bool dropped = false;
  {
    MutexLock lock(&mu_);
    const bool over = !queue_.empty() && queued_bytes_ + round->footprint() > config_.backlog_bytes;
    if (!over) {
      queued_bytes_ += round->footprint();
      queue_.push_back(std::move(round));
    } else if (config_.wal != nullptr && round->in_wal() &&
               std::all_of(queue_.begin(), queue_.end(),
                           [](const auto& r) { return r->in_wal() || r->empty(); })) {
      // Everything waiting is in the WAL: let it go from memory and catch up from there.
      // (A round being written now is not in the queue; the catch-up starts after whatever
      // key it leaves, so nothing is skipped.)
      for (auto& r : queue_) let_go.push_back(std::move(r));
      queue_.clear();
      queued_bytes_ = 0;
      catch_up_through_ = std::max(catch_up_through_, round->wal_last_seq);
      let_go.push_back(std::move(round));
    } else {
      dropped = true;
      let_go.push_back(std::move(round));
    }
    if (config_.metrics) config_.metrics->SetBacklogBytes(queued_bytes_);
  }
  cv_.SignalAll();
  // The give-up is counted before the round settles, so that a Flush() waiting for it sees both.
  if (dropped && hooks_.gave_up) {
    hooks_.gave_up(
        Status::Unavailable("lakelog: sink '" + std::string(name()) + "' fell more than " +
                            std::to_string(config_.backlog_bytes) +
                            " bytes behind; a round was given up for it (reason sink_backlog)"));
  }
  for (const auto& r : let_go) {
    if (dropped) {
      if (config_.metrics) config_.metrics->RecordDropped(DropReason::kSinkBacklog, r->rows.size());
      Settle(*r, Settlement::kDropped, DropReason::kSinkBacklog);
    } else {
      Settle(*r, Settlement::kInWal, DropReason::kSinkError);
    }
  }
}

void SinkDelivery::Settle(const Round& round, Settlement how, DropReason reason) {
  if (hooks_.settled) hooks_.settled(index_, round.seq, how, reason);
}

void SinkDelivery::StepLocked() {
  mu_.AssertHeld();
  busy_ = true;
  if (NeedsCatchUpLocked()) {
    const bool read_key = key_unknown_;
    const uint64_t after = committed_key_, through = catch_up_through_;
    mu_.Unlock();
    Status st;
    if (read_key) {
      // The key first (SetStartLater); the catch-up is the next step.
      auto committed = CallCommittedRound();
      st = committed.status().WithContext("reading the committed round");
      if (committed.ok()) {
        const uint64_t key = static_cast<uint64_t>(std::max<int64_t>(0, *committed));
        MutexLock guard(&mu_);
        if (key > reserved_) {
          // Not retryable: new WAL records below its key would look held to it.
          st = Status::InvalidArgument("sink '" + std::string(name()) + "' holds key " +
                                       std::to_string(key) + ", above the WAL's numbering (" +
                                       std::to_string(reserved_) +
                                       "): it gets no events until the engine restarts");
        } else {
          committed_key_ = key;
          key_unknown_ = false;
        }
      }
    } else {
      st = CatchUp(after, through);
    }
    mu_.Lock();
    if (st.ok()) {
      catch_up_failures_ = 0;
      if (!read_key) read_whole_wal_ = false;
    } else {
      const int attempt = ++catch_up_failures_;
      mu_.Unlock();
      if (hooks_.report) {
        hooks_.report(st.WithContext("lakelog: sink '" + std::string(name()) +
                                     "' catching up from the WAL at " + config_.wal_dir +
                                     " (attempt " + std::to_string(attempt) + ")"));
      }
      const bool again = st.retryable() && WaitToRetry(attempt);
      mu_.Lock();
      if (!again) {
        // Nothing will fix it now: the sink gets no more rounds, which stay in the WAL for the
        // next engine (its key must not pass the records it has not taken).
        parked_ = true;
        park_reason_ = st;
      }
    }
    busy_ = false;
    mu_.Unlock();
    if (hooks_.progressed) hooks_.progressed();
    cv_.SignalAll();
    mu_.Lock();
    return;
  }
  std::shared_ptr<const Round> round = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= round->footprint();
  if (config_.metrics) config_.metrics->SetBacklogBytes(queued_bytes_);
  const bool parked = parked_;
  const Status park_reason = park_reason_;
  mu_.Unlock();
  Settlement how;
  DropReason reason = DropReason::kSinkError;
  if (parked) {
    // The sink's key must not pass the WAL records it has not taken: this round waits in the
    // WAL too (or, when the WAL could not keep it, is given up).
    how = round->in_wal() ? Settlement::kInWal : Settlement::kDropped;
    if (hooks_.gave_up) {
      hooks_.gave_up(Status::Unavailable("lakelog: sink '" + std::string(name()) +
                                         "' is behind the WAL (" + park_reason.ToString() +
                                         "); events stay in the WAL"));
    }
  } else {
    how = Deliver(*round, &reason);
  }
  mu_.Lock();
  if (how == Settlement::kInWal && (parked_ || parked)) {
    stats_.left_in_wal += static_cast<int64_t>(round->rows.size());
  }
  busy_ = false;
  mu_.Unlock();
  if (how == Settlement::kDropped && config_.metrics) {
    config_.metrics->RecordDropped(reason, round->rows.size());
  }
  Settle(*round, how, reason);
  round.reset();
  cv_.SignalAll();
  mu_.Lock();
}

bool SinkDelivery::WaitToRetry(int attempt) {
  MutexLock lock(&mu_);
  auto until = SteadyClock::now() + backoff_.Next(attempt - 1);
  if (deadline_ && *deadline_ < until) until = *deadline_;
  while (!give_up_ && cv_.WaitUntil(&mu_, until)) {
  }
  return !(give_up_ || (deadline_ && SteadyClock::now() >= *deadline_));
}

Status SinkDelivery::EnsureTxnBase() {
  if (txn_base_) return Status::OK();
  auto committed = CallCommittedRound();
  if (!committed.ok()) return committed.status().WithContext("reading the committed round");
  txn_base_ = std::max<int64_t>(0, *committed);
  return Status::OK();
}

Settlement SinkDelivery::Deliver(const Round& round, DropReason* reason) {
  if (round.empty()) return Settlement::kWritten;
  const bool wal = config_.wal != nullptr;
  if (wal) {
    MutexLock lock(&mu_);
    // A catch-up from the WAL already gave the sink this round's records.
    if (round.wal_last_seq <= committed_key_) return Settlement::kWritten;
  }
  metrics::SinkMetrics* metrics = config_.metrics;
  for (int attempt = 1;; ++attempt) {
    const auto start = SteadyClock::now();
    Status st = wal ? Status::OK() : EnsureTxnBase();
    if (st.ok()) {
      SinkWriteContext ctx;
      ctx.writer_id = config_.writer_id;
      ctx.round = wal ? static_cast<int64_t>(round.wal_last_seq) : *txn_base_ + round.seq;
      ctx.attempt = attempt;
      ctx.warn = hooks_.report;
      if (wal) ctx.event_sequences = round.wal_sequences;
      st = CallWrite(round.rows, ctx);
    }
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    if (st.ok()) {
      if (metrics) {
        metrics->RecordWrite(metrics::RoundResult::kOk, seconds, round.rows.size(), round.bytes);
      }
      if (wal) {
        {
          MutexLock lock(&mu_);
          committed_key_ = std::max(committed_key_, round.wal_last_seq);
        }
        if (hooks_.progressed) hooks_.progressed();
      }
      return Settlement::kWritten;
    }
    if (st.IsConflict() && metrics) metrics->RecordConflict();
    if (hooks_.report) {
      hooks_.report(st.WithContext("lakelog: sink '" + std::string(name()) + "' round " +
                                   std::to_string(round.seq)));
    }
    const bool again = st.retryable() && WaitToRetry(attempt);
    if (!again) {
      if (metrics) {
        metrics->RecordWrite(metrics::RoundResult::kGivenUp, seconds, round.rows.size(),
                             round.bytes);
      }
      Status why = st.retryable()
                       ? Status::TimedOut("lakelog: sink '" + std::string(name()) +
                                          "' retries ran past the deadline: " + st.ToString())
                       : st;
      if (hooks_.gave_up) hooks_.gave_up(why);
      if (wal && st.retryable()) {
        // Stop()'s deadline with a WAL: the events wait there for the next engine, and no
        // later round may reach this sink before them (its key would pass theirs).
        MutexLock lock(&mu_);
        parked_ = true;
        park_reason_ = st;
        if (round.in_wal()) return Settlement::kInWal;
      }
      *reason = DropReason::kSinkError;
      return Settlement::kDropped;
    }
    if (metrics) {
      metrics->RecordWrite(metrics::RoundResult::kError, seconds, round.rows.size(), round.bytes);
      metrics->RecordRetry();
    }
  }
}

Status SinkDelivery::CatchUp(uint64_t after, uint64_t through) {
  std::vector<LogEvent> batch;
  std::vector<uint64_t> sequences;
  uint64_t batch_bytes = 0;
  uint64_t undecodable = 0, undecodable_bytes = 0;
  auto write = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    std::vector<const LogEvent*> rows;
    rows.reserve(batch.size());
    for (const LogEvent& e : batch) rows.push_back(&e);
    SinkWriteContext ctx;
    ctx.writer_id = config_.writer_id;
    ctx.round = static_cast<int64_t>(sequences.back());
    ctx.warn = hooks_.report;
    ctx.event_sequences = sequences;
    LAKELOG_RETURN_IF_ERROR(CallWrite(rows, ctx));
    {
      MutexLock lock(&mu_);
      committed_key_ = std::max(committed_key_, sequences.back());
      stats_.replayed_events += static_cast<int64_t>(batch.size());
      ++stats_.replay_writes;
    }
    if (hooks_.progressed) hooks_.progressed();
    batch.clear();
    sequences.clear();
    batch_bytes = 0;
    return Status::OK();
  };
  auto replayed = config_.wal->Replay(
      [&](uint64_t seq, std::string_view record) -> Status {
        if (seq > through) return Status::OK();  // a live round brings it
        LogEvent event;
        if (!wal::DecodeLogEvent(record, &event).ok()) {
          // Passed its checksum yet does not decode: damaged beyond the CRC's reach or from
          // another version. Counted and reported, never guessed at.
          ++undecodable;
          undecodable_bytes += record.size();
          return Status::OK();
        }
        batch_bytes += PayloadBytes(event);
        batch.push_back(std::move(event));
        sequences.push_back(seq);
        if (batch.size() >= kReplayBatchEvents || batch_bytes >= kReplayBatchBytes) {
          return write();
        }
        return Status::OK();
      },
      after);
  if (!replayed.ok()) return replayed.status();
  LAKELOG_RETURN_IF_ERROR(write());
  {
    // The range is settled even where it held no decodable record (all damaged, or already
    // released): the sink's key moves to its end.
    MutexLock lock(&mu_);
    committed_key_ = std::max(committed_key_, through);
  }
  const uint64_t damaged = replayed->corruptions + undecodable;
  if (damaged > 0) {
    {
      MutexLock lock(&mu_);
      stats_.corrupt_records += damaged;
      stats_.corrupt_bytes += replayed->dropped_bytes + undecodable_bytes;
    }
    const std::string why =
        replayed->reasons.empty() ? "records that do not decode" : replayed->reasons.front();
    if (hooks_.report) {
      hooks_.report(Status::Corruption("lakelog: the WAL at " + config_.wal_dir + " had " +
                                       std::to_string(damaged) + " damaged records (" +
                                       std::to_string(replayed->dropped_bytes + undecodable_bytes) +
                                       " bytes) that could not be replayed to sink '" +
                                       std::string(name()) + "'; first: " + why));
    }
  }
  return Status::OK();
}

Status SinkDelivery::CallWrite(std::span<const LogEvent* const> rows, const SinkWriteContext& ctx) {
  try {
    return sink_->Write(rows, ctx);
  } catch (const std::exception& e) {
    return FromException(e.what(), "'" + std::string(name()) + "' Write()");
  } catch (...) {
    return FromException("an exception that is not a std::exception",
                         "'" + std::string(name()) + "' Write()");
  }
}

Result<int64_t> SinkDelivery::CallCommittedRound() {
  try {
    return sink_->CommittedRound(config_.writer_id);
  } catch (const std::exception& e) {
    return FromException(e.what(), "'" + std::string(name()) + "' CommittedRound()");
  } catch (...) {
    return FromException("an exception that is not a std::exception",
                         "'" + std::string(name()) + "' CommittedRound()");
  }
}

}  // namespace lakelog::flush

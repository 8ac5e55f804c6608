// SinkDelivery: one sink's side of the fan-out. Every flush round goes to every sink; each sink
// has its own delivery, with its own queue of rounds, progress (the round key it holds), retries
// with backoff, metrics (label `sink`) and, with a flush pool, its own thread, so a sink that is
// slow or down never delays the others' rounds.
//
// Its backlog is bounded. A round that would take the rounds waiting in memory (their
// Round::footprint()) past EngineOptions::sink_backlog_bytes is not kept for this sink: with a WAL,
// the waiting rounds are let go from memory and the sink later catches up on them from the WAL (the
// same replay as at start-up, from the key the sink holds); without one, the round is given up for
// this sink only and its events are counted as dropped with reason "sink_backlog".
//
// With a WAL the delivery starts by catching up on what the WAL holds beyond the sink's own
// committed key (SetStart), before any new round: so after a crash every sink gets exactly the
// records it does not already hold.
//
// Locking: the delivery has its own mutex. The engine calls into it without holding its own
// mutex when the call may settle rounds (Enqueue) and may call the const getters with it held;
// the delivery never holds its mutex while calling a hook, and the hooks take the engine's.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/backoff.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "flush/round.h"
#include "lakelog/engine_options.h"
#include "lakelog/sink.h"
#include "metrics/engine_metrics.h"
#include "wal/wal.h"

namespace lakelog::flush {

using SteadyClock = std::chrono::steady_clock;

// How a round ended for one sink.
enum class Settlement : uint8_t {
  kWritten,  // the sink holds it
  kInWal,    // kept in the WAL for this sink: it catches up on it later, or a later engine does
  kDropped,  // given up for this sink (counted with a DropReason)
};

struct DeliveryHooks {
  // A round is settled for sink `sink` (rounds of one sink may settle out of order).
  std::function<void(size_t sink, int64_t seq, Settlement how, DropReason reason)> settled;
  // The key the sink holds moved, or a catch-up finished: WAL segments may be released and
  // Flush() callers may be done.
  std::function<void()> progressed;
  // A failed write or another background problem, for EngineOptions::error_handler.
  std::function<void(const Status&)> report;
  // Rounds were given up for this sink (Flush() callers return this status).
  std::function<void(const Status&)> gave_up;
};

struct DeliveryConfig {
  std::string writer_id;
  wal::Wal* wal = nullptr;  // null without a WAL
  std::string wal_dir;
  std::chrono::milliseconds retry_initial_backoff{50};
  std::chrono::milliseconds retry_max_backoff{10000};
  uint64_t backlog_bytes = 64ull << 20;
  metrics::SinkMetrics* metrics = nullptr;
};

// What a delivery did, for Engine::wal_info().
struct DeliveryStats {
  uint64_t committed_key = 0;  // with a WAL: the sink holds every record up to here
  bool caught_up = true;       // nothing to catch up on from the WAL (or parked)
  bool parked = false;         // the sink gets no more rounds; they stay in the WAL
  int64_t replayed_events = 0;
  int64_t replay_writes = 0;
  uint64_t corrupt_records = 0;
  uint64_t corrupt_bytes = 0;
  int64_t left_in_wal = 0;  // events kept in the WAL for this sink when it was parked
};

class SinkDelivery {
 public:
  SinkDelivery(size_t index, std::unique_ptr<Sink> sink, DeliveryConfig config,
               DeliveryHooks hooks);
  ~SinkDelivery();  // joins the thread
  SinkDelivery(const SinkDelivery&) = delete;
  SinkDelivery& operator=(const SinkDelivery&) = delete;

  Sink* sink() const { return sink_.get(); }
  std::string_view name() const { return sink_->name(); }
  // Rounds waiting in memory (not counting one being written).
  size_t queued_rounds() const;

  // With a WAL, before the first round: the sink holds every record up to `watermark`, and
  // (watermark, through] must reach it from the WAL first. With `read_whole_wal`, the WAL is
  // read even when that range is empty, so damage in it (a segment set aside at open) is
  // counted and reported once per start (the engine asks one delivery to).
  void SetStart(uint64_t watermark, uint64_t through, bool read_whole_wal);
  // With a WAL, before the first round, when the sink could not say what it holds (it is down):
  // the delivery asks it again itself, with backoff, on its own thread, and then catches up
  // on (its key, through] from the WAL; the other sinks do not wait. Rounds meanwhile queue
  // (and past the backlog bound wait in the WAL). `reserved` is where the WAL's numbering
  // starts above: a key the sink later reports beyond it could make it skip new records, so
  // the sink is parked instead.
  void SetStartLater(uint64_t through, uint64_t reserved);
  // With a WAL: the sink's key could not be read for good (`why`); nothing reaches it, and
  // every round stays in the WAL for a later engine.
  void Park(const Status& why);

  // Hands the next round over (rounds come in round order). Must not be called with the
  // engine's mutex held: it may settle rounds at once (backlog over budget).
  void Enqueue(std::shared_ptr<const Round> round);

  // The sink's CommittedRound() for the engine's writer id (a throw becomes an error).
  Result<int64_t> CommittedRound() { return CallCommittedRound(); }

  // With a flush pool: starts the delivery thread.
  void StartThread();
  // Without one: delivers on the calling thread until nothing is queued or to catch up.
  void RunUntilIdle();

  // Retries end at `deadline` (Stop()); after GiveUp() at once: a round whose write fails is
  // given up (kept in the WAL for a retryable error when there is one).
  void SetDeadline(SteadyClock::time_point deadline);
  void GiveUp();
  // Ends the thread once everything queued is settled.
  void Join();

  // Nothing queued and nothing to catch up on (or parked).
  bool Idle() const;
  DeliveryStats stats() const;

 private:
  bool HasWorkLocked() const REQUIRES(mu_);
  bool NeedsCatchUpLocked() const REQUIRES(mu_);
  // One step of work: a round from the queue, or a catch-up. Called with mu_ held; returns
  // with it held, having dropped it while writing.
  void StepLocked() REQUIRES(mu_);
  // Writes one round with retries; no lock held.
  Settlement Deliver(const Round& round, DropReason* reason);
  // Replays (committed key, catch-up target] from the WAL; no lock held.
  Status CatchUp(uint64_t after, uint64_t through);
  // Waits the backoff before retry `attempt` (1-based) unless the deadline or GiveUp() comes
  // first; false when retrying is over.
  bool WaitToRetry(int attempt);
  Status EnsureTxnBase();
  void Settle(const Round& round, Settlement how, DropReason reason);

  // The sink's calls, with a thrown exception turned into a non-retryable error.
  Status CallWrite(std::span<const LogEvent* const> rows, const SinkWriteContext& ctx);
  Result<int64_t> CallCommittedRound();

  const size_t index_;
  const std::unique_ptr<Sink> sink_;
  const DeliveryConfig config_;
  const DeliveryHooks hooks_;

  mutable Mutex mu_;
  CondVar cv_;
  std::deque<std::shared_ptr<const Round>> queue_ GUARDED_BY(mu_);
  uint64_t queued_bytes_ GUARDED_BY(mu_) = 0;
  bool busy_ GUARDED_BY(mu_) = false;  // a step is running
  bool give_up_ GUARDED_BY(mu_) = false;
  bool exit_ GUARDED_BY(mu_) = false;
  std::optional<SteadyClock::time_point> deadline_ GUARDED_BY(mu_);
  Backoff backoff_ GUARDED_BY(mu_);
  int catch_up_failures_ GUARDED_BY(mu_) = 0;
  // With a WAL: the sink holds every record up to committed_key_; records up to
  // catch_up_through_ must come from the WAL.
  uint64_t committed_key_ GUARDED_BY(mu_) = 0;
  uint64_t catch_up_through_ GUARDED_BY(mu_) = 0;
  bool read_whole_wal_ GUARDED_BY(mu_) = false;  // SetStart()'s request, until a catch-up ran
  bool key_unknown_ GUARDED_BY(mu_) = false;  // SetStartLater(): the sink's key is still to be read
  uint64_t reserved_ GUARDED_BY(mu_) = 0;     // SetStartLater()'s bound on the key
  bool parked_ GUARDED_BY(mu_) = false;
  Status park_reason_ GUARDED_BY(mu_);
  DeliveryStats stats_ GUARDED_BY(mu_);  // counters
  // Without a WAL: the key the sink held for this writer before the first round; the round
  // key is base + round number. Used by the delivering thread only.
  std::optional<int64_t> txn_base_;
  std::thread thread_;
};

}  // namespace lakelog::flush

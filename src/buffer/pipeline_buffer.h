// PipelineBuffer: one pipeline's bounded buffer and its overflow policy.
//
// The producer side (Log) is the logging hot path: it stamps the event (raw TSC ticks when the
// engine runs on RealClock(); converted on the flush thread), encodes it into a pre-allocated
// slot of the calling thread's own lane (ProducerLanes: no read-modify-write shared with other
// producers), and applies the pipeline's OverflowPolicy when either bound would be exceeded.
// It never throws and never waits, except under kBlock (for room, at most block_timeout).
// Every event that is not accepted is counted under exactly one DropReason.
//
// The consumer side (Drain, HarvestRepeats) runs on flush threads and turns slots into
// LogEvents, off the hot path. Into an EventBatch it does so without allocating once the
// batch's recycled events have grown to the round's size.
//
// Memory layout: fields the hot path only reads (options, clock, closed_) share cache lines
// that nobody writes after construction (closed_ once); the counters have their own line.
//
// Thread-safety: Log() from any number of threads; consumer calls from any thread (they lock
// one lane at a time), though the engine lets one round builder drain at a time.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "buffer/event_batch.h"
#include "buffer/producer_lanes.h"
#include "buffer/repeat_aggregator.h"
#include "buffer/tsc_clock.h"
#include "common/mutex.h"
#include "lakelog/clock.h"
#include "lakelog/engine_options.h"
#include "lakelog/logger.h"

namespace lakelog::buffer {

class PipelineBuffer {
 public:
  // `clock` must outlive the buffer. `wake_flusher` is called (off the fast path) when a
  // kBlock producer finds the buffer full, so a flush starts at once; may be empty.
  PipelineBuffer(std::string pipeline, LoggerOptions options, Clock* clock, std::string host,
                 std::function<void()> wake_flusher);
  PipelineBuffer(const PipelineBuffer&) = delete;
  PipelineBuffer& operator=(const PipelineBuffer&) = delete;

  LogResult Log(const EventFields& fields) noexcept {
    if (closed_.load(std::memory_order_relaxed)) [[unlikely]] {
      return Drop(DropReason::kClosed);
    }
    return Admit(fields);
  }

  // --- consumer side ---

  // Moves the oldest events into *out: at most max_events, stopping once max_bytes are taken.
  // Adds the drained payload bytes to *bytes. Returns how many were moved.
  size_t Drain(size_t max_events, uint64_t max_bytes, std::vector<LogEvent>* out, uint64_t* bytes);
  // The same into a recycled batch: allocation-free in steady state (see EventBatch).
  size_t Drain(size_t max_events, uint64_t max_bytes, EventBatch* out, uint64_t* bytes);
  // kAggregateRepeats: moves rows whose window ended by now_micros (all when `all`) to *out.
  size_t HarvestRepeats(int64_t now_micros, bool all, std::vector<LogEvent>* out);
  size_t HarvestRepeats(int64_t now_micros, bool all, EventBatch* out);

  // Oldest buffered (or held) event's timestamp; INT64_MAX when there is none.
  int64_t OldestTs() const { return std::min(RingOldestTs(), HeldOldestTs()); }
  int64_t RingOldestTs() const;
  // kAggregateRepeats: the oldest event held back for merging; INT64_MAX when none.
  int64_t HeldOldestTs() const { return aggregator_.oldest_ts(); }
  bool HasData() const { return lanes_.size() > 0 || !aggregator_.empty(); }
  uint64_t buffered_events() const { return lanes_.size(); }
  uint64_t buffered_bytes() const { return lanes_.bytes(); }
  // Lane positions: everything below head() has been drained or evicted; tail() covers every
  // event logged so far.
  LanePositions head() const { return lanes_.Heads(); }
  LanePositions tail() const { return lanes_.Tails(); }
  bool HeadCovers(const LanePositions& target) const { return lanes_.HeadsCover(target); }
  // Lanes taken by producer threads so far (for tests).
  uint32_t lanes_used() const { return lanes_.lanes_used(); }
  // ERROR/FATAL or status "FAILED" events logged so far.
  uint64_t error_events() const { return errors_.load(std::memory_order_relaxed); }

  // After Close(), Log() drops everything as kClosed; buffered events stay drainable.
  void Close() { closed_.store(true, std::memory_order_release); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // Logs even when closed (the engine's final event during Stop).
  LogResult LogInternal(const EventFields& fields) noexcept;

  void CountDropped(DropReason reason, uint64_t n) {
    dropped_[static_cast<size_t>(reason)].fetch_add(n, std::memory_order_relaxed);
  }
  void CountFlushed(uint64_t n) { flushed_.fetch_add(n, std::memory_order_relaxed); }
  LoggerStats Stats() const;

  const std::string& pipeline() const { return pipeline_; }
  const LoggerOptions& options() const { return options_; }

 private:
  LogResult Admit(const EventFields& f) noexcept;
  // Pushes into the caller's lane; false when full (counted on the lane with kCountRejected).
  template <bool kCountRejected = false>
  bool TryPushFields(const EventFields& f, TscClock::Stamp ts, uint32_t size);
  bool TryPushEncoded(const EventHeader& header, const char* payload, uint32_t size);
  bool EvictOldest();
  void WakeBlocked();

  LogResult PushOrDrop(const EventFields& f, TscClock::Stamp ts, uint32_t size);
  LogResult PushEvicting(const EventFields& f, TscClock::Stamp ts, uint32_t size);
  LogResult PushBlocking(const EventFields& f, TscClock::Stamp ts, uint32_t size);
  LogResult PushShedding(const EventFields& f, TscClock::Stamp ts, uint32_t size);
  LogResult PushAggregating(const EventFields& f, int64_t ts_micros, uint32_t size);
  int64_t SlotMicros(const EventSlot& slot) const { return HeaderMicros(slot.header, tsc_); }

  LogResult Drop(DropReason reason) {
    CountDropped(reason, 1);
    return LogResult::kDropped;
  }

  // Pops up to max_events/max_bytes, decoding each into the LogEvent that append() returns.
  template <typename Append>
  size_t DrainInto(size_t max_events, uint64_t max_bytes, uint64_t* bytes, Append&& append);

  // --- read-only after construction (closed_: written once, by Close) ---
  const std::string pipeline_;
  const LoggerOptions options_;
  Clock* const clock_;
  TscClock* const tsc_;  // clock_'s TSC when it is RealClock() and reads one; else null
  const std::string host_;
  const std::function<void()> wake_flusher_;
  const int64_t capacity_bytes_;
  // kShedByLevel thresholds, in events and bytes.
  uint64_t shed_events_limit_ = 0, shed_bytes_limit_ = 0;
  uint64_t reserve_events_limit_ = 0, reserve_bytes_limit_ = 0;

  std::atomic<bool> closed_{false};

  mutable ProducerLanes lanes_;              // mutable: peeking at the oldest event locks a lane
  alignas(64) RepeatAggregator aggregator_;  // kAggregateRepeats producers lock it
  // Counters; written on errors, drops, aggregation and flushes, never on a plain accept.
  alignas(64) std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> aggregated_accepted_{0};  // kAggregateRepeats: rows accepted
  std::atomic<uint64_t> flushed_{0};
  std::array<std::atomic<uint64_t>, kNumDropReasons> dropped_{};

  // kBlock producers wait here for the consumer to free room. The mutex guards no field: the
  // lanes are lock-free, and the waits are bounded (see PushBlocking).
  alignas(64) Mutex block_mu_;
  CondVar block_cv_;
  std::atomic<int> blocked_{0};
};

}  // namespace lakelog::buffer

// RepeatAggregator: folds identical events of one pipeline into one row (kAggregateRepeats).
//
// A small direct-mapped table keyed by a hash of (stage, status, message). The first event of
// a key is held in its entry; identical events within `window` of it only bump repeat_count.
// Its events carry microseconds (never raw ticks). An entry leaves the table (to the lanes, via the
// `emit` callback) when another key needs its place or a later event of the key falls outside the
// window; the flush thread harvests entries whose window has passed, or all of them on an explicit
// flush or shutdown.
//
// Thread-safety: all methods lock a spin lock; the critical sections copy at most one event.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <functional>
#include <vector>

#include "buffer/slot_codec.h"
#include "common/thread_annotations.h"
#include "lakelog/logger.h"

namespace lakelog::buffer {

class RepeatAggregator {
 public:
  static constexpr int kEntries = 64;

  struct Entry {
    bool used = false;
    uint64_t hash = 0;
    EventHeader header;
    uint32_t size = 0;
    char payload[kInlineEventBytes];
  };

  explicit RepeatAggregator(int64_t window_micros) : window_micros_(window_micros) {}

  // The events this aggregator can hold: payloads up to kInlineEventBytes.
  static bool Fits(uint32_t size) { return size <= kInlineEventBytes; }

  enum class Outcome : uint8_t { kHeld, kMerged };
  // Adds an event (Fits(size) must hold). `emit(const Entry&)` is called, under the lock, for
  // an entry that must leave the table first.
  template <typename Emit>
  Outcome Add(const EventFields& f, int64_t ts, uint32_t size, Emit&& emit) {
    uint64_t h = RepeatKeyHash(f);
    lock_.Lock();
    Entry& e = entries_[h % kEntries];
    if (e.used && e.hash == h && SameRepeatKey(e.header, e.payload, f) &&
        ts - e.header.ts < window_micros_) {
      ++e.header.repeat_count;
      lock_.Unlock();
      return Outcome::kMerged;
    }
    if (e.used) emit(static_cast<const Entry&>(e));
    e.used = true;
    e.hash = h;
    e.size = size;
    Encode(f, TscClock::Stamp{ts, TscClock::kMicrosEpoch}, &e.header, e.payload);
    ++held_;
    // May leave oldest_ts_ too old after an eviction; that only makes the pipeline look due
    // early, and Harvest() recomputes it.
    if (ts < oldest_ts_.load(std::memory_order_relaxed)) {
      oldest_ts_.store(ts, std::memory_order_relaxed);
    }
    lock_.Unlock();
    return Outcome::kHeld;
  }

  // Calls take(const Entry&) for every entry whose window ended by `now_micros` (all of them
  // when `all`), and frees it. Returns how many were taken.
  int Harvest(int64_t now_micros, bool all, const std::function<void(const Entry&)>& take);

  // Timestamp of the oldest held event; INT64_MAX when none.
  int64_t oldest_ts() const { return oldest_ts_.load(std::memory_order_relaxed); }
  bool empty() const { return oldest_ts() == INT64_MAX; }

 private:
  // A test-and-test-and-set lock: the critical sections are a few dozen nanoseconds, shorter
  // than parking a thread on a futex.
  class CAPABILITY("spin lock") SpinLock {
   public:
    void Lock() ACQUIRE() {
      while (locked_.exchange(true, std::memory_order_acquire)) {
        while (locked_.load(std::memory_order_relaxed)) {
        }
      }
    }
    void Unlock() RELEASE() { locked_.store(false, std::memory_order_release); }
    // Checks (with assertions on) that someone holds the lock; a spin lock keeps no holder.
    void AssertHeld() const ASSERT_CAPABILITY(this) {
      assert(locked_.load(std::memory_order_relaxed));
    }

   private:
    std::atomic<bool> locked_{false};
  };

  void UpdateOldestLocked() REQUIRES(lock_);

  const int64_t window_micros_;
  SpinLock lock_;
  int held_ GUARDED_BY(lock_) = 0;
  // Written under lock_; read without it (a hint: see Add).
  std::atomic<int64_t> oldest_ts_{INT64_MAX};
  Entry entries_[kEntries] GUARDED_BY(lock_);
};

}  // namespace lakelog::buffer

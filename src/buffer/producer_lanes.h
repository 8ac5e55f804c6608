// ProducerLanes: a pipeline buffer's event storage, one single-producer lane per logging thread.
//
// Why lanes: with one multi-producer ring, every Log() of every thread made a CAS on the same
// tail and a fetch_add on the same byte budget, and two threads logging at once spent most of
// their time bouncing those two cache lines (p99 ~4x one thread's). Here a thread writes to a
// lane of its own: claiming a slot and publishing it are a plain store to the lane's tail, read
// by the flush thread, and nothing any other producer writes sits on the lines it touches.
//
// Bounds without a shared counter per event:
//   - Events: a lane spends events from a local credit, taken from the pipeline's count of
//     granted events (a CAS, about once per segment's worth of events: once per 64 events, four
//     producers in bursts had p99 130 ns against 50); the consumer gives drained events back.
//     Granted events (credits + buffered) never exceed capacity_events.
//   - Bytes: the same with bytes: a lane's byte credit is taken in chunks of capacity_bytes/64
//     (at most kCreditChunk), once an event does not fit what is left of it.
//   - Slots: the slots are one allocation, cut into segments (capacity/32, rounded down to a
//     power of two, between 1 and 4096 slots). A lane is a chain of segments; a producer that
//     fills its segment takes a free one (a lock-free queue, once per segment), and the consumer
//     returns a segment once it has read past it. There are capacity_events slots plus a reserve
//     of a quarter of them, so that the free queue is not empty when the buffer is full: a
//     producer then writes into a segment freed long ago, whose lines have left the consumer's
//     cache, not into the one the consumer has just read (each write would take its line back
//     from the other core: in hot_path_bench, sustained, half the accepted pushes took 40 ns or
//     more without the reserve, a tenth with it). The reserve also takes up the segments lanes
//     hold part-filled.
//   The push that takes the next segment early (a few pushes before the end of the current one,
//   so that its first slots can be prefetched) also tops both credits up by a chunk: three
//   shared read-modify-writes on one push per segment, not on three.
//   The price is slack: with several producers, a push can fail a little before the pipeline is
//   full: by at most two segments of events and two byte chunks per lane in use, and once lanes
//   hold more part-filled segments (two each at most) than the reserve, by those. One producer
//   fills it exactly.
// Lanes and threads: a thread takes a free lane the first time it logs to a pipeline and keeps
// it (a thread-local cache of kCachedLanes pipelines) until it exits, or until it logs to more
// pipelines than the cache holds, when the least recently taken entry lets its lane go. A lane
// outlives its thread: its events stay for the consumer, and the next thread to take the lane
// continues after them. There are kMaxLanes lanes; lane 0 is shared, under a mutex, by the
// threads that find every other lane taken. Order: one thread's events leave its lane in the
// order it logged them; the consumer visits lanes one after another, so events of different
// threads are not ordered, and a thread that had to let its lane go (more than kCachedLanes
// pipelines, or more than kMaxLanes - 1 threads) may find its later events drained before
// earlier ones left in the old lane.
//
// Positions: each lane counts the events ever published (tail) and ever consumed (head).
// LanePositions holds one of the two for every lane; Flush() waits until the heads cover the
// tails it saw.
//
// Thread-safety: TryPush from any thread (the caller's lane); the consumer side (Pop, PopOldest,
// OldestKey) from any thread: it locks one lane at a time.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "buffer/slot_codec.h"
#include "common/mutex.h"
#include "lakelog/logger.h"

namespace lakelog::buffer {

struct alignas(64) EventSlot {
  EventHeader header;
  uint32_t size = 0;      // payload bytes
  char* spill = nullptr;  // heap payload when size > kInlineEventBytes
  char inline_payload[kInlineEventBytes];

  const char* payload() const { return spill ? spill : inline_payload; }
};

static_assert(sizeof(EventSlot) == 448, "slot size is documented in LoggerOptions");

// One position per lane (see the header comment).
struct LanePositions {
  std::vector<uint64_t> at;

  // Every lane at or past `target`'s position.
  bool Covers(const LanePositions& target) const {
    for (size_t i = 0; i < target.at.size(); ++i) {
      if ((i < at.size() ? at[i] : 0) < target.at[i]) return false;
    }
    return true;
  }
  // Each lane's position the larger of the two.
  void Raise(const LanePositions& other) {
    if (other.at.size() > at.size()) at.resize(other.at.size(), 0);
    for (size_t i = 0; i < other.at.size(); ++i) at[i] = std::max(at[i], other.at[i]);
  }
};

class ProducerLanes {
 public:
  static constexpr uint32_t kMaxLanes = 16;
  static constexpr int kCachedLanes = 16;
  static constexpr int64_t kCreditChunk = 64 << 10;

  ProducerLanes(uint32_t capacity_events, uint64_t capacity_bytes);
  ~ProducerLanes();
  ProducerLanes(const ProducerLanes&) = delete;
  ProducerLanes& operator=(const ProducerLanes&) = delete;

  uint32_t capacity() const { return capacity_; }
  uint32_t segment_size() const { return segment_size_; }

  // Producer side. Charges `size` bytes and claims a slot of the calling thread's lane, calls
  // fill(EventSlot&) to write it and publishes it. False (nothing charged) when either bound is
  // reached.
  //
  // kCountRejected: a failed push is counted on the lane (rejected()), for the caller that
  // drops the event then (drop_newest): a full buffer must not make its producers contend on
  // a shared counter per drop.
  template <bool kCountRejected = false, typename Fill>
  [[gnu::always_inline]] bool TryPush(uint32_t size, Fill&& fill) {
    Lane* lane = CallerLane();
    if (lane != &table_->lanes[0]) [[likely]] {
      return Counted<kCountRejected>(*lane, PushTo(*lane, size, fill));
    }
    MutexLock lock(&shared_mu_);
    return Counted<kCountRejected>(*lane, PushTo(*lane, size, fill));
  }
  // Failed pushes counted by TryPush<true>, over all lanes.
  uint64_t rejected() const;

  // --- consumer side ---

  // Pops events in lane order, at most max_events, stopping once max_bytes are taken: for each,
  // calls consume(EventSlot&) and then frees its spill. Adds the bytes to *bytes and returns the
  // count. The events and bytes go back to the pipeline's counts once per segment's worth of
  // events (at least kMinRelease), and at the end.
  template <typename Consume>
  size_t Pop(size_t max_events, uint64_t max_bytes, uint64_t* bytes, Consume&& consume);

  // Pops the event with the smallest key(const EventSlot&) among the lanes' oldest events (the
  // oldest event of the pipeline, by its time) and stores its size. False when empty.
  template <typename Key>
  bool PopOldest(Key&& key, uint32_t* size);

  // The smallest key(const EventSlot&) among the lanes' oldest events; INT64_MAX when empty.
  template <typename Key>
  int64_t OldestKey(Key&& key);

  // Published and not yet consumed: events and their payload bytes (exact, summed over lanes).
  uint64_t size() const;
  uint64_t bytes() const;
  // Events ever published.
  uint64_t pushed() const;
  LanePositions Heads() const { return Positions(&Lane::head); }
  LanePositions Tails() const { return Positions(&Lane::tail); }
  // Heads().Covers(target), without building the positions.
  bool HeadsCover(const LanePositions& target) const {
    for (size_t i = 0; i < target.at.size(); ++i) {
      if (table_->lanes[i].head.load(std::memory_order_acquire) < target.at[i]) return false;
    }
    return true;
  }

  // Lanes taken by a thread at some point (a high-water mark; lane 0 included).
  uint32_t lanes_used() const { return table_->used.load(std::memory_order_acquire); }

 private:
  struct Lane {
    // Published by the producer, read by the consumer. The producer only stores to this line
    // (its own counts are on the next one), so a consumer reading it does not make the
    // producer's next push load from a line the consumer holds.
    alignas(64) std::atomic<uint64_t> tail{0};
    std::atomic<uint64_t> pushed_bytes{0};
    std::atomic<uint64_t> rejected{0};   // see TryPush
    std::atomic<int32_t> first_seg{-1};  // the chain's start, set once

    // Producer side: only the lane's owner (or lane 0's holder of shared_mu_) reads or writes.
    alignas(64) uint64_t own_tail = 0;  // what tail, pushed_bytes and rejected were set to
    uint64_t own_pushed_bytes = 0;
    uint64_t own_rejected = 0;
    EventSlot* tail_slots = nullptr;  // the segment being filled
    int32_t tail_seg = -1;
    uint32_t tail_off = 0, tail_cap = 0;
    int32_t spare_seg = -1;    // taken ahead for the next segment (see PushTo)
    int64_t credit = 0;        // granted bytes not yet spent
    int64_t event_credit = 0;  // granted events not yet spent

    // Rarely written. Who has the lane: a thread token, 0 when free (lane 0: never owned).
    alignas(64) std::atomic<uint64_t> owner{0};
    std::atomic<uint64_t> last_owner{0};
    // The head at which the consumer last stopped at the end of the producer's segment, with
    // nothing linked after it (see NextSegment). Written by the consumer, under mu, only then.
    std::atomic<uint64_t> parked_head{0};

    // Consumer side.
    alignas(64) Mutex mu;
    std::atomic<uint64_t> head{0};  // written under mu
    std::atomic<uint64_t> popped_bytes{0};
    int32_t head_seg GUARDED_BY(mu) = -1;
    uint32_t head_off GUARDED_BY(mu) = 0;
    // The tail as last read: the consumer reads the producer's line again only when it has
    // caught up with it, not once per event.
    uint64_t seen_tail GUARDED_BY(mu) = 0;
  };

  // The lanes and the byte budget, shared with the thread caches (a thread may let go of its
  // lane after the pipeline is gone).
  struct Table {
    Lane lanes[kMaxLanes];
    std::atomic<int64_t> granted{0};         // byte credits + buffered bytes
    std::atomic<int64_t> granted_events{0};  // event credits + buffered events
    std::atomic<uint32_t> used{1};
  };
  friend struct LaneCache;
  // Lets go of a lane its owner held: returns its credit, frees it.
  static void Release(Table* table, Lane* lane);

  Lane* CallerLane();
  Lane* AcquireLane();

  // Every lane's `position` (head or tail), for the lanes in use.
  LanePositions Positions(std::atomic<uint64_t> Lane::*position) const {
    LanePositions p;
    const uint32_t used = lanes_used();
    p.at.reserve(used);
    for (uint32_t i = 0; i < used; ++i) {
      p.at.push_back((table_->lanes[i].*position).load(std::memory_order_acquire));
    }
    return p;
  }

  // The sum of value(const Lane&) over the lanes in use.
  template <typename Value>
  uint64_t SumOverLanes(Value&& value) const {
    uint64_t n = 0;
    const uint32_t used = lanes_used();
    for (uint32_t i = 0; i < used; ++i) n += value(table_->lanes[i]);
    return n;
  }

  template <typename Fill>
  [[gnu::always_inline]] bool PushTo(Lane& l, uint32_t size, Fill& fill) {
    if (l.event_credit == 0 && !GrantEvents(l)) return false;
    if (static_cast<int64_t>(size) > l.credit && !Grant(l, size)) return false;
    if (l.tail_off == l.tail_cap && !NextSegment(l)) return false;
    --l.event_credit;
    l.credit -= size;
    EventSlot* slot = l.tail_slots + l.tail_off;
    // The header line and first payload line of a slot a few pushes ahead: on its way before
    // it is written (see docs/BENCHMARKS.md; ~4x at p99 on a 64K-slot buffer). Near the end of
    // the segment, the next one is taken early and its first slots prefetched the same way,
    // so the push that moves to it does not wait for their lines.
    if (l.tail_off + kPrefetchAhead < l.tail_cap) [[likely]] {
      Prefetch(slot + kPrefetchAhead);
    } else if (l.spare_seg < 0 && l.tail_off + kPrefetchAhead == l.tail_cap) {
      TakeSpare(l);
    } else if (l.spare_seg >= 0) {
      Prefetch(SegmentSlots(l.spare_seg) + (l.tail_off + kPrefetchAhead - l.tail_cap));
    }
    fill(*slot);
    ++l.tail_off;
    l.own_pushed_bytes += size;
    l.pushed_bytes.store(l.own_pushed_bytes, std::memory_order_relaxed);
    l.tail.store(++l.own_tail, std::memory_order_release);
    return true;
  }
  // Counts a failed push on the lane (its owner, or lane 0's holder of shared_mu_, writes it).
  template <bool kCount>
  static bool Counted(Lane& l, bool pushed) {
    if (kCount && !pushed) {
      l.rejected.store(++l.own_rejected, std::memory_order_relaxed);
    }
    return pushed;
  }
  bool Grant(Lane& l, uint32_t size);
  bool GrantEvents(Lane& l);
  bool NextSegment(Lane& l);
  bool RestartSegment(Lane& l);
  static void Prefetch(const EventSlot* slot) {
    PrefetchLine(slot);
    PrefetchLine(reinterpret_cast<const char*>(slot) + 64);
  }
  static void PrefetchLine(const void* line) {
#if defined(__x86_64__)
    // Not __builtin_prefetch: gcc 12 drops it once PushTo is inlined into the caller's Log()
    // (its prefetches were gone from the code, and hot_path_bench's p99 went from 60 to 300 ns).
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(line)));
#else
    __builtin_prefetch(line, 1, 3);
#endif
  }
  void TakeSpare(Lane& l);

  // The lane's oldest published slot, moving past a segment read to its end; null when empty
  // (as of the tail last read, unless reread_tail).
  EventSlot* HeadSlotLocked(Lane& l, bool reread_tail = true) REQUIRES(l.mu);
  // Consumes the slot HeadSlotLocked() returned: frees its spill, moves the head.
  void AdvanceLocked(Lane& l, EventSlot* slot) REQUIRES(l.mu);
  // The consumer is at the end of its segment: when the producer has linked the next one,
  // gives the segment back and moves to the next; false when it has not yet.
  bool LeaveSegmentLocked(Lane& l) REQUIRES(l.mu);
  // Gives drained events and their bytes back to the pipeline's counts.
  void GiveBack(uint64_t events, uint64_t bytes) {
    table_->granted_events.fetch_sub(static_cast<int64_t>(events), std::memory_order_relaxed);
    table_->granted.fetch_sub(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  }

  // Segments: slot ranges [k * segment_size_, ...) of the slot_count_ slots, the last one
  // possibly shorter.
  EventSlot* SegmentSlots(int32_t seg) const {
    return slots_.get() + static_cast<size_t>(seg) * segment_size_;
  }
  uint32_t SegmentCapacity(int32_t seg) const {
    return static_cast<uint32_t>(seg) + 1 < segments_
               ? segment_size_
               : slot_count_ - static_cast<uint32_t>(seg) * segment_size_;
  }
  int32_t TakeSegment();
  void GiveSegment(int32_t seg);

  // 16 slots (7 KiB), ~400 ns ahead of a push in bursts: on the Intel machines hot_path_bench
  // ran on last, a line the other core had read took longer to come over than 8 pushes, and
  // 2% of pushes waited for it (p99 75-100 ns against 42 at 16; 24 was no better).
  static constexpr uint32_t kPrefetchAhead = 16;
  static constexpr uint32_t kMinRelease = 64;

  struct SlotsDeleter {
    uint32_t count;
    bool mapped;  // the slots' own mapping (MapHugePages); else from aligned_alloc (free)
    void operator()(EventSlot* slots) const;
  };
  static std::unique_ptr<EventSlot[], SlotsDeleter> AllocateSlots(uint32_t count);

  const uint64_t uid_;       // tells this pipeline's entries in the thread caches
  const uint32_t capacity_;  // events
  const uint32_t segment_size_;
  const uint32_t slot_count_;  // capacity_ and the reserve
  const uint32_t segments_;
  const int64_t capacity_bytes_;
  const int64_t credit_chunk_;
  const int64_t event_chunk_;
  const uint32_t release_every_;  // events the consumer gives back at once (see Pop)
  std::unique_ptr<EventSlot[], SlotsDeleter> slots_;
  std::unique_ptr<std::atomic<int32_t>[]> next_;  // the lane chain's links
  // Free segments, first in first out (Vyukov's bounded queue): a producer takes the segment
  // freed longest ago, whose lines have left the consumer's cache, as a ring would reuse its
  // oldest slots (a stack hands back the lines the consumer read last, and each write then
  // pulls its line from the other core).
  struct FreeCell {
    std::atomic<uint64_t> seq;
    std::atomic<int32_t> seg;
  };
  const uint64_t free_mask_;
  std::unique_ptr<FreeCell[]> free_;
  alignas(64) std::atomic<uint64_t> free_head_{0};  // next take
  alignas(64) std::atomic<uint64_t> free_tail_{0};  // next give
  const std::shared_ptr<Table> table_;
  Mutex shared_mu_;  // lane 0's producers
};

// The calling thread's lanes: pipeline uid -> lane, looked up on every Log(). Trivially
// constructible and destructible, so reading it costs no thread-local guard; the references
// that keep the tables alive and let the lanes go at thread exit are in a second object, made
// on the first lane a thread takes.
struct LaneCacheFast {
  uint64_t uids[ProducerLanes::kCachedLanes];
  void* lanes[ProducerLanes::kCachedLanes];
};
inline thread_local LaneCacheFast tls_lane_cache{};

inline ProducerLanes::Lane* ProducerLanes::CallerLane() {
  for (int i = 0; i < kCachedLanes; ++i) {
    if (tls_lane_cache.uids[i] == uid_) return static_cast<Lane*>(tls_lane_cache.lanes[i]);
  }
  return AcquireLane();
}

template <typename Consume>
size_t ProducerLanes::Pop(size_t max_events, uint64_t max_bytes, uint64_t* bytes,
                          Consume&& consume) {
  const uint32_t used = lanes_used();
  size_t n = 0;
  uint64_t taken = 0, unreleased = 0, unreleased_events = 0;
  for (uint32_t i = 0; i < used && n < max_events && taken < max_bytes; ++i) {
    Lane& l = table_->lanes[i];
    const uint64_t tail = l.tail.load(std::memory_order_acquire);
    if (l.head.load(std::memory_order_relaxed) == tail) continue;
    MutexLock lock(&l.mu);
    // Up to the tail read above, not chasing the producer: rereading the tail after every event
    // would pull the producer's published line over once per event it publishes.
    l.seen_tail = std::max(l.seen_tail, tail);
    while (n < max_events && taken < max_bytes) {
      EventSlot* slot = HeadSlotLocked(l, /*reread_tail=*/false);
      if (slot == nullptr) break;
      const uint32_t size = slot->size;
      consume(*slot);
      AdvanceLocked(l, slot);
      taken += size;
      unreleased += size;
      ++n;
      // The counts are given back in chunks. Until a chunk lands, producers see its events and
      // bytes as still taken: the bounds are only stricter, for the microseconds one chunk takes.
      // A chunk is a segment's worth, what a producer takes as credit: a producer of a full
      // buffer then takes credit once per chunk, each time a miss on the line this just wrote.
      // At 64 events, every push accepted after a drop waited for it (hot_path_bench's
      // scratch twin, one producer, sustained: p99 38 -> 34 ns, p99.9 147 -> 112).
      if (++unreleased_events == release_every_) {
        GiveBack(unreleased_events, unreleased);
        unreleased = unreleased_events = 0;
      }
    }
  }
  if (unreleased_events > 0) GiveBack(unreleased_events, unreleased);
  *bytes += taken;
  return n;
}

template <typename Key>
int64_t ProducerLanes::OldestKey(Key&& key) {
  int64_t oldest = INT64_MAX;
  const uint32_t used = lanes_used();
  for (uint32_t i = 0; i < used; ++i) {
    Lane& l = table_->lanes[i];
    if (l.head.load(std::memory_order_relaxed) == l.tail.load(std::memory_order_acquire)) continue;
    MutexLock lock(&l.mu);
    if (EventSlot* slot = HeadSlotLocked(l)) oldest = std::min<int64_t>(oldest, key(*slot));
  }
  return oldest;
}

template <typename Key>
bool ProducerLanes::PopOldest(Key&& key, uint32_t* size) {
  for (;;) {
    Lane* victim = nullptr;
    int64_t oldest = INT64_MAX;
    const uint32_t used = lanes_used();
    for (uint32_t i = 0; i < used; ++i) {
      Lane& l = table_->lanes[i];
      if (l.head.load(std::memory_order_relaxed) == l.tail.load(std::memory_order_acquire)) {
        continue;
      }
      MutexLock lock(&l.mu);
      EventSlot* slot = HeadSlotLocked(l);
      if (slot != nullptr && (victim == nullptr || key(*slot) < oldest)) {
        oldest = key(*slot);
        victim = &l;
      }
    }
    if (victim == nullptr) return false;
    MutexLock lock(&victim->mu);
    EventSlot* slot = HeadSlotLocked(*victim);
    if (slot == nullptr) continue;  // the consumer took it meanwhile: look again
    *size = slot->size;
    AdvanceLocked(*victim, slot);
    GiveBack(1, *size);
    return true;
  }
}

}  // namespace lakelog::buffer

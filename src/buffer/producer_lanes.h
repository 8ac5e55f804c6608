// ProducerLanes: a pipeline buffer's event storage, one single-producer lane per logging thread.
//
// Why lanes: with one multi-producer ring, every Log() of every thread made a CAS on the same
// tail and a fetch_add on the same byte budget, and two threads logging at once spent most of
// their time bouncing those two cache lines (p99 ~4x one thread's). Here a thread writes to a
// lane of its own: claiming a record and publishing it are a plain store to the lane's tail, read
// by the flush thread, and nothing any other producer writes sits on the lines it touches.
//
// Bounds without a shared counter per event:
//   - Events: the capacity is cut into segments (capacity/64 events, rounded down to a power of
//     two, between 1 and 4096: at least 4 per lane), each with kSlotBytes reserved per event in
//     one allocation (the arena). A lane is a chain of segments; a producer that fills its
//     segment takes a free one (a lock-free queue, once per segment), and the consumer returns
//     a segment once it has read past it. No lane can hold more events than the pipeline has
//     room for, so the pipeline never holds more events than capacity_events.
//   - Bytes: a lane spends bytes from a local credit; an event that does not fit it takes more
//     from the pipeline's budget (a CAS, at most once per kCreditChunk bytes), the consumer
//     gives drained bytes back to the budget. Granted bytes (credits + buffered) never exceed
//     capacity_bytes; a lane returns its credit when its thread lets go of it.
//   The price of both is slack: a lane may hold part of a segment, the next segment (taken a
//   few pushes early, so that its first lines can be prefetched) and some credit it has not
//   used, so with several producers a push can fail a little before the pipeline is full (at
//   most two segments and one credit chunk per lane in use). One producer fills it exactly.
//
// Records: events are packed back to back in a segment (EventRecord), not one fixed-size slot
// each, so a push writes the next ~2 cache lines after the last one, a sequential stream, and
// prefetches a few records ahead. The arena is mapped on huge pages where the kernel gives them,
// and faulted in when the pipeline is made.
//
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
#include <cstring>
#include <memory>
#include <vector>

#include "buffer/slot_codec.h"
#include "common/mutex.h"
#include "lakelog/logger.h"

namespace lakelog::buffer {

// One event in a lane. Records are packed back to back in a segment (8-byte aligned): the
// header, then the payload, or, for an event larger than kInlineEventBytes, the pointer to its
// payload on the heap. A segment of n events reserves n * kSlotBytes, room for n events of the
// inline size, so it fills up by its count of events, never by its bytes; a stream of small
// events writes a small, sequential part of it (what the CPU's prefetchers follow best).
struct EventRecord {
  EventHeader header;
  uint32_t size;  // payload bytes

  static constexpr bool Spills(uint32_t size) { return size > kInlineEventBytes; }
  // Bytes from this record to the next.
  static constexpr uint32_t Stride(uint32_t size) {
    return sizeof(EventRecord) + ((Spills(size) ? sizeof(char*) : size) + 7) / 8 * 8;
  }
  char* inline_bytes() { return reinterpret_cast<char*>(this + 1); }
  const char* inline_bytes() const { return reinterpret_cast<const char*>(this + 1); }
  // The spilled payload; only when Spills(size).
  char* spill() const {
    char* p;
    std::memcpy(&p, inline_bytes(), sizeof(p));
    return p;
  }
  void set_spill(char* p) { std::memcpy(inline_bytes(), &p, sizeof(p)); }
  const char* payload() const { return Spills(size) ? spill() : inline_bytes(); }
};

// Reserved memory per event of capacity.
inline constexpr uint32_t kSlotBytes = EventRecord::Stride(kInlineEventBytes);
static_assert(sizeof(EventRecord) % 8 == 0 && alignof(EventRecord) <= 8);
static_assert(kSlotBytes == 440, "slot size is documented in LoggerOptions");

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

  // Producer side. Charges `size` bytes and claims a record of the calling thread's lane, calls
  // fill(EventRecord&) to write it (its header, and its payload or spill pointer; `size` is set)
  // and publishes it. False (nothing charged) when either bound is
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
  // calls consume(const EventRecord&) and then frees its spill. Adds the bytes to *bytes and
  // returns the count. The bytes go back to the budget once per kReleaseEvery events.
  template <typename Consume>
  size_t Pop(size_t max_events, uint64_t max_bytes, uint64_t* bytes, Consume&& consume);

  // Pops the event with the smallest key(const EventRecord&) among the lanes' oldest events (the
  // oldest event of the pipeline, by its time) and stores its size. False when empty.
  template <typename Key>
  bool PopOldest(Key&& key, uint32_t* size);

  // The smallest key(const EventRecord&) among the lanes' oldest events; INT64_MAX when empty.
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
    // Producer side: written only by the lane's owner (or lane 0's holder of shared_mu_).
    // Published: the consumer reads these. They have a line of their own, away from the
    // producer's private state below, so that a consumer reading the tail (each time it has
    // caught up) does not take away the line every push reads and writes.
    alignas(64) std::atomic<uint64_t> tail{0};
    std::atomic<uint64_t> pushed_bytes{0};
    std::atomic<uint64_t> rejected{0};   // see TryPush
    std::atomic<int32_t> first_seg{-1};  // the chain's start, set once
    // Private to the producer.
    alignas(64) char* tail_at = nullptr;  // where the next record goes, in the segment being filled
    int32_t tail_seg = -1;
    uint32_t tail_off = 0, tail_cap = 0;
    int32_t spare_seg = -1;  // taken ahead for the next segment (see PushTo)
    int64_t credit = 0;      // granted bytes not yet spent

    // Who has the lane: a thread token, 0 when free (lane 0: never owned).
    alignas(64) std::atomic<uint64_t> owner{0};
    std::atomic<uint64_t> last_owner{0};
    // Set by the consumer when it has read the lane's segment to its end and the producer has
    // not linked the next one; RestartSegment looks at it rather than at the head, a line the
    // consumer writes per event (a full buffer must not make each dropped push miss on it).
    std::atomic<bool> at_end{false};

    // Consumer side.
    alignas(64) Mutex mu;
    std::atomic<uint64_t> head{0};  // written under mu
    std::atomic<uint64_t> popped_bytes{0};
    int32_t head_seg GUARDED_BY(mu) = -1;
    uint32_t head_off GUARDED_BY(mu) = 0;    // events read in head_seg
    char* head_at GUARDED_BY(mu) = nullptr;  // the next record to read
    // The tail as last read: the consumer reads the producer's line again only when it has
    // caught up with it, not once per event.
    uint64_t seen_tail GUARDED_BY(mu) = 0;
  };

  // The lanes and the byte budget, shared with the thread caches (a thread may let go of its
  // lane after the pipeline is gone).
  struct Table {
    Lane lanes[kMaxLanes];
    std::atomic<int64_t> granted{0};  // credits + buffered bytes
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
    if (static_cast<int64_t>(size) > l.credit && !Grant(l, size)) return false;
    if (l.tail_off == l.tail_cap && !NextSegment(l)) return false;
    l.credit -= size;
    EventRecord* record = reinterpret_cast<EventRecord*>(l.tail_at);
    // The lines a few records ahead: on their way before they are written (see
    // docs/BENCHMARKS.md). Near the end of the segment, the next one is taken early and the
    // lines its first records will take are prefetched at once (NextSegment does the same for
    // a segment it had to take late), so that the pushes that move to it do not each wait.
    if (l.tail_off + kPrefetchAhead < l.tail_cap) {
      Prefetch(l.tail_at + kPrefetchBytes);
    } else if (l.spare_seg < 0 && l.tail_off + kPrefetchAhead == l.tail_cap) {
      TakeSpare(l);
    }
    record->size = size;
    fill(*record);
    l.tail_at += EventRecord::Stride(size);
    ++l.tail_off;
    l.pushed_bytes.store(l.pushed_bytes.load(std::memory_order_relaxed) + size,
                         std::memory_order_relaxed);
    l.tail.store(l.tail.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return true;
  }
  // Counts a failed push on the lane (its owner, or lane 0's holder of shared_mu_, writes it).
  template <bool kCount>
  static bool Counted(Lane& l, bool pushed) {
    if (kCount && !pushed) {
      l.rejected.store(l.rejected.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    return pushed;
  }
  bool Grant(Lane& l, uint32_t size);
  // The lane's segment is full: links a free segment to it (false when there is none and the
  // consumer has not read the lane to its end, for RestartSegment).
  bool NextSegment(Lane& l);
  bool RestartSegment(Lane& l);
  // Two lines: a push moves on by a record, and a record of a usual size spans two.
  static void Prefetch(const char* at) {
    PrefetchForWrite(at);
    PrefetchForWrite(at + 64);
  }
  // A read prefetch (what __builtin_prefetch(p, 1) emits for the default x86-64 target).
  // PREFETCHW, which takes the line exclusive from the consumer's core at once, measured no
  // better here (docs/BENCHMARKS.md).
  static void PrefetchForWrite(const char* at) { __builtin_prefetch(at, 1, 3); }
  // The first kPrefetchBytes of a segment about to be written.
  void PrefetchStart(int32_t seg) const {
    const char* base = SegmentBase(seg);
    for (uint32_t off = 0; off < kPrefetchBytes; off += 64) PrefetchForWrite(base + off);
  }
  void TakeSpare(Lane& l);

  // The lane's oldest published record, moving past a segment read to its end; null when empty.
  EventRecord* HeadLocked(Lane& l) REQUIRES(l.mu);
  // Consumes the record HeadLocked() returned: frees its spill, moves the head.
  void AdvanceLocked(Lane& l, EventRecord* record) REQUIRES(l.mu);
  // The consumer is at the end of its segment: when the producer has linked the next one,
  // gives the segment back and moves to the next; false when it has not yet.
  bool LeaveSegmentLocked(Lane& l) REQUIRES(l.mu);
  void ReleaseBytes(uint64_t n) {
    table_->granted.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
  }

  // Segments: the events [k * segment_size_, ...) of the capacity, the last one possibly fewer;
  // segment k's records start at SegmentBase(k), with kSlotBytes reserved per event.
  char* SegmentBase(int32_t seg) const {
    return arena_.get() + static_cast<size_t>(seg) * segment_size_ * kSlotBytes;
  }
  uint32_t SegmentCapacity(int32_t seg) const {
    return static_cast<uint32_t>(seg) + 1 < segments_
               ? segment_size_
               : capacity_ - static_cast<uint32_t>(seg) * segment_size_;
  }
  int32_t TakeSegment();
  void GiveSegment(int32_t seg);

  // Prefetch distance: ~16 records of ~128 bytes ahead (a write that misses waits ~250 ns on
  // this project's VMs, 8-10 pushes); the next segment is taken kPrefetchAhead pushes early.
  static constexpr uint32_t kPrefetchBytes = 2048;
  static constexpr uint32_t kPrefetchAhead = 8;
  static constexpr size_t kReleaseEvery = 64;

  struct ArenaDeleter {
    size_t bytes;
    void operator()(char* arena) const;
  };
  static std::unique_ptr<char[], ArenaDeleter> AllocateArena(uint32_t events);

  const uint64_t uid_;  // tells this pipeline's entries in the thread caches
  const uint32_t capacity_;
  const uint32_t segment_size_;
  const uint32_t segments_;
  const int64_t capacity_bytes_;
  const int64_t credit_chunk_;
  std::unique_ptr<char[], ArenaDeleter> arena_;
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
  uint64_t taken = 0, unreleased = 0;
  for (uint32_t i = 0; i < used && n < max_events && taken < max_bytes; ++i) {
    Lane& l = table_->lanes[i];
    const uint64_t tail = l.tail.load(std::memory_order_acquire);
    if (l.head.load(std::memory_order_relaxed) == tail) continue;
    MutexLock lock(&l.mu);
    // Up to the tail read above, not chasing the producer: a consumer that reads the tail
    // again each time it catches up keeps taking the lines the producer is writing (the tail's
    // and the last record's), and the producer, slowed by those misses, lets it catch up again.
    l.seen_tail = std::max(l.seen_tail, tail);
    while (n < max_events && taken < max_bytes &&
           l.head.load(std::memory_order_relaxed) != l.seen_tail) {
      EventRecord* record = HeadLocked(l);
      if (record == nullptr) break;
      const uint32_t size = record->size;
      consume(static_cast<const EventRecord&>(*record));
      AdvanceLocked(l, record);
      taken += size;
      unreleased += size;
      // The budget is returned in chunks. Until a chunk lands, producers see its bytes as
      // still taken: the bound is only stricter, for the microseconds one chunk takes.
      if (++n % kReleaseEvery == 0) {
        ReleaseBytes(unreleased);
        unreleased = 0;
      }
    }
  }
  if (unreleased > 0) ReleaseBytes(unreleased);
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
    if (EventRecord* record = HeadLocked(l)) oldest = std::min<int64_t>(oldest, key(*record));
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
      EventRecord* record = HeadLocked(l);
      if (record != nullptr && (victim == nullptr || key(*record) < oldest)) {
        oldest = key(*record);
        victim = &l;
      }
    }
    if (victim == nullptr) return false;
    MutexLock lock(&victim->mu);
    EventRecord* record = HeadLocked(*victim);
    if (record == nullptr) continue;  // the consumer took it meanwhile: look again
    *size = record->size;
    AdvanceLocked(*victim, record);
    ReleaseBytes(*size);
    return true;
  }
}

}  // namespace lakelog::buffer

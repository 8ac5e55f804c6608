#include "buffer/producer_lanes.h"

#include <algorithm>
#include <bit>
#include <new>
#include <thread>

#include "common/huge_pages.h"

namespace lakelog::buffer {
namespace {

std::atomic<uint64_t> next_pipeline_uid{1};
std::atomic<uint64_t> next_thread_token{1};

uint64_t ThreadToken() {
  thread_local uint64_t token = next_thread_token.fetch_add(1, std::memory_order_relaxed);
  return token;
}

// Segment size: capacity/32 rounded down to a power of two, 1..4096 slots. Small enough that
// the segments two lanes hold part-filled fit in the reserve (a quarter); large enough that
// taking a segment is rare next to the pushes that fill it. Taking one (and topping up the
// credits on the same push) costs a few cache misses on lines other cores write, paid by one
// push in capacity/32: for the default 8,192 events one in 256, for the benchmarks' 65,536 one
// in 2,048, under hot_path_bench's one in 1,000 (p99.9). At capacity/64 and without the top-up, 2
// and 4 producers in bursts had p99.9 140-160 ns; with both, 100-140.
uint32_t SegmentSizeFor(uint32_t capacity) {
  const uint32_t s = std::clamp<uint32_t>(capacity / 32, 1, 4096);
  return std::bit_floor(s);
}

// The slots: capacity_events and a reserve of a quarter of them (at least one segment), in
// whole segments (see the header comment).
uint32_t SlotCountFor(uint32_t capacity, uint32_t segment_size) {
  const uint32_t reserve = std::max(capacity / 4, segment_size);
  return capacity + (reserve + segment_size - 1) / segment_size * segment_size;
}

}  // namespace

// The references behind tls_lane_cache: they keep each table alive while this thread holds
// one of its lanes, and let the lanes go when the thread exits.
struct LaneCache {
  std::shared_ptr<ProducerLanes::Table> tables[ProducerLanes::kCachedLanes];
  int next_evict = 0;

  ~LaneCache() {
    for (int i = 0; i < ProducerLanes::kCachedLanes; ++i) Drop(i);
  }
  void Drop(int i) {
    if (tables[i]) {
      ProducerLanes::Release(tables[i].get(),
                             static_cast<ProducerLanes::Lane*>(tls_lane_cache.lanes[i]));
      tables[i].reset();
    }
    tls_lane_cache.uids[i] = 0;
    tls_lane_cache.lanes[i] = nullptr;
  }
};

namespace {
thread_local LaneCache tls_lane_owner;
}  // namespace

std::unique_ptr<EventSlot[], ProducerLanes::SlotsDeleter> ProducerLanes::AllocateSlots(
    uint32_t count) {
  const size_t bytes = sizeof(EventSlot) * count;
  void* memory = nullptr;
  if (bytes >= kHugePage) {
    // A buffer of 2 MiB or more is a mapping of its own, 2 MiB-aligned and advised for huge
    // pages (advisory: without THP the slots work the same on small pages). Huge pages keep a
    // push from missing the TLB every 9 slots (4 KiB). When a last huge page would cost more
    // than an eighth of the slots, the part past the last whole one stays on small pages (the
    // default 8,192 events: 6 MiB resident for 4.4 MiB of slots before). Not aligned_alloc:
    // once an earlier buffer is freed, glibc serves the next one from memory it already has,
    // on small pages (hot_path_bench: AnonHugePages 0 kB for every pipeline after the first).
    memory = MapHugePages(bytes);
  }
  const bool mapped = memory != nullptr;
  if (memory == nullptr) memory = std::aligned_alloc(alignof(EventSlot), bytes);
  if (memory == nullptr) throw std::bad_alloc();
  EventSlot* slots = static_cast<EventSlot*>(memory);
  for (uint32_t i = 0; i < count; ++i) new (&slots[i]) EventSlot();
  return std::unique_ptr<EventSlot[], SlotsDeleter>(slots, SlotsDeleter{count, mapped});
}

void ProducerLanes::SlotsDeleter::operator()(EventSlot* slots) const {
  for (uint32_t i = 0; i < count; ++i) {
    std::free(slots[i].spill);
    slots[i].~EventSlot();
  }
  if (mapped) {
    UnmapHugePages(slots, sizeof(EventSlot) * count);
  } else {
    std::free(slots);
  }
}

ProducerLanes::ProducerLanes(uint32_t capacity_events, uint64_t capacity_bytes)
    : uid_(next_pipeline_uid.fetch_add(1, std::memory_order_relaxed)),
      capacity_(std::max<uint32_t>(1, capacity_events)),
      segment_size_(SegmentSizeFor(capacity_)),
      slot_count_(SlotCountFor(capacity_, segment_size_)),
      segments_((slot_count_ + segment_size_ - 1) / segment_size_),
      capacity_bytes_(static_cast<int64_t>(std::min<uint64_t>(capacity_bytes, INT64_MAX / 2))),
      credit_chunk_(std::min<int64_t>(capacity_bytes_ / 64, kCreditChunk)),
      event_chunk_(segment_size_),
      release_every_(static_cast<uint32_t>(std::max<int64_t>(event_chunk_, kMinRelease))),
      slots_(AllocateSlots(slot_count_)),
      next_(std::make_unique<std::atomic<int32_t>[]>(segments_)),
      free_mask_(std::bit_ceil(std::max<uint32_t>(segments_, 2)) - 1),
      free_(std::make_unique<FreeCell[]>(free_mask_ + 1)),
      table_(std::make_shared<Table>()) {
  for (uint64_t i = 0; i <= free_mask_; ++i) {
    free_[i].seq.store(i, std::memory_order_relaxed);
    free_[i].seg.store(-1, std::memory_order_relaxed);
  }
  for (uint32_t k = 0; k < segments_; ++k) {
    next_[k].store(-1, std::memory_order_relaxed);
    GiveSegment(static_cast<int32_t>(k));
  }
}

ProducerLanes::~ProducerLanes() = default;

int32_t ProducerLanes::TakeSegment() {
  uint64_t pos = free_head_.load(std::memory_order_relaxed);
  for (;;) {
    FreeCell& cell = free_[pos & free_mask_];
    const uint64_t seq = cell.seq.load(std::memory_order_acquire);
    const int64_t dif = static_cast<int64_t>(seq - (pos + 1));
    if (dif == 0) {
      if (free_head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        const int32_t seg = cell.seg.load(std::memory_order_relaxed);
        cell.seq.store(pos + free_mask_ + 1, std::memory_order_release);
        return seg;
      }
    } else if (dif < 0) {
      return -1;  // empty, or its next segment is still on its way in (see GiveSegment)
    } else {
      pos = free_head_.load(std::memory_order_relaxed);
    }
  }
}

void ProducerLanes::GiveSegment(int32_t seg) {
  // Never full (the queue has a cell for every segment), but a cell may still be on its way
  // out: a taker that claimed it a lap ago and was preempted before marking it free. Then this
  // waits for that taker's next step.
  uint64_t pos = free_tail_.load(std::memory_order_relaxed);
  for (;;) {
    FreeCell& cell = free_[pos & free_mask_];
    const uint64_t seq = cell.seq.load(std::memory_order_acquire);
    const int64_t dif = static_cast<int64_t>(seq - pos);
    if (dif == 0) {
      if (free_tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        cell.seg.store(seg, std::memory_order_relaxed);
        cell.seq.store(pos + 1, std::memory_order_release);
        return;
      }
    } else {
      if (dif < 0) std::this_thread::yield();
      pos = free_tail_.load(std::memory_order_relaxed);
    }
  }
}

bool ProducerLanes::Grant(Lane& l, uint32_t size) {
  const int64_t need = static_cast<int64_t>(size) - l.credit;
  const int64_t want = std::max(need, credit_chunk_);
  int64_t granted = table_->granted.load(std::memory_order_relaxed);
  int64_t take;
  do {
    const int64_t available = capacity_bytes_ - granted;
    if (available < need) return false;
    take = std::min(want, available);
  } while (
      !table_->granted.compare_exchange_weak(granted, granted + take, std::memory_order_relaxed));
  l.credit += take;
  return true;
}

bool ProducerLanes::GrantEvents(Lane& l) {
  int64_t granted = table_->granted_events.load(std::memory_order_relaxed);
  int64_t take;
  do {
    const int64_t available = int64_t{capacity_} - granted;
    if (available < 1) return false;
    take = std::min(event_chunk_, available);
  } while (!table_->granted_events.compare_exchange_weak(granted, granted + take,
                                                         std::memory_order_relaxed));
  l.event_credit += take;
  return true;
}

bool ProducerLanes::NextSegment(Lane& l) {
  int32_t seg = l.spare_seg;
  l.spare_seg = -1;
  if (seg < 0) {
    seg = TakeSegment();
    if (seg < 0) return RestartSegment(l);
    // Not a spare, whose first slots were prefetched as the last ones of the segment before
    // it were written: ask for them now.
    const uint32_t ahead = std::min(kPrefetchAhead, SegmentCapacity(seg));
    for (uint32_t k = 0; k < ahead; ++k) Prefetch(SegmentSlots(seg) + k);
  }
  next_[seg].store(-1, std::memory_order_relaxed);
  if (l.tail_seg < 0) {
    l.first_seg.store(seg, std::memory_order_release);
  } else {
    // Published before the segment's first event (the tail's release store orders it).
    next_[l.tail_seg].store(seg, std::memory_order_release);
  }
  l.tail_seg = seg;
  l.tail_slots = SegmentSlots(seg);
  l.tail_off = 0;
  l.tail_cap = SegmentCapacity(seg);
  return true;
}

bool ProducerLanes::RestartSegment(Lane& l) {
  // No free segment (lanes hold them all): when the consumer has read everything of this lane,
  // it sits at the end of the lane's segment, and the segment can start over (the consumer
  // moves with us, under its lock). Only then: a segment just read has its lines in the
  // consumer's cache. The hint is parked_head, which the consumer writes only when it stops
  // there: not head, which it writes per event, so that pushes failing here do not each wait
  // for the consumer's line. Confirmed under the lock, never waiting for it: a consumer that
  // holds it is draining, and a failing push must not wait.
  if (l.tail_seg < 0 || l.parked_head.load(std::memory_order_acquire) != l.own_tail ||
      !l.mu.TryLock()) {
    return false;
  }
  const bool all_read = l.head.load(std::memory_order_relaxed) == l.own_tail &&
                        l.head_seg == l.tail_seg && l.head_off == l.tail_cap;
  if (all_read) l.head_off = 0;
  l.mu.Unlock();
  if (all_read) l.tail_off = 0;
  return all_read;
}

void ProducerLanes::TakeSpare(Lane& l) {
  l.spare_seg = TakeSegment();
  if (l.spare_seg >= 0) Prefetch(SegmentSlots(l.spare_seg));
  // The credits topped up by the same push: each is a read-modify-write of a line other cores
  // write, and one slow push per segment is rarer than three at different pushes.
  if (l.event_credit < event_chunk_) (void)GrantEvents(l);
  if (l.credit < credit_chunk_) (void)Grant(l, 0);
}

EventSlot* ProducerLanes::HeadSlotLocked(Lane& l, bool reread_tail) {
  l.mu.AssertHeld();
  const uint64_t head = l.head.load(std::memory_order_relaxed);
  if (head == l.seen_tail) {
    if (!reread_tail) return nullptr;
    l.seen_tail = l.tail.load(std::memory_order_acquire);
    if (head == l.seen_tail) return nullptr;
  }
  if (l.head_seg < 0) {
    l.head_seg = l.first_seg.load(std::memory_order_acquire);
    l.head_off = 0;
  }
  if (l.head_off == SegmentCapacity(l.head_seg)) {
    // An event past the segment's end is published, so the producer linked the next one.
    const bool left = LeaveSegmentLocked(l);
    assert(left);
    (void)left;
  }
  return SegmentSlots(l.head_seg) + l.head_off;
}

bool ProducerLanes::LeaveSegmentLocked(Lane& l) {
  l.mu.AssertHeld();
  const int32_t next = next_[l.head_seg].load(std::memory_order_acquire);
  if (next < 0) return false;
  GiveSegment(l.head_seg);
  l.head_seg = next;
  l.head_off = 0;
  return true;
}

void ProducerLanes::AdvanceLocked(Lane& l, EventSlot* slot) {
  l.mu.AssertHeld();
  if (slot->spill) {
    std::free(slot->spill);
    slot->spill = nullptr;
  }
  ++l.head_off;
  l.popped_bytes.store(l.popped_bytes.load(std::memory_order_relaxed) + slot->size,
                       std::memory_order_release);
  const uint64_t head = l.head.load(std::memory_order_relaxed) + 1;
  // A segment read to its end goes back at once when the producer has moved past it. Else it
  // waits (its producer may still link the next segment to it), and the consumer parks at its
  // end: published before the head, so that whoever sees the head sees where it parked.
  if (l.head_off == SegmentCapacity(l.head_seg) && !LeaveSegmentLocked(l)) {
    l.parked_head.store(head, std::memory_order_relaxed);
  }
  l.head.store(head, std::memory_order_release);
}

ProducerLanes::Lane* ProducerLanes::AcquireLane() {
  LaneCache& cache = tls_lane_owner;
  int entry = -1;
  for (int i = 0; i < kCachedLanes && entry < 0; ++i) {
    if (tls_lane_cache.uids[i] == 0) entry = i;
  }
  if (entry < 0) {
    entry = cache.next_evict;
    cache.next_evict = (entry + 1) % kCachedLanes;
    cache.Drop(entry);
  }
  const uint64_t token = ThreadToken();
  Table& t = *table_;
  Lane* lane = nullptr;
  // The lane this thread had before, if it is free: its events stay in order behind them.
  for (uint32_t pass = 0; pass < 2 && lane == nullptr; ++pass) {
    for (uint32_t i = 1; i < kMaxLanes; ++i) {
      Lane& l = t.lanes[i];
      if (pass == 0 && l.last_owner.load(std::memory_order_relaxed) != token) continue;
      uint64_t expected = 0;
      if (l.owner.load(std::memory_order_relaxed) == 0 &&
          l.owner.compare_exchange_strong(expected, token, std::memory_order_acquire)) {
        l.last_owner.store(token, std::memory_order_relaxed);
        uint32_t used = t.used.load(std::memory_order_relaxed);
        while (used < i + 1 &&
               !t.used.compare_exchange_weak(used, i + 1, std::memory_order_release)) {
        }
        lane = &l;
        break;
      }
    }
  }
  if (lane == nullptr) lane = &t.lanes[0];  // every lane taken: the shared one
  tls_lane_cache.uids[entry] = uid_;
  tls_lane_cache.lanes[entry] = lane;
  cache.tables[entry] = table_;
  return lane;
}

void ProducerLanes::Release(Table* table, Lane* lane) {
  if (lane == &table->lanes[0]) return;
  table->granted.fetch_sub(lane->credit, std::memory_order_relaxed);
  table->granted_events.fetch_sub(lane->event_credit, std::memory_order_relaxed);
  lane->credit = 0;
  lane->event_credit = 0;
  lane->owner.store(0, std::memory_order_release);
}

uint64_t ProducerLanes::size() const {
  return SumOverLanes([](const Lane& l) {
    const uint64_t head = l.head.load(std::memory_order_acquire);
    const uint64_t tail = l.tail.load(std::memory_order_acquire);
    return tail > head ? tail - head : 0;
  });
}

uint64_t ProducerLanes::bytes() const {
  return SumOverLanes([](const Lane& l) {
    const uint64_t popped = l.popped_bytes.load(std::memory_order_acquire);
    const uint64_t pushed = l.pushed_bytes.load(std::memory_order_acquire);
    return pushed > popped ? pushed - popped : 0;
  });
}

uint64_t ProducerLanes::pushed() const {
  return SumOverLanes([](const Lane& l) { return l.tail.load(std::memory_order_acquire); });
}

uint64_t ProducerLanes::rejected() const {
  return SumOverLanes([](const Lane& l) { return l.rejected.load(std::memory_order_relaxed); });
}

}  // namespace lakelog::buffer

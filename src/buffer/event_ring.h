// EventRing: a bounded, lock-free multi-producer ring of fixed-size event slots.
//
// The algorithm is Dmitry Vyukov's bounded MPMC queue: each slot carries a sequence number
// that says whether it is free for the producer at position `pos` (seq == pos) or holds the
// event for the consumer at `pos` (seq == pos + 1). Producers claim a position with one CAS on
// tail_; the flush thread (and, under kDropOldest, a producer evicting the oldest event)
// claims one with a CAS on head_. All memory is allocated up front: an event whose payload
// fits kInlineEventBytes is copied into its slot; a larger one spills to the heap.
//
// Memory: the slots are one allocation, made up front. A ring of 2 MiB or more is backed by
// transparent huge pages where the kernel allows it (a 64K-slot ring is 32 MiB: with 4 KiB
// pages every 8th push would start a new page, missing the TLB and outrunning the hardware
// prefetcher, which stops at page boundaries). A push also prefetches, for writing, the slot
// kPrefetchAhead positions on (one 4 KiB page of slots: on small pages this also walks the
// TLB early), so the lines a later push writes are on their way before they are needed.
// Pops prefetch the same way, for reading. Measured with one producer on a 64K-slot ring
// (docs/BENCHMARKS.md): p99 of a Log() ~350 -> ~80 ns, p99.9 ~530 -> ~150 ns.
//
// Invariant: head_ <= tail_ <= head_ + capacity_. The capacity is at least 2 (with one slot a
// published slot's sequence would equal the next producer's position).
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "buffer/slot_codec.h"
#include "lakelog/logger.h"

namespace lakelog::buffer {

struct alignas(64) EventSlot {
  std::atomic<uint64_t> seq{0};
  // Mirrors header.ts_micros so the scheduler may read the oldest event's time while the
  // slot is owned by someone else (a relaxed atomic: the value may be stale, never torn).
  std::atomic<int64_t> ts_micros{0};
  EventHeader header;
  uint32_t size = 0;      // payload bytes
  char* spill = nullptr;  // heap payload when size > kInlineEventBytes
  char inline_payload[kInlineEventBytes];

  const char* payload() const { return spill ? spill : inline_payload; }
};

static_assert(sizeof(EventSlot) == 512, "slot size is documented in LoggerOptions");

class EventRing {
 public:
  explicit EventRing(uint32_t capacity);
  ~EventRing();
  EventRing(const EventRing&) = delete;
  EventRing& operator=(const EventRing&) = delete;

  uint32_t capacity() const { return capacity_; }

  // Claims a free slot and calls fill(EventSlot&) to write it; false when the ring is full.
  template <typename Fill>
  bool TryPush(Fill&& fill) {
    uint64_t pos = tail_.load(std::memory_order_relaxed);
    EventSlot* slot;
    for (;;) {
      slot = &slots_[Index(pos)];
      uint64_t seq = slot->seq.load(std::memory_order_acquire);
      int64_t dif = static_cast<int64_t>(seq - pos);
      if (dif == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    // Invariant: tail_ <= head_ + capacity_. Our claim of `pos` is not published, so head_ is
    // at most pos; the slot's free sequence (read with acquire) shows head_ past pos - capacity_.
    assert(pos - head_.load(std::memory_order_relaxed) < capacity_);
    // The header line and the first payload line of a slot a few pushes ahead (from the slot
    // pointer: no second division for capacities that are not powers of two).
    if (capacity_ > kPrefetchAhead) {
      const EventSlot* ahead = slot + kPrefetchAhead;
      if (ahead >= slots_.get() + capacity_) ahead -= capacity_;
      __builtin_prefetch(ahead, 1, 3);
      __builtin_prefetch(reinterpret_cast<const char*>(ahead) + 64, 1, 3);
    }
    fill(*slot);
    slot->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // Claims the oldest event and calls consume(EventSlot&); frees its spill afterwards. False
  // when the ring is empty (or its oldest slot is still being written).
  template <typename Consume>
  bool TryPop(Consume&& consume) {
    uint64_t pos = head_.load(std::memory_order_relaxed);
    EventSlot* slot;
    for (;;) {
      slot = &slots_[Index(pos)];
      uint64_t seq = slot->seq.load(std::memory_order_acquire);
      int64_t dif = static_cast<int64_t>(seq - (pos + 1));
      if (dif == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return false;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    // Invariant: head_ <= tail_. The slot at `pos` was published, after its producer moved
    // tail_ past it.
    assert(pos < tail_.load(std::memory_order_relaxed));
    if (capacity_ > kPrefetchAhead) {
      const EventSlot* ahead = slot + kPrefetchAhead;
      if (ahead >= slots_.get() + capacity_) ahead -= capacity_;
      __builtin_prefetch(ahead, 0, 3);
      __builtin_prefetch(reinterpret_cast<const char*>(ahead) + 64, 0, 3);
    }
    consume(*slot);
    if (slot->spill) {
      std::free(slot->spill);
      slot->spill = nullptr;
    }
    slot->seq.store(pos + capacity_, std::memory_order_release);
    return true;
  }

  // Positions: every push ever claimed (tail) and every pop ever claimed (head).
  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  uint64_t tail() const { return tail_.load(std::memory_order_acquire); }
  uint64_t size() const {
    uint64_t h = head(), t = tail();
    return t > h ? t - h : 0;
  }

  // The timestamp of the oldest published event; false when there is none.
  bool PeekOldestTs(int64_t* ts) const;

 private:
  size_t Index(uint64_t pos) const {
    return mask_ ? static_cast<size_t>(pos & mask_) : static_cast<size_t>(pos % capacity_);
  }

  static constexpr uint64_t kPrefetchAhead = 8;  // one 4 KiB page of slots

  struct SlotsDeleter {
    uint32_t count;
    void operator()(EventSlot* slots) const;
  };
  static std::unique_ptr<EventSlot[], SlotsDeleter> AllocateSlots(uint32_t count);

  const uint32_t capacity_;
  const uint64_t mask_;  // capacity_ - 1 when capacity_ is a power of two, else 0
  std::unique_ptr<EventSlot[], SlotsDeleter> slots_;
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) std::atomic<uint64_t> head_{0};
};

}  // namespace lakelog::buffer

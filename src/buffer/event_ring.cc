#include "buffer/event_ring.h"

#include <sys/mman.h>

#include <new>

namespace lakelog::buffer {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

std::unique_ptr<EventSlot[], EventRing::SlotsDeleter> EventRing::AllocateSlots(uint32_t count) {
  size_t bytes = sizeof(EventSlot) * count;
  size_t align = alignof(EventSlot);
  if (bytes >= kHugePage) {
    align = kHugePage;
    bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  }
  void* memory = std::aligned_alloc(align, bytes);
  if (memory == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  // Advisory: without THP (or with it off) the ring works the same on small pages.
  if (align == kHugePage) (void)madvise(memory, bytes, MADV_HUGEPAGE);
#endif
  EventSlot* slots = static_cast<EventSlot*>(memory);
  for (uint32_t i = 0; i < count; ++i) new (&slots[i]) EventSlot();
  return std::unique_ptr<EventSlot[], SlotsDeleter>(slots, SlotsDeleter{count});
}

void EventRing::SlotsDeleter::operator()(EventSlot* slots) const {
  for (uint32_t i = 0; i < count; ++i) {
    std::free(slots[i].spill);
    slots[i].~EventSlot();
  }
  std::free(slots);
}

EventRing::EventRing(uint32_t capacity)
    : capacity_(capacity < 2 ? 2 : capacity),
      mask_((capacity_ & (capacity_ - 1)) == 0 ? capacity_ - 1 : 0),
      slots_(AllocateSlots(capacity_)) {
  for (uint32_t i = 0; i < capacity_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
}

EventRing::~EventRing() = default;

bool EventRing::PeekOldestTs(int64_t* ts) const {
  uint64_t pos = head_.load(std::memory_order_acquire);
  const EventSlot& slot = slots_[Index(pos)];
  if (slot.seq.load(std::memory_order_acquire) != pos + 1) return false;
  *ts = slot.ts_micros.load(std::memory_order_relaxed);
  return true;
}

}  // namespace lakelog::buffer

#include "buffer/event_ring.h"

namespace lakelog::internal {

EventRing::EventRing(uint32_t capacity)
    : capacity_(capacity < 2 ? 2 : capacity),
      mask_((capacity_ & (capacity_ - 1)) == 0 ? capacity_ - 1 : 0),
      slots_(new EventSlot[capacity_]) {
  for (uint32_t i = 0; i < capacity_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
}

EventRing::~EventRing() {
  for (uint32_t i = 0; i < capacity_; ++i) std::free(slots_[i].spill);
}

bool EventRing::PeekOldestTs(int64_t* ts) const {
  uint64_t pos = head_.load(std::memory_order_acquire);
  const EventSlot& slot = slots_[Index(pos)];
  if (slot.seq.load(std::memory_order_acquire) != pos + 1) return false;
  *ts = slot.ts_micros.load(std::memory_order_relaxed);
  return true;
}

}  // namespace lakelog::internal

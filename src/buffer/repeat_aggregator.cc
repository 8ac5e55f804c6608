#include "buffer/repeat_aggregator.h"

namespace lakelog::buffer {

void RepeatAggregator::UpdateOldestLocked() {
  lock_.AssertHeld();
  int64_t oldest = INT64_MAX;
  if (held_ > 0) {
    for (const Entry& e : entries_) {
      if (e.used && e.header.ts < oldest) oldest = e.header.ts;
    }
  }
  oldest_ts_.store(oldest, std::memory_order_relaxed);
}

int RepeatAggregator::Harvest(int64_t now_micros, bool all,
                              const std::function<void(const Entry&)>& take) {
  int taken = 0;
  lock_.Lock();
  for (Entry& e : entries_) {
    if (!e.used) continue;
    if (!all && now_micros - e.header.ts < window_micros_) continue;
    take(e);
    e.used = false;
    --held_;
    ++taken;
  }
  UpdateOldestLocked();
  lock_.Unlock();
  return taken;
}

}  // namespace lakelog::buffer

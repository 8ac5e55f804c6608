#include "buffer/pipeline_buffer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

namespace lakelog::buffer {
namespace {

uint64_t Fraction(double ratio, uint64_t capacity) {
  ratio = std::clamp(ratio, 0.0, 1.0);
  return static_cast<uint64_t>(std::floor(ratio * static_cast<double>(capacity) + 1e-9));
}

}  // namespace

PipelineBuffer::PipelineBuffer(std::string pipeline, LoggerOptions options, Clock* clock,
                               std::string host, std::function<void()> wake_flusher)
    : pipeline_(std::move(pipeline)),
      options_(std::move(options)),
      clock_(clock),
      tsc_(clock == RealClock() ? RealTscClock() : nullptr),
      host_(std::move(host)),
      wake_flusher_(std::move(wake_flusher)),
      capacity_bytes_(static_cast<int64_t>(options_.capacity_bytes)),
      lanes_(std::max<uint32_t>(2, options_.capacity_events), options_.capacity_bytes),
      aggregator_(static_cast<int64_t>(options_.aggregate_window.count()) * 1000) {
  shed_events_limit_ = Fraction(options_.high_water_mark, lanes_.capacity());
  shed_bytes_limit_ = Fraction(options_.high_water_mark, options_.capacity_bytes);
  reserve_events_limit_ = Fraction(1.0 - options_.error_reserve, lanes_.capacity());
  reserve_bytes_limit_ = Fraction(1.0 - options_.error_reserve, options_.capacity_bytes);
}

LogResult PipelineBuffer::LogInternal(const EventFields& f) noexcept { return Admit(f); }

LogResult PipelineBuffer::Admit(const EventFields& f) noexcept {
  const uint32_t size = EncodedSize(f);
  if (size > options_.max_event_bytes || static_cast<int64_t>(size) > capacity_bytes_) {
    return Drop(DropReason::kTooLarge);
  }
  if (f.level >= Level::kError || f.status == "FAILED") {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  if (options_.overflow == OverflowPolicy::kAggregateRepeats) {
    // The aggregator compares times as it goes: microseconds now.
    return PushAggregating(f, f.ts_micros ? *f.ts_micros : clock_->NowMicros(), size);
  }
  // Raw ticks from the TSC, converted when drained; else the clock's microseconds.
  const TscClock::Stamp ts = f.ts_micros ? TscClock::Stamp{*f.ts_micros, TscClock::kMicrosEpoch}
                             : tsc_      ? tsc_->NowStamp()
                                    : TscClock::Stamp{clock_->NowMicros(), TscClock::kMicrosEpoch};
  switch (options_.overflow) {
    case OverflowPolicy::kDropNewest: break;
    case OverflowPolicy::kDropOldest: return PushEvicting(f, ts, size);
    case OverflowPolicy::kBlock: return PushBlocking(f, ts, size);
    case OverflowPolicy::kShedByLevel: return PushShedding(f, ts, size);
    case OverflowPolicy::kAggregateRepeats: break;  // above
  }
  // drop_newest, the default, inlined here down to the slot's stores (see PushOrDrop).
  return PushOrDrop(f, ts, size);
}

template <bool kCountRejected>
[[gnu::always_inline]] inline bool PipelineBuffer::TryPushFields(const EventFields& f,
                                                                 TscClock::Stamp ts,
                                                                 uint32_t size) {
  char* spill = nullptr;
  if (size > kInlineEventBytes) {
    // Rare path: an event larger than a slot takes one allocation.
    spill = static_cast<char*>(std::malloc(size));
    if (spill == nullptr) return false;
  }
  // A struct, not a lambda: gcc keeps a lambda's call out of line, and an attribute can make
  // this one always inline.
  struct Fill {
    const EventFields& f;
    TscClock::Stamp ts;
    uint32_t size;
    char* spill;
    [[gnu::always_inline]] void operator()(EventSlot& slot) const {
      slot.spill = spill;
      slot.size = size;
      Encode(f, ts, &slot.header, spill ? spill : slot.inline_payload);
    }
  };
  const bool pushed = lanes_.TryPush<kCountRejected>(size, Fill{f, ts, size, spill});
  if (!pushed) std::free(spill);
  return pushed;
}

bool PipelineBuffer::TryPushEncoded(const EventHeader& header, const char* payload, uint32_t size) {
  return lanes_.TryPush(size, [&](EventSlot& slot) {
    slot.spill = nullptr;
    slot.size = size;
    slot.header = header;
    std::memcpy(slot.inline_payload, payload, size);
  });
}

bool PipelineBuffer::EvictOldest() {
  uint32_t size = 0;
  if (!lanes_.PopOldest([this](const EventSlot& slot) { return SlotMicros(slot); }, &size)) {
    return false;
  }
  CountDropped(DropReason::kDropOldest, 1);
  return true;
}

// Inlined whole into Admit(), with the lane's push and the encoding: no call between Log() and
// the slot's stores (there were four; see codec_detail::CopyShort for what both saved).
[[gnu::always_inline]] inline LogResult PipelineBuffer::PushOrDrop(const EventFields& f,
                                                                   TscClock::Stamp ts,
                                                                   uint32_t size) {
  // A failed push is counted on the caller's lane; Stats() adds those to drop_newest.
  return TryPushFields</*kCountRejected=*/true>(f, ts, size) ? LogResult::kAccepted
                                                             : LogResult::kDropped;
}

LogResult PipelineBuffer::PushEvicting(const EventFields& f, TscClock::Stamp ts, uint32_t size) {
  // Each failed push evicts the pipeline's oldest event, which gives its event and bytes back
  // at once. Its slot comes back only with its segment, once read to its end: the slot reserve
  // covers that, but when lanes hold the reserve too, one push may evict up to a segment's
  // worth and the next ones none. Another lane's unused credit or partly filled segment can
  // make a push fail with nothing left to evict; after that many tries the new event is
  // dropped.
  const uint64_t max_tries = static_cast<uint64_t>(lanes_.capacity()) + 64;
  for (uint64_t i = 0; i < max_tries; ++i) {
    if (TryPushFields(f, ts, size)) return LogResult::kAccepted;
    if (!EvictOldest()) std::this_thread::yield();
  }
  return Drop(DropReason::kDropNewest);
}

LogResult PipelineBuffer::PushBlocking(const EventFields& f, TscClock::Stamp ts, uint32_t size) {
  if (TryPushFields(f, ts, size)) return LogResult::kAccepted;
  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = SteadyClock::now() + options_.block_timeout;
  if (wake_flusher_) wake_flusher_();
  for (;;) {
    auto now = SteadyClock::now();
    if (now >= deadline) return Drop(DropReason::kBlockTimeout);
    {
      MutexLock lock(&block_mu_);
      blocked_.fetch_add(1, std::memory_order_acq_rel);
      // Bounded wait: a wake-up lost between the failed push and this wait costs <= 1 ms.
      block_cv_.WaitFor(&block_mu_, std::min<SteadyClock::duration>(deadline - now,
                                                                    std::chrono::milliseconds(1)));
      blocked_.fetch_sub(1, std::memory_order_acq_rel);
    }
    if (TryPushFields(f, ts, size)) return LogResult::kAccepted;
  }
}

LogResult PipelineBuffer::PushShedding(const EventFields& f, TscClock::Stamp ts, uint32_t size) {
  if (f.level < Level::kError) {
    const bool low = f.level < options_.shed_below_level;
    const uint64_t events_limit = low ? shed_events_limit_ : reserve_events_limit_;
    const uint64_t bytes_limit = low ? shed_bytes_limit_ : reserve_bytes_limit_;
    if (lanes_.size() + 1 > events_limit || buffered_bytes() + size > bytes_limit) {
      return Drop(DropReason::kShed);
    }
  }
  return PushOrDrop(f, ts, size);
}

LogResult PipelineBuffer::PushAggregating(const EventFields& f, int64_t ts, uint32_t size) {
  if (!RepeatAggregator::Fits(size)) {
    LogResult r = PushOrDrop(f, TscClock::Stamp{ts, TscClock::kMicrosEpoch}, size);
    if (r == LogResult::kAccepted) aggregated_accepted_.fetch_add(1, std::memory_order_relaxed);
    return r;
  }
  auto outcome = aggregator_.Add(f, ts, size, [&](const RepeatAggregator::Entry& e) {
    if (!TryPushEncoded(e.header, e.payload, e.size)) CountDropped(DropReason::kDropNewest, 1);
  });
  if (outcome == RepeatAggregator::Outcome::kMerged) {
    CountDropped(DropReason::kAggregated, 1);
    return LogResult::kAggregated;
  }
  aggregated_accepted_.fetch_add(1, std::memory_order_relaxed);
  return LogResult::kAccepted;
}

void PipelineBuffer::WakeBlocked() {
  if (blocked_.load(std::memory_order_acquire) > 0) {
    MutexLock lock(&block_mu_);
    block_cv_.SignalAll();
  }
}

template <typename Append>
size_t PipelineBuffer::DrainInto(size_t max_events, uint64_t max_bytes, uint64_t* bytes,
                                 Append&& append) {
  const DecodeDefaults defaults{pipeline_, host_, options_.run_id, tsc_};
  // append() runs only once a slot is claimed, so an empty buffer leaves no blank event.
  const size_t n = lanes_.Pop(max_events, max_bytes, bytes, [&](EventSlot& slot) {
    Decode(slot.header, slot.payload(), defaults, append());
  });
  if (n > 0) WakeBlocked();
  return n;
}

size_t PipelineBuffer::Drain(size_t max_events, uint64_t max_bytes, std::vector<LogEvent>* out,
                             uint64_t* bytes) {
  // At most one reallocation per drain (not one per doubling while decoding). Geometric, so a
  // round that drains many pipelines into one vector does not move its events every time.
  const size_t needed =
      out->size() + static_cast<size_t>(std::min<uint64_t>(max_events, lanes_.size()));
  if (needed > out->capacity()) out->reserve(std::max(needed, 2 * out->capacity()));
  return DrainInto(max_events, max_bytes, bytes, [out] { return &out->emplace_back(); });
}

size_t PipelineBuffer::Drain(size_t max_events, uint64_t max_bytes, EventBatch* out,
                             uint64_t* bytes) {
  return DrainInto(max_events, max_bytes, bytes, [out] { return out->Append(); });
}

size_t PipelineBuffer::HarvestRepeats(int64_t now_micros, bool all, std::vector<LogEvent>* out) {
  if (aggregator_.empty()) return 0;
  const DecodeDefaults defaults{pipeline_, host_, options_.run_id, tsc_};
  return aggregator_.Harvest(now_micros, all, [&](const RepeatAggregator::Entry& e) {
    Decode(e.header, e.payload, defaults, &out->emplace_back());
  });
}

size_t PipelineBuffer::HarvestRepeats(int64_t now_micros, bool all, EventBatch* out) {
  if (aggregator_.empty()) return 0;
  const DecodeDefaults defaults{pipeline_, host_, options_.run_id, tsc_};
  return aggregator_.Harvest(now_micros, all, [&](const RepeatAggregator::Entry& e) {
    Decode(e.header, e.payload, defaults, out->Append());
  });
}

int64_t PipelineBuffer::RingOldestTs() const {
  return lanes_.OldestKey([this](const EventSlot& slot) { return SlotMicros(slot); });
}

LoggerStats PipelineBuffer::Stats() const {
  LoggerStats s;
  s.accepted = options_.overflow == OverflowPolicy::kAggregateRepeats
                   ? aggregated_accepted_.load(std::memory_order_relaxed)
                   : lanes_.pushed();
  s.flushed = flushed_.load(std::memory_order_relaxed);
  s.buffered_events = lanes_.size();
  s.buffered_bytes = buffered_bytes();
  for (int i = 0; i < kNumDropReasons; ++i)
    s.dropped[i] = dropped_[i].load(std::memory_order_relaxed);
  s.dropped[static_cast<size_t>(DropReason::kDropNewest)] += lanes_.rejected();
  return s;
}

}  // namespace lakelog::buffer

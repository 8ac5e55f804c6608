#include "buffer/tsc_clock.h"

#include <time.h>

#include <cstdio>
#include <cstring>

#if LAKELOG_HAVE_TSC
#include <cpuid.h>
#endif

namespace lakelog::buffer {
namespace {

// A sample wider than this (the thread was preempted or interrupted between its two TSC reads)
// is too uncertain to anchor timestamps on.
constexpr int64_t kMaxSampleWidthNanos = 1'000;
// Spin of the first calibration; the rate it measures is refined after kRateBaselineMicros.
constexpr int64_t kInitialBaselineNanos = 500'000;

bool KernelClocksourceIsTsc() {
  std::FILE* f =
      std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
  if (f == nullptr) return false;
  char name[32] = {};
  const bool read = std::fgets(name, sizeof(name), f) != nullptr;
  std::fclose(f);
  return read && std::strncmp(name, "tsc", 3) == 0 && (name[3] == '\n' || name[3] == '\0');
}

}  // namespace

int64_t RealtimeNanos() noexcept {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool TscClock::Supported() {
#if LAKELOG_HAVE_TSC
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool invariant = (edx & (1u << 8)) != 0;
  return invariant && KernelClocksourceIsTsc();
#else
  return false;
#endif
}

TscClock::Sample TscClock::TakeSample(int tries) {
  Sample best;
  best.width = UINT64_MAX;
  for (int i = 0; i < tries; ++i) {
    const uint64_t t0 = ReadTicks();
    const int64_t ns = RealtimeNanos();
    const uint64_t t1 = ReadTicks();
    const uint64_t width = t1 - t0;
    if (width < best.width) best = Sample{t0 + width / 2, ns, width};
    // Narrow enough: the midpoint is then within a few tens of ns of the reading.
    if (best.width < 256) break;
  }
  return best;
}

uint64_t TscClock::MultBetween(const Sample& a, const Sample& b) {
  const int64_t ticks = static_cast<int64_t>(b.ticks - a.ticks);
  const int64_t ns = b.ns - a.ns;
  if (ticks <= 0 || ns <= 0) return 0;
  const unsigned __int128 mult = (static_cast<unsigned __int128>(ns) << kShift) / ticks;
  // Tick rates between 10 MHz and 100 GHz are plausible; anything else is a clock step.
  constexpr uint64_t kMin = (uint64_t{1} << kShift) / 100;
  constexpr uint64_t kMax = (uint64_t{1} << kShift) * 100;
  if (mult < kMin || mult > kMax) return 0;
  return static_cast<uint64_t>(mult);
}

TscClock::TscClock()
    : history_(std::make_unique<Calibration[]>(kHistory)),
      coarse_(std::make_unique<Calibration[]>(kCoarse)) {
  uint64_t mult = 0;
  Sample a, b;
  for (int attempt = 0; attempt < 5 && mult == 0; ++attempt) {
    a = TakeSample(8);
    do {
      b = TakeSample(8);
    } while (b.ns - a.ns < kInitialBaselineNanos && b.ns >= a.ns);
    mult = MultBetween(a, b);
  }
  if (mult == 0) mult = uint64_t{1} << kShift;  // unreachable in practice; keeps math defined
  anchor_ = a;
  refresh_ticks_ = static_cast<int64_t>(
      (static_cast<unsigned __int128>(kRefreshMicros * 1000) << kShift) / mult);
  base_ticks_.store(b.ticks, std::memory_order_relaxed);
  base_ns_.store(b.ns, std::memory_order_relaxed);
  mult_.store(mult, std::memory_order_relaxed);
  Remember(2, b.ticks, b.ns, mult);
  seq_.store(2, std::memory_order_release);
}

void TscClock::Keep(Calibration* c, uint32_t seq, uint64_t base_ticks, int64_t base_ns,
                    uint64_t mult) {
  c->seq.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  c->base_ticks.store(base_ticks, std::memory_order_relaxed);
  c->base_ns.store(base_ns, std::memory_order_relaxed);
  c->mult.store(mult, std::memory_order_relaxed);
  c->seq.store(seq, std::memory_order_release);
}

bool TscClock::Find(const Calibration& c, uint32_t seq, uint64_t* base_ticks, int64_t* base_ns,
                    uint64_t* mult) {
  // seq 0 marks an entry being written (or never written).
  if (seq == 0 || c.seq.load(std::memory_order_acquire) != seq) return false;
  *base_ticks = c.base_ticks.load(std::memory_order_relaxed);
  *base_ns = c.base_ns.load(std::memory_order_relaxed);
  *mult = c.mult.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  return c.seq.load(std::memory_order_relaxed) == seq;
}

void TscClock::Remember(uint32_t seq, uint64_t base_ticks, int64_t base_ns, uint64_t mult) {
  // Calibration n = seq / 2 - 1 counts from 0 (the constructor's, seq 2): the coarse ones are
  // n = 0, kCoarseEvery, 2 * kCoarseEvery, ...
  const uint32_t n = seq / 2 - 1;
  Keep(&history_[n % kHistory], seq, base_ticks, base_ns, mult);
  if (n % kCoarseEvery == 0) {
    Keep(&coarse_[n / kCoarseEvery % kCoarse], seq, base_ticks, base_ns, mult);
  }
}

int64_t TscClock::StampMicros(Stamp stamp) const noexcept {
  if (stamp.epoch == kMicrosEpoch) return stamp.value;
  const uint64_t ticks = static_cast<uint64_t>(stamp.value);
  uint64_t base_ticks, mult;
  int64_t base_ns;
  auto convert = [&] { return ToNanos(ticks, base_ticks, base_ns, mult) / 1000; };
  // The stamp's own calibration: the same arithmetic as NowNanos() at the stamp.
  const uint32_t n = stamp.epoch / 2 - 1;  // as in Remember()
  if (Find(history_[n % kHistory], stamp.epoch, &base_ticks, &base_ns, &mult)) return convert();
  // Between the two kept calibrations around the stamp's epoch.
  const uint32_t k = n / kCoarseEvery;
  const auto coarse_seq = [](uint32_t index) { return (index * kCoarseEvery + 1) * 2; };
  uint64_t a_ticks, b_ticks, unused;
  int64_t a_ns, b_ns;
  if (Find(coarse_[k % kCoarse], coarse_seq(k), &a_ticks, &a_ns, &unused) &&
      Find(coarse_[(k + 1) % kCoarse], coarse_seq(k + 1), &b_ticks, &b_ns, &unused) &&
      b_ticks > a_ticks) {
    const __int128 span_ns = b_ns - a_ns;
    const __int128 since = static_cast<int64_t>(ticks - a_ticks);
    return (a_ns +
            static_cast<int64_t>(since * span_ns / static_cast<int64_t>(b_ticks - a_ticks))) /
           1000;
  }
  // The current calibration (a torn read retries).
  for (;;) {
    const uint32_t seq = seq_.load(std::memory_order_acquire);
    base_ticks = base_ticks_.load(std::memory_order_relaxed);
    base_ns = base_ns_.load(std::memory_order_relaxed);
    mult = mult_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((seq & 1) == 0 && seq_.load(std::memory_order_relaxed) == seq) return convert();
  }
}

int64_t TscClock::Refresh(uint64_t ticks) noexcept {
  if (refreshing_.exchange(true, std::memory_order_acquire)) return RealtimeNanos();
  const Sample s = TakeSample(3);
  const uint64_t width_limit =
      static_cast<uint64_t>((static_cast<unsigned __int128>(kMaxSampleWidthNanos) << kShift) /
                            mult_.load(std::memory_order_relaxed));
  if (s.width > width_limit) {
    refreshing_.store(false, std::memory_order_release);
    return RealtimeNanos();
  }
  uint64_t mult = mult_.load(std::memory_order_relaxed);
  const int64_t since_anchor = static_cast<int64_t>(s.ticks - anchor_.ticks);
  const int64_t baseline = refresh_ticks_ * (kRateBaselineMicros / kRefreshMicros);
  if (since_anchor >= baseline || since_anchor < 0) {
    const uint64_t m = MultBetween(anchor_, s);
    // More than 1% off the current rate means the realtime clock was stepped within the
    // baseline: keep the rate and start a new baseline.
    if (m != 0 && m > mult - mult / 100 && m < mult + mult / 100) mult = m;
    anchor_ = s;
  }
  const uint32_t seq = seq_.load(std::memory_order_relaxed);
  seq_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  base_ticks_.store(s.ticks, std::memory_order_relaxed);
  base_ns_.store(s.ns, std::memory_order_relaxed);
  mult_.store(mult, std::memory_order_relaxed);
  Remember(seq + 2, s.ticks, s.ns, mult);
  seq_.store(seq + 2, std::memory_order_release);
  refreshes_.fetch_add(1, std::memory_order_relaxed);
  refreshing_.store(false, std::memory_order_release);
  return ToNanos(ticks, s.ticks, s.ns, mult);
}

}  // namespace lakelog::buffer

// TscClock: CLOCK_REALTIME read through the CPU's time-stamp counter, for the logging hot path.
//
// A vDSO clock_gettime(CLOCK_REALTIME) costs an *ordered* TSC read (lfence; rdtsc) plus a
// seqlock over the kernel's timekeeping page; on AMD EPYC VMs that is ~30-40 ns, most of a
// log() call. This clock reads the TSC unordered (~18 ns there, a few ns on Intel) and converts
// it with a calibration (tsc, realtime) that the first caller after it goes stale refreshes:
//
//   realtime_ns = base_ns + (ticks - base_ticks) * mult / 2^32
//
// Precision contract: a reading is within about 1 µs of clock_gettime(CLOCK_REALTIME) taken at
// the same instant. The base is re-taken from clock_gettime at least every kRefreshMicros, so
// the error is bounded by (rate error x kRefreshMicros) + half the width of one calibration
// sample (~30 ns): the rate is refined over >= 1 s baselines (error well under 1 ppm), and even
// the worst NTP slew (500 ppm) adds at most 0.5 µs. A step of the realtime clock
// (settimeofday, NTP step) is seen at the next refresh, at most kRefreshMicros later.
//
// The hot path never waits: while another thread refreshes the calibration (or when the base
// is older than the refresh period and this caller loses the race to refresh it), the reading
// comes straight from clock_gettime. Supported() is false unless the TSC is invariant
// (CPUID 0x80000007 EDX bit 8) and the kernel itself uses it as its clocksource (which means it
// found the TSC synchronized across CPUs); RealClock() then keeps using clock_gettime.
//
// Stamps (NowStamp) take the conversion off the logging hot path: a stamp keeps the raw ticks
// and the calibration epoch (the seqlock's value) they belong to, after the same freshness
// check NowNanos() makes. StampMicros() converts later, on a flush thread, with that epoch's
// calibration: bit for bit what NowMicros() returned at the instant of the stamp, as long as
// the epoch is among the last kHistory calibrations (at most one is taken per kRefreshMicros, so
// that is at least 16 s of them). An older stamp is interpolated between the two coarse
// calibrations around it (one kept every kCoarseEvery, at least 17 minutes of them): both are
// clock_gettime samples under 0.3 s apart, so the result stays within the same ~1 µs. Older
// still, the current calibration converts it (the rate error times its age).
//
// Thread-safety: NowNanos()/NowMicros()/NowStamp()/StampMicros() from any number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define LAKELOG_HAVE_TSC 1
#else
#define LAKELOG_HAVE_TSC 0
#endif

namespace lakelog::buffer {

// clock_gettime(CLOCK_REALTIME) in nanoseconds since the Unix epoch.
int64_t RealtimeNanos() noexcept;

class TscClock;
// The TSC behind RealClock(); null when RealClock() reads clock_gettime (TSC not Supported()).
TscClock* RealTscClock();

class TscClock {
 public:
  // How stale the calibration may get before the next reading refreshes it.
  static constexpr int64_t kRefreshMicros = 1000;
  // The baseline over which the tick rate is re-measured.
  static constexpr int64_t kRateBaselineMicros = 1'000'000;

  // True when this CPU and kernel give a TSC fit for timestamps (see the header comment).
  static bool Supported();

  // Calibrates (spins ~0.5 ms once to measure the tick rate). Only construct when Supported().
  TscClock();
  TscClock(const TscClock&) = delete;
  TscClock& operator=(const TscClock&) = delete;

  int64_t NowNanos() noexcept {
    const uint64_t ticks = ReadTicks();
    const uint32_t seq = seq_.load(std::memory_order_acquire);
    const uint64_t base_ticks = base_ticks_.load(std::memory_order_relaxed);
    const int64_t base_ns = base_ns_.load(std::memory_order_relaxed);
    const uint64_t mult = mult_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    // A writer active (odd) or finished meanwhile (changed): the fields may be torn.
    if ((seq & 1) == 0 && seq_.load(std::memory_order_relaxed) == seq) {
      // Signed: another thread may have refreshed the base after our ticks were read.
      const int64_t delta = static_cast<int64_t>(ticks - base_ticks);
      if (delta < refresh_ticks_ && delta > -refresh_ticks_) {
        return ToNanos(ticks, base_ticks, base_ns, mult);
      }
    }
    return Refresh(ticks);
  }
  int64_t NowMicros() noexcept { return NowNanos() / 1000; }

  // A reading taken on the hot path: `value` is raw ticks of calibration `epoch` (even,
  // non-zero), or, epoch kMicrosEpoch, microseconds already (the calibration was stale or being
  // rewritten, and the reading came from clock_gettime as NowNanos() would have taken it).
  struct Stamp {
    int64_t value = 0;
    uint32_t epoch = 0;
  };
  static constexpr uint32_t kMicrosEpoch = 0;

  Stamp NowStamp() noexcept {
    const uint64_t ticks = ReadTicks();
    const uint32_t seq = seq_.load(std::memory_order_acquire);
    const uint64_t base_ticks = base_ticks_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    // The same test as NowNanos(); seq 0 (a wrapped counter, every 2^31 calibrations) is
    // kMicrosEpoch and takes the slow path for one period.
    if ((seq & 1) == 0 && seq != kMicrosEpoch && seq_.load(std::memory_order_relaxed) == seq) {
      const int64_t delta = static_cast<int64_t>(ticks - base_ticks);
      if (delta < refresh_ticks_ && delta > -refresh_ticks_) {
        return Stamp{static_cast<int64_t>(ticks), seq};
      }
    }
    return Stamp{Refresh(ticks) / 1000, kMicrosEpoch};
  }

  // Microseconds since the epoch of a stamp (see the header comment for how exact).
  int64_t StampMicros(Stamp stamp) const noexcept;

  // How many calibrations StampMicros() finds exactly, and how often one is kept for
  // interpolation; public for tests.
  static constexpr uint32_t kHistory = 1u << 14;
  static constexpr uint32_t kCoarseEvery = 256;
  static constexpr uint32_t kCoarse = 1u << 12;

  // Calibration as of now, for tests and benchmarks: nanoseconds per 2^32 ticks.
  uint64_t mult() const { return mult_.load(std::memory_order_relaxed); }
  // Takes a new calibration now, as a stale one would (for tests of the history).
  void RecalibrateForTest() noexcept { (void)Refresh(ReadTicks()); }
  // How many calibrations were taken after the first (refreshes of the base).
  uint64_t refreshes() const { return refreshes_.load(std::memory_order_relaxed); }

  static uint64_t ReadTicks() noexcept {
#if LAKELOG_HAVE_TSC
    return __rdtsc();
#else
    return 0;
#endif
  }

  // One (ticks, realtime) pair; `ticks` is the midpoint of two TSC reads around clock_gettime.
  struct Sample {
    uint64_t ticks = 0;
    int64_t ns = 0;
    uint64_t width = 0;  // ticks between the two TSC reads: the pair's uncertainty
  };
  // The narrowest of up to `tries` pairs (stops early at a narrow one).
  static Sample TakeSample(int tries);
  // mult for a rate measured between two samples; 0 when they are unusable.
  static uint64_t MultBetween(const Sample& a, const Sample& b);

  static constexpr int kShift = 32;

  // realtime_ns of `ticks` under the calibration (base_ticks, base_ns, mult); base_ticks may
  // be after `ticks`.
  static int64_t ToNanos(uint64_t ticks, uint64_t base_ticks, int64_t base_ns, uint64_t mult) {
    const int64_t delta = static_cast<int64_t>(ticks - base_ticks);
    return base_ns + static_cast<int64_t>((static_cast<__int128>(delta) * mult) >> kShift);
  }

 private:
  // Slow path: the calibration is stale or being written. Returns an exact clock_gettime
  // reading; the winner of `refreshing_` also takes a new base.
  int64_t Refresh(uint64_t ticks) noexcept;

  // Read by every NowNanos(): one cache line, written only by a refresh (every ~1 ms).
  alignas(64) std::atomic<uint32_t> seq_{0};
  std::atomic<uint64_t> base_ticks_{0};
  std::atomic<int64_t> base_ns_{0};
  std::atomic<uint64_t> mult_{0};
  int64_t refresh_ticks_ = 0;  // set in the constructor, then const

  // A calibration kept for StampMicros(); seq 0 while being written (a seqlock of its own).
  struct Calibration {
    std::atomic<uint32_t> seq{0};
    std::atomic<uint64_t> base_ticks{0};
    std::atomic<int64_t> base_ns{0};
    std::atomic<uint64_t> mult{0};
  };
  static void Keep(Calibration* c, uint32_t seq, uint64_t base_ticks, int64_t base_ns,
                   uint64_t mult);
  // Copies *c into the out-parameters when it holds calibration `seq`.
  static bool Find(const Calibration& c, uint32_t seq, uint64_t* base_ticks, int64_t* base_ns,
                   uint64_t* mult);
  // Records a new current calibration in the history (under refreshing_, or in the
  // constructor).
  void Remember(uint32_t seq, uint64_t base_ticks, int64_t base_ns, uint64_t mult);

  // Written by refreshes only; read by StampMicros().
  // Calibration n (seq 2 * (n + 1)) is history_[n % kHistory], and, when n is a multiple of
  // kCoarseEvery, coarse_[n / kCoarseEvery % kCoarse].
  std::unique_ptr<Calibration[]> history_;
  std::unique_ptr<Calibration[]> coarse_;

  // Refresh state, owned by whoever holds refreshing_.
  alignas(64) std::atomic<bool> refreshing_{false};
  Sample anchor_;  // start of the current rate baseline
  std::atomic<uint64_t> refreshes_{0};
};

}  // namespace lakelog::buffer

// Clock: the engine's only source of time.
//
// The engine reads the clock to stamp events that carry no timestamp and to decide when a
// pipeline's buffer is due for a flush; a Delta table (DeltaTableOptions::clock) stamps its
// commits, txns and files with it, judges retention by it, and sleeps its commit backoff
// through it. The engine hands its clock to its sinks (Sink::Attach), so the Delta sink's table
// runs on the engine's clock unless given one of its own. Tests and the small-files benchmark
// inject a ManualClock and move time by hand, so nothing in them depends on the wall clock.
//
// Timeouts the caller passes in (Flush, Stop, kBlock) are real durations, measured with
// std::chrono::steady_clock: a simulated clock that never moves must not hang a caller.
#pragma once

#include <atomic>
#include <cstdint>

namespace lakelog {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch, UTC. Thread-safe; called on the logging hot path, so an
  // implementation must be cheap and must not block.
  virtual int64_t NowMicros() const = 0;
  // Waits `micros` of this clock's time (a retry's backoff). The real clock sleeps; a simulated
  // one moves its time on and returns at once, so that a test runs a conflict storm or a
  // retention cut-off without real waiting. Thread-safe.
  virtual void SleepForMicros(int64_t micros);
};

// The process-wide system clock (CLOCK_REALTIME). Never null; not owned by the caller.
Clock* RealClock();

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  // 2026-01-01T00:00:00Z, a date that keeps test partitions readable.
  static constexpr int64_t kDefaultStartMicros = 1'767'225'600'000'000LL;

  explicit ManualClock(int64_t start_micros = kDefaultStartMicros) : now_(start_micros) {}

  int64_t NowMicros() const override { return now_.load(std::memory_order_acquire); }
  void AdvanceMicros(int64_t delta) { now_.fetch_add(delta, std::memory_order_acq_rel); }
  void AdvanceSeconds(double seconds) { AdvanceMicros(static_cast<int64_t>(seconds * 1e6)); }
  void SetMicros(int64_t now) { now_.store(now, std::memory_order_release); }
  // Moves the time on by `micros` and returns at once; SleptMicros() adds them up.
  void SleepForMicros(int64_t micros) override {
    if (micros <= 0) return;
    slept_.fetch_add(micros, std::memory_order_acq_rel);
    AdvanceMicros(micros);
  }
  int64_t SleptMicros() const { return slept_.load(std::memory_order_acquire); }

 private:
  std::atomic<int64_t> now_;
  std::atomic<int64_t> slept_{0};
};

}  // namespace lakelog

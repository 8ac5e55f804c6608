// Backoff: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
// and Jitter"): the n-th retry waits uniform(0, min(max, initial * 2^n)).
//
// The one retry policy of lakelog: a sink's failed round (src/flush), and a lost commit race
// (src/delta: appends and maintenance commits, through CommitRetry below).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

#include "lakelog/clock.h"

namespace lakelog {

class Backoff {
 public:
  Backoff(std::chrono::microseconds initial, std::chrono::microseconds max, uint64_t seed)
      : initial_(std::max<int64_t>(1, initial.count())),
        max_(std::max<int64_t>(initial_, max.count())),
        rng_(seed) {}

  // The wait before retry number `retry` (0-based).
  std::chrono::microseconds Next(int retry) {
    std::uniform_int_distribution<int64_t> dist(0, CeilingMicros(retry));
    return std::chrono::microseconds(dist(rng_));
  }

  // The upper bound of Next(retry).
  int64_t CeilingMicros(int retry) const {
    return std::min<int64_t>(max_, initial_ << std::min(retry, 30));
  }

 private:
  int64_t initial_;
  int64_t max_;
  std::mt19937_64 rng_;
};

// What to do after losing the race for a Delta log version, as delta-rs does: the winners
// are read (the caller does that), and the next version is tried at once; only after
// kImmediateRetries losses in a row does the writer back off, through the clock (so that a
// simulated clock runs a conflict storm without real sleeping).
class CommitRetry {
 public:
  static constexpr int kImmediateRetries = 3;
  static constexpr std::chrono::microseconds kInitialBackoff{1000};
  static constexpr std::chrono::microseconds kMaxBackoff{100'000};

  // `clock` null: RealClock().
  explicit CommitRetry(Clock* clock)
      : clock_(clock != nullptr ? clock : RealClock()),
        backoff_(kInitialBackoff, kMaxBackoff, std::random_device{}()) {}

  // Called after the `losses`-th lost race in a row (1-based), before the next attempt.
  void WaitBeforeRetry(int losses) {
    if (losses <= kImmediateRetries) return;
    clock_->SleepForMicros(backoff_.Next(losses - kImmediateRetries - 1).count());
  }

 private:
  Clock* const clock_;
  Backoff backoff_;
};

}  // namespace lakelog

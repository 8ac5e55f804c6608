// Backoff: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
// and Jitter"): the n-th retry sleeps uniform(0, min(max, initial * 2^n)).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace lakelog::internal {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
      : initial_(std::max<int64_t>(1, initial.count())),
        max_(std::max<int64_t>(initial_, max.count())),
        rng_(seed) {}

  // The sleep before retry number `retry` (0-based).
  std::chrono::milliseconds Next(int retry) {
    int shift = std::min(retry, 30);
    int64_t ceiling = std::min<int64_t>(max_, initial_ << shift);
    std::uniform_int_distribution<int64_t> dist(0, ceiling);
    return std::chrono::milliseconds(dist(rng_));
  }

  // The upper bound of Next(retry), for tests.
  int64_t CeilingMillis(int retry) const {
    return std::min<int64_t>(max_, initial_ << std::min(retry, 30));
  }

 private:
  int64_t initial_;
  int64_t max_;
  std::mt19937_64 rng_;
};

}  // namespace lakelog::internal

// The TSC-read realtime clock: readings agree with clock_gettime(CLOCK_REALTIME), through
// refreshes and from several threads (run under ThreadSanitizer too).
#include "buffer/tsc_clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "lakelog/clock.h"

namespace lakelog::buffer {
namespace {

// The documented precision is ~1 µs; allow 2 µs beyond the clock_gettime readings around.
constexpr int64_t kToleranceNanos = 2'000;

// Counts readings outside [before - tolerance, after + tolerance].
int CountOutside(TscClock* clock, int n) {
  int outside = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t before = RealtimeNanos();
    const int64_t reading = clock->NowNanos();
    const int64_t after = RealtimeNanos();
    if (reading < before - kToleranceNanos || reading > after + kToleranceNanos) ++outside;
  }
  return outside;
}

class TscClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TscClock::Supported()) GTEST_SKIP() << "no invariant TSC used by the kernel here";
  }
};

TEST_F(TscClockTest, ReadingsLieBetweenClockGettimeReadings) {
  TscClock clock;
  EXPECT_EQ(CountOutside(&clock, 200'000), 0);
}

TEST_F(TscClockTest, StaleCalibrationIsRefreshedAndStaysExact) {
  TscClock clock;
  const uint64_t before = clock.refreshes();
  for (int i = 0; i < 20; ++i) {
    // Longer than kRefreshMicros: the next reading must refresh the base.
    std::this_thread::sleep_for(std::chrono::microseconds(2 * TscClock::kRefreshMicros));
    EXPECT_EQ(CountOutside(&clock, 1000), 0) << "after sleep " << i;
  }
  EXPECT_GT(clock.refreshes(), before);
}

TEST_F(TscClockTest, ConcurrentReadersDuringRefreshesStayExact) {
  TscClock clock;
  std::atomic<int> outside{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 30; ++round) {
        outside += CountOutside(&clock, 2000);
        std::this_thread::sleep_for(std::chrono::microseconds(TscClock::kRefreshMicros));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(outside.load(), 0);
  EXPECT_GT(clock.refreshes(), 0u);
}

// A stamp converts, off the hot path, to what NowMicros() said at the stamp: exactly while its
// calibration is in the history, and within the clock's precision once kHistory later ones
// pushed it out (interpolated between the kept coarse calibrations around it).
TEST_F(TscClockTest, StampsConvertAsTheClockReadAfterTheirCalibrationIsGone) {
  TscClock clock;
  struct Taken {
    TscClock::Stamp stamp;
    int64_t fresh_micros;   // converted at once
    int64_t before, after;  // clock_gettime around the stamp, µs
  };
  std::vector<Taken> taken;
  const int calibrations = static_cast<int>(TscClock::kHistory + 4 * TscClock::kCoarseEvery);
  for (int i = 0; i < calibrations; ++i) {
    if (i % 97 == 0) {
      Taken t;
      t.before = RealtimeNanos();
      t.stamp = clock.NowStamp();
      t.after = RealtimeNanos();
      t.fresh_micros = clock.StampMicros(t.stamp);
      taken.push_back(t);
    }
    clock.RecalibrateForTest();
  }
  ASSERT_GT(clock.refreshes(), uint64_t{TscClock::kHistory});
  int ticks_stamps = 0, outside = 0;
  for (const Taken& t : taken) {
    if (t.stamp.epoch == TscClock::kMicrosEpoch) continue;  // the slow path already converted
    ++ticks_stamps;
    const int64_t now = clock.StampMicros(t.stamp);
    // Within 1 µs of the conversion it had, and within tolerance of the clock_gettime bracket.
    EXPECT_LE(std::abs(now - t.fresh_micros), 1);
    if (now * 1000 < t.before - kToleranceNanos || now * 1000 > t.after + kToleranceNanos)
      ++outside;
  }
  EXPECT_GT(ticks_stamps, static_cast<int>(taken.size()) / 2);
  EXPECT_EQ(outside, 0);
  // Stamps of the last kHistory calibrations still convert bit for bit.
  for (size_t i = taken.size() - 10; i < taken.size(); ++i) {
    EXPECT_EQ(clock.StampMicros(taken[i].stamp), taken[i].fresh_micros);
  }
}

TEST(TscClockMathTest, RateBetweenSamples) {
  // 2.5 GHz: 0.4 ns per tick.
  TscClock::Sample a{1'000'000, 5'000'000'000, 10};
  TscClock::Sample b{1'000'000 + 2'500'000'000ull, 6'000'000'000, 10};
  const uint64_t mult = TscClock::MultBetween(a, b);
  EXPECT_NEAR(static_cast<double>(mult) / static_cast<double>(uint64_t{1} << TscClock::kShift), 0.4,
              1e-9);
}

TEST(TscClockMathTest, BackwardsOrImplausibleSamplesGiveNoRate) {
  TscClock::Sample a{1'000'000, 5'000'000'000, 10};
  TscClock::Sample earlier_ns{2'000'000, 4'000'000'000, 10};  // realtime stepped back
  TscClock::Sample earlier_ticks{500'000, 6'000'000'000, 10};
  TscClock::Sample too_slow{1'000'010, 6'000'000'000, 10};  // 10 ticks per second
  EXPECT_EQ(TscClock::MultBetween(a, earlier_ns), 0u);
  EXPECT_EQ(TscClock::MultBetween(a, earlier_ticks), 0u);
  EXPECT_EQ(TscClock::MultBetween(a, too_slow), 0u);
}

TEST(RealClockTest, AgreesWithClockGettimeToTheMicrosecond) {
  Clock* clock = RealClock();
  (void)clock->NowMicros();  // calibration happens on first use
  int outside = 0;
  for (int i = 0; i < 100'000; ++i) {
    const int64_t before = RealtimeNanos() / 1000;
    const int64_t reading = clock->NowMicros();
    const int64_t after = RealtimeNanos() / 1000;
    // One microsecond of slack on each side for rounding at a microsecond boundary.
    if (reading < before - 2 || reading > after + 2) ++outside;
  }
  EXPECT_EQ(outside, 0);
}

}  // namespace
}  // namespace lakelog::buffer

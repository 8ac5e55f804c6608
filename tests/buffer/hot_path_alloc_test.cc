// The logging hot path allocates nothing: Log() under every overflow policy, accepting and
// overflowing, with the engine's clock or the real (TSC-read) one, makes no operator new call.
// Also: events stamped by the real clock carry the time of the call.
//
// Counting replaces the global operator new of the test binary; it only counts on a thread
// that asked to. Skipped under sanitizers, which bring their own allocator.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "buffer/pipeline_buffer.h"
#include "buffer/tsc_clock.h"

// gcc says __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang says __has_feature(...).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LAKELOG_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LAKELOG_UNDER_SANITIZER 1
#endif
#endif

#ifndef LAKELOG_UNDER_SANITIZER
#define LAKELOG_COUNT_ALLOCATIONS 1

namespace {
thread_local bool counting = false;
thread_local long allocations = 0;
}  // namespace

// These replace the global operators, so their free() does match their malloc(); gcc's
// -Wmismatched-new-delete reasons about the standard operators and warns anyway.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

namespace lakelog::buffer {
namespace {

#ifdef LAKELOG_COUNT_ALLOCATIONS
// operator new calls made by `fn` on this thread.
template <typename Fn>
long AllocationsIn(Fn&& fn) {
  allocations = 0;
  counting = true;
  fn();
  counting = false;
  return allocations;
}

struct PolicyCase {
  OverflowPolicy policy;
  int calls;  // kBlock waits block_timeout per overflowing call
};

TEST(HotPathAllocationTest, LogAllocatesNothingUnderAnyPolicy) {
  ManualClock manual;
  const std::string message(200, 'm');  // inline, but past any small-string buffer
  const Attribute attrs[] = {{"table", "orders"}, {"rows", "1200"}};
  for (Clock* clock : {static_cast<Clock*>(&manual), RealClock()}) {
    for (PolicyCase c :
         {PolicyCase{OverflowPolicy::kDropNewest, 2000},
          PolicyCase{OverflowPolicy::kDropOldest, 2000}, PolicyCase{OverflowPolicy::kBlock, 80},
          PolicyCase{OverflowPolicy::kShedByLevel, 2000},
          PolicyCase{OverflowPolicy::kAggregateRepeats, 2000}}) {
      LoggerOptions o;
      o.overflow = c.policy;
      o.capacity_events = 64;  // overflows after 64 calls
      o.block_timeout = std::chrono::milliseconds(1);
      PipelineBuffer b("p", o, clock, "h", [] {});
      (void)clock->NowMicros();  // the real clock calibrates (and allocates) on first use
      const long n = AllocationsIn([&] {
        for (int i = 0; i < c.calls; ++i) {
          EventFields f;
          f.level = i % 7 == 0 ? Level::kError : Level::kInfo;
          f.stage = "load";
          f.status = "RUNNING";
          // Under kAggregateRepeats: 100 keys, so events are merged, held and emitted.
          f.message = std::string_view(message).substr(0, 100 + i % 100);
          f.run_id = "run-1";
          f.attributes = attrs;
          (void)b.Log(f);
        }
      });
      EXPECT_EQ(n, 0) << OverflowPolicyName(c.policy);
      LoggerStats s = b.Stats();
      EXPECT_GT(s.dropped_total(), 0u) << OverflowPolicyName(c.policy) << " never overflowed";
    }
  }
}
#endif

TEST(HotPathClockTest, RealClockStampsTheTimeOfTheCall) {
  LoggerOptions o;
  PipelineBuffer b("p", o, RealClock(), "h", nullptr);
  std::vector<std::pair<int64_t, int64_t>> brackets;
  for (int i = 0; i < 1000; ++i) {
    EventFields f;
    f.stage = "s";
    f.status = "RUNNING";
    f.message = "m";
    const int64_t before = RealtimeNanos() / 1000;
    ASSERT_EQ(b.Log(f), LogResult::kAccepted);
    const int64_t after = RealtimeNanos() / 1000;
    brackets.emplace_back(before, after);
  }
  std::vector<LogEvent> events;
  uint64_t bytes = 0;
  ASSERT_EQ(b.Drain(SIZE_MAX, UINT64_MAX, &events, &bytes), brackets.size());
  int outside = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    // 2 µs: the documented ~1 µs precision plus microsecond rounding.
    if (events[i].ts_micros < brackets[i].first - 2 ||
        events[i].ts_micros > brackets[i].second + 2) {
      ++outside;
    }
  }
  EXPECT_EQ(outside, 0);
}

}  // namespace
}  // namespace lakelog::buffer

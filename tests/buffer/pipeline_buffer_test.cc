// Overflow policies of one pipeline buffer, with exact counts.
#include "buffer/pipeline_buffer.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "buffer/buffer_test_util.h"

namespace lakelog::buffer {
namespace {

using testing::DrainAll;
using testing::Fields;
using testing::Options;

class BufferTest : public ::testing::Test {
 protected:
  std::unique_ptr<PipelineBuffer> Make(const LoggerOptions& o) {
    return std::make_unique<PipelineBuffer>("p", o, &clock_, "host-a", nullptr);
  }
  ManualClock clock_;
};

TEST_F(BufferTest, DropNewestCountsEveryRejectedEvent) {
  auto b = Make(Options(OverflowPolicy::kDropNewest, 4));
  int accepted = 0;
  for (int i = 0; i < 10; ++i)
    accepted += b->Log(Fields(std::to_string(i))) == LogResult::kAccepted;
  EXPECT_EQ(accepted, 4);
  LoggerStats s = b->Stats();
  EXPECT_EQ(s.accepted, 4u);
  EXPECT_EQ(s.dropped_by(DropReason::kDropNewest), 6u);
  EXPECT_EQ(s.dropped_total(), 6u);
  auto events = DrainAll(b.get());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(*events.front().message, "0");
  EXPECT_EQ(*events.back().message, "3");
}

TEST_F(BufferTest, ByteCapacityBoundsTheBuffer) {
  LoggerOptions o = Options(OverflowPolicy::kDropNewest, 1000);
  o.capacity_bytes = 100;
  auto b = Make(o);
  // stage(4) + status(7) + message(19) = 30 bytes each: three fit in 100.
  for (int i = 0; i < 5; ++i) (void)b->Log(Fields("nineteen-bytes-msg" + std::to_string(i)));
  LoggerStats s = b->Stats();
  EXPECT_EQ(s.accepted, 3u);
  EXPECT_EQ(s.buffered_bytes, 90u);
  EXPECT_EQ(s.dropped_by(DropReason::kDropNewest), 2u);
  DrainAll(b.get());
  EXPECT_EQ(b->Stats().buffered_bytes, 0u);
}

TEST_F(BufferTest, DropOldestKeepsTheNewestEvents) {
  auto b = Make(Options(OverflowPolicy::kDropOldest, 4));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(b->Log(Fields(std::to_string(i))), LogResult::kAccepted);
  }
  LoggerStats s = b->Stats();
  EXPECT_EQ(s.accepted, 10u);
  EXPECT_EQ(s.dropped_by(DropReason::kDropOldest), 6u);
  auto events = DrainAll(b.get());
  ASSERT_EQ(events.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*events[i].message, std::to_string(6 + i));
}

TEST_F(BufferTest, DropOldestEvictsByBytesToo) {
  LoggerOptions o = Options(OverflowPolicy::kDropOldest, 100);
  o.capacity_bytes = 100;
  auto b = Make(o);
  for (int i = 0; i < 5; ++i) (void)b->Log(Fields("nineteen-bytes-msg" + std::to_string(i)));
  EXPECT_EQ(b->Stats().dropped_by(DropReason::kDropOldest), 2u);
  auto events = DrainAll(b.get());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(*events[0].message, "nineteen-bytes-msg2");
}

TEST_F(BufferTest, BlockTimesOutWhenNobodyMakesRoom) {
  auto b = Make(Options(OverflowPolicy::kBlock, 2));
  int dropped = 0;
  for (int i = 0; i < 5; ++i) dropped += b->Log(Fields("x")) == LogResult::kDropped;
  EXPECT_EQ(dropped, 3);
  EXPECT_EQ(b->Stats().dropped_by(DropReason::kBlockTimeout), 3u);
  EXPECT_EQ(b->Stats().accepted, 2u);
}

TEST_F(BufferTest, BlockWaitsUntilTheConsumerMakesRoom) {
  LoggerOptions o = Options(OverflowPolicy::kBlock, 2);
  o.block_timeout = std::chrono::seconds(60);
  std::atomic<int> wakes{0};
  PipelineBuffer b("p", o, &clock_, "h", [&] { wakes++; });
  ASSERT_EQ(b.Log(Fields("first")), LogResult::kAccepted);
  ASSERT_EQ(b.Log(Fields("first")), LogResult::kAccepted);
  std::atomic<bool> done{false};
  LogResult second = LogResult::kDropped;
  std::thread producer([&] {
    second = b.Log(Fields("second"));
    done = true;
  });
  // The producer found the buffer full and asked the flusher for room before we drain.
  while (wakes.load() == 0) std::this_thread::yield();
  std::vector<LogEvent> out;
  uint64_t bytes = 0;
  while (out.size() < 3) {
    b.Drain(1, UINT64_MAX, &out, &bytes);
    std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(second, LogResult::kAccepted);
  EXPECT_EQ(*out[2].message, "second");
  EXPECT_EQ(b.Stats().dropped_total(), 0u);
}

TEST_F(BufferTest, ShedByLevelDropsLowLevelsFirstAndKeepsErrorHeadroom) {
  LoggerOptions o = Options(OverflowPolicy::kShedByLevel, 10);
  o.high_water_mark = 0.8;  // INFO/DEBUG up to 8
  o.shed_below_level = Level::kWarn;
  o.error_reserve = 0.1;  // WARN up to 9, ERROR/FATAL up to 10
  auto b = Make(o);
  for (int i = 0; i < 12; ++i) (void)b->Log(Fields("info", Level::kInfo));
  EXPECT_EQ(b->Stats().accepted, 8u);
  EXPECT_EQ(b->Stats().dropped_by(DropReason::kShed), 4u);
  for (int i = 0; i < 2; ++i) (void)b->Log(Fields("warn", Level::kWarn));
  EXPECT_EQ(b->Stats().accepted, 9u);
  EXPECT_EQ(b->Stats().dropped_by(DropReason::kShed), 5u);
  EXPECT_EQ(b->Log(Fields("debug", Level::kDebug)), LogResult::kDropped);
  EXPECT_EQ(b->Log(Fields("error", Level::kError)), LogResult::kAccepted);
  EXPECT_EQ(b->Log(Fields("fatal", Level::kFatal)), LogResult::kDropped);
  LoggerStats s = b->Stats();
  EXPECT_EQ(s.accepted, 10u);
  EXPECT_EQ(s.dropped_by(DropReason::kShed), 6u);
  EXPECT_EQ(s.dropped_by(DropReason::kDropNewest), 1u);
  EXPECT_EQ(s.accepted + s.dropped_total(), 17u);
}

TEST_F(BufferTest, AggregateRepeatsFoldsIdenticalEventsIntoOneRow) {
  LoggerOptions o = Options(OverflowPolicy::kAggregateRepeats, 100);
  o.aggregate_window = std::chrono::seconds(1);
  auto b = Make(o);
  EXPECT_EQ(b->Log(Fields("disk full", Level::kError)), LogResult::kAccepted);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(b->Log(Fields("disk full", Level::kError)), LogResult::kAggregated);
  }
  EXPECT_EQ(b->Log(Fields("other")), LogResult::kAccepted);
  // Outside the window the same key starts a new row.
  clock_.AdvanceSeconds(2);
  EXPECT_EQ(b->Log(Fields("disk full", Level::kError)), LogResult::kAccepted);

  LoggerStats s = b->Stats();
  EXPECT_EQ(s.accepted, 3u);
  EXPECT_EQ(s.dropped_by(DropReason::kAggregated), 4u);

  auto rows = DrainAll(b.get());
  ASSERT_EQ(rows.size(), 3u);
  int with_count = 0;
  for (const LogEvent& e : rows) {
    for (const auto& [k, v] : e.attributes) {
      if (k == "repeat_count") {
        EXPECT_EQ(v, "5");
        EXPECT_EQ(*e.message, "disk full");
        ++with_count;
      }
    }
  }
  EXPECT_EQ(with_count, 1);
}

TEST_F(BufferTest, HarvestTakesOnlyExpiredWindowsUnlessForced) {
  LoggerOptions o = Options(OverflowPolicy::kAggregateRepeats, 100);
  o.aggregate_window = std::chrono::seconds(1);
  auto b = Make(o);
  (void)b->Log(Fields("a"));
  std::vector<LogEvent> out;
  EXPECT_EQ(b->HarvestRepeats(clock_.NowMicros(), false, &out), 0u);
  EXPECT_TRUE(b->HasData());
  EXPECT_EQ(b->HarvestRepeats(clock_.NowMicros() + 1'000'000, false, &out), 1u);
  EXPECT_FALSE(b->HasData());
}

TEST_F(BufferTest, OversizedEventIsCountedAsTooLarge) {
  LoggerOptions o = Options(OverflowPolicy::kDropNewest, 10);
  o.max_event_bytes = 100;
  auto b = Make(o);
  std::string big(200, 'x');
  EXPECT_EQ(b->Log(Fields(big)), LogResult::kDropped);
  EXPECT_EQ(b->Stats().dropped_by(DropReason::kTooLarge), 1u);
}

TEST_F(BufferTest, EventLargerThanASlotRoundTrips) {
  auto b = Make(Options(OverflowPolicy::kDropNewest, 4));
  std::string big(10000, 'y');
  ASSERT_EQ(b->Log(Fields(big)), LogResult::kAccepted);
  auto events = DrainAll(b.get());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(*events[0].message, big);
}

TEST_F(BufferTest, DecodeFillsTimestampHostAndRunId) {
  LoggerOptions o = Options(OverflowPolicy::kDropNewest, 4);
  o.run_id = "run-7";
  auto b = Make(o);
  Attribute attrs[] = {{"table", "orders"}, {"rows", "42"}};
  EventFields f = Fields("m", Level::kWarn);
  f.attributes = attrs;
  ASSERT_EQ(b->Log(f), LogResult::kAccepted);
  EventFields g = Fields("n");
  g.run_id = "explicit";
  g.host = "other-host";
  g.ts_micros = 123;
  ASSERT_EQ(b->Log(g), LogResult::kAccepted);
  auto events = DrainAll(b.get());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].pipeline, "p");
  EXPECT_EQ(events[0].ts_micros, clock_.NowMicros());
  EXPECT_EQ(events[0].level, Level::kWarn);
  EXPECT_EQ(*events[0].stage, "load");
  EXPECT_EQ(*events[0].status, "RUNNING");
  EXPECT_EQ(*events[0].host, "host-a");
  EXPECT_EQ(*events[0].run_id, "run-7");
  ASSERT_EQ(events[0].attributes.size(), 2u);
  EXPECT_EQ(events[0].attributes[1].first, "rows");
  EXPECT_EQ(events[0].attributes[1].second, "42");
  EXPECT_EQ(*events[1].run_id, "explicit");
  EXPECT_EQ(*events[1].host, "other-host");
  EXPECT_EQ(events[1].ts_micros, 123);
}

TEST_F(BufferTest, ClosedBufferCountsLateEvents) {
  auto b = Make(Options(OverflowPolicy::kDropNewest, 4));
  b->Close();
  EXPECT_EQ(b->Log(Fields("late")), LogResult::kDropped);
  EXPECT_EQ(b->Stats().dropped_by(DropReason::kClosed), 1u);
}

// Every event is drained exactly once or counted; run under ThreadSanitizer too.
void RunConcurrent(OverflowPolicy policy) {
  ManualClock clock;
  LoggerOptions o = Options(policy, 256);
  PipelineBuffer b("p", o, &clock, "h", nullptr);
  constexpr int kThreads = 4, kPerThread = 20000;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = std::to_string(t * kPerThread + i);
        (void)b.Log(Fields(id));
      }
      running--;
    });
  }
  std::vector<LogEvent> out;
  uint64_t bytes = 0;
  while (running.load() > 0) b.Drain(64, UINT64_MAX, &out, &bytes);
  for (auto& p : producers) p.join();
  b.Drain(SIZE_MAX, UINT64_MAX, &out, &bytes);
  LoggerStats s = b.Stats();
  std::set<std::string> ids;
  for (const auto& e : out) ids.insert(*e.message);
  EXPECT_EQ(ids.size(), out.size()) << "an event was drained twice";
  const uint64_t evicted = s.dropped_by(DropReason::kDropOldest);
  EXPECT_EQ(s.accepted, out.size() + evicted);
  EXPECT_EQ(s.accepted + s.dropped_total() - evicted, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.buffered_events, 0u);
  EXPECT_EQ(s.buffered_bytes, 0u);
}

TEST(BufferConcurrencyTest, DropNewestProducersAndConsumerAccountForEveryEvent) {
  RunConcurrent(OverflowPolicy::kDropNewest);
}

TEST(BufferConcurrencyTest, DropOldestProducersAndConsumerAccountForEveryEvent) {
  RunConcurrent(OverflowPolicy::kDropOldest);
}

}  // namespace
}  // namespace lakelog::buffer

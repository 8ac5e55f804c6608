// Per-producer lanes of a pipeline buffer: a lane per thread, lanes that outlive their thread
// and are taken again, the shared lane when every lane is taken, order per producer, the
// pipeline's bounds across lanes, and Flush() across threads (run under ThreadSanitizer too).
#include "buffer/producer_lanes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "buffer/buffer_test_util.h"
#include "buffer/pipeline_buffer.h"
#include "flush/test_sinks.h"
#include "lakelog/engine.h"

namespace lakelog::buffer {
namespace {

using testing::DrainAll;
using testing::Fields;

LoggerOptions Options(uint32_t capacity_events) {
  return testing::Options(OverflowPolicy::kDropNewest, capacity_events);
}

std::pair<int, int> ThreadAndSeq(const LogEvent& e) {
  const std::string& m = *e.message;
  const size_t colon = m.find(':');
  return {std::stoi(m.substr(0, colon)), std::stoi(m.substr(colon + 1))};
}

TEST(ProducerLanesTest, EachLiveThreadWritesToALaneOfItsOwn) {
  ManualClock clock;
  PipelineBuffer b("p", Options(4096), &clock, "h", nullptr);
  constexpr int kThreads = 4;
  std::barrier all_logged(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(b.Log(Fields(std::to_string(t) + ":" + std::to_string(i))), LogResult::kAccepted);
      }
      all_logged.arrive_and_wait();  // every thread holds its lane at once
    });
  }
  for (auto& t : threads) t.join();
  // Lane 0 (shared, unused) and one lane per thread.
  EXPECT_EQ(b.lanes_used(), 1u + kThreads);
  const LanePositions tails = b.tail();
  ASSERT_EQ(tails.at.size(), 1u + kThreads);
  EXPECT_EQ(tails.at[0], 0u);
  for (int i = 1; i <= kThreads; ++i) EXPECT_EQ(tails.at[i], 10u) << "lane " << i;
  EXPECT_EQ(DrainAll(&b).size(), 40u);
}

TEST(ProducerLanesTest, ALaneOutlivesItsThreadAndTheNextThreadContinuesAfterIt) {
  ManualClock clock;
  PipelineBuffer b("p", Options(4096), &clock, "h", nullptr);
  for (int t = 0; t < 3; ++t) {
    std::thread([&, t] {
      for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(b.Log(Fields(std::to_string(t) + ":" + std::to_string(i))), LogResult::kAccepted);
      }
    }).join();
  }
  // Each thread let its lane go at exit and the next one took it: one lane, nothing lost.
  EXPECT_EQ(b.lanes_used(), 2u);
  const std::vector<LogEvent> events = DrainAll(&b);
  ASSERT_EQ(events.size(), 15u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(*events[i].message, std::to_string(i / 5) + ":" + std::to_string(i % 5));
  }
  EXPECT_EQ(b.head().at[1], 15u);
}

TEST(ProducerLanesTest, ThreadsBeyondTheLanesShareLaneZero) {
  ManualClock clock;
  PipelineBuffer b("p", Options(8192), &clock, "h", nullptr);
  constexpr int kThreads = ProducerLanes::kMaxLanes + 6;
  std::barrier all_logged(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(b.Log(Fields(std::to_string(t) + ":" + std::to_string(i))), LogResult::kAccepted);
      }
      all_logged.arrive_and_wait();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(b.lanes_used(), ProducerLanes::kMaxLanes);
  // The 7 threads that found lanes 1..15 taken wrote to lane 0.
  EXPECT_EQ(b.tail().at[0], 7u * 20);
  const std::vector<LogEvent> events = DrainAll(&b);
  ASSERT_EQ(events.size(), static_cast<size_t>(kThreads) * 20);
  std::map<int, int> next;  // per thread, the next sequence number expected
  for (const LogEvent& e : events) {
    auto [t, seq] = ThreadAndSeq(e);
    EXPECT_EQ(seq, next[t]++) << "thread " << t << " out of order";
  }
}

TEST(ProducerLanesTest, EachThreadsEventsLeaveInOrderWhileAConsumerDrains) {
  ManualClock clock;
  PipelineBuffer b("p", Options(512), &clock, "h", nullptr);
  constexpr int kThreads = 4, kPerThread = 20000;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Retries a full buffer, so every event lands and the sequence has no gaps.
        while (b.Log(Fields(std::to_string(t) + ":" + std::to_string(i))) != LogResult::kAccepted) {
          std::this_thread::yield();
        }
      }
      running--;
    });
  }
  std::vector<LogEvent> out;
  uint64_t bytes = 0;
  while (running.load() > 0) b.Drain(100, UINT64_MAX, &out, &bytes);
  for (auto& p : producers) p.join();
  b.Drain(SIZE_MAX, UINT64_MAX, &out, &bytes);
  ASSERT_EQ(out.size(), static_cast<size_t>(kThreads) * kPerThread);
  std::vector<int> next(kThreads, 0);
  for (const LogEvent& e : out) {
    auto [t, seq] = ThreadAndSeq(e);
    ASSERT_EQ(seq, next[t]) << "thread " << t;
    ++next[t];
  }
  const LoggerStats s = b.Stats();
  EXPECT_EQ(s.buffered_events, 0u);
  EXPECT_EQ(s.buffered_bytes, 0u);
}

// Producers race to fill a pipeline nobody drains: it never holds more than its bounds, and
// falls short of them by at most two segments of events and two credit chunks per lane.
TEST(ProducerLanesTest, BoundsHoldAcrossLanes) {
  for (bool by_bytes : {false, true}) {
    ManualClock clock;
    LoggerOptions o = Options(1024);
    // Events of 4 + 7 + 9 = 20 bytes; by_bytes: 200 of them fill the budget, not the slots.
    o.capacity_bytes = by_bytes ? 200 * 20 : 8 << 20;
    PipelineBuffer b("p", o, &clock, "h", nullptr);
    constexpr int kThreads = 4;
    std::barrier start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        for (int i = 0; i < 2000; ++i) (void)b.Log(Fields("123456789"));
      });
    }
    for (auto& t : threads) t.join();
    const LoggerStats s = b.Stats();
    EXPECT_EQ(s.accepted + s.dropped_by(DropReason::kDropNewest), uint64_t{kThreads} * 2000);
    if (by_bytes) {
      EXPECT_LE(s.buffered_bytes, o.capacity_bytes);
      // Credit chunks are capacity_bytes / 64 = 62 bytes here; a lane tops its credit up a
      // chunk ahead, so it may hold up to two it has not used.
      EXPECT_GE(s.buffered_bytes, o.capacity_bytes - kThreads * 2 * 62);
    } else {
      EXPECT_LE(s.buffered_events, 1024u);
      // Segments of 1024 / 32 = 32 slots; a lane may hold up to two segments' worth of event
      // credit it has not used (see ProducerLanes).
      EXPECT_GE(s.buffered_events, 1024u - kThreads * 2 * 32);
    }
    EXPECT_EQ(DrainAll(&b).size(), s.accepted);
    EXPECT_EQ(b.Stats().buffered_bytes, 0u);
  }
}

// One producer fills the pipeline exactly, and once drained, exactly again.
TEST(ProducerLanesTest, OneProducerFillsTheBufferExactly) {
  ManualClock clock;
  PipelineBuffer b("p", Options(100), &clock, "h", nullptr);
  for (int round = 0; round < 3; ++round) {
    int accepted = 0;
    for (int i = 0; i < 150; ++i) accepted += b.Log(Fields("m")) == LogResult::kAccepted;
    EXPECT_EQ(accepted, 100) << "round " << round;
    EXPECT_EQ(DrainAll(&b).size(), 100u);
  }
}

// A full buffer's producer does not write into the segment the consumer has just read (its
// lines are in the consumer's cache): the slots held in reserve keep free segments read longer
// ago, and the producer takes the oldest. The reserve adds slots, never events.
TEST(ProducerLanesTest, AFullBufferWritesIntoASegmentReadLongAgo) {
  ProducerLanes lanes(/*capacity_events=*/256, /*capacity_bytes=*/1 << 20);
  const uint32_t seg = lanes.segment_size();
  ASSERT_EQ(seg, 8u);
  auto push = [&](const EventSlot** at) {
    return lanes.TryPush(1, [&](EventSlot& slot) {
      slot.size = 1;
      *at = &slot;
    });
  };
  const EventSlot* at = nullptr;
  int accepted = 0;
  while (accepted < 1000 && push(&at)) ++accepted;
  ASSERT_EQ(accepted, 256);  // the events bound, with slots to spare
  for (int round = 0; round < 3; ++round) {
    // One segment read: its events and bytes come back, and so does the segment.
    std::set<const EventSlot*> read;
    uint64_t bytes = 0;
    ASSERT_EQ(lanes.Pop(seg, UINT64_MAX, &bytes, [&](EventSlot& slot) { read.insert(&slot); }),
              seg);
    for (uint32_t i = 0; i < seg; ++i) {
      ASSERT_TRUE(push(&at)) << "round " << round << " push " << i;
      EXPECT_FALSE(read.contains(at)) << "round " << round << " push " << i;
    }
    EXPECT_FALSE(push(&at));  // full again
    EXPECT_EQ(lanes.size(), 256u);
  }
}

// Events of every size, from empty to the inline size and past it (spilled to the heap), come
// out whole and in order across many segments, drained part by part while the producer goes on.
TEST(ProducerLanesTest, RecordsOfEverySizeComeOutWholeAndInOrder) {
  ManualClock clock;
  PipelineBuffer b("p", Options(512), &clock, "h", nullptr);  // segments of 8 events
  const uint32_t base = EncodedSize(Fields(""));
  const std::vector<size_t> sizes = {
      0, 1, 7, 8, 9, 63, 64, 65, 200, kInlineEventBytes - base, kInlineEventBytes - base + 1, 5000};
  std::vector<std::string> logged;
  std::vector<LogEvent> drained;
  for (int round = 0; round < 40; ++round) {
    for (size_t k = 0; k < sizes.size(); ++k) {
      std::string m(sizes[(k + round) % sizes.size()], static_cast<char>('a' + (k + round) % 26));
      if (!m.empty()) m[0] = static_cast<char>('A' + round % 26);
      ASSERT_EQ(b.Log(Fields(m)), LogResult::kAccepted);
      logged.push_back(std::move(m));
    }
    uint64_t bytes = 0;
    b.Drain(10, UINT64_MAX, &drained, &bytes);  // leaves two behind each round
  }
  for (LogEvent& e : DrainAll(&b)) drained.push_back(std::move(e));
  ASSERT_EQ(drained.size(), logged.size());
  for (size_t i = 0; i < logged.size(); ++i) {
    ASSERT_EQ(*drained[i].message, logged[i]) << "event " << i;
    EXPECT_EQ(drained[i].stage, "load");
  }
  EXPECT_EQ(b.Stats().buffered_bytes, 0u);
}

// Events of exactly the inline size fill the pipeline to capacity_events, like the smallest
// ones: none spills, and no slot is lost.
TEST(ProducerLanesTest, EventsOfTheInlineSizeFillTheBufferExactly) {
  ManualClock clock;
  LoggerOptions o = Options(300);
  o.capacity_bytes = 1 << 20;
  PipelineBuffer b("p", o, &clock, "h", nullptr);
  const std::string m(kInlineEventBytes - EncodedSize(Fields("")), 'x');
  ASSERT_EQ(EncodedSize(Fields(m)), kInlineEventBytes);
  for (int round = 0; round < 2; ++round) {
    int accepted = 0;
    for (int i = 0; i < 400; ++i) accepted += b.Log(Fields(m)) == LogResult::kAccepted;
    EXPECT_EQ(accepted, 300) << "round " << round;
    const std::vector<LogEvent> events = DrainAll(&b);
    ASSERT_EQ(events.size(), 300u);
    for (const LogEvent& e : events) ASSERT_EQ(*e.message, m);
  }
}

// Two lanes that each hold one of the pipeline's two segments, both read to their end: with no
// free segment, a push starts its lane's segment over instead of failing for good.
TEST(ProducerLanesTest, LanesHoldingEverySegmentStartTheirSegmentOverOnceRead) {
  ManualClock clock;
  PipelineBuffer b("p", Options(2), &clock, "h", nullptr);  // two segments of one event
  std::barrier step(3);  // the two producers and the draining thread
  auto producer = [&](int t) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(b.Log(Fields(std::to_string(t) + ":" + std::to_string(i))), LogResult::kAccepted)
          << "thread " << t << " event " << i;
      step.arrive_and_wait();  // both logged
      step.arrive_and_wait();  // main drained
    }
  };
  std::thread a(producer, 0), c(producer, 1);
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) {
    step.arrive_and_wait();
    for (const LogEvent& e : DrainAll(&b)) got.push_back(*e.message);
    step.arrive_and_wait();
  }
  a.join();
  c.join();
  EXPECT_EQ(got.size(), 10u);
}

// Engine::Flush() commits what every thread logged before it: threads still running, and
// threads that already exited (their lanes now free), on real flush threads.
TEST(ProducerLanesTest, FlushCommitsWhatEveryThreadLoggedBeforeIt) {
  auto log = std::make_shared<lakelog::testing::SinkLog>();
  EngineOptions eo;
  eo.flush_threads = 2;
  eo.poll_interval = std::chrono::milliseconds(1);
  auto engine = Engine::Open(eo, std::make_unique<lakelog::testing::MemorySink>(log)).value();
  LoggerOptions lo;
  lo.flush_interval = std::chrono::seconds(3600);  // only Flush() or a full batch flushes
  lo.max_latency = std::chrono::seconds(3600);
  Logger logger = engine->GetLogger("p", lo).value();
  // Two threads that log and exit.
  for (int t = 0; t < 2; ++t) {
    std::thread([&, t] {
      for (int i = 0; i < 300; ++i)
        (void)logger.Info("s", "x", std::to_string(t) + ":" + std::to_string(i));
    }).join();
  }
  // Three threads that log, then wait for main's Flush() while holding their lanes.
  constexpr int kLive = 3;
  std::barrier logged(kLive + 1), flushed(kLive + 1);
  std::vector<std::thread> live;
  for (int t = 2; t < 2 + kLive; ++t) {
    live.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i)
        (void)logger.Info("s", "x", std::to_string(t) + ":" + std::to_string(i));
      logged.arrive_and_wait();
      flushed.arrive_and_wait();
    });
  }
  logged.arrive_and_wait();
  ASSERT_TRUE(engine->Flush(std::chrono::seconds(10)).ok());
  EXPECT_EQ(log->num_events(), 5u * 300);
  flushed.arrive_and_wait();
  for (auto& t : live) t.join();
  std::set<std::string> ids;
  for (const LogEvent& e : log->events()) ids.insert(*e.message);
  EXPECT_EQ(ids.size(), 5u * 300);
  ASSERT_TRUE(engine->Stop().ok());
}

}  // namespace
}  // namespace lakelog::buffer

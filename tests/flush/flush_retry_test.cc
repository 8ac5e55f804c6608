// Sink failures: retries keep the round (and its idempotency key), final errors and Stop's
// deadline count events as sink_error; concurrent producers with a flush pool lose nothing.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "common/backoff.h"
#include "flush/test_sinks.h"
#include "lakelog/engine.h"

namespace lakelog {
namespace {

using testing::FailingSink;
using testing::MemorySink;
using testing::SinkLog;

EngineOptions FastRetries(int threads) {
  EngineOptions o;
  o.flush_threads = threads;
  o.retry_initial_backoff = std::chrono::milliseconds(1);
  o.retry_max_backoff = std::chrono::milliseconds(4);
  o.poll_interval = std::chrono::milliseconds(1);
  return o;
}

TEST(FlushRetryTest, RetryableFailuresRetryTheSameRoundUntilItSucceeds) {
  auto log = std::make_shared<SinkLog>();
  std::atomic<int> errors{0};
  EngineOptions o = FastRetries(1);
  o.error_handler = [&](const Status& st) {
    EXPECT_EQ(st.code(), StatusCode::kUnavailable);
    errors++;
  };
  auto engine =
      Engine::Open(o, std::make_unique<FailingSink>(log, 3, Status::Unavailable("down"))).value();
  Logger p = engine->GetLogger("p").value();
  for (int i = 0; i < 100; ++i) (void)p.Info("s", "x", std::to_string(i));
  ASSERT_TRUE(engine->Flush(std::chrono::seconds(30)).ok());
  auto writes = log->snapshot();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].attempt, 4);
  EXPECT_EQ(writes[0].round, 1);
  EXPECT_EQ(writes[0].events.size(), 100u);
  EXPECT_EQ(errors.load(), 3);
  EXPECT_EQ(p.stats().flushed, 100u);
  EXPECT_EQ(p.stats().dropped_total(), 0u);
  std::string text = engine->MetricsText();
  EXPECT_NE(text.find("lakelog_sink_retries_total{sink=\"failing\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("lakelog_flushes_total{result=\"error\",sink=\"failing\"} 3"),
            std::string::npos);
}

TEST(FlushRetryTest, NonRetryableErrorCountsTheRoundAsSinkError) {
  auto log = std::make_shared<SinkLog>();
  auto engine = Engine::Open(FastRetries(1),
                             std::make_unique<FailingSink>(log, 1, Status::InvalidArgument("bad")))
                    .value();
  Logger p = engine->GetLogger("p").value();
  for (int i = 0; i < 10; ++i) (void)p.Info("s", "x", "m");
  EXPECT_EQ(engine->Flush(std::chrono::seconds(30)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.stats().dropped_by(DropReason::kSinkError), 10u);
  EXPECT_EQ(log->num_events(), 0u);
  // The next round goes through.
  (void)p.Info("s", "x", "m");
  ASSERT_TRUE(engine->Flush(std::chrono::seconds(30)).ok());
  EXPECT_EQ(log->num_events(), 1u);
}

TEST(FlushRetryTest, StopDeadlineGivesUpAndCountsEverything) {
  auto log = std::make_shared<SinkLog>();
  auto engine = Engine::Open(FastRetries(1),
                             std::make_unique<FailingSink>(log, -1, Status::Unavailable("down")))
                    .value();
  LoggerOptions lo;
  lo.batch_events = 10;  // several rounds: one in retry, the rest still buffered
  Logger p = engine->GetLogger("p", lo).value();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(p.Info("s", "x", "m"), LogResult::kAccepted);
  StopOptions stop;
  stop.timeout = std::chrono::milliseconds(50);
  EXPECT_EQ(engine->Stop(stop).code(), StatusCode::kTimedOut);
  LoggerStats s = p.stats();
  EXPECT_EQ(s.flushed, 0u);
  EXPECT_EQ(s.dropped_by(DropReason::kSinkError), 50u);
  EXPECT_EQ(s.buffered_events, 0u);
}

TEST(FlushRetryTest, BackoffStaysWithinItsExponentialCeiling) {
  Backoff b(std::chrono::milliseconds(10), std::chrono::milliseconds(1000), 42);
  for (int retry = 0; retry < 12; ++retry) {
    int64_t ceiling = std::min<int64_t>(1'000'000, int64_t{10'000} << retry);
    EXPECT_EQ(b.CeilingMicros(retry), ceiling);
    for (int i = 0; i < 50; ++i) {
      auto d = b.Next(retry).count();
      EXPECT_GE(d, 0);
      EXPECT_LE(d, ceiling);
    }
  }
}

// Several producers, two pipelines, a pool of flush threads: every event is written exactly
// once or counted. Clean under ThreadSanitizer.
TEST(FlushConcurrencyTest, ProducersAndFlushPoolAccountForEveryEvent) {
  auto log = std::make_shared<SinkLog>();
  EngineOptions o = FastRetries(2);
  auto engine = Engine::Open(o, std::make_unique<MemorySink>(log)).value();
  LoggerOptions lo;
  lo.capacity_events = 512;
  lo.batch_events = 128;
  lo.overflow = OverflowPolicy::kBlock;
  lo.block_timeout = std::chrono::seconds(30);
  Logger a = engine->GetLogger("a", lo).value();
  LoggerOptions lossy = lo;
  lossy.overflow = OverflowPolicy::kDropOldest;
  Logger b = engine->GetLogger("b", lossy).value();
  constexpr int kThreads = 4, kPerThread = 5000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = std::to_string(t * kPerThread + i);
        (void)a.Info("s", "x", id);
        (void)b.Info("s", "x", id);
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_TRUE(engine->Flush(std::chrono::seconds(60)).ok());
  std::set<std::string> a_ids, b_ids;
  size_t a_rows = 0, b_rows = 0;
  std::set<int64_t> rounds;
  for (const auto& w : log->snapshot()) {
    EXPECT_TRUE(rounds.insert(w.round).second) << "round written twice";
    for (const auto& e : w.events) {
      if (e.pipeline == "a") {
        a_ids.insert(*e.message);
        ++a_rows;
      } else {
        b_ids.insert(*e.message);
        ++b_rows;
      }
    }
  }
  EXPECT_EQ(a_rows, a_ids.size());
  EXPECT_EQ(b_rows, b_ids.size());
  // kBlock with a generous timeout: nothing dropped at all.
  EXPECT_EQ(a_rows, size_t{kThreads} * kPerThread);
  LoggerStats bs = b.stats();
  EXPECT_EQ(b_rows + bs.dropped_total(), size_t{kThreads} * kPerThread);
  EXPECT_EQ(bs.flushed, b_rows);
}

}  // namespace
}  // namespace lakelog

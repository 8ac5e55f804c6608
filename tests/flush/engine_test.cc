// Engine behaviour with a simulated clock: group commit, triggers, fairness, adaptivity,
// shutdown and destruction.
#include "lakelog/engine.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "flush/test_sinks.h"

namespace lakelog {
namespace {

using testing::FailingSink;
using testing::MemorySink;
using testing::SinkLog;

class EngineTest : public ::testing::Test {
 protected:
  // flush_threads = 0: the test drives rounds with RunDueRounds() on simulated time.
  std::unique_ptr<Engine> OpenManual() {
    EngineOptions o;
    o.flush_threads = 0;
    o.clock = &clock_;
    o.host = "test-host";
    auto engine = Engine::Open(o, std::make_unique<MemorySink>(log_));
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return std::move(engine).value();
  }
  int Run(Engine* e) {
    auto n = e->RunDueRounds();
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  }

  ManualClock clock_;
  std::shared_ptr<SinkLog> log_ = std::make_shared<SinkLog>();
};

TEST_F(EngineTest, GroupCommitWritesAllPipelinesInOneRound) {
  auto engine = OpenManual();
  for (int p = 0; p < 5; ++p) {
    Logger log = engine->GetLogger("pipeline_" + std::to_string(p)).value();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(log.Info("load", "SUCCESS", "ok"), LogResult::kAccepted);
  }
  clock_.AdvanceSeconds(5);
  EXPECT_EQ(Run(engine.get()), 1);
  ASSERT_EQ(log_->num_writes(), 1u);
  auto writes = log_->snapshot();
  EXPECT_EQ(writes[0].events.size(), 15u);
  EXPECT_EQ(writes[0].pipelines().size(), 5u);
  EXPECT_EQ(writes[0].events[0].host, "test-host");
  EXPECT_EQ(writes[0].events[0].ts_micros, ManualClock::kDefaultStartMicros);
}

TEST_F(EngineTest, IntervalTriggerFollowsTheSimulatedClock) {
  auto engine = OpenManual();
  Logger log = engine->GetLogger("p").value();
  (void)log.Info("s", "RUNNING", "m");
  clock_.AdvanceSeconds(4.9);
  EXPECT_EQ(Run(engine.get()), 0);
  clock_.AdvanceSeconds(0.1);
  EXPECT_EQ(Run(engine.get()), 1);
  EXPECT_EQ(log_->num_events(), 1u);
}

TEST_F(EngineTest, BatchEventsAndBytesTriggerWithoutWaiting) {
  auto engine = OpenManual();
  LoggerOptions by_events;
  by_events.batch_events = 10;
  LoggerOptions by_bytes;
  by_bytes.batch_bytes = 100;
  Logger a = engine->GetLogger("a", by_events).value();
  Logger b = engine->GetLogger("b", by_bytes).value();
  for (int i = 0; i < 9; ++i) (void)a.Info("s", "x", "m");
  EXPECT_EQ(Run(engine.get()), 0);
  (void)a.Info("s", "x", "m");
  EXPECT_EQ(Run(engine.get()), 1);
  (void)b.Info("s", "x", std::string(120, 'z'));
  EXPECT_EQ(Run(engine.get()), 1);
  EXPECT_EQ(log_->num_events(), 11u);
}

TEST_F(EngineTest, FloodingPipelineCannotDelayAnotherPipelinesInterval) {
  auto engine = OpenManual();
  LoggerOptions flood;
  flood.capacity_events = 100000;
  flood.capacity_bytes = 64 << 20;
  flood.batch_events = 100;
  Logger noisy = engine->GetLogger("noisy", flood).value();
  Logger quiet = engine->GetLogger("quiet").value();
  for (int i = 0; i < 10000; ++i) (void)noisy.Info("s", "x", "flood");
  (void)quiet.Info("s", "x", "important");
  clock_.AdvanceSeconds(5);
  EXPECT_EQ(Run(engine.get()), 100);
  auto writes = log_->snapshot();
  ASSERT_EQ(writes.size(), 100u);
  // The quiet pipeline is in the very first round; no round carries more than one batch of
  // the noisy pipeline.
  EXPECT_TRUE(writes[0].pipelines().count("quiet"));
  for (const auto& w : writes) {
    size_t noisy_events = 0;
    for (const auto& e : w.events) noisy_events += e.pipeline == "noisy";
    EXPECT_LE(noisy_events, 100u);
  }
}

TEST_F(EngineTest, QuietPipelineIsFlushedOnItsIntervalWhileAnotherFloods) {
  auto engine = OpenManual();
  LoggerOptions flood;
  flood.capacity_events = 1 << 20;
  flood.capacity_bytes = 256 << 20;
  flood.batch_events = 50;
  Logger noisy = engine->GetLogger("noisy", flood).value();
  Logger quiet = engine->GetLogger("quiet").value();
  (void)quiet.Info("s", "x", "q");
  // Noisy keeps its buffer above its batch size every simulated 100 ms, for 6 seconds.
  int quiet_round = -1;
  for (int tick = 0; tick < 60 && quiet_round < 0; ++tick) {
    for (int i = 0; i < 80; ++i) (void)noisy.Info("s", "x", "n");
    clock_.AdvanceMicros(100'000);
    (void)Run(engine.get());
    for (const auto& w : log_->snapshot()) {
      if (w.pipelines().count("quiet")) quiet_round = tick;
    }
  }
  // Never later than its 5 s interval despite the flood; in fact it joins the noisy rounds as
  // soon as it is half-way to due (tick 24, clock = 2.5 s), which costs no extra commit.
  EXPECT_EQ(quiet_round, 24);
}

TEST_F(EngineTest, PipelineHalfWayToDueJoinsTheRound) {
  auto engine = OpenManual();
  Logger a = engine->GetLogger("a").value();
  Logger b = engine->GetLogger("b").value();
  Logger c = engine->GetLogger("c").value();
  (void)a.Info("s", "x", "m");
  clock_.AdvanceSeconds(2.4);
  (void)b.Info("s", "x", "m");  // age 2.6 s when a is due: joins
  clock_.AdvanceSeconds(0.4);
  (void)c.Info("s", "x", "m");  // age 2.2 s: waits for its own round
  clock_.AdvanceSeconds(2.2);
  EXPECT_EQ(Run(engine.get()), 1);
  auto writes = log_->snapshot();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].pipelines(), (std::set<std::string>{"a", "b"}));
}

TEST_F(EngineTest, ErrorBurstShortensTheInterval) {
  auto engine = OpenManual();
  LoggerOptions o;
  o.error_burst_events = 3;
  o.error_flush_interval = std::chrono::milliseconds(500);
  Logger calm = engine->GetLogger("calm", o).value();
  Logger failing = engine->GetLogger("failing", o).value();
  (void)calm.Info("s", "RUNNING", "m");
  (void)failing.Info("s", "RUNNING", "m");
  (void)failing.Error("s", "FAILED", "e1");
  (void)failing.Log(Level::kInfo, "s", "FAILED", "e2");
  (void)failing.Error("s", "FAILED", "e3");
  clock_.AdvanceSeconds(0.6);
  EXPECT_EQ(Run(engine.get()), 1);
  auto writes = log_->snapshot();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].pipelines(), std::set<std::string>{"failing"});
  EXPECT_EQ(writes[0].events.size(), 4u);
}

TEST_F(EngineTest, AdaptiveIntervalGrowsTowardTheTargetFileSize) {
  auto engine = OpenManual();
  LoggerOptions o;
  o.target_file_bytes = 1 << 20;  // far above what arrives: intervals double up to max_latency
  o.max_latency = std::chrono::seconds(20);
  Logger log = engine->GetLogger("p", o).value();
  std::vector<int> flush_seconds;
  for (int second = 1; second <= 60; ++second) {
    (void)log.Info("s", "x", "m");
    clock_.AdvanceSeconds(1);
    if (Run(engine.get()) > 0) flush_seconds.push_back(second);
  }
  // Intervals 5, 10, 20, 20 (capped by max_latency); the oldest event is never older.
  EXPECT_EQ(flush_seconds, (std::vector<int>{5, 15, 35, 55}));
}

TEST_F(EngineTest, FlushCommitsEverythingLoggedBeforeIt) {
  auto engine = OpenManual();
  Logger a = engine->GetLogger("a").value();
  Logger b = engine->GetLogger("b").value();
  for (int i = 0; i < 10000; ++i) (void)(i % 2 ? a : b).Info("s", "x", std::to_string(i));
  ASSERT_TRUE(engine->Flush(std::chrono::seconds(10)).ok());
  EXPECT_EQ(log_->num_events(), 10000u);
  EXPECT_EQ(log_->flush_calls, 1);
  EXPECT_EQ(engine->Stats("a")->flushed, 5000u);
}

TEST_F(EngineTest, FlushIncludesEventsHeldForAggregation) {
  auto engine = OpenManual();
  LoggerOptions o;
  o.overflow = OverflowPolicy::kAggregateRepeats;
  Logger log = engine->GetLogger("p", o).value();
  for (int i = 0; i < 3; ++i) (void)log.Error("s", "FAILED", "same");
  ASSERT_TRUE(engine->Flush(std::chrono::seconds(10)).ok());
  auto events = log_->events();
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].attributes.size(), 1u);
  EXPECT_EQ(events[0].attributes[0].second, "3");
}

TEST_F(EngineTest, StopAppendsAFinalEventPerPipelineAndClosesLoggers) {
  auto engine = OpenManual();
  Logger a = engine->GetLogger("a").value();
  Logger b = engine->GetLogger("b").value();
  (void)a.Info("s", "x", "m");
  StopOptions stop;
  stop.append_final_event = true;
  ASSERT_TRUE(engine->Stop(stop).ok());
  auto events = log_->events();
  ASSERT_EQ(events.size(), 3u);
  int finals = 0;
  for (const auto& e : events)
    finals += e.status == "COMPLETED" && e.message == "pipeline completed";
  EXPECT_EQ(finals, 2);
  EXPECT_EQ(a.Info("s", "x", "late"), LogResult::kDropped);
  EXPECT_EQ(a.stats().dropped_by(DropReason::kClosed), 1u);
  EXPECT_FALSE(engine->GetLogger("c").ok());
}

TEST_F(EngineTest, DestructionWithoutStopLosesNothing) {
  Logger survivor;
  {
    EngineOptions o;
    o.flush_threads = 1;
    o.clock = &clock_;
    auto engine = Engine::Open(o, std::make_unique<MemorySink>(log_)).value();
    survivor = engine->GetLogger("p").value();
    for (int i = 0; i < 1234; ++i) (void)survivor.Info("s", "x", "m");
  }
  EXPECT_EQ(log_->num_events(), 1234u);
  // The handle outlives the engine safely.
  EXPECT_EQ(survivor.Info("s", "x", "after"), LogResult::kDropped);
}

TEST_F(EngineTest, GetLoggerReturnsTheSameBufferAndRejectsOtherOptions) {
  auto engine = OpenManual();
  Logger a1 = engine->GetLogger("a").value();
  Logger a2 = engine->GetLogger("a").value();
  (void)a1.Info("s", "x", "m");
  EXPECT_EQ(a2.stats().accepted, 1u);
  LoggerOptions other;
  other.capacity_events = 7;
  EXPECT_EQ(engine->GetLogger("a", other).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine->Pipelines(), std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace lakelog

// Logger::Log() with a caller-given timestamp: one outside the years 0001..9999 UTC would make
// the whole table unreadable to Delta readers, so it is dropped and counted ("bad_timestamp");
// the two edges of the range are ordinary events.
#include "lakelog/logger.h"

#include <gtest/gtest.h>

#include <limits>

#include "flush/test_sinks.h"
#include "lakelog/engine.h"

namespace lakelog {
namespace {

class LoggerTimestampTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions o;
    engine_ = Engine::Open(o, std::make_unique<testing::MemorySink>(log_)).value();
    logger_ = engine_->GetLogger("p").value();
  }

  LogResult LogAt(int64_t ts_micros, std::string_view run_id) {
    EventFields f;
    f.stage = "s";
    f.status = "SUCCESS";
    f.message = "m";
    f.run_id = run_id;
    f.ts_micros = ts_micros;
    return logger_.Log(f);
  }

  std::shared_ptr<testing::SinkLog> log_ = std::make_shared<testing::SinkLog>();
  std::unique_ptr<Engine> engine_;
  Logger logger_;
};

TEST_F(LoggerTimestampTest, OutOfRangeTimestampIsDroppedAsBadTimestamp) {
  const int64_t bad[] = {kMaxTsMicros + 1, kMinTsMicros - 1, std::numeric_limits<int64_t>::max(),
                         std::numeric_limits<int64_t>::min(),
                         // 10000-01-01T00:59:59Z: "9999-12-31T23:59:59-01:00" in UTC
                         253'402'304'399'000'000};
  for (int64_t ts : bad) EXPECT_EQ(LogAt(ts, "bad"), LogResult::kDropped) << ts;
  EXPECT_EQ(LogAt(kMinTsMicros, "first"), LogResult::kAccepted);
  EXPECT_EQ(LogAt(kMaxTsMicros, "last"), LogResult::kAccepted);
  EXPECT_EQ(logger_.Info("s", "SUCCESS", "clock"), LogResult::kAccepted);

  LoggerStats s = engine_->Stats("p").value();
  EXPECT_EQ(s.dropped_by(DropReason::kBadTimestamp), 5u);
  EXPECT_EQ(s.dropped_total(), 5u);
  EXPECT_EQ(s.accepted, 3u);
  const std::string metrics = engine_->MetricsText();
  EXPECT_NE(
      metrics.find("lakelog_events_dropped_total{pipeline=\"p\",reason=\"bad_timestamp\"} 5\n"),
      std::string::npos)
      << metrics;

  ASSERT_TRUE(engine_->Flush().ok());
  std::vector<LogEvent> written = log_->events();
  ASSERT_EQ(written.size(), 3u);
  for (const LogEvent& e : written) {
    EXPECT_NE(e.run_id, "bad");
    EXPECT_TRUE(IsTsInRange(e.ts_micros)) << e.ts_micros;
  }
}

TEST(DropReasonTest, BadTimestampHasItsOwnLabel) {
  EXPECT_EQ(DropReasonName(DropReason::kBadTimestamp), "bad_timestamp");
  EXPECT_LT(static_cast<int>(DropReason::kBadTimestamp), kNumDropReasons);
}

TEST(DropReasonTest, SinkBacklogIsTheLastLabel) {
  EXPECT_EQ(DropReasonName(DropReason::kSinkBacklog), "sink_backlog");
  EXPECT_EQ(static_cast<int>(DropReason::kSinkBacklog), kNumDropReasons - 1);
}

}  // namespace
}  // namespace lakelog

// The Prometheus series: names, labels and exact values after known traffic.
#include <gtest/gtest.h>

#include "flush/test_sinks.h"
#include "lakelog/engine.h"

namespace lakelog {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsTest, SeriesReflectAcceptedDroppedAndFlushedEvents) {
  ManualClock clock;
  auto log = std::make_shared<testing::SinkLog>();
  EngineOptions o;
  o.flush_threads = 0;
  o.clock = &clock;
  auto engine = Engine::Open(o, std::make_unique<testing::MemorySink>(log)).value();
  LoggerOptions lo;
  lo.capacity_events = 4;
  lo.capacity_bytes = 1000;
  Logger p = engine->GetLogger("orders", lo).value();
  for (int i = 0; i < 10; ++i) (void)p.Info("s", "x", "m");
  std::string text = engine->MetricsText();
  EXPECT_TRUE(Has(text, "lakelog_events_accepted_total{pipeline=\"orders\"} 4")) << text;
  EXPECT_TRUE(
      Has(text, "lakelog_events_dropped_total{pipeline=\"orders\",reason=\"drop_newest\"} 6"));
  EXPECT_TRUE(Has(text, "lakelog_events_dropped_total{pipeline=\"orders\",reason=\"shed\"} 0"));
  EXPECT_TRUE(Has(text, "lakelog_buffered_events{pipeline=\"orders\"} 4"));
  EXPECT_TRUE(Has(text, "lakelog_buffered_bytes{pipeline=\"orders\"} 12"));
  EXPECT_TRUE(Has(text, "lakelog_buffer_capacity_events{pipeline=\"orders\"} 4"));
  EXPECT_TRUE(Has(text, "lakelog_buffer_fill_ratio{pipeline=\"orders\"} 1"));
  EXPECT_TRUE(Has(text, "lakelog_last_flush_timestamp_seconds{pipeline=\"orders\"} 0"));
  clock.AdvanceSeconds(3);
  text = engine->MetricsText();
  EXPECT_TRUE(Has(text, "lakelog_oldest_unflushed_event_age_seconds{pipeline=\"orders\"} 3"));

  clock.AdvanceSeconds(2);
  ASSERT_EQ(*engine->RunDueRounds(), 1);
  text = engine->MetricsText();
  EXPECT_TRUE(Has(text, "lakelog_events_flushed_total{pipeline=\"orders\"} 4"));
  EXPECT_TRUE(Has(text, "lakelog_buffered_events{pipeline=\"orders\"} 0"));
  EXPECT_TRUE(Has(text, "lakelog_flushes_total{result=\"ok\",sink=\"memory\"} 1"));
  EXPECT_TRUE(Has(text, "lakelog_flush_batch_events_count{sink=\"memory\"} 1"));
  EXPECT_TRUE(Has(text, "lakelog_flush_batch_events_sum{sink=\"memory\"} 4"));
  EXPECT_TRUE(
      Has(text, "lakelog_last_flush_timestamp_seconds{pipeline=\"orders\"} " +
                    std::to_string((ManualClock::kDefaultStartMicros + 5'000'000) / 1'000'000)));
  EXPECT_TRUE(Has(text, "# TYPE lakelog_flush_duration_seconds histogram"));
}

}  // namespace
}  // namespace lakelog

#include "analytics/event_query.h"

#include <gtest/gtest.h>

#include "analytics_fixture.h"

namespace lakelog::analytics {
namespace {

class EventQueryTest : public AnalyticsTableTest {
 protected:
  EventQueryResult Run(const EventQuery& query) {
    auto result = QueryEvents(fs_.get(), root_, snapshot_, query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(*result) : EventQueryResult{};
  }
};

TEST_F(EventQueryTest, NewestFirstAcrossFilesWithLimit) {
  EventQuery query;
  query.limit = 3;
  EventQueryResult result = Run(query);
  ASSERT_EQ(result.rows.size(), 3u);
  EXPECT_EQ(result.rows[0].message, "slow shard");
  EXPECT_EQ(result.rows[1].message, "indexing");
  EXPECT_EQ(result.rows[2].message, "fetched");
  EXPECT_EQ(result.rows[0].run_id, std::nullopt);
  EXPECT_EQ(result.rows[0].log_date, "2026-11-25");
  // Pipeline b's file holds the three newest events: a's file cannot add any.
  EXPECT_EQ(result.stats.files_read, 1);
  EXPECT_EQ(result.stats.files_skipped_by_limit, 1);

  query.oldest_first = true;
  query.limit = 0;
  result = Run(query);
  ASSERT_EQ(result.rows.size(), 7u);
  EXPECT_EQ(result.rows.front().ts_micros, t0_);
  EXPECT_EQ(result.rows.back().message, "slow shard");
}

TEST_F(EventQueryTest, PipelineFilterPrunesPartitions) {
  EventQuery query;
  query.filter.pipelines.values = {"a"};
  EventQueryResult result = Run(query);
  EXPECT_EQ(result.rows.size(), 4u);
  EXPECT_EQ(result.stats.files_total, 2);
  EXPECT_EQ(result.stats.files_pruned_by_partition, 1);
  for (const EventRow& row : result.rows) EXPECT_EQ(row.pipeline, "a");
}

TEST_F(EventQueryTest, TimeWindowPrunesDaysAndSelectsRows) {
  EventQuery query;
  query.filter.since_micros = t0_ + 30 * kMinute;
  query.filter.until_micros = t1_ + 10 * kMinute;
  EventQueryResult result = Run(query);
  ASSERT_EQ(result.rows.size(), 3u);
  EXPECT_EQ(result.rows[0].message, "fetched");
  EXPECT_EQ(result.rows[2].message, "read");

  query.filter.since_micros = t1_ - kHour;  // the first day's partition cannot match
  query.filter.until_micros.reset();
  result = Run(query);
  EXPECT_EQ(result.rows.size(), 3u);
  EXPECT_EQ(result.stats.files_pruned_by_partition, 1);
}

TEST_F(EventQueryTest, StatusFilterSkipsFilesByStats) {
  EventQuery query;
  query.filter.statuses.values = {"FAILED"};
  EventQueryResult result = Run(query);
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.rows[0].message, "load failed: disk full");
  EXPECT_EQ(result.rows[0].level, "ERROR");
  // b's statuses run from RUNNING to SUCCESS: FAILED is below its minimum.
  EXPECT_EQ(result.stats.files_skipped_by_stats, 1);
  EXPECT_EQ(result.stats.files_read, 1);
}

TEST_F(EventQueryTest, LevelStageRunAndTextFiltersCombine) {
  EventQuery query;
  query.filter.levels.values = {"WARN", "ERROR", "FATAL"};
  EXPECT_EQ(Run(query).rows.size(), 2u);
  query.filter.contains = "disk";
  EventQueryResult result = Run(query);
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.rows[0].run_id, "r2");

  EventQuery by_run;
  by_run.filter.run_ids.values = {"r1", "r3"};
  by_run.filter.stages.values = {"load", "fetch"};
  result = Run(by_run);
  ASSERT_EQ(result.rows.size(), 2u);
  EXPECT_EQ(result.rows[0].message, "fetched");
  EXPECT_EQ(result.rows[1].message, "loaded");

  EventQuery nothing;
  nothing.filter.contains = "no such text";
  EXPECT_TRUE(Run(nothing).rows.empty());
}

}  // namespace
}  // namespace lakelog::analytics

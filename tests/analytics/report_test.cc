#include "analytics/report.h"

#include <gtest/gtest.h>

#include "analytics/output.h"
#include "analytics/sla.h"
#include "analytics_fixture.h"

namespace lakelog::analytics {
namespace {

class ReportTest : public AnalyticsTableTest {
 protected:
  Report Build(const ReportOptions& options) {
    auto report = BuildReport(fs_.get(), root_, snapshot_, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? std::move(*report) : Report{};
  }
  static const PipelineReport* Find(const Report& report, const char* name) {
    for (const PipelineReport& p : report.pipelines) {
      if (p.pipeline == name) return &p;
    }
    return nullptr;
  }
};

TEST_F(ReportTest, CountsRatesStagesAndRuns) {
  ReportOptions options;
  options.now_micros = t1_ + kHour;
  options.runs_listed = 10;
  Report report = Build(options);
  ASSERT_EQ(report.pipelines.size(), 2u);
  const PipelineReport* a = Find(report, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->events, 4);
  EXPECT_EQ(a->failures, 1);
  EXPECT_EQ(a->successes, 3);
  EXPECT_EQ(a->errors, 1);
  EXPECT_DOUBLE_EQ(*a->success_rate, 0.75);
  ASSERT_EQ(a->top_failing_stages.size(), 1u);
  EXPECT_EQ(a->top_failing_stages[0].stage, "load");
  EXPECT_EQ(a->last_event_micros, t0_ + kHour + 5 * kMinute);
  EXPECT_EQ(a->runs, 2);
  EXPECT_EQ(a->runs_succeeded, 1);
  EXPECT_EQ(a->runs_failed, 1);
  ASSERT_EQ(a->recent_runs.size(), 2u);
  EXPECT_EQ(a->recent_runs[0].run_id, "r2");
  EXPECT_EQ(a->recent_runs[0].outcome, RunOutcome::kFailed);
  EXPECT_EQ(a->recent_runs[1].duration_micros(), 10 * kMinute);
  EXPECT_EQ(a->state, PipelineState::kFailing);  // its latest run failed
  EXPECT_FALSE(a->runs_met.has_value());         // no SLA, no verdicts

  const PipelineReport* b = Find(report, "b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->events, 3);
  EXPECT_EQ(b->runs, 1);
  EXPECT_EQ(b->runs_running, 1);
  EXPECT_FALSE(b->success_rate.has_value() && *b->success_rate != 1.0);
  EXPECT_EQ(b->staleness_micros, kHour - 31 * kMinute);
  EXPECT_EQ(report.events, 7);
  EXPECT_FALSE(report.healthy);
  EXPECT_EQ(report.pipelines[0].pipeline, "a");  // worst first
}

TEST_F(ReportTest, SlaVerdictsAndStaleness) {
  auto sla = ParseSlaConfig(R"(
[default]
max_staleness = "1h"
[pipeline.a]
max_run_duration = "7m"
[pipeline.silent]
max_staleness = 600
)",
                            "sla.toml");
  ASSERT_TRUE(sla.ok()) << sla.status().ToString();
  ReportOptions options;
  options.now_micros = t1_ + 3 * kHour;
  options.sla = *sla;
  Report report = Build(options);
  ASSERT_EQ(report.pipelines.size(), 3u);
  const PipelineReport* a = Find(report, "a");
  EXPECT_EQ(a->runs_met, 0);
  EXPECT_EQ(a->runs_breached, 2);  // r1 took 10m > 7m, r2 failed
  EXPECT_DOUBLE_EQ(*a->sla_compliance, 0.0);
  EXPECT_EQ(a->state, PipelineState::kStale);  // the default max_staleness applies too
  const PipelineReport* b = Find(report, "b");
  EXPECT_EQ(b->runs_met, 0);
  EXPECT_EQ(b->runs_breached, 0);  // r3 is running, and has no duration limit
  EXPECT_EQ(b->fresh, false);
  const PipelineReport* silent = Find(report, "silent");
  ASSERT_NE(silent, nullptr);
  EXPECT_EQ(silent->events, 0);
  EXPECT_EQ(silent->state, PipelineState::kNoData);
  EXPECT_NE(report.health.find("UNHEALTHY: 3 of 3"), std::string::npos) << report.health;
}

TEST_F(ReportTest, WindowAndTimeline) {
  ReportOptions options;
  options.now_micros = t1_ + kHour;
  options.since_micros = t0_ + 30 * kMinute;
  options.bucket_micros = kHour;
  Report report = Build(options);
  const PipelineReport* a = Find(report, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->events, 2);
  EXPECT_EQ(a->runs, 1);  // only r2 lies in the window
  ASSERT_EQ(a->timeline.size(), 1u);
  EXPECT_EQ(a->timeline[0].start_micros, t0_ + kHour);
  EXPECT_EQ(a->timeline[0].failures, 1);
  EXPECT_EQ(a->timeline[0].successes, 1);
}

TEST_F(ReportTest, ThreadsDoNotChangeTheAnswer) {
  ReportOptions options;
  options.now_micros = t1_ + kHour;
  options.runs_listed = 10;
  options.bucket_micros = kMinute;
  const std::string one = ReportJson(Build(options));
  for (size_t threads : {2, 3, 8}) {
    options.threads = threads;
    EXPECT_EQ(ReportJson(Build(options)), one) << threads;
  }
}

TEST(SlaConfigTest, MistakesNameTheKey) {
  auto bad = ParseSlaConfig("[pipeline.a]\nmax_duration = \"1h\"\n", "sla.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("sla.toml:2"), std::string::npos)
      << bad.status().ToString();
  EXPECT_NE(bad.status().ToString().find("pipeline.a.max_duration"), std::string::npos);
  EXPECT_FALSE(ParseSlaConfig("[default]\nmax_staleness = \"soon\"\n", "s").ok());
  EXPECT_FALSE(ParseSlaConfig("[alerts]\n", "s").ok());
  EXPECT_FALSE(ParseSlaConfig("[default\n", "s").ok());
}

}  // namespace
}  // namespace lakelog::analytics

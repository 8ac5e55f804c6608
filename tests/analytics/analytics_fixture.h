// A small pipeline_logs table in memory for the analytics tests: two pipelines on two days,
// three runs, written in two commits (one file per pipeline and day).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "analytics/time_spec.h"
#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"

namespace lakelog::analytics {

inline constexpr int64_t kMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kHour = 60 * kMinute;

class AnalyticsTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t0_ = *ParseRfc3339("2026-11-24T10:00:00Z");
    t1_ = *ParseRfc3339("2026-11-25T08:00:00Z");
    fs_ = NewMemFileSystem();
    auto table = DeltaTable::Open(fs_.get(), root_, {});
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    Append(table->get(),
           {Event("a", t0_, Level::kInfo, "extract", "SUCCESS", "r1", "read 10"),
            Event("a", t0_ + 10 * kMinute, Level::kInfo, "load", "SUCCESS", "r1", "loaded"),
            Event("a", t0_ + kHour, Level::kInfo, "extract", "SUCCESS", "r2", "read"),
            Event("a", t0_ + kHour + 5 * kMinute, Level::kError, "load", "FAILED", "r2",
                  "load failed: disk full")});
    Append(table->get(),
           {Event("b", t1_, Level::kInfo, "fetch", "SUCCESS", "r3", "fetched"),
            Event("b", t1_ + 30 * kMinute, Level::kInfo, "index", "RUNNING", "r3", "indexing"),
            Event("b", t1_ + 31 * kMinute, Level::kWarn, "index", "RUNNING", std::nullopt,
                  "slow shard")});
    auto snapshot = ReadDeltaSnapshot(fs_.get(), root_);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    snapshot_ = std::move(*snapshot);
  }

  static LogEvent Event(const char* pipeline, int64_t ts, Level level, const char* stage,
                        const char* status, std::optional<std::string> run_id,
                        const char* message) {
    LogEvent e;
    e.pipeline = pipeline;
    e.ts_micros = ts;
    e.level = level;
    e.stage = stage;
    e.status = status;
    e.run_id = std::move(run_id);
    e.message = message;
    e.host = "h1";
    return e;
  }

  static void Append(DeltaTable* table, const std::vector<LogEvent>& events) {
    std::vector<const LogEvent*> pointers;
    for (const LogEvent& e : events) pointers.push_back(&e);
    auto result = table->Append(pointers);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
  }

  std::unique_ptr<FileSystem> fs_;
  const std::string root_ = "/tables/pipeline_logs";
  DeltaSnapshot snapshot_;
  int64_t t0_ = 0, t1_ = 0;
};

}  // namespace lakelog::analytics

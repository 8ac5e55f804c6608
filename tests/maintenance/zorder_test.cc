#include "maintenance/zorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "delta/delta_test_util.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "lakelog/delta_table.h"
#include "maintenance/optimize.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::maintenance {
namespace {

using delta::testing::kTs;
using delta::testing::MakeEvent;
using delta::testing::Pointers;

constexpr char kRoot[] = "/t";
const std::vector<std::string> kPartitionColumns = {"pipeline", "log_date"};

LogEvent StageStatus(std::optional<std::string> stage, std::optional<std::string> status) {
  LogEvent e = MakeEvent("p", kTs);
  e.stage = std::move(stage);
  e.status = std::move(status);
  return e;
}

TEST(ZOrderColumnsTest, RefusesPartitionUnknownMapAndRepeatedColumns) {
  auto ok = ResolveZOrderColumns({"stage", "status", "ts"}, kPartitionColumns);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, (std::vector<ZColumn>{ZColumn::kStage, ZColumn::kStatus, ZColumn::kTs}));
  const std::map<std::vector<std::string>, std::string> bad = {
      {{"pipeline"}, "partition column"}, {{"stage", "log_date"}, "partition column"},
      {{"nope"}, "no such column"},       {{"attributes"}, "map column"},
      {{"stage", "stage"}, "twice"},      {{}, "names no column"}};
  for (const auto& [names, message] : bad) {
    auto result = ResolveZOrderColumns(names, kPartitionColumns);
    ASSERT_FALSE(result.ok()) << message;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(message), std::string::npos)
        << result.status().ToString();
  }
}

TEST(ZOrderCurveTest, TsOrderIsNumericOrderAcrossTheEpoch) {
  LogEvent before = MakeEvent("p", -5), after = MakeEvent("p", 3), later = MakeEvent("p", 300);
  EXPECT_LT(*ZOrderValue(before, ZColumn::kTs), *ZOrderValue(after, ZColumn::kTs));
  EXPECT_LT(*ZOrderValue(after, ZColumn::kTs), *ZOrderValue(later, ZColumn::kTs));
}

TEST(ZOrderCurveTest, RangeIdsPutNullsFirstAndInterleaveBitsFirstColumnHigh) {
  ZOrderSampler sampler({ZColumn::kStage, ZColumn::kStatus}, 1000);
  const std::vector<std::string> values = {"a", "b", "c", "d"};
  for (const std::string& x : values) {
    for (const std::string& y : values) sampler.Add(StageStatus(x, y));
  }
  const ZOrderCurve curve(sampler);
  EXPECT_EQ(curve.RangeId(0, std::nullopt), 0u);
  EXPECT_EQ(curve.RangeId(0, "a"), 1u);
  EXPECT_EQ(curve.RangeId(0, "d"), 4u);
  // ids 1..4 take 3 bits; first column's bit above the second's at every level.
  auto morton = [](uint32_t x, uint32_t y) {
    uint64_t key = 0;
    for (int bit = 2; bit >= 0; --bit) key = (key << 2) | ((x >> bit) & 1) << 1 | ((y >> bit) & 1);
    return key;
  };
  for (uint32_t x = 0; x < 4; ++x) {
    for (uint32_t y = 0; y < 4; ++y) {
      EXPECT_EQ(curve.Key(StageStatus(values[x], values[y])), morton(x + 1, y + 1));
    }
  }
  EXPECT_LT(curve.Key(StageStatus(std::nullopt, "a")), curve.Key(StageStatus("a", "a")));
  EXPECT_LT(curve.Key(StageStatus("a", std::nullopt)), curve.Key(StageStatus("a", "a")));
}

TEST(ZOrderCurveTest, SampleIsBoundedAndBucketsSplitTheKeySpaceEvenly) {
  ZOrderSampler sampler({ZColumn::kStage}, 500);
  for (int i = 0; i < 20000; ++i) {
    sampler.Add(StageStatus("s" + std::to_string(10000 + i), "x"));
  }
  EXPECT_EQ(sampler.tuples().size(), 500u);
  EXPECT_EQ(sampler.seen(), 20000);
  const ZOrderCurve curve(sampler);
  const std::vector<uint64_t> cuts = ZOrderBucketCuts(sampler, curve, 4);
  ASSERT_EQ(cuts.size(), 3u);
  std::vector<int> counts(4);
  for (int i = 0; i < 20000; ++i) {
    ++counts[ZOrderBucketOf(cuts, curve.Key(StageStatus("s" + std::to_string(10000 + i), "x")))];
  }
  for (int c : counts) {
    EXPECT_GT(c, 3000);  // a quarter is 5000; the sample is random but not that skewed
    EXPECT_LT(c, 7000);
  }
}

class ZOrderOptimizeTest : public ::testing::Test {
 protected:
  // `commits` appends of `per_commit` events to pipeline "p", stage s00..s19 and status
  // SUCCESS/FAILED/RUNNING/null at random, so each of the many small files spans everything.
  void Fill(int commits, int per_commit) {
    auto table = DeltaTable::Open(&fs_, kRoot, DeltaTableOptions{});
    ASSERT_TRUE(table.ok());
    std::mt19937 random(7);
    const std::vector<std::optional<std::string>> statuses = {"SUCCESS", "FAILED", "RUNNING",
                                                              std::nullopt};
    for (int c = 0; c < commits; ++c) {
      std::vector<LogEvent> events;
      for (int i = 0; i < per_commit; ++i) {
        char stage[8];
        std::snprintf(stage, sizeof(stage), "s%02u", static_cast<unsigned>(random() % 20));
        LogEvent e = StageStatus(stage, statuses[random() % statuses.size()]);
        e.ts_micros = kTs + c * 1000 + i;
        e.message = "m-" + std::to_string(c) + "-" + std::to_string(i);
        events.push_back(std::move(e));
      }
      ASSERT_TRUE((*table)->Append(Pointers(events)).ok());
      total_ += per_commit;
    }
  }

  DeltaSnapshot Snapshot() {
    delta::LogStore store(&fs_, kRoot);
    auto snapshot = delta::ReplayLatest(&fs_, store, true);
    EXPECT_TRUE(snapshot.ok());
    return snapshot.ok() ? *snapshot : DeltaSnapshot{};
  }

  struct FileRows {
    std::vector<nlohmann::json> rows;
    std::string min_stage, max_stage;
  };

  std::vector<FileRows> Files() {
    std::vector<FileRows> out;
    for (const DeltaAddFile& f : Snapshot().files) {
      auto rows = parquet::ReadParquetRowsAsJson(&fs_, JoinPath(kRoot, f.path));
      EXPECT_TRUE(rows.ok());
      FileRows file{*rows, "~", ""};
      for (const auto& row : *rows) {
        const std::string stage = row["stage"].get<std::string>();
        file.min_stage = std::min(file.min_stage, stage);
        file.max_stage = std::max(file.max_stage, stage);
      }
      out.push_back(std::move(file));
    }
    return out;
  }

  std::multiset<std::string> Messages() {
    std::multiset<std::string> out;
    for (const FileRows& f : Files()) {
      for (const auto& row : f.rows) out.insert(row["message"].get<std::string>());
    }
    return out;
  }

  // Files whose rows could hold stage = `stage` AND status = 'FAILED', judged by min/max.
  int FilesMatching(const std::string& stage) {
    int n = 0;
    for (const FileRows& f : Files()) {
      std::string min_status = "~", max_status;
      for (const auto& row : f.rows) {
        if (row["status"].is_null()) continue;
        min_status = std::min(min_status, row["status"].get<std::string>());
        max_status = std::max(max_status, row["status"].get<std::string>());
      }
      if (f.min_stage <= stage && stage <= f.max_stage && min_status <= "FAILED" &&
          "FAILED" <= max_status) {
        ++n;
      }
    }
    return n;
  }

  OptimizeOptions Options(std::vector<std::string> columns) {
    OptimizeOptions options;
    options.now_ms = kTs / 1000;
    options.zorder_by = std::move(columns);
    return options;
  }

  MemFileSystem fs_;
  int total_ = 0;
};

TEST_F(ZOrderOptimizeTest, RewritesEveryFileAndRecordsZOrderBy) {
  Fill(30, 100);
  const std::multiset<std::string> before = Messages();
  const int matching_before = FilesMatching("s07");
  EXPECT_EQ(matching_before, 30);
  OptimizeOptions options = Options({"stage", "status"});
  options.target_file_size = 4096;  // several output files, to see the layout
  auto result = Optimize(&fs_, kRoot, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_removed, 30);
  EXPECT_GT(result->files_added, 2);
  EXPECT_EQ(result->rows, total_);
  EXPECT_EQ(Messages(), before);
  EXPECT_LE(FilesMatching("s07") * 3, result->files_added);

  delta::LogStore store(&fs_, kRoot);
  auto actions = store.ReadCommit(*result->version);
  ASSERT_TRUE(actions.ok());
  const auto& info = std::get<delta::CommitInfoAction>(actions->front()).info;
  EXPECT_EQ(info.operation, "OPTIMIZE");
  EXPECT_EQ(info.parameters.at("zOrderBy"), R"(["stage","status"])");
}

TEST_F(ZOrderOptimizeTest, RewritesEvenALargeSingleFileAndRefusesPartitionColumns) {
  Fill(1, 50);
  const int64_t version = Snapshot().version;
  auto refused = Optimize(&fs_, kRoot, Options({"pipeline"}));
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Snapshot().version, version);  // nothing committed
  auto result = Optimize(&fs_, kRoot, Options({"stage"}));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_removed, 1);
  EXPECT_EQ(result->files_added, 1);
  EXPECT_EQ(Snapshot().TotalRows(), total_);
}

TEST_F(ZOrderOptimizeTest, APartitionLargerThanTheBudgetIsStillOrderedAcrossFiles) {
  Fill(40, 250);  // 10000 rows, well above a 256 KiB budget of decoded rows
  const std::multiset<std::string> before = Messages();
  OptimizeOptions options = Options({"stage"});
  options.memory_budget_bytes = 256 << 10;
  options.zorder_sample_rows = 2000;  // sampled boundaries, not the whole partition
  options.target_file_size = 16 << 10;
  auto result = Optimize(&fs_, kRoot, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows, total_);
  EXPECT_EQ(Messages(), before);  // every row once
  std::vector<FileRows> files = Files();
  ASSERT_GT(files.size(), 4u);
  std::sort(files.begin(), files.end(), [](const FileRows& a, const FileRows& b) {
    return std::tie(a.min_stage, a.max_stage) < std::tie(b.min_stage, b.max_stage);
  });
  // Globally ordered: consecutive files touch at most at one stage value.
  for (size_t i = 1; i < files.size(); ++i) {
    EXPECT_LE(files[i - 1].max_stage, files[i].min_stage) << i;
  }
}

}  // namespace
}  // namespace lakelog::maintenance

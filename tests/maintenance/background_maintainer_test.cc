#include "maintenance/background_maintainer.h"

#include <gtest/gtest.h>

#include "delta/delta_test_util.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"

namespace lakelog::maintenance {
namespace {

using delta::testing::kTs;
using delta::testing::MakeEvent;
using delta::testing::Pointers;

constexpr char kRoot[] = "/t";

std::vector<std::pair<std::string, uint64_t>> Sizes(std::initializer_list<uint64_t> sizes) {
  std::vector<std::pair<std::string, uint64_t>> out;
  int i = 0;
  for (uint64_t s : sizes) out.emplace_back("f" + std::to_string(i++), s);
  return out;
}

TEST(AutoCompactionPolicyTest, AFullTierAndEverySmallerOneArePicked) {
  AutoCompactionOptions options;  // fan-in 4, target 128 MiB
  // Three flush-sized files: tier 0 is not full.
  EXPECT_TRUE(BackgroundMaintainer::PickFiles(Sizes({100, 100, 100}), options).empty());
  // Four: tier 0 is full.
  EXPECT_EQ(BackgroundMaintainer::PickFiles(Sizes({100, 100, 100, 120}), options).size(), 4u);
  // Tier 0 is below 4x the smallest file (400 here), tier 1 from 4x to 16x that (1600..6400).
  // A compacted file in tier 1 and three small ones: no tier is full.
  EXPECT_TRUE(BackgroundMaintainer::PickFiles(Sizes({2000, 100, 100, 100}), options).empty());
  // Four tier-1 files and two tier-0 files: tier 0 is not full, tier 1 is; both go.
  EXPECT_EQ(
      BackgroundMaintainer::PickFiles(Sizes({2000, 2100, 2200, 2300, 100, 110}), options).size(),
      6u);
  // Files at half the target or more are never picked.
  options.target_file_size = 1000;
  EXPECT_TRUE(BackgroundMaintainer::PickFiles(Sizes({500, 600, 700, 800}), options).empty());
}

class BackgroundMaintainerTest : public ::testing::Test {
 protected:
  MaintainerOptions Options() {
    MaintainerOptions options;
    options.clock = &clock_;
    return options;
  }
  std::unique_ptr<DeltaTable> Open(std::map<std::string, std::string> configuration = {}) {
    DeltaTableOptions options;
    options.write_checkpoints = false;
    options.configuration = std::move(configuration);
    auto table = DeltaTable::Open(&fs_, kRoot, options);
    EXPECT_TRUE(table.ok());
    return std::move(table).value();
  }
  DeltaSnapshot Snapshot() {
    delta::LogStore store(&fs_, kRoot);
    auto snapshot = delta::ReplayLatest(&fs_, store, true);
    EXPECT_TRUE(snapshot.ok());
    return *snapshot;
  }
  ManualClock clock_{kTs};
  MemFileSystem fs_;
};

TEST_F(BackgroundMaintainerTest, WritesTheDueCheckpointOffTheWritePath) {
  auto table = Open();
  BackgroundMaintainer maintainer(&fs_, kRoot, Options());
  for (int i = 0; i < 12; ++i) {
    std::vector<LogEvent> events = {MakeEvent("p", kTs + i)};
    auto result = table->Append(Pointers(events));
    ASSERT_TRUE(result.ok());
    EXPECT_FALSE(result->checkpoint_version.has_value());  // never inside the append
    maintainer.Committed(result->version, result->partitions);
  }
  ASSERT_TRUE(maintainer.Drain(std::chrono::seconds(30)));
  EXPECT_TRUE(fs_.Exists("/t/_delta_log/00000000000000000010.checkpoint.parquet"));
  EXPECT_EQ(maintainer.stats().checkpoints, 1);
  EXPECT_TRUE(maintainer.TakeErrors().empty());
  delta::LogStore store(&fs_, kRoot);
  ASSERT_TRUE(store.ReadLastCheckpoint().has_value());
  EXPECT_EQ(store.ReadLastCheckpoint()->version, 10);
}

TEST_F(BackgroundMaintainerTest, CompactsAPartitionWhenTheTablePropertyAsks) {
  auto table = Open({{"delta.autoOptimize.autoCompact", "true"}});
  BackgroundMaintainer maintainer(&fs_, kRoot, Options());
  int64_t total = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<LogEvent> events;
    for (int i = 0; i < 20; ++i) events.push_back(MakeEvent("p", kTs + round * 100 + i));
    auto result = table->Append(Pointers(events));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    total += 20;
    maintainer.Committed(result->version, result->partitions);
    ASSERT_TRUE(maintainer.Drain(std::chrono::seconds(30)));
  }
  DeltaSnapshot snapshot = Snapshot();
  EXPECT_EQ(snapshot.TotalRows(), total);  // nothing lost or doubled
  // Forty flushes became a handful of files (at most fan_in - 1 per tier).
  EXPECT_LE(snapshot.files.size(), 9u);
  const MaintainerStats stats = maintainer.stats();
  EXPECT_GT(stats.compactions, 0);
  EXPECT_EQ(stats.compaction_failures, 0);
  EXPECT_EQ(stats.files_in - stats.files_out, 40 - static_cast<int64_t>(snapshot.files.size()));
  // The commits say they were automatic.
  delta::LogStore store(&fs_, kRoot);
  auto history = delta::ReadHistory(store);
  ASSERT_TRUE(history.ok());
  int auto_commits = 0;
  for (const DeltaCommitInfo& c : *history) {
    if (c.operation == "OPTIMIZE") {
      EXPECT_EQ(c.parameters.at("auto"), "true");
      ++auto_commits;
    }
  }
  EXPECT_EQ(auto_commits, stats.compactions);
}

TEST_F(BackgroundMaintainerTest, NoCompactionUnlessEnabled) {
  auto table = Open();
  BackgroundMaintainer maintainer(&fs_, kRoot, Options());
  for (int round = 0; round < 8; ++round) {
    std::vector<LogEvent> events = {MakeEvent("p", kTs + round)};
    auto result = table->Append(Pointers(events));
    ASSERT_TRUE(result.ok());
    maintainer.Committed(result->version, result->partitions);
  }
  ASSERT_TRUE(maintainer.Drain(std::chrono::seconds(30)));
  EXPECT_EQ(Snapshot().files.size(), 8u);
  EXPECT_EQ(maintainer.stats().compactions, 0);
}

}  // namespace
}  // namespace lakelog::maintenance

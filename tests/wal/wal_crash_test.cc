// The crash model: MemFileSystem::DropUnsyncedData() is a power loss.
#include <gtest/gtest.h>

#include <random>

#include "storage/mem_file_system.h"
#include "wal/wal.h"
#include "wal_test_util.h"

namespace lakelog::wal {
namespace {

using wal_testing::MakeRecord;
using wal_testing::ReplayAll;
using wal_testing::Replayed;

constexpr char kDir[] = "wal";

WalOptions Options(WalSyncMode mode) {
  WalOptions options;
  options.sync_mode = mode;
  options.segment_bytes = 64 * 1024;
  return options;
}

TEST(WalCrashTest, GroupCommitSurvivesCrash) {
  MemFileSystem fs;
  Replayed synced;
  {
    auto wal = Wal::Open(&fs, kDir, Options(WalSyncMode::kGroupCommit));
    ASSERT_TRUE(wal.ok());
    for (int batch = 0; batch < 20; ++batch) {
      Replayed pending;
      for (int i = 0; i < 17; ++i) {
        std::string record = MakeRecord(batch * 100 + i, 300 + i * 50);
        auto seq = (*wal)->Append(record);
        ASSERT_TRUE(seq.ok());
        pending.emplace_back(*seq, record);
      }
      ASSERT_TRUE((*wal)->Sync().ok());
      EXPECT_EQ((*wal)->DurableSequence(), pending.back().first);
      synced.insert(synced.end(), pending.begin(), pending.end());
    }
    // A last batch that never gets its Sync().
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*wal)->Append(MakeRecord(9000 + i, 100)).ok());
    fs.DropUnsyncedData();  // power loss; the Wal object is abandoned like a dead process
  }
  auto wal = Wal::Open(&fs, kDir, Options(WalSyncMode::kGroupCommit));
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  WalReplayStats stats;
  Replayed replayed = ReplayAll(wal->get(), &stats);
  EXPECT_EQ(replayed, synced);
  EXPECT_EQ(stats.corruptions, 0u);
}

TEST(WalCrashTest, NoSyncCrashLeavesUncorruptedPrefix) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 20; ++trial) {
    MemFileSystem fs;
    Replayed appended;
    uint64_t durable = 0;
    {
      auto wal = Wal::Open(&fs, kDir, Options(WalSyncMode::kNone));
      ASSERT_TRUE(wal.ok());
      const int n = 50 + static_cast<int>(rng() % 400);
      for (int i = 0; i < n; ++i) {
        std::string record = MakeRecord(i, rng() % 3000);
        auto seq = (*wal)->Append(record);
        ASSERT_TRUE(seq.ok());
        appended.emplace_back(*seq, record);
      }
      durable = (*wal)->DurableSequence();
      fs.DropUnsyncedData();
    }
    auto wal = Wal::Open(&fs, kDir, Options(WalSyncMode::kNone));
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    WalReplayStats stats;
    Replayed replayed = ReplayAll(wal->get(), &stats);
    // A prefix of what was appended, at least everything in rolled (synced) segments.
    ASSERT_LE(replayed.size(), appended.size());
    EXPECT_TRUE(std::equal(replayed.begin(), replayed.end(), appended.begin()));
    EXPECT_GE(replayed.size(), durable);
    EXPECT_EQ(stats.corruptions, 0u);
    // New sequences continue after what survived.
    auto seq = (*wal)->Append("after crash");
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, replayed.size() + 1);
  }
}

TEST(WalCrashTest, IntervalZeroLosesNothing) {
  MemFileSystem fs;
  Replayed appended;
  {
    WalOptions options = Options(WalSyncMode::kInterval);
    options.sync_interval_ms = 0;
    auto wal = Wal::Open(&fs, kDir, options);
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 100; ++i) {
      std::string record = MakeRecord(i, 700);
      auto seq = (*wal)->Append(record);
      ASSERT_TRUE(seq.ok());
      appended.emplace_back(*seq, record);
    }
    fs.DropUnsyncedData();
  }
  auto wal = Wal::Open(&fs, kDir, Options(WalSyncMode::kInterval));
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ(ReplayAll(wal->get()), appended);
}

TEST(WalCrashTest, RepeatedCrashesKeepSequencesIncreasing) {
  MemFileSystem fs;
  Replayed synced;
  for (int round = 0; round < 5; ++round) {
    auto wal = Wal::Open(&fs, kDir, Options(WalSyncMode::kGroupCommit));
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    ASSERT_EQ(ReplayAll(wal->get()), synced);
    for (int i = 0; i < 30; ++i) {
      std::string record = MakeRecord(round * 1000 + i, 2500);
      auto seq = (*wal)->Append(record);
      ASSERT_TRUE(seq.ok());
      ASSERT_GT(*seq, synced.empty() ? 0 : synced.back().first);
      synced.emplace_back(*seq, record);
    }
    ASSERT_TRUE((*wal)->Sync().ok());
    ASSERT_TRUE((*wal)->Append("lost").ok());
    fs.DropUnsyncedData();
  }
}

TEST(WalCrashTest, CleanCloseInNoSyncModeIsDurable) {
  MemFileSystem fs;
  {
    auto wal = Wal::Open(&fs, kDir, Options(WalSyncMode::kNone));
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*wal)->Append("r").ok());
    ASSERT_TRUE((*wal)->Close().ok());
  }
  fs.DropUnsyncedData();
  auto wal = Wal::Open(&fs, kDir, Options(WalSyncMode::kNone));
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ(ReplayAll(wal->get()).size(), 10u);
}

}  // namespace
}  // namespace lakelog::wal

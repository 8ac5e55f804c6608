#include "delta/log_cleanup.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delta/checkpoint.h"
#include "delta/delta_test_util.h"
#include "delta/snapshot.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta {
namespace {

using testing::AddLine;
using testing::MetadataLine;
using testing::ProtocolLine;
using testing::WriteCommitLines;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kNowMs = 1'795'515'330'000;
constexpr char kRoot[] = "/t";

// Commits 0..24, commit v made (40 - v) days ago, checkpoints at 10 and 20.
class LogCleanupTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(MetadataLine()); }

  void Build(const std::string& metadata) {
    WriteCommitLines(&fs_, kRoot, 0, {ProtocolLine(), metadata});
    for (int64_t v = 1; v <= 24; ++v) {
      WriteCommitLines(&fs_, kRoot, v, {AddLine("f" + std::to_string(v) + ".parquet", v)});
    }
    for (int64_t v : {10, 20}) {
      ASSERT_TRUE(WriteCheckpoint(&fs_, &store_, v, ParquetWriteOptions{}, kNowMs).ok());
    }
    for (int64_t v = 0; v <= 24; ++v) Age(LogStore::CommitFileName(v), 40 - v);
    Age(LogStore::CheckpointFileName(10), 30);
    Age(LogStore::CheckpointFileName(20), 20);
  }

  void Age(const std::string& name, int64_t days) {
    ASSERT_TRUE(
        fs_.SetModificationTime(JoinPath(store_.log_dir(), name), kNowMs - days * kDayMs).ok());
  }

  LogListing List() {
    Result<LogListing> listing = store_.List();
    EXPECT_TRUE(listing.ok());
    return listing.ok() ? *listing : LogListing{};
  }

  MemFileSystem fs_;
  LogStore store_{&fs_, kRoot};
};

TEST_F(LogCleanupTest, DeletesUpToTheNewestCheckpointPastTheRetention) {
  // 30 days back is version 10; the checkpoint at 20 (20 days old) is too young to be the start.
  Result<DeltaSnapshot> before = ReplayLatest(&fs_, store_, true);
  ASSERT_TRUE(before.ok());
  Result<LogCleanupResult> cleaned = CleanUpExpiredLog(&fs_, store_, before->metadata, kNowMs);
  ASSERT_TRUE(cleaned.ok()) << cleaned.status().ToString();
  EXPECT_EQ(cleaned->cleaned_below, 10);
  EXPECT_EQ(cleaned->files_deleted, 10);
  LogListing listing = List();
  ASSERT_FALSE(listing.commits.empty());
  EXPECT_EQ(listing.commits.front(), 10);
  EXPECT_EQ(listing.commits.back(), 24);
  ASSERT_EQ(listing.checkpoints.size(), 2u);
  // Every version still in the log rebuilds, and the latest is unchanged.
  for (int64_t v = 10; v <= 24; ++v) {
    Result<DeltaSnapshot> snapshot = ReplayVersion(&fs_, store_, v, nullptr);
    ASSERT_TRUE(snapshot.ok()) << v << ": " << snapshot.status().ToString();
    EXPECT_EQ(snapshot->files.size(), static_cast<size_t>(v));
  }
  Result<DeltaSnapshot> after = ReplayLatest(&fs_, store_, true);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->files.size(), before->files.size());
}

TEST_F(LogCleanupTest, ShorterRetentionMovesTheStartToTheNewerCheckpoint) {
  nlohmann::ordered_json metadata = nlohmann::ordered_json::parse(MetadataLine());
  metadata["metaData"]["configuration"]["delta.logRetentionDuration"] = "interval 19 days";
  Result<DeltaSnapshot> snapshot = ReplayLatest(&fs_, store_, false);
  ASSERT_TRUE(snapshot.ok());
  DeltaMetadata configured = snapshot->metadata;
  configured.configuration["delta.logRetentionDuration"] = "interval 19 days";
  Result<LogCleanupResult> cleaned = CleanUpExpiredLog(&fs_, store_, configured, kNowMs);
  ASSERT_TRUE(cleaned.ok());
  EXPECT_EQ(cleaned->cleaned_below, 20);
  LogListing listing = List();
  EXPECT_EQ(listing.commits.front(), 20);
  ASSERT_EQ(listing.checkpoints.size(), 1u);
  EXPECT_EQ(listing.checkpoints[0].version, 20);
  EXPECT_TRUE(ReplayLatest(&fs_, store_, true).ok());
}

TEST_F(LogCleanupTest, NothingOldEnoughDeletesNothing) {
  Result<DeltaSnapshot> snapshot = ReplayLatest(&fs_, store_, false);
  ASSERT_TRUE(snapshot.ok());
  Result<LogCleanupResult> cleaned =
      CleanUpExpiredLog(&fs_, store_, snapshot->metadata, kNowMs - 60 * kDayMs);
  ASSERT_TRUE(cleaned.ok());
  EXPECT_EQ(cleaned->cleaned_below, -1);
  EXPECT_EQ(cleaned->files_deleted, 0);
  EXPECT_EQ(List().commits.size(), 25u);
}

TEST_F(LogCleanupTest, DisabledByTheTableProperty) {
  Result<DeltaSnapshot> snapshot = ReplayLatest(&fs_, store_, false);
  ASSERT_TRUE(snapshot.ok());
  DeltaMetadata configured = snapshot->metadata;
  configured.configuration["delta.enableExpiredLogCleanup"] = "FALSE";
  Result<LogCleanupResult> cleaned = CleanUpExpiredLog(&fs_, store_, configured, kNowMs);
  ASSERT_TRUE(cleaned.ok());
  EXPECT_EQ(cleaned->files_deleted, 0);
  EXPECT_EQ(List().commits.size(), 25u);
}

}  // namespace
}  // namespace lakelog::delta

#include "maintenance/vacuum.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delta/delta_test_util.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "storage/mem_file_system.h"

namespace lakelog::maintenance {
namespace {

using delta::testing::AddLine;
using delta::testing::MetadataLine;
using delta::testing::ProtocolLine;
using delta::testing::WriteCommitLines;

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kNowMs = 1'795'515'330'000;  // 2026-11-24T10:15:30Z
constexpr char kRoot[] = "/t";

std::string RemoveLine(const std::string& path, int64_t at_ms) {
  return R"({"remove":{"path":")" + path + R"(","deletionTimestamp":)" + std::to_string(at_ms) +
         R"(,"dataChange":true,"extendedFileMetadata":true,"partitionValues":{"pipeline":"p","log_date":"2026-11-24"},"size":100}})";
}

class VacuumTest : public ::testing::Test {
 protected:
  // A table with live file live.parquet, removed files (tombstones one hour and ten days old),
  // and an orphan no action names.
  void SetUp() override {
    WriteCommitLines(&fs_, kRoot, 0, {ProtocolLine(), MetadataLine()});
    WriteCommitLines(
        &fs_, kRoot, 1,
        {AddLine("pipeline=p/live.parquet", 1), AddLine("pipeline=p/recent.parquet", 1),
         AddLine("pipeline=p/expired.parquet", 1)});
    WriteCommitLines(&fs_, kRoot, 2,
                     {RemoveLine("pipeline=p/recent.parquet", kNowMs - kHourMs),
                      RemoveLine("pipeline=p/expired.parquet", kNowMs - 10 * kDayMs)});
    for (const char* name : {"live", "recent", "expired", "orphan"}) {
      File(std::string("pipeline=p/") + name + ".parquet", kNowMs - 30 * kDayMs);
    }
  }

  void File(const std::string& relative, int64_t mtime_ms, const std::string& data = "xxxx") {
    const std::string path = JoinPath(kRoot, relative);
    ASSERT_TRUE(fs_.CreateDirs(ParentPath(path)).ok());
    ASSERT_TRUE(fs_.WriteFile(path, data, true).ok());
    ASSERT_TRUE(fs_.SetModificationTime(path, mtime_ms).ok());
  }

  bool Has(const std::string& relative) { return fs_.Exists(JoinPath(kRoot, relative)); }

  VacuumResult Run(VacuumOptions options) {
    options.now_ms = kNowMs;
    Result<VacuumResult> result = Vacuum(&fs_, kRoot, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : VacuumResult{};
  }

  static std::vector<std::string> Paths(const VacuumResult& result) {
    std::vector<std::string> paths;
    for (const VacuumFile& f : result.files) paths.push_back(f.path);
    return paths;
  }

  MemFileSystem fs_;
};

TEST_F(VacuumTest, DeletesExpiredTombstonesAndOldOrphansOnly) {
  VacuumResult result = Run({});
  EXPECT_EQ(Paths(result),
            (std::vector<std::string>{"pipeline=p/expired.parquet", "pipeline=p/orphan.parquet"}));
  EXPECT_EQ(result.bytes, 8u);
  EXPECT_TRUE(Has("pipeline=p/live.parquet"));
  EXPECT_TRUE(Has("pipeline=p/recent.parquet"));  // time travel to version 1 still reads it
  EXPECT_FALSE(Has("pipeline=p/expired.parquet"));
  EXPECT_FALSE(Has("pipeline=p/orphan.parquet"));
}

TEST_F(VacuumTest, YoungOrphanIsKept) {
  File("pipeline=p/inflight.parquet", kNowMs - kHourMs);  // a writer's file, not committed yet
  VacuumResult result = Run({});
  EXPECT_TRUE(Has("pipeline=p/inflight.parquet"));
  for (const std::string& p : Paths(result)) EXPECT_NE(p, "pipeline=p/inflight.parquet");
}

TEST_F(VacuumTest, DryRunListsAndChangesNothing) {
  VacuumOptions options;
  options.dry_run = true;
  VacuumResult result = Run(options);
  EXPECT_EQ(result.files.size(), 2u);
  EXPECT_TRUE(Has("pipeline=p/expired.parquet"));
  EXPECT_TRUE(Has("pipeline=p/orphan.parquet"));
  EXPECT_FALSE(result.start_version.has_value());
  EXPECT_FALSE(Has("_delta_log/00000000000000000003.json"));
}

TEST_F(VacuumTest, WritesStartAndEndCommitsAsSparkDoes) {
  VacuumResult result = Run({});
  ASSERT_EQ(result.start_version, 3);
  ASSERT_EQ(result.end_version, 4);
  delta::LogStore store(&fs_, kRoot);
  Result<std::vector<DeltaCommitInfo>> history = delta::ReadHistory(store);
  ASSERT_TRUE(history.ok());
  // The hand-written commits 0-2 carry no commitInfo: the history is the two VACUUM commits.
  ASSERT_EQ(history->size(), 2u);
  const DeltaCommitInfo& start = (*history)[0];
  EXPECT_EQ(start.version, 3);
  EXPECT_EQ(start.operation, "VACUUM START");
  EXPECT_EQ(start.metrics.at("numFilesToDelete"), "2");
  EXPECT_EQ(start.metrics.at("sizeOfDataToDelete"), "8");
  EXPECT_EQ(start.parameters.at("retentionCheckEnabled"), "true");
  EXPECT_EQ(start.parameters.at("specifiedRetentionMillis"), std::to_string(7 * kDayMs));
  const DeltaCommitInfo& end = (*history)[1];
  EXPECT_EQ(end.version, 4);
  EXPECT_EQ(end.operation, "VACUUM END");
  EXPECT_EQ(end.parameters.at("status"), "COMPLETED");
  EXPECT_EQ(end.metrics.at("numDeletedFiles"), "2");
  // The table's data is unchanged by the two commits.
  Result<DeltaSnapshot> snapshot = delta::ReplayLatest(&fs_, store, true);
  ASSERT_TRUE(snapshot.ok());
  ASSERT_EQ(snapshot->files.size(), 1u);
  EXPECT_EQ(snapshot->files[0].path, "pipeline=p/live.parquet");
}

TEST_F(VacuumTest, HiddenNamesAreNeverTouchedButPartitionDirectoriesAreWalked) {
  const int64_t old = kNowMs - 30 * kDayMs;
  File("_hidden/x.parquet", old);
  File(".staging/x.parquet", old);
  File("pipeline=p/.x.crc", old);
  File("pipeline=p/_SUCCESS", old);
  File("_change_data/c.parquet", old);
  File("pipeline=_under/log_date=2026-11-24/orphan.parquet", old);  // a value starting with '_'
  File("pipeline=%2E%2E/orphan.parquet", old);                      // escaped '..'
  ASSERT_TRUE(fs_.SetModificationTime("/t/_delta_log/00000000000000000000.json", old).ok());
  VacuumResult result = Run({});
  EXPECT_TRUE(Has("_hidden/x.parquet"));
  EXPECT_TRUE(Has(".staging/x.parquet"));
  EXPECT_TRUE(Has("pipeline=p/.x.crc"));
  EXPECT_TRUE(Has("pipeline=p/_SUCCESS"));
  EXPECT_TRUE(Has("_change_data/c.parquet"));
  EXPECT_TRUE(Has("_delta_log/00000000000000000000.json"));
  EXPECT_FALSE(Has("pipeline=_under/log_date=2026-11-24/orphan.parquet"));
  EXPECT_FALSE(Has("pipeline=%2E%2E/orphan.parquet"));
  // The emptied partition directories are gone; the table root stays.
  EXPECT_FALSE(Has("pipeline=_under"));
  EXPECT_FALSE(Has("pipeline=%2E%2E"));
  EXPECT_EQ(result.directories_removed, 3);
  EXPECT_TRUE(fs_.Exists(kRoot));
}

TEST_F(VacuumTest, RetentionBelowTheTablesIsRefusedUnlessForced) {
  VacuumOptions options;
  options.retention_ms = 0;
  options.now_ms = kNowMs;
  Result<VacuumResult> refused = Vacuum(&fs_, kRoot, options);
  ASSERT_TRUE(refused.status().code() == StatusCode::kInvalidArgument)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("--force"), std::string::npos);
  EXPECT_TRUE(Has("pipeline=p/orphan.parquet"));
  EXPECT_FALSE(Has("_delta_log/00000000000000000003.json"));  // nothing was committed

  options.force = true;
  VacuumResult forced = Run(options);
  // With zero retention the hour-old tombstone has expired too.
  EXPECT_EQ(Paths(forced),
            (std::vector<std::string>{"pipeline=p/expired.parquet", "pipeline=p/orphan.parquet",
                                      "pipeline=p/recent.parquet"}));
  EXPECT_TRUE(Has("pipeline=p/live.parquet"));
}

TEST_F(VacuumTest, TablesPropertySetsTheDefaultRetention) {
  nlohmann::ordered_json metadata = nlohmann::ordered_json::parse(MetadataLine());
  metadata["metaData"]["configuration"]["delta.deletedFileRetentionDuration"] =
      "interval 30 minutes";
  WriteCommitLines(&fs_, kRoot, 3, {metadata.dump()});
  VacuumResult result = Run({});
  EXPECT_EQ(result.retention_ms, 30 * 60'000);
  EXPECT_FALSE(Has("pipeline=p/recent.parquet"));  // its hour-old tombstone has expired
}

TEST_F(VacuumTest, DeletionVectorTablesAreRefusedUntouched) {
  WriteCommitLines(
      &fs_, kRoot, 3,
      {R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}})"});
  VacuumOptions options;
  options.now_ms = kNowMs;
  Result<VacuumResult> result = Vacuum(&fs_, kRoot, options);
  ASSERT_TRUE(result.status().code() == StatusCode::kNotSupported) << result.status().ToString();
  EXPECT_NE(result.status().message().find("deletionVectors"), std::string::npos);
  EXPECT_TRUE(Has("pipeline=p/orphan.parquet"));
}

TEST_F(VacuumTest, MissingTableIsNotFound) {
  VacuumOptions options;
  options.now_ms = kNowMs;
  EXPECT_TRUE(Vacuum(&fs_, "/nowhere", options).status().IsNotFound());
}

}  // namespace
}  // namespace lakelog::maintenance

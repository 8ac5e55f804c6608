#include "delta/snapshot.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delta/table_schema.h"
#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta {

namespace testing {
std::string MetadataLine(const std::string& id) {
  nlohmann::ordered_json j;
  j["metaData"]["id"] = id;
  j["metaData"]["format"] = {{"provider", "parquet"}, {"options", nlohmann::json::object()}};
  j["metaData"]["schemaString"] = LogSchemaString();
  j["metaData"]["partitionColumns"] = LogPartitionColumns();
  j["metaData"]["configuration"] = nlohmann::json::object();
  j["metaData"]["createdTime"] = 1;
  return j.dump();
}
}  // namespace testing

namespace {

using namespace testing;

class DeltaSnapshotTest : public ::testing::Test {
 protected:
  MemFileSystem fs_;
  const std::string root_ = "/t";
};

TEST_F(DeltaSnapshotTest, NoTableIsNotFound) {
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_FALSE(snap.ok());
  EXPECT_TRUE(snap.status().IsNotFound()) << snap.status().ToString();
  ASSERT_TRUE(fs_.CreateDirs("/t/_delta_log").ok());
  snap = ReadDeltaSnapshot(&fs_, root_);
  EXPECT_TRUE(snap.status().IsNotFound()) << snap.status().ToString();
}

TEST_F(DeltaSnapshotTest, ReplaysAddsRemovesAndTxns) {
  WriteCommitLines(&fs_, root_, 0,
                   {CommitInfoLine("CREATE TABLE"), ProtocolLine(), MetadataLine()});
  WriteCommitLines(&fs_, root_, 1,
                   {CommitInfoLine("WRITE"), TxnLine("a", 1), AddLine("p/f1.parquet", 10),
                    AddLine("p/f2.parquet", 20)});
  WriteCommitLines(&fs_, root_, 2, {TxnLine("a", 2), TxnLine("b", 7), AddLine("p/f3.parquet", 30)});
  // OPTIMIZE-like: f1 and f2 replaced by f4; the encoded path matches the decoded one.
  WriteCommitLines(&fs_, root_, 3,
                   {CommitInfoLine("OPTIMIZE"), RemoveLine("p/f1.parquet"),
                    RemoveLine("p/f%32.parquet"), AddLine("p/f4%20x.parquet", 30)});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, 3);
  ASSERT_EQ(snap->files.size(), 2u);
  EXPECT_EQ(snap->files[0].path, "p/f3.parquet");
  EXPECT_EQ(snap->files[1].path, "p/f4 x.parquet");
  EXPECT_EQ(snap->TotalRows(), 60);
  EXPECT_EQ(snap->TotalBytes(), 200);
  EXPECT_EQ(snap->app_txns.at("a"), 2);
  EXPECT_EQ(snap->app_txns.at("b"), 7);
  EXPECT_FALSE(snap->checkpoint_version.has_value());
  EXPECT_EQ(snap->metadata.partition_columns, LogPartitionColumns());
}

// A txn replaces its appId's previous one whole: a newer txn without lastUpdated leaves none.
TEST_F(DeltaSnapshotTest, TxnLastUpdatedFollowsTheLatestTxnOfItsApp) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine()});
  WriteCommitLines(&fs_, root_, 1,
                   {R"({"txn":{"appId":"a","version":1,"lastUpdated":100}})",
                    R"({"txn":{"appId":"b","version":1,"lastUpdated":200}})", TxnLine("c", 1)});
  WriteCommitLines(&fs_, root_, 2,
                   {R"({"txn":{"appId":"a","version":2,"lastUpdated":300}})", TxnLine("b", 2)});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->app_txns, (std::map<std::string, int64_t>{{"a", 2}, {"b", 2}, {"c", 1}}));
  EXPECT_EQ(snap->app_txn_last_updated_ms, (std::map<std::string, int64_t>{{"a", 300}}));
}

// The latest metaData wins whole: a table comment set and then dropped is gone.
TEST_F(DeltaSnapshotTest, MetadataNameDescriptionAndOptionsFollowTheLatestMetadata) {
  nlohmann::ordered_json described = nlohmann::ordered_json::parse(MetadataLine());
  described["metaData"]["name"] = "logs";
  described["metaData"]["description"] = "all the logs";
  described["metaData"]["format"]["options"] = {{"k", "v"}};
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), described.dump()});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->metadata.name, std::optional<std::string>("logs"));
  EXPECT_EQ(snap->metadata.description, std::optional<std::string>("all the logs"));
  EXPECT_EQ(snap->metadata.format_options, (std::map<std::string, std::string>{{"k", "v"}}));

  WriteCommitLines(&fs_, root_, 1, {MetadataLine()});
  snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_FALSE(snap->metadata.name.has_value());
  EXPECT_FALSE(snap->metadata.description.has_value());
  EXPECT_TRUE(snap->metadata.format_options.empty());
}

TEST_F(DeltaSnapshotTest, ReAddAfterRemoveIsActive) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine(), AddLine("f.parquet", 1)});
  WriteCommitLines(&fs_, root_, 1, {RemoveLine("f.parquet")});
  WriteCommitLines(&fs_, root_, 2, {AddLine("f.parquet", 5)});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_EQ(snap->files.size(), 1u);
  EXPECT_EQ(snap->TotalRows(), 5);
}

TEST_F(DeltaSnapshotTest, GarbageCommitIsCorruptionNamingTheFile) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine()});
  WriteCommitLines(&fs_, root_, 1, {AddLine("a.parquet", 1), "{\"add\":{\"path\":"});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_FALSE(snap.ok());
  EXPECT_TRUE(snap.status().IsCorruption());
  EXPECT_NE(snap.status().message().find("00000000000000000001.json:2"), std::string::npos)
      << snap.status().ToString();
}

TEST_F(DeltaSnapshotTest, MissingProtocolOrMetadataIsCorruption) {
  WriteCommitLines(&fs_, root_, 0, {MetadataLine()});
  EXPECT_TRUE(ReadDeltaSnapshot(&fs_, root_).status().IsCorruption());
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine()});
  EXPECT_TRUE(ReadDeltaSnapshot(&fs_, root_).status().IsCorruption());
}

TEST_F(DeltaSnapshotTest, GapInVersionsIsCorruption) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine()});
  WriteCommitLines(&fs_, root_, 2, {AddLine("a.parquet", 1)});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_FALSE(snap.ok());
  EXPECT_TRUE(snap.status().IsCorruption()) << snap.status().ToString();
  EXPECT_NE(snap.status().message().find("commit 1 is missing"), std::string::npos);
}

TEST_F(DeltaSnapshotTest, IgnoresForeignFilesInTheLog) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine(), AddLine("a.parquet", 1)});
  ASSERT_TRUE(fs_.WriteFile("/t/_delta_log/00000000000000000000.crc", "{}", true).ok());
  ASSERT_TRUE(
      fs_.WriteFile("/t/_delta_log/.00000000000000000001.json.tmp-1-2-3", "junk", true).ok());
  ASSERT_TRUE(
      fs_.WriteFile("/t/_delta_log/00000000000000000000.00000000000000000001.compacted.json",
                    "junk", true)
          .ok());
  ASSERT_TRUE(fs_.CreateDirs("/t/_delta_log/_staged_commits").ok());
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, 0);
  EXPECT_EQ(snap->files.size(), 1u);
}

TEST_F(DeltaSnapshotTest, LastCheckpointNamingAMissingFileFallsBackToJson) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine(), AddLine("a.parquet", 1)});
  WriteCommitLines(&fs_, root_, 1, {AddLine("b.parquet", 2)});
  ASSERT_TRUE(
      fs_.WriteFile("/t/_delta_log/_last_checkpoint", R"({"version":1,"size":3})", true).ok());
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->files.size(), 2u);
  EXPECT_FALSE(snap->checkpoint_version.has_value());
}

TEST_F(DeltaSnapshotTest, GarbageLastCheckpointIsOnlyAHint) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine(), AddLine("a.parquet", 1)});
  for (const char* junk : {"", "{", "[]", R"({"version":"x"})", R"({"version":-4})", "\xff\xff"}) {
    ASSERT_TRUE(fs_.WriteFile("/t/_delta_log/_last_checkpoint", junk, true).ok());
    LogStore store(&fs_, root_);
    EXPECT_FALSE(store.ReadLastCheckpoint().has_value()) << junk;
    Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
    ASSERT_TRUE(snap.ok()) << junk << ": " << snap.status().ToString();
    EXPECT_EQ(snap->files.size(), 1u);
  }
}

TEST_F(DeltaSnapshotTest, UnreadableCheckpointFallsBackToJsonCommits) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine(), AddLine("a.parquet", 1)});
  WriteCommitLines(&fs_, root_, 1, {AddLine("b.parquet", 2)});
  WriteCommitLines(&fs_, root_, 2, {AddLine("c.parquet", 3)});
  ASSERT_TRUE(fs_.WriteFile("/t/_delta_log/00000000000000000001.checkpoint.parquet",
                            "PAR1 this is not parquet PAR1", true)
                  .ok());
  ASSERT_TRUE(
      fs_.WriteFile("/t/_delta_log/_last_checkpoint", R"({"version":1,"size":4})", true).ok());
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->files.size(), 3u);
  EXPECT_EQ(snap->version, 2);

  // Once the JSON before the checkpoint is cleaned up, the bad checkpoint is the only way in.
  ASSERT_TRUE(fs_.DeleteFile("/t/_delta_log/00000000000000000000.json").ok());
  snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_FALSE(snap.ok());
  EXPECT_TRUE(snap.status().IsCorruption()) << snap.status().ToString();
  EXPECT_NE(snap.status().message().find("checkpoint"), std::string::npos);
}

TEST_F(DeltaSnapshotTest, MultiPartOrV2CheckpointIsNotSupportedWhenNeeded) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine(), AddLine("a.parquet", 1)});
  WriteCommitLines(&fs_, root_, 1, {AddLine("b.parquet", 2)});
  ASSERT_TRUE(
      fs_.WriteFile("/t/_delta_log/00000000000000000001.checkpoint.0000000001.0000000002.parquet",
                    "x", true)
          .ok());
  ASSERT_TRUE(
      fs_.WriteFile("/t/_delta_log/00000000000000000001.checkpoint.0000000002.0000000002.parquet",
                    "x", true)
          .ok());
  ASSERT_TRUE(
      fs_.WriteFile("/t/_delta_log/_last_checkpoint", R"({"version":1,"size":4,"parts":2})", true)
          .ok());
  // All JSON commits are still there: they are enough.
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->files.size(), 2u);

  ASSERT_TRUE(fs_.DeleteFile("/t/_delta_log/00000000000000000000.json").ok());
  snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kNotSupported) << snap.status().ToString();
  EXPECT_NE(snap.status().message().find("checkpoint.0000000001.0000000002.parquet"),
            std::string::npos)
      << snap.status().ToString();

  auto v2 = LogStore::ParseCheckpointFileName(
      "00000000000000000001.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json");
  ASSERT_TRUE(v2.has_value());
  EXPECT_EQ(v2->kind, CheckpointKind::kV2);
}

TEST_F(DeltaSnapshotTest, DeletionVectorsAreRefused) {
  WriteCommitLines(
      &fs_, root_, 0,
      {ProtocolLine(), MetadataLine(),
       R"({"add":{"path":"a.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab","offset":1,"sizeInBytes":36,"cardinality":2}}})"});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  EXPECT_EQ(snap.status().code(), StatusCode::kNotSupported) << snap.status().ToString();
}

// Spark's DELETE adds (p, dv) and removes (p) in one commit, in either order: the file stays
// live with its deletion vector, so the table is refused rather than read whole (a replay keyed
// by path alone lost the file and read the deleted rows' neighbours as gone).
TEST_F(DeltaSnapshotTest, ARemoveWithoutTheDeletionVectorLeavesTheFileWithItLive) {
  const std::string add_dv =
      R"({"add":{"path":"a.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab","offset":1,"sizeInBytes":36,"cardinality":2}}})";
  const std::string remove_plain =
      R"({"remove":{"path":"a.parquet","deletionTimestamp":5,"dataChange":true}})";
  WriteCommitLines(
      &fs_, root_, 0,
      {ProtocolLine(), MetadataLine(),
       R"({"add":{"path":"a.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}})"});
  WriteCommitLines(&fs_, root_, 1, {add_dv, remove_plain});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  EXPECT_EQ(snap.status().code(), StatusCode::kNotSupported) << snap.status().ToString();
  // The same with the remove first.
  WriteCommitLines(&fs_, root_, 1, {remove_plain, add_dv});
  snap = ReadDeltaSnapshot(&fs_, root_);
  EXPECT_EQ(snap.status().code(), StatusCode::kNotSupported) << snap.status().ToString();
  // Removing (p, dv) itself removes it.
  WriteCommitLines(
      &fs_, root_, 2,
      {R"({"remove":{"path":"a.parquet","deletionTimestamp":6,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab","offset":1,"sizeInBytes":36,"cardinality":2}}})"});
  snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_TRUE(snap->files.empty());
}

TEST_F(DeltaSnapshotTest, UnknownReaderFeatureIsNotSupported) {
  WriteCommitLines(
      &fs_, root_, 0,
      {R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["futureThing"],"writerFeatures":["futureThing"]}})",
       MetadataLine()});
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  EXPECT_EQ(snap.status().code(), StatusCode::kNotSupported) << snap.status().ToString();
  EXPECT_NE(snap.status().message().find("futureThing"), std::string::npos);
}

TEST_F(DeltaSnapshotTest, HistorySkipsCleanedUpVersions) {
  WriteCommitLines(&fs_, root_, 0,
                   {CommitInfoLine("CREATE TABLE"), ProtocolLine(), MetadataLine()});
  WriteCommitLines(&fs_, root_, 1, {CommitInfoLine("WRITE"), AddLine("a.parquet", 1)});
  WriteCommitLines(&fs_, root_, 2, {AddLine("b.parquet", 1)});  // no commitInfo
  WriteCommitLines(&fs_, root_, 3, {CommitInfoLine("OPTIMIZE")});
  ASSERT_TRUE(fs_.DeleteFile("/t/_delta_log/00000000000000000000.json").ok());
  LogStore store(&fs_, root_);
  Result<std::vector<DeltaCommitInfo>> history = ReadHistory(store);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].version, 1);
  EXPECT_EQ((*history)[0].operation, "WRITE");
  EXPECT_EQ((*history)[0].parameters.at("mode"), "Append");
  EXPECT_EQ((*history)[1].version, 3);
  EXPECT_EQ((*history)[1].operation, "OPTIMIZE");
}

TEST(DeltaLogStoreTest, NamesAndParsesLogFiles) {
  EXPECT_EQ(LogStore::CommitFileName(0), "00000000000000000000.json");
  EXPECT_EQ(LogStore::CommitFileName(1234567), "00000000000001234567.json");
  EXPECT_EQ(LogStore::ParseCommitFileName("00000000000001234567.json"), 1234567);
  EXPECT_FALSE(LogStore::ParseCommitFileName("0000000000000123456.json").has_value());
  EXPECT_FALSE(LogStore::ParseCommitFileName("00000000000001234567.crc").has_value());
  EXPECT_FALSE(LogStore::ParseCommitFileName("0000000000000123456a.json").has_value());
  EXPECT_FALSE(LogStore::ParseCommitFileName("99999999999999999999.json").has_value());
  auto classic = LogStore::ParseCheckpointFileName("00000000000000000010.checkpoint.parquet");
  ASSERT_TRUE(classic.has_value());
  EXPECT_EQ(classic->version, 10);
  EXPECT_EQ(classic->kind, CheckpointKind::kClassic);
  auto multi = LogStore::ParseCheckpointFileName(
      "00000000000000000010.checkpoint.0000000001.0000000003.parquet");
  ASSERT_TRUE(multi.has_value());
  EXPECT_EQ(multi->kind, CheckpointKind::kMultiPart);
  EXPECT_FALSE(
      LogStore::ParseCheckpointFileName("00000000000000000010.checkpoint.crc").has_value());
  EXPECT_FALSE(LogStore::ParseCheckpointFileName("_last_checkpoint").has_value());
}

TEST(DeltaLogStoreTest, WriteCommitIsPutIfAbsent) {
  MemFileSystem fs;
  LogStore store(&fs, "/t");
  ASSERT_TRUE(store.CreateLogDir().ok());
  ASSERT_TRUE(store.WriteCommit(0, "first\n").ok());
  Status again = store.WriteCommit(0, "second\n");
  EXPECT_TRUE(again.IsAlreadyExists()) << again.ToString();
  Result<std::string> bytes = store.ReadCommitBytes(0);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "first\n");
  EXPECT_TRUE(store.ReadCommitBytes(1).status().IsNotFound());
  std::string hint = R"({"version":10,"size":15,"parts":3,"v2Checkpoint":{"path":"x"}})";
  ASSERT_TRUE(fs.WriteFile("/t/_delta_log/_last_checkpoint", hint, true).ok());
  auto parsed = store.ReadLastCheckpoint();
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->version, 10);
  EXPECT_EQ(parsed->parts, 3);
  EXPECT_TRUE(parsed->v2);
}

}  // namespace
}  // namespace lakelog::delta

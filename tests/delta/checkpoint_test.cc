// Classic checkpoints: when DeltaTable writes them, what they hold, and that a table whose
// early JSON commits are gone is read through them alone.
#include "delta/checkpoint.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::delta {
namespace {

using namespace testing;

constexpr int64_t kNowMs = 1795515330000;  // 2026-11-24T10:15:30Z
constexpr int64_t kDayMs = 86'400'000;

class CheckpointTest : public ::testing::Test {
 protected:
  std::string LogFile(const std::string& name) const {
    return JoinPath(JoinPath(root_, "_delta_log"), name);
  }
  static std::string CheckpointName(int64_t version) {
    return LogStore::CheckpointFileName(version);
  }
  // The checkpoint's rows, each one action object as the reader decodes it.
  std::vector<nlohmann::json> CheckpointRows(int64_t version) {
    Result<std::vector<nlohmann::json>> rows =
        parquet::ReadParquetRowsAsJson(&fs_, LogFile(CheckpointName(version)));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<nlohmann::json>{};
  }
  // The snapshot replayed from the JSON commits alone, ignoring any checkpoint.
  DeltaSnapshot JsonOnlySnapshot(int64_t latest) {
    LogStore store(&fs_, root_);
    SnapshotBuilder builder(/*track_files=*/true);
    for (int64_t v = 0; v <= latest; ++v) {
      Result<std::vector<Action>> actions = store.ReadCommit(v);
      EXPECT_TRUE(actions.ok()) << actions.status().ToString();
      if (!actions.ok()) break;
      for (Action& a : *actions) builder.Apply(std::move(a));
    }
    builder.set_version(latest);
    Result<DeltaSnapshot> snap = std::move(builder).Finish();
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    return snap.ok() ? std::move(snap).value() : DeltaSnapshot{};
  }

  MemFileSystem fs_;
  const std::string root_ = "/t";
};

void ExpectSameFiles(const DeltaSnapshot& a, const DeltaSnapshot& b) {
  ASSERT_EQ(a.files.size(), b.files.size());
  for (size_t i = 0; i < a.files.size(); ++i) {
    EXPECT_EQ(a.files[i].path, b.files[i].path);
    EXPECT_EQ(a.files[i].partition_values, b.files[i].partition_values) << a.files[i].path;
    EXPECT_EQ(a.files[i].size, b.files[i].size);
    EXPECT_EQ(a.files[i].modification_time_ms, b.files[i].modification_time_ms);
    EXPECT_EQ(a.files[i].stats, b.files[i].stats);
    EXPECT_EQ(a.files[i].num_records, b.files[i].num_records);
  }
}

TEST_F(CheckpointTest, EveryTenthCommitWritesOneThatReplaysLikeTheLog) {
  Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs_, root_, {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  // Pipelines that exercise the partition values: plain, escaped in paths, null (empty name).
  const std::vector<std::string> pipelines = {"ingest", "a b/c=d%", "", "naïve"};
  for (int i = 1; i <= 25; ++i) {
    std::vector<LogEvent> events;
    for (int j = 0; j <= i % 3; ++j) {
      events.push_back(MakeEvent(pipelines[(i + j) % pipelines.size()], kTs + j * kMicrosPerDay,
                                 "m" + std::to_string(i)));
    }
    DeltaAppendOptions options;
    if (i % 4 == 0) options.txn = DeltaTxn{"app-" + std::to_string(i % 8), i};
    Result<DeltaCommitResult> r = (*table)->Append(Pointers(events), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->version, i);
    EXPECT_TRUE(r->checkpoint_status.ok()) << r->checkpoint_status.ToString();
    if (i % 10 == 0) {
      EXPECT_EQ(r->checkpoint_version, std::optional<int64_t>(i));
    } else {
      EXPECT_FALSE(r->checkpoint_version.has_value()) << i;
    }
  }
  EXPECT_TRUE(fs_.Exists(LogFile(CheckpointName(10))));
  EXPECT_TRUE(fs_.Exists(LogFile(CheckpointName(20))));
  EXPECT_FALSE(fs_.Exists(LogFile(CheckpointName(25))));
  std::string last;
  ASSERT_TRUE(fs_.ReadFile(LogFile("_last_checkpoint"), &last).ok());
  nlohmann::json hint = nlohmann::json::parse(last);
  EXPECT_EQ(hint["version"], 20);

  // The checkpoint of 20 holds protocol, metaData, one txn per app and one add per file.
  const DeltaSnapshot at20 = JsonOnlySnapshot(20);
  std::vector<nlohmann::json> rows = CheckpointRows(20);
  EXPECT_EQ(hint["size"], static_cast<int64_t>(rows.size()));
  EXPECT_EQ(hint["numOfAddFiles"], static_cast<int64_t>(at20.files.size()));
  EXPECT_EQ(rows.size(), 2 + at20.app_txns.size() + at20.files.size());
  size_t adds = 0;
  for (const nlohmann::json& row : rows) {
    if (row.contains("add") && !row["add"].is_null()) {
      ++adds;
      EXPECT_EQ(row["add"]["dataChange"], false);
      EXPECT_TRUE(row["txn"].is_null());
    }
  }
  EXPECT_EQ(adds, at20.files.size());

  // Replay through the checkpoint agrees with the JSON log, and so it does once the commits
  // the checkpoint covers are gone.
  const DeltaSnapshot json_only = JsonOnlySnapshot(25);
  for (int pass = 0; pass < 2; ++pass) {
    Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ(snap->checkpoint_version, std::optional<int64_t>(20));
    EXPECT_EQ(snap->version, 25);
    ExpectSameFiles(*snap, json_only);
    EXPECT_EQ(snap->app_txns, json_only.app_txns);
    // DeltaTable stamps each txn with lastUpdated; the checkpoint keeps it.
    EXPECT_EQ(snap->app_txn_last_updated_ms.size(), json_only.app_txns.size());
    EXPECT_EQ(snap->app_txn_last_updated_ms, json_only.app_txn_last_updated_ms);
    EXPECT_EQ(snap->metadata.id, json_only.metadata.id);
    EXPECT_EQ(snap->metadata.schema_string, json_only.metadata.schema_string);
    EXPECT_EQ(snap->metadata.partition_columns, json_only.metadata.partition_columns);
    EXPECT_EQ(snap->protocol.min_writer_version, json_only.protocol.min_writer_version);
    for (int64_t v = 0; v <= 20 && pass == 0; ++v) {
      ASSERT_TRUE(fs_.DeleteFile(LogFile(LogStore::CommitFileName(v))).ok());
    }
  }
  // A writer opened on the truncated log goes on from the checkpoint.
  Result<std::unique_ptr<DeltaTable>> reopened = DeltaTable::Open(&fs_, root_, {});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Result<std::optional<int64_t>> txn = (*reopened)->TxnVersion("app-4");
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*txn, std::optional<int64_t>(20));
  std::vector<LogEvent> more = {MakeEvent("ingest", kTs)};
  Result<DeltaCommitResult> r = (*reopened)->Append(Pointers(more));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 26);
}

TEST_F(CheckpointTest, IntervalComesFromTheTableAndCanBeTurnedOff) {
  DeltaTableOptions options;
  options.configuration = {{"delta.checkpointInterval", "3"}};
  Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs_, root_, options);
  ASSERT_TRUE(table.ok());
  std::vector<LogEvent> events = {MakeEvent("p", kTs)};
  for (int i = 1; i <= 6; ++i) ASSERT_TRUE((*table)->Append(Pointers(events)).ok());
  EXPECT_TRUE(fs_.Exists(LogFile(CheckpointName(3))));
  EXPECT_TRUE(fs_.Exists(LogFile(CheckpointName(6))));
  EXPECT_FALSE(fs_.Exists(LogFile(CheckpointName(4))));

  DeltaTableOptions off;
  off.write_checkpoints = false;
  Result<std::unique_ptr<DeltaTable>> quiet = DeltaTable::Open(&fs_, root_, off);
  ASSERT_TRUE(quiet.ok());
  for (int i = 7; i <= 9; ++i) {
    Result<DeltaCommitResult> r = (*quiet)->Append(Pointers(events));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->checkpoint_version.has_value());
  }
  EXPECT_FALSE(fs_.Exists(LogFile(CheckpointName(9))));

  DeltaMetadata metadata;
  for (const char* bad : {"0", "-4", "ten", "10x", ""}) {
    metadata.configuration["delta.checkpointInterval"] = bad;
    EXPECT_EQ(CheckpointInterval(metadata), kDefaultCheckpointInterval) << bad;
  }
}

TEST_F(CheckpointTest, TombstonesYoungerThanTheRetentionAreKept) {
  nlohmann::ordered_json metadata = nlohmann::json::parse(MetadataLine());
  metadata["metaData"]["configuration"]["delta.deletedFileRetentionDuration"] = "interval 2 days";
  auto remove = [](const std::string& path, int64_t at_ms) {
    return R"({"remove":{"path":")" + path + R"(","deletionTimestamp":)" + std::to_string(at_ms) +
           R"(,"dataChange":true,"extendedFileMetadata":true,"partitionValues":{"pipeline":"p","log_date":"2026-11-24"},"size":100}})";
  };
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), metadata.dump()});
  WriteCommitLines(&fs_, root_, 1,
                   {AddLine("a.parquet", 1), AddLine("b.parquet", 2), AddLine("c.parquet", 3),
                    AddLine("d%20e.parquet", 4)});
  WriteCommitLines(&fs_, root_, 2,
                   {remove("a.parquet", kNowMs - kDayMs), remove("b.parquet", kNowMs - 3 * kDayMs),
                    remove("c.parquet", kNowMs - kDayMs)});
  WriteCommitLines(&fs_, root_, 3, {AddLine("c.parquet", 5)});  // re-added: not a tombstone

  LogStore store(&fs_, root_);
  Result<CheckpointInfo> info = WriteCheckpoint(&fs_, &store, 3, ParquetWriteOptions{}, kNowMs);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->add_files, 2);   // c (re-added) and "d e"
  EXPECT_EQ(info->tombstones, 1);  // a; b expired

  std::vector<std::string> removed;
  std::vector<std::string> added;
  for (const nlohmann::json& row : CheckpointRows(3)) {
    if (!row["remove"].is_null()) {
      removed.push_back(row["remove"]["path"]);
      EXPECT_EQ(row["remove"]["deletionTimestamp"], kNowMs - kDayMs);
      EXPECT_EQ(row["remove"]["dataChange"], false);
      EXPECT_EQ(row["remove"]["size"], 100);
      EXPECT_EQ(row["remove"]["partitionValues"]["pipeline"], "p");
    }
    if (!row["add"].is_null()) added.push_back(row["add"]["path"]);
  }
  EXPECT_EQ(removed, std::vector<std::string>{"a.parquet"});
  // Paths are written URI-encoded, as in the JSON log.
  EXPECT_EQ(added, (std::vector<std::string>{"c.parquet", "d%20e.parquet"}));
}

// A table created elsewhere (Spark with COMMENT, a writer that sets format options) keeps its
// name, description and format options, and its txns their lastUpdated, through a checkpoint
// lakelog writes: in the file's rows and once the JSON commits it covers are gone.
TEST_F(CheckpointTest, CarriesMetadataNameDescriptionOptionsAndTxnLastUpdated) {
  nlohmann::ordered_json metadata = nlohmann::ordered_json::parse(MetadataLine());
  metadata["metaData"]["name"] = "pipeline_logs";
  metadata["metaData"]["description"] = "Pipeline logs, kept 90 days";
  metadata["metaData"]["format"]["options"] = {{"compression", "zstd"}, {"x", "y"}};
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), metadata.dump()});
  WriteCommitLines(&fs_, root_, 1,
                   {R"({"txn":{"appId":"stamped","version":3,"lastUpdated":1795515330123}})",
                    TxnLine("unstamped", 4), AddLine("a.parquet", 1)});

  LogStore store(&fs_, root_);
  ASSERT_TRUE(WriteCheckpoint(&fs_, &store, 1, ParquetWriteOptions{}, kNowMs).ok());
  int metadata_rows = 0;
  std::map<std::string, nlohmann::json> txn_rows;
  for (const nlohmann::json& row : CheckpointRows(1)) {
    if (!row["metaData"].is_null()) {
      ++metadata_rows;
      EXPECT_EQ(row["metaData"]["name"], "pipeline_logs");
      EXPECT_EQ(row["metaData"]["description"], "Pipeline logs, kept 90 days");
      EXPECT_EQ(row["metaData"]["format"]["provider"], "parquet");
      EXPECT_EQ(row["metaData"]["format"]["options"],
                (nlohmann::json{{"compression", "zstd"}, {"x", "y"}}));
    }
    if (!row["txn"].is_null()) txn_rows[row["txn"]["appId"]] = row["txn"];
  }
  EXPECT_EQ(metadata_rows, 1);
  ASSERT_EQ(txn_rows.size(), 2u);
  EXPECT_EQ(txn_rows["stamped"]["lastUpdated"], 1795515330123);
  EXPECT_TRUE(txn_rows["unstamped"]["lastUpdated"].is_null());

  for (int64_t v = 0; v <= 1; ++v) {
    ASSERT_TRUE(fs_.DeleteFile(LogFile(LogStore::CommitFileName(v))).ok());
  }
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->checkpoint_version, std::optional<int64_t>(1));
  EXPECT_EQ(snap->metadata.name, std::optional<std::string>("pipeline_logs"));
  EXPECT_EQ(snap->metadata.description, std::optional<std::string>("Pipeline logs, kept 90 days"));
  EXPECT_EQ(snap->metadata.format_options,
            (std::map<std::string, std::string>{{"compression", "zstd"}, {"x", "y"}}));
  EXPECT_EQ(snap->app_txns, (std::map<std::string, int64_t>{{"stamped", 3}, {"unstamped", 4}}));
  EXPECT_EQ(snap->app_txn_last_updated_ms,
            (std::map<std::string, int64_t>{{"stamped", 1795515330123}}));
}

// Fields the log does not have are null in the checkpoint and absent after reading it back:
// never "" or 0.
TEST_F(CheckpointTest, AbsentNameAndDescriptionStayNull) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine(), TxnLine("app", 1)});
  LogStore store(&fs_, root_);
  ASSERT_TRUE(WriteCheckpoint(&fs_, &store, 0, ParquetWriteOptions{}, kNowMs).ok());
  for (const nlohmann::json& row : CheckpointRows(0)) {
    if (!row["metaData"].is_null()) {
      EXPECT_TRUE(row["metaData"]["name"].is_null()) << row.dump();
      EXPECT_TRUE(row["metaData"]["description"].is_null()) << row.dump();
      EXPECT_EQ(row["metaData"]["format"]["options"], nlohmann::json::object()) << row.dump();
    }
    if (!row["txn"].is_null()) {
      EXPECT_TRUE(row["txn"]["lastUpdated"].is_null()) << row.dump();
    }
  }
  ASSERT_TRUE(fs_.DeleteFile(LogFile(LogStore::CommitFileName(0))).ok());
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&fs_, root_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->checkpoint_version, std::optional<int64_t>(0));
  EXPECT_FALSE(snap->metadata.name.has_value());
  EXPECT_FALSE(snap->metadata.description.has_value());
  EXPECT_TRUE(snap->metadata.format_options.empty());
  EXPECT_EQ(snap->app_txns.at("app"), 1);
  EXPECT_TRUE(snap->app_txn_last_updated_ms.empty());
}

TEST_F(CheckpointTest, ATableWithStateWeDoNotCarryIsNotCheckpointed) {
  WriteCommitLines(
      &fs_, root_, 0,
      {R"({"protocol":{"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":["domainMetadata"]}})",
       MetadataLine()});
  LogStore store(&fs_, root_);
  Result<CheckpointInfo> info = WriteCheckpoint(&fs_, &store, 0, ParquetWriteOptions{}, kNowMs);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kNotSupported) << info.status().ToString();
  EXPECT_NE(info.status().message().find("domainMetadata"), std::string::npos);
  EXPECT_FALSE(fs_.Exists(LogFile(CheckpointName(0))));
  EXPECT_FALSE(fs_.Exists(LogFile("_last_checkpoint")));
}

TEST_F(CheckpointTest, AnOlderCheckpointDoesNotMoveTheHintBack) {
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), MetadataLine()});
  WriteCommitLines(&fs_, root_, 1, {AddLine("a.parquet", 1)});
  WriteCommitLines(&fs_, root_, 2, {AddLine("b.parquet", 1)});
  LogStore store(&fs_, root_);
  ASSERT_TRUE(WriteCheckpoint(&fs_, &store, 2, ParquetWriteOptions{}, kNowMs).ok());
  ASSERT_TRUE(WriteCheckpoint(&fs_, &store, 1, ParquetWriteOptions{}, kNowMs).ok());
  std::optional<LastCheckpointHint> hint = store.ReadLastCheckpoint();
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->version, 2);
  EXPECT_EQ(CheckpointRows(1).size(), 3u);
  EXPECT_EQ(CheckpointRows(2).size(), 4u);
  Result<CheckpointInfo> missing = WriteCheckpoint(&fs_, &store, 7, ParquetWriteOptions{}, kNowMs);
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
}

}  // namespace
}  // namespace lakelog::delta

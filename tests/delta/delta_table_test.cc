// DeltaTable: creation, opening existing tables, appends, idempotent txns.
#include "lakelog/delta_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "delta/log_store.h"
#include "delta/partition_path.h"
#include "delta/table_schema.h"
#include "delta_test_util.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::delta {
namespace {

using namespace testing;

class DeltaTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<DeltaTable> OpenTable(DeltaTableOptions options = {}) {
    Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs_, root_, options);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    return table.ok() ? std::move(table).value() : nullptr;
  }
  std::vector<std::string> ParquetFiles() const {
    std::vector<std::string> out;
    for (const std::string& f : fs_.AllFiles()) {
      if (f.size() > 8 && f.substr(f.size() - 8) == ".parquet") out.push_back(f);
    }
    return out;
  }
  std::vector<Action> ReadCommit(int64_t version) {
    LogStore store(&fs_, root_);
    Result<std::vector<Action>> actions = store.ReadCommit(version);
    EXPECT_TRUE(actions.ok()) << actions.status().ToString();
    return actions.ok() ? std::move(actions).value() : std::vector<Action>{};
  }

  MemFileSystem fs_;
  const std::string root_ = "/data/pipeline_logs";
};

TEST_F(DeltaTableTest, OpenCreatesVersionZero) {
  DeltaTableOptions options;
  options.configuration = {{"delta.appendOnly", "true"}};
  auto table = OpenTable(options);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->root(), root_);
  std::vector<Action> actions = ReadCommit(0);
  ASSERT_EQ(actions.size(), 3u);
  const auto& info = std::get<CommitInfoAction>(actions[0]);
  EXPECT_EQ(info.info.operation, "CREATE TABLE");
  EXPECT_EQ(info.info.parameters.at("partitionBy"), R"(["pipeline","log_date"])");
  EXPECT_EQ(info.info.parameters.at("properties"), R"({"delta.appendOnly":"true"})");
  EXPECT_EQ(info.info.engine_info.value_or("").rfind("lakelog/", 0), 0u);
  const auto& protocol = std::get<DeltaProtocol>(actions[1]);
  EXPECT_EQ(protocol.min_reader_version, 1);
  EXPECT_EQ(protocol.min_writer_version, 2);
  const auto& metadata = std::get<DeltaMetadata>(actions[2]);
  EXPECT_TRUE(std::regex_match(
      metadata.id,
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_EQ(metadata.schema_string, LogSchemaString());
  EXPECT_EQ(metadata.partition_columns, LogPartitionColumns());
  EXPECT_EQ(metadata.configuration.at("delta.appendOnly"), "true");
  EXPECT_TRUE(metadata.created_time_ms.has_value());

  Result<DeltaSnapshot> snap = table->Snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, 0);
  EXPECT_TRUE(snap->files.empty());

  // Reopening neither recreates nor rewrites.
  auto again = OpenTable();
  ASSERT_NE(again, nullptr);
  EXPECT_FALSE(fs_.Exists(root_ + "/_delta_log/00000000000000000001.json"));
}

TEST_F(DeltaTableTest, MissingTableWithoutCreateIsNotFound) {
  DeltaTableOptions options;
  options.create_if_missing = false;
  Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs_, root_, options);
  ASSERT_FALSE(table.ok());
  EXPECT_TRUE(table.status().IsNotFound()) << table.status().ToString();
  EXPECT_TRUE(ReadDeltaSnapshot(&fs_, root_).status().IsNotFound());
}

TEST_F(DeltaTableTest, RacingCreatorsShareOneTable) {
  constexpr int kThreads = 6;
  std::vector<std::unique_ptr<DeltaTable>> tables(kThreads);
  std::vector<Status> statuses(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Result<std::unique_ptr<DeltaTable>> t = DeltaTable::Open(&fs_, root_, {});
      statuses[i] = t.status();
      if (t.ok()) tables[i] = std::move(t).value();
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : statuses) EXPECT_TRUE(st.ok()) << st.ToString();
  LogStore store(&fs_, root_);
  Result<LogListing> listing = store.List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->commits, std::vector<int64_t>{0});
}

TEST_F(DeltaTableTest, ExistingTableWithOtherPartitioningIsInvalidArgument) {
  nlohmann::ordered_json meta;
  meta["metaData"] = {{"id", "x"},
                      {"format", {{"provider", "parquet"}, {"options", nlohmann::json::object()}}},
                      {"schemaString", LogSchemaString()},
                      {"partitionColumns", {"log_date"}},
                      {"configuration", nlohmann::json::object()}};
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), meta.dump()});
  Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs_, root_, {});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), StatusCode::kInvalidArgument) << table.status().ToString();
  EXPECT_NE(table.status().message().find("partitioned by [\"log_date\"]"), std::string::npos)
      << table.status().ToString();
}

TEST_F(DeltaTableTest, ExistingTableWithOtherColumnTypeIsInvalidArgument) {
  std::string schema = LogSchemaString();
  std::string from = R"({"name":"ts","type":"timestamp")";
  schema.replace(schema.find(from), from.size(), R"({"name":"ts","type":"string")");
  nlohmann::ordered_json meta;
  meta["metaData"] = {{"id", "x"},
                      {"schemaString", schema},
                      {"partitionColumns", LogPartitionColumns()},
                      {"configuration", nlohmann::json::object()}};
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), meta.dump()});
  Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs_, root_, {});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(table.status().message().find("'ts' has type \"string\""), std::string::npos)
      << table.status().ToString();
}

TEST_F(DeltaTableTest, ExtraNullableColumnIsAccepted) {
  std::string schema = LogSchemaString();
  schema.insert(schema.size() - 2,
                R"(,{"name":"region","type":"string","nullable":true,"metadata":{}})");
  nlohmann::ordered_json meta;
  meta["metaData"] = {{"id", "x"},
                      {"schemaString", schema},
                      {"partitionColumns", LogPartitionColumns()},
                      {"configuration", nlohmann::json::object()}};
  WriteCommitLines(&fs_, root_, 0, {ProtocolLine(), meta.dump()});
  EXPECT_NE(OpenTable(), nullptr);
}

TEST_F(DeltaTableTest, AppendWritesOneFilePerPartitionInOneCommit) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  std::vector<LogEvent> events = {
      MakeEvent("index_loader", kTs),
      MakeEvent("ingest", kTs),
      MakeEvent("index_loader", kTs + 1),
      MakeEvent("index_loader", kTs + kMicrosPerDay),
      MakeEvent("", kTs),
      MakeEvent("ingest", kTs + 2),
  };
  std::vector<const LogEvent*> ptrs = Pointers(events);
  Result<DeltaCommitResult> result = table->Append(ptrs);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->version, 1);
  EXPECT_EQ(result->files_written, 4);
  EXPECT_EQ(result->rows_written, 6);
  EXPECT_EQ(result->attempts, 1);
  EXPECT_FALSE(result->skipped);
  EXPECT_EQ(ParquetFiles().size(), 4u);

  Result<DeltaSnapshot> snap = table->Snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, 1);
  ASSERT_EQ(snap->files.size(), 4u);
  EXPECT_EQ(snap->TotalRows(), 6);
  EXPECT_EQ(snap->TotalBytes(), result->bytes_written);
  std::map<std::string, int64_t> rows_by_partition;
  for (const DeltaAddFile& f : snap->files) {
    EXPECT_TRUE(fs_.Exists(JoinPath(root_, f.path))) << f.path;
    EXPECT_TRUE(IsSafeRelativePath(f.path));
    // The log's numRecords and size describe the file actually written.
    Result<parquet::ParquetFileSummary> summary =
        parquet::ReadParquetSummary(&fs_, JoinPath(root_, f.path));
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_EQ(summary->num_rows, f.num_records.value_or(-1));
    EXPECT_EQ(static_cast<int64_t>(fs_.Stat(JoinPath(root_, f.path))->size), f.size);
    std::string pipeline = f.partition_values.at("pipeline").value_or("<null>");
    rows_by_partition[pipeline + "/" + f.partition_values.at("log_date").value_or("?")] =
        f.num_records.value_or(-1);
    nlohmann::json stats = nlohmann::json::parse(f.stats.value_or("{}"));
    EXPECT_EQ(stats["minValues"]["level"], "INFO");
    EXPECT_EQ(stats["nullCount"]["attributes"], 0);
  }
  std::map<std::string, int64_t> expected = {{"index_loader/2026-11-24", 2},
                                             {"index_loader/2026-11-25", 1},
                                             {"ingest/2026-11-24", 2},
                                             {"<null>/2026-11-24", 1}};
  EXPECT_EQ(rows_by_partition, expected);

  std::vector<Action> commit = ReadCommit(1);
  ASSERT_EQ(commit.size(), 5u);
  const auto& info = std::get<CommitInfoAction>(commit[0]);
  EXPECT_EQ(info.info.operation, "WRITE");
  EXPECT_EQ(info.info.parameters.at("mode"), "Append");
  EXPECT_EQ(info.info.parameters.at("partitionBy"), R"(["pipeline","log_date"])");
  EXPECT_EQ(info.info.metrics.at("numFiles"), "4");
  EXPECT_EQ(info.info.metrics.at("numOutputRows"), "6");
  EXPECT_EQ(info.info.metrics.at("numOutputBytes"), std::to_string(result->bytes_written));
  EXPECT_EQ(info.is_blind_append, true);
  EXPECT_TRUE(info.txn_id.has_value());

  Result<std::vector<DeltaCommitInfo>> history = table->History();
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].operation, "CREATE TABLE");
  EXPECT_EQ((*history)[1].version, 1);
  EXPECT_EQ((*history)[1].operation, "WRITE");
}

// A batch of more partitions than a writing thread keeps open at once (64), interleaved event
// by event: every partition gets one file holding exactly its events, in batch order.
TEST_F(DeltaTableTest, ManyInterleavedPartitionsKeepTheirRowsInOrder) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  constexpr int kPipelines = 150;
  std::vector<LogEvent> events;
  std::map<std::string, std::vector<std::string>> expected;  // "pipeline/day" -> messages
  for (int i = 0; i < 6000; ++i) {
    const std::string pipeline = "p" + std::to_string(i % kPipelines);
    const int day = (i / kPipelines) % 2;
    const std::string message = "e" + std::to_string(i);
    events.push_back(MakeEvent(pipeline, kTs + day * kMicrosPerDay + i, message));
    expected[pipeline + "/" + (day == 0 ? "2026-11-24" : "2026-11-25")].push_back(message);
  }
  Result<DeltaCommitResult> result = table->Append(Pointers(events));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_written, 2 * kPipelines);
  EXPECT_EQ(result->rows_written, 6000);

  Result<DeltaSnapshot> snap = table->Snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  std::map<std::string, std::vector<std::string>> found;
  for (const DeltaAddFile& f : snap->files) {
    const std::string key = f.partition_values.at("pipeline").value_or("<null>") + "/" +
                            f.partition_values.at("log_date").value_or("?");
    EXPECT_EQ(found.count(key), 0u) << "two files for " << key;
    auto rows = parquet::ReadParquetRowsAsJson(&fs_, JoinPath(root_, f.path));
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(static_cast<int64_t>(rows->size()), f.num_records.value_or(-1));
    for (const nlohmann::json& row : *rows) found[key].push_back(row["message"]);
  }
  EXPECT_EQ(found, expected);
}

TEST_F(DeltaTableTest, HostilePipelineNamesStayInsideTheTable) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  std::vector<LogEvent> events;
  for (const char* name : {"..", ".", "../../etc", "/abs", "a/b", "x=y", "100%", "it's \"q\"",
                           "caf\xc3\xa9", "tab\tnl\n", "__HIVE_DEFAULT_PARTITION__"}) {
    events.push_back(MakeEvent(name, kTs));
  }
  std::vector<const LogEvent*> ptrs = Pointers(events);
  Result<DeltaCommitResult> result = table->Append(ptrs);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_written, static_cast<int>(events.size()));
  for (const std::string& file : fs_.AllFiles()) {
    EXPECT_EQ(file.rfind(root_ + "/", 0), 0u) << file;
  }
  Result<DeltaSnapshot> snap = table->Snapshot();
  ASSERT_TRUE(snap.ok());
  std::set<std::string> pipelines;
  for (const DeltaAddFile& f : snap->files) {
    pipelines.insert(f.partition_values.at("pipeline").value_or("<null>"));
    EXPECT_TRUE(fs_.Exists(JoinPath(root_, f.path))) << f.path;
  }
  // The log holds the raw values: the directory name is only a hint.
  EXPECT_TRUE(pipelines.count("../../etc"));
  EXPECT_TRUE(pipelines.count("tab\tnl\n"));
  EXPECT_TRUE(pipelines.count("__HIVE_DEFAULT_PARTITION__"));
}

TEST_F(DeltaTableTest, InvalidUtf8PipelineIsRejectedBeforeWriting) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  std::vector<LogEvent> events = {MakeEvent("ok", kTs), MakeEvent("bad\xff", kTs)};
  std::vector<const LogEvent*> ptrs = Pointers(events);
  Result<DeltaCommitResult> result = table->Append(ptrs);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParquetFiles().empty());
}

TEST_F(DeltaTableTest, EmptyBatchCommitsNothing) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  Result<DeltaCommitResult> result = table->Append({});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->version, 0);
  EXPECT_EQ(result->files_written, 0);
  EXPECT_FALSE(fs_.Exists(root_ + "/_delta_log/00000000000000000001.json"));
}

TEST_F(DeltaTableTest, SecondAppendWithSameTxnIsSkipped) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  std::vector<LogEvent> events = {MakeEvent("p", kTs), MakeEvent("q", kTs)};
  std::vector<const LogEvent*> ptrs = Pointers(events);
  DeltaAppendOptions options;
  options.txn = DeltaTxn{"writer-1", 7};
  Result<DeltaCommitResult> first = table->Append(ptrs, options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->skipped);
  EXPECT_EQ(first->version, 1);
  size_t files_after_first = ParquetFiles().size();

  Result<DeltaCommitResult> second = table->Append(ptrs, options);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->skipped);
  EXPECT_EQ(second->version, 1);
  EXPECT_EQ(second->files_written, 0);
  EXPECT_EQ(ParquetFiles().size(), files_after_first);

  // A lower version is a duplicate too; a fresh handle (another process) sees the txn.
  auto other = OpenTable();
  ASSERT_NE(other, nullptr);
  options.txn->version = 3;
  Result<DeltaCommitResult> lower = other->Append(ptrs, options);
  ASSERT_TRUE(lower.ok());
  EXPECT_TRUE(lower->skipped);
  Result<std::optional<int64_t>> txn = other->TxnVersion("writer-1");
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*txn, 7);
  EXPECT_EQ(*other->TxnVersion("nobody"), std::nullopt);

  options.txn->version = 8;
  Result<DeltaCommitResult> next = other->Append(ptrs, options);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->skipped);
  EXPECT_EQ(next->version, 2);
  Result<DeltaSnapshot> snap = table->Snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->app_txns.at("writer-1"), 8);
  EXPECT_EQ(snap->TotalRows(), 4);
  // The first handle catches up before deciding.
  EXPECT_EQ(*table->TxnVersion("writer-1"), 8);
}

}  // namespace
}  // namespace lakelog::delta

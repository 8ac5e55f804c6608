// DeltaSink through the engine: one commit per round for all pipelines, idempotent retries.
#include "lakelog/delta_sink.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "delta/log_store.h"
#include "delta/table_schema.h"
#include "lakelog/delta_table.h"
#include "lakelog/engine.h"

namespace lakelog {
namespace {

TEST(FlushDeltaSinkTest, OneCommitPerRoundCoversEveryPipeline) {
  auto fs = NewMemFileSystem();
  auto sink = NewDeltaSink(fs.get(), "/t");
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EngineOptions o;
  o.writer_id = "writer-1";
  auto engine = Engine::Open(o, std::move(sink).value()).value();
  for (const char* name : {"a", "b", "c"}) {
    Logger log = engine->GetLogger(name).value();
    for (int i = 0; i < 5; ++i) (void)log.Info("s", "SUCCESS", "m");
  }
  ASSERT_TRUE(engine->Flush().ok());
  auto snap = ReadDeltaSnapshot(fs.get(), "/t");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, 1);  // version 0 created the table; one commit for three pipelines
  EXPECT_EQ(snap->files.size(), 3u);
  EXPECT_EQ(snap->TotalRows(), 15);
  EXPECT_EQ(snap->app_txns.at("writer-1"), 1);
}

TEST(FlushDeltaSinkTest, RetriedRoundIsCommittedOnce) {
  auto fs = NewMemFileSystem();
  auto sink = NewDeltaSink(fs.get(), "/t").value();
  LogEvent e;
  e.pipeline = "p";
  e.ts_micros = ManualClock::kDefaultStartMicros;
  e.message = "m";
  const LogEvent* batch[] = {&e};
  SinkWriteContext ctx{"w", 1, 1};
  ASSERT_TRUE(sink->Write(batch, ctx).ok());
  ctx.attempt = 2;  // the engine retries after an ambiguous failure
  ASSERT_TRUE(sink->Write(batch, ctx).ok());
  auto snap = ReadDeltaSnapshot(fs.get(), "/t").value();
  EXPECT_EQ(snap.version, 1);
  EXPECT_EQ(snap.TotalRows(), 1);
  ctx = SinkWriteContext{"w", 2, 1};
  ASSERT_TRUE(sink->Write(batch, ctx).ok());
  EXPECT_EQ(ReadDeltaSnapshot(fs.get(), "/t")->TotalRows(), 2);
}

TEST(FlushDeltaSinkTest, RestartedWriterContinuesAboveItsLastVersion) {
  auto fs = NewMemFileSystem();
  for (int run = 0; run < 2; ++run) {
    EngineOptions o;
    o.writer_id = "stable-writer";  // round numbers restart at 1 in every engine
    auto engine = Engine::Open(o, NewDeltaSink(fs.get(), "/t").value()).value();
    (void)engine->GetLogger("p").value().Info("s", "SUCCESS", "m");
    ASSERT_TRUE(engine->Stop().ok());
  }
  auto snap = ReadDeltaSnapshot(fs.get(), "/t").value();
  EXPECT_EQ(snap.TotalRows(), 2);
  EXPECT_EQ(snap.app_txns.at("stable-writer"), 2);
}

TEST(FlushDeltaSinkTest, CommittedRoundIsTheTablesTxnVersion) {
  auto fs = NewMemFileSystem();
  auto sink = NewDeltaSink(fs.get(), "/t").value();
  EXPECT_EQ(sink->CommittedRound("w").value(), 0);
  LogEvent e;
  e.pipeline = "p";
  e.ts_micros = ManualClock::kDefaultStartMicros;
  const LogEvent* batch[] = {&e};
  ASSERT_TRUE(sink->Write(batch, SinkWriteContext{"w", 41, 1}).ok());
  EXPECT_EQ(sink->CommittedRound("w").value(), 41);
  EXPECT_EQ(sink->CommittedRound("other").value(), 0);
}

// A table lakelog may append to but not checkpoint (its protocol lists domainMetadata, whose
// state a lakelog checkpoint would not carry), checkpointed after every commit.
void WriteUncheckpointableTable(FileSystem* fs, const std::string& root) {
  nlohmann::ordered_json protocol;
  protocol["protocol"] = {
      {"minReaderVersion", 1}, {"minWriterVersion", 7}, {"writerFeatures", {"domainMetadata"}}};
  nlohmann::ordered_json metadata;
  metadata["metaData"] = {
      {"id", "11111111-2222-4333-8444-555555555555"},
      {"format", {{"provider", "parquet"}, {"options", nlohmann::json::object()}}},
      {"schemaString", delta::LogSchemaString()},
      {"partitionColumns", delta::LogPartitionColumns()},
      {"configuration", {{"delta.checkpointInterval", "1"}}},
      {"createdTime", 1}};
  ASSERT_TRUE(fs->CreateDirs(root + "/_delta_log").ok());
  ASSERT_TRUE(fs->WriteFile(root + "/_delta_log/" + delta::LogStore::CommitFileName(0),
                            protocol.dump() + "\n" + metadata.dump() + "\n", /*sync=*/true)
                  .ok());
}

TEST(FlushDeltaSinkTest, ACheckpointNotWrittenReachesTheErrorHandlerAndTheRoundStands) {
  auto fs = NewMemFileSystem();
  WriteUncheckpointableTable(fs.get(), "/t");
  std::mutex mu;
  std::vector<Status> errors;
  EngineOptions o;
  o.error_handler = [&](const Status& st) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(st);
  };
  auto engine = Engine::Open(o, NewDeltaSink(fs.get(), "/t").value()).value();
  // The checkpoint is written in the background (its failure does not touch the round) and
  // its outcome is told with the next round.
  (void)engine->GetLogger("p").value().Info("s", "SUCCESS", "m");
  ASSERT_TRUE(engine->Flush().ok());
  (void)engine->GetLogger("p").value().Info("s", "SUCCESS", "m2");
  ASSERT_TRUE(engine->Flush().ok());
  auto snap = ReadDeltaSnapshot(fs.get(), "/t");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->TotalRows(), 2);
  EXPECT_FALSE(snap->checkpoint_version.has_value());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(errors.size(), 1u);
  const std::string text = errors[0].ToString();
  EXPECT_NE(text.find("checkpoint of version 1"), std::string::npos) << text;
  EXPECT_NE(text.find("domainMetadata"), std::string::npos) << text;
  EXPECT_EQ(engine->rounds_written(), 2);
}

TEST(FlushDeltaSinkTest, CheckpointsAreWrittenOnTheTablesInterval) {
  auto fs = NewMemFileSystem();
  DeltaTableOptions table_options;
  table_options.configuration = {{"delta.checkpointInterval", "2"}};
  EngineOptions o;
  o.error_handler = [](const Status& st) { ADD_FAILURE() << st.ToString(); };
  auto engine = Engine::Open(o, NewDeltaSink(fs.get(), "/t", table_options).value()).value();
  Logger log = engine->GetLogger("p").value();
  for (int round = 0; round < 4; ++round) {
    (void)log.Info("s", "SUCCESS", "m");
    ASSERT_TRUE(engine->Flush().ok());
  }
  auto snap = ReadDeltaSnapshot(fs.get(), "/t");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, 4);
  EXPECT_EQ(snap->checkpoint_version, std::optional<int64_t>(4));
  EXPECT_EQ(snap->TotalRows(), 4);
}

}  // namespace
}  // namespace lakelog

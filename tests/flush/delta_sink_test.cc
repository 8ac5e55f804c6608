// DeltaSink through the engine: one commit per round for all pipelines, idempotent retries.
#include "lakelog/delta_sink.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "delta/log_store.h"
#include "delta/table_schema.h"
#include "lakelog/clock.h"
#include "lakelog/delta_table.h"
#include "lakelog/engine.h"
#include "storage/fault_injection_file_system.h"

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

// The engine's clock reaches the Delta sink's table (Sink::Attach): under a simulated clock far
// from now, a round's commit is stamped with the simulated time, not the wall clock's.
class DeltaSinkClockTest : public ::testing::Test {
 protected:
  // 2001-09-09T01:46:40Z: decades from any real clock a test runs under.
  static constexpr int64_t kSimulatedMicros = 1'000'000'000'000'000;

  std::unique_ptr<Engine> OpenEngine(std::unique_ptr<Sink> sink) {
    EngineOptions o;
    o.clock = &clock_;
    o.flush_threads = 0;  // rounds run in RunDueRounds(), on the simulated clock
    o.writer_id = "writer-1";
    o.error_handler = [](const Status& st) { ADD_FAILURE() << st.ToString(); };
    auto engine = Engine::Open(o, std::move(sink));
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(engine).value() : nullptr;
  }

  // Logs one event and runs the round that is then due: one commit.
  void WriteOneRound(Engine* engine) {
    (void)engine->GetLogger("p").value().Info("s", "SUCCESS", "m");
    clock_.AdvanceSeconds(5);
    Result<int> rounds = engine->RunDueRounds();
    ASSERT_TRUE(rounds.ok()) << rounds.status().ToString();
    ASSERT_EQ(*rounds, 1);
  }

  // The commitInfo of every commit, oldest first.
  std::vector<DeltaCommitInfo> History() {
    DeltaTableOptions options;
    options.create_if_missing = false;
    auto table = DeltaTable::Open(fs_.get(), "/t", options);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    if (!table.ok()) return {};
    auto history = (*table)->History();
    EXPECT_TRUE(history.ok()) << history.status().ToString();
    return history.ok() ? *history : std::vector<DeltaCommitInfo>{};
  }

  int64_t NowMs() const { return clock_.NowMicros() / 1000; }

  ManualClock clock_{kSimulatedMicros};
  std::unique_ptr<FileSystem> fs_ = NewMemFileSystem();
};

TEST_F(DeltaSinkClockTest, ARoundsCommitIsStampedWithTheEnginesClock) {
  auto engine = OpenEngine(NewDeltaSink(fs_.get(), "/t").value());
  ASSERT_NE(engine, nullptr);
  WriteOneRound(engine.get());
  std::vector<DeltaCommitInfo> history = History();
  ASSERT_EQ(history.size(), 2u);  // the creation, then the round
  EXPECT_EQ(history[1].version, 1);
  EXPECT_EQ(history[1].timestamp_ms, NowMs());
  auto snap = ReadDeltaSnapshot(fs_.get(), "/t");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->app_txns.at("writer-1"), 1);
  EXPECT_EQ(snap->app_txn_last_updated_ms.at("writer-1"), NowMs());
  ASSERT_EQ(snap->files.size(), 1u);
  EXPECT_EQ(snap->files[0].modification_time_ms, NowMs());
}

// A table the sink could not open at NewDeltaSink (a full disk) is opened by its first Write,
// on the engine's clock too: its creation and the round's commit are both simulated time.
TEST_F(DeltaSinkClockTest, ALazilyOpenedTableTakesTheEnginesClock) {
  FaultInjectionFileSystem faulty(fs_.get());
  FaultRule full_disk;
  full_disk.op = FaultOp::kCreateDirs;
  full_disk.kind = FaultKind::kNoSpace;
  faulty.AddRule(full_disk);
  auto sink = NewDeltaSink(&faulty, "/t");
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_EQ(faulty.injected(), 1);
  auto engine = OpenEngine(std::move(sink).value());
  ASSERT_NE(engine, nullptr);
  WriteOneRound(engine.get());
  std::vector<DeltaCommitInfo> history = History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].timestamp_ms, NowMs());
  EXPECT_EQ(history[1].timestamp_ms, NowMs());
  EXPECT_EQ(ReadDeltaSnapshot(fs_.get(), "/t")->app_txn_last_updated_ms.at("writer-1"), NowMs());
}

// DeltaTableOptions::clock, when the caller sets it, is the table's time whatever the engine's.
TEST_F(DeltaSinkClockTest, TheTablesOwnClockWinsOverTheEngines) {
  ManualClock table_clock(ManualClock::kDefaultStartMicros);
  DeltaTableOptions options;
  options.clock = &table_clock;
  auto engine = OpenEngine(NewDeltaSink(fs_.get(), "/t", options).value());
  ASSERT_NE(engine, nullptr);
  WriteOneRound(engine.get());
  std::vector<DeltaCommitInfo> history = History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].timestamp_ms, table_clock.NowMicros() / 1000);
}

}  // namespace
}  // namespace lakelog

// DeltaSink through the engine: one commit per round for all pipelines, idempotent retries.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace lakelog

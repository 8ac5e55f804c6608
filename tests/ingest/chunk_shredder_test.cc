// ChunkShredder: chunks parsed on one thread, shredded on two into the two parts of a Delta
// append stream, drained batch by batch; a refused chunk's error reaches its batch.
#include "ingest/chunk_shredder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::ingest {
namespace {

constexpr int64_t kTs = 1795515330000000;  // 2026-11-24T10:15:30Z

// Fills the shredder's next event as a parser would.
void Parse(ChunkShredder& shredder, const std::string& pipeline, const std::string& message) {
  LogEvent* e = shredder.Next();
  e->pipeline = pipeline;
  e->ts_micros = kTs;
  e->message = message;
  shredder.Push();
}

// Three batches of 20,000 events over 25 pipelines, chunk after chunk through two threads, the
// batches committed in turn from the thread that waits for their tickets: every row once, in
// its file in the order parsed, even though each chunk's events are parsed over again.
TEST(ChunkShredderTest, TwoThreadsShredEveryChunkIntoTheirPartsInOrder) {
  MemFileSystem fs;
  auto table = DeltaTable::Open(&fs, "/t", {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ChunkShredder shredder(2);
  ASSERT_EQ(shredder.threads(), 2u);
  ShreddedBatch batch((*table)->NewAppendStream(shredder.threads()));
  std::map<std::string, std::vector<std::string>> expected;  // by pipeline
  int id = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20000; ++i, ++id) {
      const std::string pipeline = "p" + std::to_string(id % 25);
      Parse(shredder, pipeline, "m" + std::to_string(id));
      expected[pipeline].push_back("m" + std::to_string(id));
      if (shredder.full()) shredder.Submit(&batch);
    }
    shredder.Submit(&batch);
    Status error = shredder.Drain(&batch);
    ASSERT_TRUE(error.ok()) << error.ToString();
    EXPECT_EQ(batch.stream->rows(), 20000);
    Result<DeltaCommitResult> result = batch.stream->Commit();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->rows_written, 20000);
  }
  auto snapshot = (*table)->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  std::map<std::string, std::vector<std::string>> found;
  const std::vector<DeltaAddFile>& files = snapshot->files;
  for (const DeltaAddFile& f : files) {
    auto rows = parquet::ReadParquetRowsAsJson(&fs, "/t/" + f.path);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    for (const nlohmann::json& row : *rows) {
      found[*f.partition_values.at("pipeline")].push_back(row["message"]);
    }
  }
  ASSERT_EQ(found.size(), expected.size());
  for (auto& [pipeline, messages] : expected) {
    std::vector<std::string> got = found[pipeline];
    // Each file holds one batch's rows of the pipeline in order; the snapshot lists the files in
    // no particular order, so compare as a multiset, and each file's run in order below.
    std::sort(got.begin(), got.end());
    std::vector<std::string> want = messages;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << pipeline;
  }
  for (const DeltaAddFile& f : files) {
    auto rows = parquet::ReadParquetRowsAsJson(&fs, "/t/" + f.path);
    ASSERT_TRUE(rows.ok());
    int last = -1;
    for (const nlohmann::json& row : *rows) {
      const int n = std::stoi(row["message"].get<std::string>().substr(1));
      EXPECT_GT(n, last) << f.path;
      last = n;
    }
  }
}

TEST(ChunkShredderTest, ARefusedChunkReachesItsBatchError) {
  MemFileSystem fs;
  auto table = DeltaTable::Open(&fs, "/t", {});
  ASSERT_TRUE(table.ok());
  ChunkShredder shredder(2);
  ShreddedBatch batch((*table)->NewAppendStream(shredder.threads()));
  Parse(shredder, "fine", "a");
  Parse(shredder, "bad\xff", "b");  // not valid UTF-8: no partition value
  shredder.Submit(&batch);
  Status error = shredder.Drain(&batch);
  EXPECT_EQ(error.code(), StatusCode::kInvalidArgument) << error.ToString();
}

}  // namespace
}  // namespace lakelog::ingest

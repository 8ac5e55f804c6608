// DeltaAppendStream: a batch fed in parts and committed as one Append, reused across batches,
// abandoned without leftovers, skipped or refused as Append is.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "storage/fault_injection_file_system.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::delta {
namespace {

using namespace testing;

class AppendStreamTest : public ::testing::Test {
 protected:
  std::unique_ptr<DeltaTable> OpenTable(FileSystem* fs, DeltaTableOptions options = {}) {
    Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(fs, root_, options);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    return table.ok() ? std::move(table).value() : nullptr;
  }
  size_t ParquetFiles() const {
    size_t n = 0;
    for (const std::string& f : fs_.AllFiles()) n += f.ends_with(".parquet") ? 1 : 0;
    return n;
  }
  // Messages by "pipeline/log_date", each file's rows in file order; fails on two files of one
  // partition in the snapshot.
  std::map<std::string, std::vector<std::string>> MessagesByPartition(DeltaTable* table) {
    std::map<std::string, std::vector<std::string>> found;
    Result<DeltaSnapshot> snap = table->Snapshot();
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    if (!snap.ok()) return found;
    for (const DeltaAddFile& f : snap->files) {
      const std::string key = f.partition_values.at("pipeline").value_or("<null>") + "/" +
                              f.partition_values.at("log_date").value_or("?");
      EXPECT_EQ(found.count(key), 0u) << "two files for " << key;
      auto rows = parquet::ReadParquetRowsAsJson(&fs_, JoinPath(root_, f.path));
      EXPECT_TRUE(rows.ok()) << rows.status().ToString();
      if (!rows.ok()) continue;
      for (const nlohmann::json& row : *rows) found[key].push_back(row["message"]);
    }
    return found;
  }

  MemFileSystem fs_;
  const std::string root_ = "/data/pipeline_logs";
};

// 6,000 events of 30 pipelines over two days, added 700 at a time through ONE buffer that is
// overwritten after each Add: one commit, one file per partition, each file's rows in the order
// they were added, and nothing of the overwritten events lost.
TEST_F(AppendStreamTest, PartsCommitAsOneAppendWithOneFilePerPartitionInOrder) {
  auto table = OpenTable(&fs_);
  ASSERT_NE(table, nullptr);
  std::unique_ptr<DeltaAppendStream> stream = table->NewAppendStream();
  std::map<std::string, std::vector<std::string>> expected;
  std::vector<LogEvent> buffer;
  auto add_buffer = [&] {
    ASSERT_TRUE(stream->Add(Pointers(buffer)).ok());
    for (LogEvent& e : buffer) e = MakeEvent("overwritten", kTs, "overwritten");
    buffer.clear();
  };
  for (int i = 0; i < 6000; ++i) {
    const std::string pipeline = "p" + std::to_string(i % 30);
    const int day = (i / 30) % 2;
    const std::string message = "e" + std::to_string(i);
    buffer.push_back(MakeEvent(pipeline, kTs + day * kMicrosPerDay + i, message));
    expected[pipeline + "/" + (day == 0 ? "2026-11-24" : "2026-11-25")].push_back(message);
    if (buffer.size() == 700) add_buffer();
  }
  add_buffer();
  EXPECT_EQ(stream->rows(), 6000);

  Result<DeltaCommitResult> result = stream->Commit();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->version, 1);
  EXPECT_EQ(result->files_written, 60);
  EXPECT_EQ(result->rows_written, 6000);
  EXPECT_EQ(stream->rows(), 0);  // empty again
  EXPECT_EQ(ParquetFiles(), 60u);
  EXPECT_EQ(MessagesByPartition(table.get()), expected);
}

// A stream of two parts fed on two threads at once, each with every event: the files split
// between the parts, and the commit is the same as one thread's would be.
TEST_F(AppendStreamTest, TwoPartsFedOnTwoThreadsCommitAsOneAppend) {
  auto table = OpenTable(&fs_);
  ASSERT_NE(table, nullptr);
  std::unique_ptr<DeltaAppendStream> stream = table->NewAppendStream(/*parts=*/2);
  ASSERT_EQ(stream->parts(), 2u);
  std::map<std::string, std::vector<std::string>> expected;
  std::vector<std::vector<LogEvent>> chunks(10);
  for (int i = 0; i < 5000; ++i) {
    const std::string pipeline = "p" + std::to_string(i % 40);
    const std::string message = "e" + std::to_string(i);
    chunks[i / 500].push_back(MakeEvent(pipeline, kTs + i, message));
    expected[pipeline + "/2026-11-24"].push_back(message);
  }
  auto feed = [&](size_t part) {
    for (const auto& chunk : chunks) {
      ASSERT_TRUE(stream->AddPart(Pointers(chunk), part).ok());
    }
  };
  std::thread first(feed, 0), second(feed, 1);
  first.join();
  second.join();
  EXPECT_EQ(stream->rows(), 5000);
  Result<DeltaCommitResult> result = stream->Commit();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_written, 40);
  EXPECT_EQ(result->rows_written, 5000);
  EXPECT_EQ(MessagesByPartition(table.get()), expected);
}

TEST_F(AppendStreamTest, AbandonLeavesNothingAndTheStreamTakesTheNextBatch) {
  ParquetWriteOptions small_row_groups;
  small_row_groups.row_group_size_bytes = 2048;  // row groups go out while rows are added
  DeltaTableOptions options;
  options.parquet = small_row_groups;
  auto table = OpenTable(&fs_, options);
  ASSERT_NE(table, nullptr);
  std::unique_ptr<DeltaAppendStream> stream = table->NewAppendStream();
  std::vector<LogEvent> first;
  for (int i = 0; i < 500; ++i) first.push_back(MakeEvent("p" + std::to_string(i % 3), kTs + i));
  ASSERT_TRUE(stream->Add(Pointers(first)).ok());
  EXPECT_GT(ParquetFiles(), 0u);  // row groups written out already
  stream->Abandon();
  EXPECT_EQ(ParquetFiles(), 0u);
  EXPECT_EQ(stream->rows(), 0);
  EXPECT_EQ((*table->Snapshot()).version, 0);

  std::vector<LogEvent> second = {MakeEvent("q", kTs, "kept-1"), MakeEvent("q", kTs, "kept-2")};
  ASSERT_TRUE(stream->Add(Pointers(second)).ok());
  Result<DeltaCommitResult> result = stream->Commit();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows_written, 2);
  std::map<std::string, std::vector<std::string>> expected = {
      {"q/2026-11-24", {"kept-1", "kept-2"}}};
  EXPECT_EQ(MessagesByPartition(table.get()), expected);
  EXPECT_EQ(ParquetFiles(), 1u);
}

TEST_F(AppendStreamTest, ABatchTheTableHoldsIsSkippedAndItsFilesDeleted) {
  auto table = OpenTable(&fs_);
  ASSERT_NE(table, nullptr);
  DeltaAppendOptions options;
  options.txns = {DeltaTxn{"app-0", 9, 0}, DeltaTxn{"app-1", 4, 0}};
  std::vector<LogEvent> events = {MakeEvent("p", kTs), MakeEvent("r", kTs)};
  std::unique_ptr<DeltaAppendStream> stream = table->NewAppendStream();
  ASSERT_TRUE(stream->Add(Pointers(events)).ok());
  ASSERT_TRUE(stream->Commit(options).ok());
  ASSERT_EQ(ParquetFiles(), 2u);

  ASSERT_TRUE(stream->Add(Pointers(events)).ok());  // the same batch again
  Result<DeltaCommitResult> again = stream->Commit(options);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(again->version, 1);
  EXPECT_EQ(ParquetFiles(), 2u);
  EXPECT_EQ((*table->Snapshot()).TotalRows(), 2);

  // Part of it held (app-1 at 2, inside [0, 4]): Conflict, nothing written.
  DeltaAppendOptions overlapping;
  overlapping.txns = {DeltaTxn{"app-2", 9, 0}, DeltaTxn{"app-1", 6, 2}};
  ASSERT_TRUE(stream->Add(Pointers(events)).ok());
  Result<DeltaCommitResult> conflict = stream->Commit(overlapping);
  EXPECT_TRUE(conflict.status().IsConflict()) << conflict.status().ToString();
  EXPECT_EQ(ParquetFiles(), 2u);
  EXPECT_EQ(stream->rows(), 0);
}

TEST_F(AppendStreamTest, AnInvalidPipelineNameRefusesTheWholeCall) {
  auto table = OpenTable(&fs_);
  ASSERT_NE(table, nullptr);
  std::unique_ptr<DeltaAppendStream> stream = table->NewAppendStream();
  std::vector<LogEvent> events = {MakeEvent("fine", kTs), MakeEvent("bad\xff", kTs)};
  Status st = stream->Add(Pointers(events));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(stream->rows(), 0);
  Result<DeltaCommitResult> result = stream->Commit();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_written, 0);
  EXPECT_EQ((*table->Snapshot()).version, 0);  // nothing to commit
}

// A data file that cannot be written fails the commit; nothing is committed, the stream is empty,
// and the next batch commits.
TEST_F(AppendStreamTest, AFailedFileFailsTheCommitAndTheNextBatchCommits) {
  FaultInjectionFileSystem faulty(&fs_);
  auto table = OpenTable(&faulty);
  ASSERT_NE(table, nullptr);
  faulty.AddRule(FaultRule{FaultOp::kAppend, ".parquet", 0, 1, FaultKind::kIOError});
  std::unique_ptr<DeltaAppendStream> stream = table->NewAppendStream();
  std::vector<LogEvent> events = {MakeEvent("p", kTs, "lost"), MakeEvent("q", kTs, "lost")};
  ASSERT_TRUE(stream->Add(Pointers(events)).ok());
  Result<DeltaCommitResult> failed = stream->Commit();
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(failed.status().retryable()) << failed.status().ToString();
  EXPECT_EQ(stream->rows(), 0);
  EXPECT_EQ((*table->Snapshot()).version, 0);
  EXPECT_EQ(ParquetFiles(), 0u);  // the file that was written is deleted too

  std::vector<LogEvent> next = {MakeEvent("p", kTs, "next")};
  ASSERT_TRUE(stream->Add(Pointers(next)).ok());
  ASSERT_TRUE(stream->Commit().ok());
  std::map<std::string, std::vector<std::string>> expected = {{"p/2026-11-24", {"next"}}};
  EXPECT_EQ(MessagesByPartition(table.get()), expected);
}

}  // namespace
}  // namespace lakelog::delta

// The commit loop when another writer wins a version: retry, Conflict, or skip.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>

#include "delta/log_store.h"
#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta {
namespace {

using namespace testing;

// Forwards to a MemFileSystem; just before the next commit put-if-absent it lets "another
// writer" commit the same version first.
class RaceInjectingFileSystem final : public testing::ForwardingMemFileSystem {
 public:
  void WinNextCommitWith(std::vector<std::string> lines, int times = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    winner_lines_ = std::move(lines);
    wins_left_ = times;
  }
  int wins() const { return wins_; }

  Status PutIfAbsent(const std::string& path, std::string_view data) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (wins_left_ > 0 && path.find("/_delta_log/") != std::string::npos) {
        --wins_left_;
        ++wins_;
        std::string text;
        for (const std::string& line : winner_lines_) text += line + "\n";
        Status st = target_.PutIfAbsent(path, text);
        (void)st;
      }
    }
    return target_.PutIfAbsent(path, data);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> winner_lines_;
  int wins_left_ = 0;
  int wins_ = 0;
};

class DeltaCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs_, root_, {});
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    table_ = std::move(table).value();
    events_ = {MakeEvent("p", kTs), MakeEvent("q", kTs)};
    ptrs_ = Pointers(events_);
  }
  size_t ParquetFileCount() {
    size_t n = 0;
    for (const std::string& f : fs_.target().AllFiles())
      n += f.find(".parquet") != std::string::npos;
    return n;
  }

  RaceInjectingFileSystem fs_;
  const std::string root_ = "/t";
  std::unique_ptr<DeltaTable> table_;
  std::vector<LogEvent> events_;
  std::vector<const LogEvent*> ptrs_;
};

TEST_F(DeltaCommitTest, LosingTheRaceRetriesAtNextVersion) {
  fs_.WinNextCommitWith({CommitInfoLine("WRITE"), AddLine("other/f.parquet", 5)}, /*times=*/3);
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(fs_.wins(), 3);
  EXPECT_EQ(result->attempts, 4);
  EXPECT_EQ(result->version, 4);
  Result<DeltaSnapshot> snap = table_->Snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, 4);
  EXPECT_EQ(snap->files.size(), 3u);  // the winners re-added one path, plus our two
  EXPECT_EQ(snap->TotalRows(), 5 + 2);
}

TEST_F(DeltaCommitTest, ConcurrentMetadataChangeIsConflict) {
  fs_.WinNextCommitWith({CommitInfoLine("SET TBLPROPERTIES"), MetadataLine("changed-id")});
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsConflict()) << result.status().ToString();
  EXPECT_TRUE(result.status().retryable());
  EXPECT_EQ(ParquetFileCount(), 0u);  // our files are cleaned up
  // The metaData is still compatible, so the next append goes through.
  Result<DeltaCommitResult> again = table_->Append(ptrs_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->version, 2);
}

TEST_F(DeltaCommitTest, ConcurrentProtocolChangeIsConflict) {
  fs_.WinNextCommitWith({R"({"protocol":{"minReaderVersion":1,"minWriterVersion":3}})"});
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsConflict()) << result.status().ToString();
}

TEST_F(DeltaCommitTest, IncompatibleMetadataFromAnotherWriterStopsAppends) {
  fs_.WinNextCommitWith(
      {R"({"metaData":{"id":"x","schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":["pipeline","log_date"],"configuration":{}}})"});
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_FALSE(result.ok());
  Result<DeltaCommitResult> again = table_->Append(ptrs_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument) << again.status().ToString();
  EXPECT_EQ(ParquetFileCount(), 0u);
}

TEST_F(DeltaCommitTest, WinnerCarryingOurTxnMeansSkipped) {
  DeltaAppendOptions options;
  options.txn = DeltaTxn{"app", 5};
  fs_.WinNextCommitWith({CommitInfoLine("WRITE"), TxnLine("app", 5), AddLine("w.parquet", 2)});
  Result<DeltaCommitResult> result = table_->Append(ptrs_, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->skipped);
  EXPECT_EQ(result->version, 1);
  EXPECT_EQ(result->files_written, 0);
  EXPECT_EQ(ParquetFileCount(), 0u);
  LogStore store(&fs_, root_);
  EXPECT_TRUE(store.ReadCommitBytes(2).status().IsNotFound());
}

TEST_F(DeltaCommitTest, WinnerWithOlderTxnOfOurAppIsNotAConflict) {
  DeltaAppendOptions options;
  options.txn = DeltaTxn{"app", 5};
  fs_.WinNextCommitWith({CommitInfoLine("WRITE"), TxnLine("app", 4), TxnLine("other", 9)});
  Result<DeltaCommitResult> result = table_->Append(ptrs_, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->skipped);
  EXPECT_EQ(result->version, 2);
  EXPECT_EQ(*table_->TxnVersion("app"), 5);
}

TEST_F(DeltaCommitTest, GivesUpWithConflictAfterMaxAttempts) {
  fs_.WinNextCommitWith({CommitInfoLine("WRITE")}, /*times=*/100);
  DeltaAppendOptions options;
  options.max_commit_attempts = 3;
  Result<DeltaCommitResult> result = table_->Append(ptrs_, options);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsConflict()) << result.status().ToString();
  EXPECT_EQ(fs_.wins(), 3);
  EXPECT_EQ(ParquetFileCount(), 0u);
}

}  // namespace
}  // namespace lakelog::delta

// DeltaAppendOptions::txns: one commit carrying a txn per Kafka partition (kafka-ingest).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"

namespace lakelog {
namespace {

class DeltaMultiTxnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto table = DeltaTable::Open(&fs_, "/t", {});
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    table_ = std::move(table).value();
    for (int i = 0; i < 4; ++i) {
      LogEvent e;
      e.pipeline = "p" + std::to_string(i % 2);
      e.ts_micros = 1764000000000000 + i;
      e.run_id = "r" + std::to_string(i);
      events_.push_back(e);
    }
    for (const LogEvent& e : events_) rows_.push_back(&e);
  }

  static DeltaAppendOptions Txns(std::vector<DeltaTxn> txns) {
    DeltaAppendOptions options;
    options.txns = std::move(txns);
    return options;
  }

  int64_t Version() { return table_->Snapshot()->version; }

  MemFileSystem fs_;
  std::unique_ptr<DeltaTable> table_;
  std::vector<LogEvent> events_;
  std::vector<const LogEvent*> rows_;
};

TEST_F(DeltaMultiTxnTest, OneCommitCarriesEveryTxn) {
  auto result = table_->Append(rows_, Txns({{"g-t-0", 10, 5}, {"g-t-1", 7, 0}}));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->skipped);
  EXPECT_EQ(result->version, 1);
  EXPECT_EQ(table_->TxnVersion("g-t-0")->value_or(-1), 10);
  EXPECT_EQ(table_->TxnVersion("g-t-1")->value_or(-1), 7);
  EXPECT_EQ(table_->Snapshot()->TotalRows(), 4);
}

TEST_F(DeltaMultiTxnTest, ReplayedBatchIsSkippedWhole) {
  ASSERT_TRUE(table_->Append(rows_, Txns({{"a", 10, 5}, {"b", 7, 0}})).ok());
  auto again = table_->Append(rows_, Txns({{"a", 10, 5}, {"b", 7, 0}}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(Version(), 1);
  EXPECT_EQ(table_->Snapshot()->TotalRows(), 4);
}

TEST_F(DeltaMultiTxnTest, PartlyCommittedBatchIsAConflictAndWritesNothing) {
  ASSERT_TRUE(table_->Append(rows_, Txns({{"a", 10, 5}})).ok());
  const size_t files = fs_.AllFiles().size();
  auto partly = table_->Append(rows_, Txns({{"a", 10, 5}, {"b", 7, 0}}));
  ASSERT_FALSE(partly.ok());
  EXPECT_TRUE(partly.status().IsConflict()) << partly.status().ToString();
  EXPECT_NE(partly.status().message().find("a at 10"), std::string::npos);
  EXPECT_EQ(Version(), 1);
  EXPECT_EQ(fs_.AllFiles().size(), files);  // no orphan data file
}

TEST_F(DeltaMultiTxnTest, OverlapWithFirstVersionIsAConflict) {
  ASSERT_TRUE(table_->Append(rows_, Txns({{"a", 10, 5}})).ok());
  // Another member committed offsets up to 10; a zombie's batch of offsets 8..12 overlaps.
  auto overlap = table_->Append(rows_, Txns({{"a", 12, 8}}));
  ASSERT_FALSE(overlap.ok());
  EXPECT_TRUE(overlap.status().IsConflict());
  // Offsets 11..12 (a gap is fine too) do not.
  auto next = table_->Append(rows_, Txns({{"a", 12, 11}}));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(table_->TxnVersion("a")->value_or(-1), 12);
}

TEST_F(DeltaMultiTxnTest, TxnsWithoutEventsStillCommit) {
  // A batch of dead letters only: the offsets move on with no data file.
  auto result = table_->Append({}, Txns({{"a", 3, 0}}));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_written, 0);
  EXPECT_EQ(table_->TxnVersion("a")->value_or(-1), 3);
  EXPECT_EQ(Version(), 1);
}

TEST_F(DeltaMultiTxnTest, DuplicateAppIdIsInvalidArgument) {
  auto result = table_->Append(rows_, Txns({{"a", 3, 0}, {"a", 4, 4}}));
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakelog

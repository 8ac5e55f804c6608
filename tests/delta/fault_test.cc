// Storage failures during Append: no partial commit, the table stays readable.
#include <gtest/gtest.h>

#include "delta/log_store.h"
#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "storage/fault_injection_file_system.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta {
namespace {

using namespace testing;

class DeltaFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&faulty_, root_, {});
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    table_ = std::move(table).value();
    events_ = {MakeEvent("a", kTs), MakeEvent("b", kTs), MakeEvent("c", kTs)};
    ptrs_ = Pointers(events_);
  }
  size_t ParquetFileCount() {
    size_t n = 0;
    for (const std::string& f : mem_.AllFiles()) n += f.find(".parquet") != std::string::npos;
    return n;
  }
  void ExpectTableAtVersion(int64_t version) {
    Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&mem_, root_);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ(snap->version, version);
    for (const DeltaAddFile& f : snap->files) EXPECT_TRUE(mem_.Exists(JoinPath(root_, f.path)));
  }

  MemFileSystem mem_;
  FaultInjectionFileSystem faulty_{&mem_};
  const std::string root_ = "/t";
  std::unique_ptr<DeltaTable> table_;
  std::vector<LogEvent> events_;
  std::vector<const LogEvent*> ptrs_;
};

TEST_F(DeltaFaultTest, EioOnDataFileMeansNoCommitAndNoFiles) {
  // The second data file ("pipeline=b") fails after the first was written.
  faulty_.AddRule({FaultOp::kAppend, "pipeline=b", 0, -1, FaultKind::kIOError});
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIOError) << result.status().ToString();
  EXPECT_GT(faulty_.injected(), 0);
  EXPECT_EQ(ParquetFileCount(), 0u);
  ExpectTableAtVersion(0);

  faulty_.ClearRules();
  Result<DeltaCommitResult> again = table_->Append(ptrs_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->version, 1);
  EXPECT_EQ(ParquetFileCount(), 3u);
}

TEST_F(DeltaFaultTest, ShortWriteOnDataFileMeansNoCommit) {
  faulty_.AddRule({FaultOp::kAppend, ".parquet", 0, 1, FaultKind::kShortWrite});
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(ParquetFileCount(), 0u);
  ExpectTableAtVersion(0);
}

TEST_F(DeltaFaultTest, NoSpaceOnCommitIsRetryableAndLeavesNoPartialCommit) {
  faulty_.AddRule({FaultOp::kPutIfAbsent, "_delta_log/", 0, 1, FaultKind::kNoSpace});
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted) << result.status().ToString();
  EXPECT_TRUE(result.status().retryable());
  LogStore store(&mem_, root_);
  EXPECT_TRUE(store.ReadCommitBytes(1).status().IsNotFound());
  EXPECT_EQ(ParquetFileCount(), 0u);  // unreferenced files are removed
  ExpectTableAtVersion(0);

  // The rule fired once; retrying the same batch now lands it exactly once.
  Result<DeltaCommitResult> again = table_->Append(ptrs_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->version, 1);
  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(&mem_, root_);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->TotalRows(), 3);
}

TEST_F(DeltaFaultTest, FailedCreateDirsWritesNothing) {
  faulty_.AddRule({FaultOp::kCreateDirs, "pipeline=", 0, -1, FaultKind::kIOError});
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(ParquetFileCount(), 0u);
  ExpectTableAtVersion(0);
}

TEST_F(DeltaFaultTest, UnreadableLogFailsAppendWithoutWriting) {
  faulty_.AddRule({FaultOp::kOpenRead, "_delta_log/0", 0, -1, FaultKind::kIOError});
  Result<DeltaCommitResult> result = table_->Append(ptrs_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIOError) << result.status().ToString();
  EXPECT_EQ(ParquetFileCount(), 0u);
}

}  // namespace
}  // namespace lakelog::delta

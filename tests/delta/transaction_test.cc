#include "delta/transaction.h"

#include <gtest/gtest.h>

#include "delta/delta_test_util.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta {
namespace {

using testing::AddLine;
using testing::MetadataLine;
using testing::ProtocolLine;
using testing::WriteCommitLines;

constexpr char kRoot[] = "/t";

std::vector<Action> InfoOnly(const std::string& operation) {
  CommitInfoAction info;
  info.info.operation = operation;
  return {info};
}

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteCommitLines(&fs_, kRoot, 0, {ProtocolLine(), MetadataLine()}); }
  MemFileSystem fs_;
  LogStore store_{&fs_, kRoot};
};

TEST_F(TransactionTest, CommitsAtTheNextVersion) {
  Result<int64_t> version = CommitActions(&store_, 0, InfoOnly("VACUUM START"), NoDataChangeCheck);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, 1);
  Result<std::vector<Action>> read = store_.ReadCommit(1);
  ASSERT_TRUE(read.ok());
  const auto& info = std::get<CommitInfoAction>(read->front());
  EXPECT_EQ(info.info.operation, "VACUUM START");
  EXPECT_EQ(info.read_version, 0);
  EXPECT_TRUE(info.txn_id.has_value());
}

TEST_F(TransactionTest, LosingTheRaceJudgesEveryWinnerThenLandsAboveThem) {
  for (int64_t v = 1; v <= 3; ++v) {
    WriteCommitLines(&fs_, kRoot, v, {AddLine("w" + std::to_string(v) + ".parquet", 1)});
  }
  std::vector<int64_t> judged;
  auto check = [&judged](int64_t version, const std::vector<Action>&) {
    judged.push_back(version);
    return Status::OK();
  };
  Result<int64_t> version = CommitActions(&store_, 0, InfoOnly("X"), check);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 4);
  EXPECT_EQ(judged, (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(TransactionTest, ARefusedWinnerStopsTheCommit) {
  WriteCommitLines(&fs_, kRoot, 1, {ProtocolLine()});
  Result<int64_t> version = CommitActions(&store_, 0, InfoOnly("X"), NoDataChangeCheck);
  EXPECT_TRUE(version.status().IsConflict()) << version.status().ToString();
  EXPECT_FALSE(store_.ReadCommit(2).ok());
}

TEST_F(TransactionTest, ACommitWithoutCommitInfoIsRefused) {
  Result<int64_t> version =
      CommitActions(&store_, 0, {TxnAction{"a", 1, std::nullopt}}, NoDataChangeCheck);
  EXPECT_TRUE(version.status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakelog::delta

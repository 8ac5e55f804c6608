// FaultInjectionFileSystem: call recording, the steps of put-if-absent as fault points, the
// crash model (volatile links, dropped dirty pages) and crash points.
#include "storage/fault_injection_file_system.h"

#include <gtest/gtest.h>

#include "storage/mem_file_system.h"

namespace lakelog {
namespace {

std::vector<FaultOp> Ops(const std::vector<FaultCall>& calls) {
  std::vector<FaultOp> ops;
  for (const FaultCall& call : calls) ops.push_back(call.op);
  return ops;
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mem_.CreateDirs("/d/_delta_log").ok()); }

  MemFileSystem mem_;
  FaultInjectionFileSystem fs_{&mem_};
  const std::string commit_ = "/d/_delta_log/00000000000000000001.json";
};

TEST_F(FaultInjectionTest, RecordsCallsInOrder) {
  fs_.set_record_calls(true);
  ASSERT_TRUE(fs_.WriteFile("/d/f", "abc", /*sync=*/true).ok());
  std::string contents;
  ASSERT_TRUE(fs_.ReadFile("/d/f", &contents).ok());
  std::vector<FaultCall> calls = fs_.calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[0].op, FaultOp::kOpenWrite);
  EXPECT_EQ(calls[0].path, "/d/f");
  EXPECT_EQ(calls[1].op, FaultOp::kAppend);
  EXPECT_EQ(calls[2].op, FaultOp::kSync);
  EXPECT_EQ(calls[3].op, FaultOp::kClose);
  EXPECT_EQ(calls[4].op, FaultOp::kOpenRead);
  fs_.ClearCalls();
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(FaultInjectionTest, PutIfAbsentStepsAreFaultPoints) {
  fs_.set_record_calls(true);
  ASSERT_TRUE(fs_.PutIfAbsent(commit_, "{}").ok());
  EXPECT_EQ(Ops(fs_.calls()),
            (std::vector<FaultOp>{FaultOp::kPutIfAbsent, FaultOp::kOpenWrite, FaultOp::kAppend,
                                  FaultOp::kSync, FaultOp::kClose, FaultOp::kRename,
                                  FaultOp::kDelete, FaultOp::kSync}));
  EXPECT_EQ(fs_.calls().back().path, "/d/_delta_log");
  EXPECT_EQ(mem_.AllFiles(), std::vector<std::string>{commit_}) << "the temp file is gone";
  mem_.DropUnsyncedData();
  EXPECT_TRUE(mem_.Exists(commit_)) << "linked and directory synced: durable";
  EXPECT_TRUE(fs_.PutIfAbsent(commit_, "{}").IsAlreadyExists());
}

TEST_F(FaultInjectionTest, FaultBeforeTheLinkLeavesNothing) {
  for (FaultOp op :
       {FaultOp::kOpenWrite, FaultOp::kAppend, FaultOp::kSync, FaultOp::kClose, FaultOp::kRename}) {
    fs_.ClearRules();
    fs_.AddRule({op, "", 0, 1, FaultKind::kShortWrite});
    Status st = fs_.PutIfAbsent(commit_, "{\"commitInfo\":{}}");
    EXPECT_EQ(st.code(), StatusCode::kIOError) << FaultOpName(op);
    EXPECT_TRUE(mem_.AllFiles().empty()) << FaultOpName(op) << ": " << mem_.AllFiles().front();
  }
}

TEST_F(FaultInjectionTest, FailedDirectorySyncLeavesAVisibleButVolatileCommit) {
  // The second sync of put-if-absent is the directory's, after the link.
  fs_.AddRule({FaultOp::kSync, "_delta_log", 1, 1, FaultKind::kIOError});
  Status st = fs_.PutIfAbsent(commit_, "{}");
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  std::string contents;
  ASSERT_TRUE(mem_.ReadFile(commit_, &contents).ok()) << "readers see it";
  EXPECT_EQ(contents, "{}");
  mem_.DropUnsyncedData();
  EXPECT_FALSE(mem_.Exists(commit_)) << "a power loss can take it back";
}

TEST_F(FaultInjectionTest, LaterDirectorySyncMakesAVolatileCommitDurable) {
  fs_.AddRule({FaultOp::kSync, "_delta_log", 1, 1, FaultKind::kIOError});
  EXPECT_FALSE(fs_.PutIfAbsent(commit_, "{}").ok());
  ASSERT_TRUE(fs_.SyncDir("/d/_delta_log").ok());
  mem_.DropUnsyncedData();
  EXPECT_TRUE(mem_.Exists(commit_));
}

TEST_F(FaultInjectionTest, SyncLostDataZeroesTheUnsyncedBytesAndLaterSyncsSucceed) {
  auto file = fs_.NewWritableFile("/d/seg");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(fs_.SyncDir("/d").ok());
  ASSERT_TRUE((*file)->Append("kept").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("lost").ok());
  fs_.AddRule({FaultOp::kSync, "seg", 0, 1, FaultKind::kSyncLostData});
  EXPECT_EQ((*file)->Sync().code(), StatusCode::kIOError);
  EXPECT_TRUE((*file)->Sync().ok()) << "the retried fsync has nothing left to write";
  mem_.DropUnsyncedData();
  std::string contents;
  ASSERT_TRUE(mem_.ReadFile("/d/seg", &contents).ok());
  EXPECT_EQ(contents, std::string("kept") + std::string(4, '\0'));
}

TEST_F(FaultInjectionTest, CrashFailsThatCallAndEveryLaterOne) {
  auto file = fs_.NewWritableFile("/d/f");
  ASSERT_TRUE(file.ok());
  fs_.CrashAtCall(1, FaultKind::kShortWrite);  // counted from here: append #0 passes
  ASSERT_TRUE((*file)->Append("aaaa").ok());
  EXPECT_FALSE(fs_.crashed());
  EXPECT_FALSE((*file)->Append("bbbb").ok());  // torn: half of it lands
  EXPECT_TRUE(fs_.crashed());
  EXPECT_EQ((*file)->Append("cc").code(), StatusCode::kIOError) << "the process is dead";
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_FALSE(fs_.ListDir("/d").ok());
  std::string contents;
  ASSERT_TRUE(mem_.ReadFile("/d/f", &contents).ok());
  EXPECT_EQ(contents, "aaaabb");
  fs_.ClearRules();
  EXPECT_TRUE((*file)->Append("cc").ok());
}

}  // namespace
}  // namespace lakelog

#include "lakelog/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "storage/fault_injection_file_system.h"
#include "storage/mem_file_system.h"

namespace lakelog {
namespace {

// The same contract holds for every implementation of the seam.
class FileSystemContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "posix") {
      root_ = std::filesystem::temp_directory_path() /
              ("lakelog_fs_test_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
      std::filesystem::remove_all(root_);
      fs_ = PosixFileSystem();
      base_ = root_.string();
    } else {
      mem_ = NewMemFileSystem();
      fs_ = mem_.get();
      base_ = "/t";
    }
    ASSERT_TRUE(fs_->CreateDirs(base_).ok());
  }
  void TearDown() override {
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }
  std::string P(const std::string& name) const { return JoinPath(base_, name); }

  FileSystem* fs_ = nullptr;
  std::unique_ptr<FileSystem> mem_;
  std::filesystem::path root_;
  std::string base_;
};

TEST_P(FileSystemContractTest, WriteThenReadBack) {
  ASSERT_TRUE(fs_->WriteFile(P("a.txt"), "hello", /*sync=*/true).ok());
  std::string out;
  ASSERT_TRUE(fs_->ReadFile(P("a.txt"), &out).ok());
  EXPECT_EQ(out, "hello");
  auto info = fs_->Stat(P("a.txt"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 5u);
  EXPECT_FALSE(info->is_directory);
}

TEST_P(FileSystemContractTest, PutIfAbsentNeverReplaces) {
  ASSERT_TRUE(fs_->PutIfAbsent(P("00.json"), "first").ok());
  Status second = fs_->PutIfAbsent(P("00.json"), "second");
  EXPECT_TRUE(second.IsAlreadyExists()) << second.ToString();
  std::string out;
  ASSERT_TRUE(fs_->ReadFile(P("00.json"), &out).ok());
  EXPECT_EQ(out, "first");
}

TEST_P(FileSystemContractTest, PutIfAbsentHasOneWinnerUnderRace) {
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      if (fs_->PutIfAbsent(P("race.json"), "writer" + std::to_string(i)).ok()) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  auto names = fs_->ListDir(base_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u) << "temp files must not be left behind";
}

TEST_P(FileSystemContractTest, ListDirShowsFilesAndDirectories) {
  ASSERT_TRUE(fs_->CreateDirs(P("x/y")).ok());
  ASSERT_TRUE(fs_->WriteFile(P("x/f"), "", false).ok());
  auto names = fs_->ListDir(P("x"));
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"f", "y"}));
  EXPECT_TRUE(fs_->ListDir(P("missing")).status().IsNotFound());
}

TEST_P(FileSystemContractTest, MissingFileIsNotFound) {
  std::string out;
  EXPECT_TRUE(fs_->ReadFile(P("nope"), &out).IsNotFound());
  EXPECT_FALSE(fs_->Exists(P("nope")));
}

INSTANTIATE_TEST_SUITE_P(Impls, FileSystemContractTest, ::testing::Values("posix", "mem"));

TEST(PosixFileSystemTest, LockFileIsExclusiveUntilReleased) {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("lakelog_lock_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  FileSystem* fs = PosixFileSystem();
  ASSERT_TRUE(fs->CreateDirs(root.string()).ok());
  const std::string path = JoinPath(root.string(), "LOCK");
  auto first = fs->LockFile(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = fs->LockFile(path);  // another open file description: flock conflicts
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(path), std::string::npos);
  first->reset();
  auto third = fs->LockFile(path);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
  third->reset();
  EXPECT_FALSE(fs->LockFile(JoinPath(root.string(), "missing/LOCK")).ok());
  std::filesystem::remove_all(root);
}

TEST(MemFileSystemTest, DropUnsyncedDataKeepsOnlySyncedBytes) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/d").ok());
  auto file = fs.NewWritableFile("/d/log");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("durable").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(fs.SyncDir("/d").ok());
  ASSERT_TRUE((*file)->Append("-lost").ok());
  ASSERT_TRUE(fs.WriteFile("/d/never_synced", "x", false).ok());
  fs.DropUnsyncedData();
  std::string out;
  ASSERT_TRUE(fs.ReadFile("/d/log", &out).ok());
  EXPECT_EQ(out, "durable");
  EXPECT_FALSE(fs.Exists("/d/never_synced"));
}

TEST(FaultInjectionFileSystemTest, ShortWriteLandsHalfAndFails) {
  MemFileSystem mem;
  ASSERT_TRUE(mem.CreateDirs("/d").ok());
  FaultInjectionFileSystem fs(&mem);
  fs.AddRule({FaultOp::kAppend, "log", /*skip=*/1, /*times=*/1, FaultKind::kShortWrite});
  auto file = fs.NewWritableFile("/d/log");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("aaaa").ok());
  Status st = (*file)->Append("bbbb");
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_TRUE((*file)->Append("cc").ok()) << "the rule fires once";
  std::string out;
  ASSERT_TRUE(mem.ReadFile("/d/log", &out).ok());
  EXPECT_EQ(out, "aaaabbcc");
  EXPECT_EQ(fs.injected(), 1);
}

TEST(FaultInjectionFileSystemTest, NoSpaceIsResourceExhaustedAndRetryable) {
  MemFileSystem mem;
  ASSERT_TRUE(mem.CreateDirs("/d").ok());
  FaultInjectionFileSystem fs(&mem);
  fs.AddRule({FaultOp::kPutIfAbsent, "_delta_log", 0, -1, FaultKind::kNoSpace});
  ASSERT_TRUE(fs.CreateDirs("/d/_delta_log").ok());
  Status st = fs.PutIfAbsent("/d/_delta_log/0.json", "{}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(st.retryable());
  EXPECT_TRUE(fs.PutIfAbsent("/d/other.json", "{}").ok());
}

}  // namespace
}  // namespace lakelog

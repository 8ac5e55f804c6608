// Several writers appending to one table at once: put-if-absent keeps every commit.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "delta/log_store.h"
#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta {
namespace {

using namespace testing;

constexpr int kWriters = 4;
constexpr int kAppendsPerWriter = 6;

// Each writer opens its own DeltaTable (as separate processes would) and appends batches whose
// pipelines name the writer and the batch, so every file can be traced back to its append.
void RunWriters(FileSystem* fs, const std::string& root) {
  std::vector<std::thread> threads;
  std::vector<Status> errors(kWriters);
  std::atomic<int> ready{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(fs, root, {});
      if (!table.ok()) {
        errors[w] = table.status();
        return;
      }
      ++ready;
      while (ready.load() < kWriters) std::this_thread::yield();
      for (int i = 0; i < kAppendsPerWriter; ++i) {
        std::string tag = "w" + std::to_string(w) + "-b" + std::to_string(i);
        std::vector<LogEvent> events = {MakeEvent(tag, kTs, "a"), MakeEvent(tag, kTs, "b"),
                                        MakeEvent(tag, kTs + kMicrosPerDay, "c")};
        std::vector<const LogEvent*> ptrs = Pointers(events);
        DeltaAppendOptions options;
        options.txn = DeltaTxn{"writer-" + std::to_string(w), i};
        Result<DeltaCommitResult> r = (*table)->Append(ptrs, options);
        if (!r.ok()) {
          errors[w] = r.status();
          return;
        }
        if (r->skipped || r->files_written != 2) {
          errors[w] = Status::Internal("unexpected result for " + tag);
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : errors) ASSERT_TRUE(st.ok()) << st.ToString();
}

void CheckTable(FileSystem* fs, const std::string& root) {
  constexpr int kCommits = kWriters * kAppendsPerWriter;
  LogStore store(fs, root);
  Result<LogListing> listing = store.List();
  ASSERT_TRUE(listing.ok()) << listing.status().ToString();
  std::vector<int64_t> expected_versions;
  for (int v = 0; v <= kCommits; ++v) expected_versions.push_back(v);
  EXPECT_EQ(listing->commits, expected_versions);  // contiguous 0..N, nothing lost

  Result<DeltaSnapshot> snap = ReadDeltaSnapshot(fs, root);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, kCommits);
  ASSERT_EQ(snap->files.size(), static_cast<size_t>(kCommits * 2));
  EXPECT_EQ(snap->TotalRows(), kCommits * 3);
  std::map<std::string, int> files_per_batch;
  std::set<std::string> paths;
  for (const DeltaAddFile& f : snap->files) {
    EXPECT_TRUE(paths.insert(f.path).second) << "duplicate " << f.path;
    EXPECT_TRUE(fs->Exists(JoinPath(root, f.path))) << f.path;
    ++files_per_batch[f.partition_values.at("pipeline").value_or("")];
  }
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_EQ(snap->app_txns.at("writer-" + std::to_string(w)), kAppendsPerWriter - 1);
    for (int i = 0; i < kAppendsPerWriter; ++i) {
      EXPECT_EQ(files_per_batch["w" + std::to_string(w) + "-b" + std::to_string(i)], 2);
    }
  }
  // Each version after 0 is exactly one append.
  for (int v = 1; v <= kCommits; ++v) {
    Result<std::vector<Action>> actions = store.ReadCommit(v);
    ASSERT_TRUE(actions.ok());
    int adds = 0;
    for (const Action& a : *actions) adds += std::holds_alternative<AddAction>(a);
    EXPECT_EQ(adds, 2) << "version " << v;
  }
}

TEST(DeltaConcurrentAppendTest, EveryCommitLandsOnMemFileSystem) {
  MemFileSystem fs;
  RunWriters(&fs, "/t");
  CheckTable(&fs, "/t");
  // No orphans: every data file on disk is in the table (checkpoints, in _delta_log, aside).
  size_t parquet = 0;
  for (const std::string& f : fs.AllFiles()) {
    parquet +=
        f.find(".parquet") != std::string::npos && f.find("/_delta_log/") == std::string::npos;
  }
  EXPECT_EQ(parquet, static_cast<size_t>(kWriters * kAppendsPerWriter * 2));
}

TEST(DeltaConcurrentAppendTest, EveryCommitLandsOnPosix) {
  std::random_device rd;
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("lakelog-delta-race-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  RunWriters(PosixFileSystem(), dir.string());
  CheckTable(PosixFileSystem(), dir.string());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(DeltaConcurrentAppendTest, OneHandleSharedByThreads) {
  MemFileSystem fs;
  Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs, "/t", {});
  ASSERT_TRUE(table.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kAppendsPerWriter; ++i) {
        std::vector<LogEvent> events = {MakeEvent("p" + std::to_string(w), kTs)};
        std::vector<const LogEvent*> ptrs = Pointers(events);
        Result<DeltaCommitResult> r = (*table)->Append(ptrs);
        if (!r.ok() || r->attempts != 1) ++failures;  // one handle never races itself
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  Result<DeltaSnapshot> snap = (*table)->Snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->version, kWriters * kAppendsPerWriter);
  EXPECT_EQ(snap->TotalRows(), kWriters * kAppendsPerWriter);
}

}  // namespace
}  // namespace lakelog::delta

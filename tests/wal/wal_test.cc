// Segments, sequences, replay and deletion of the WAL on an in-memory file system.
#include "wal/wal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "storage/mem_file_system.h"
#include "wal_test_util.h"

namespace lakelog::wal {
namespace {

using wal_testing::MakeRecord;
using wal_testing::ReplayAll;
using wal_testing::Replayed;

constexpr char kDir[] = "data/wal";

WalOptions SmallSegments(WalSyncMode mode = WalSyncMode::kGroupCommit) {
  WalOptions options;
  options.sync_mode = mode;
  options.segment_bytes = 64 * 1024;
  return options;
}

std::unique_ptr<Wal> OpenOrDie(FileSystem* fs, WalOptions options) {
  auto wal = Wal::Open(fs, kDir, options);
  EXPECT_TRUE(wal.ok()) << wal.status().ToString();
  return wal.ok() ? std::move(wal).value() : nullptr;
}

TEST(WalTest, SegmentFileNames) {
  EXPECT_EQ(Wal::SegmentFileName(1), "000001.wal");
  EXPECT_EQ(Wal::SegmentFileName(1234567), "1234567.wal");
  uint64_t n = 0;
  EXPECT_TRUE(Wal::ParseSegmentFileName("000042.wal", &n));
  EXPECT_EQ(n, 42u);
  EXPECT_FALSE(Wal::ParseSegmentFileName("42.wal", &n));
  EXPECT_FALSE(Wal::ParseSegmentFileName("000042.wal.tmp", &n));
  EXPECT_FALSE(Wal::ParseSegmentFileName("00004x.wal", &n));
  EXPECT_FALSE(Wal::ParseSegmentFileName("000000.wal", &n));
}

TEST(WalTest, AppendReplayRoundTrip) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, WalOptions{});
  Replayed expected;
  for (int i = 0; i < 100; ++i) {
    std::string record = MakeRecord(i, i % 7 == 0 ? 0 : 10 + i * 3);
    auto seq = wal->Append(record);
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, static_cast<uint64_t>(i + 1));
    expected.emplace_back(*seq, record);
  }
  EXPECT_EQ(wal->LastSequence(), 100u);
  WalReplayStats stats;
  EXPECT_EQ(ReplayAll(wal.get(), &stats), expected);
  EXPECT_EQ(stats.records, 100u);
  EXPECT_EQ(stats.corruptions, 0u);
  ASSERT_TRUE(wal->Close().ok());
}

TEST(WalTest, RollsSegmentsAtConfiguredSize) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, SmallSegments());
  Replayed expected;
  for (int i = 0; i < 300; ++i) {
    std::string record = MakeRecord(i, 1000 + (i % 5) * 500);
    auto seq = wal->Append(record);
    ASSERT_TRUE(seq.ok());
    expected.emplace_back(*seq, record);
  }
  std::vector<uint64_t> numbers = wal->SegmentNumbers();
  EXPECT_GE(numbers.size(), 5u);
  for (size_t i = 0; i < numbers.size(); ++i) {
    EXPECT_EQ(numbers[i], i + 1);
    auto info = fs.Stat(std::string(kDir) + "/" + Wal::SegmentFileName(numbers[i]));
    ASSERT_TRUE(info.ok());
    EXPECT_LE(info->size, 64u * 1024);
  }
  EXPECT_EQ(ReplayAll(wal.get()), expected);
  // Rolled segments are synced in every mode.
  EXPECT_GT(wal->DurableSequence(), 0u);
}

TEST(WalTest, RecordLargerThanSegmentGetsItsOwnSegment) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, SmallSegments());
  ASSERT_TRUE(wal->Append("small").ok());
  std::string big = MakeRecord(1, 200 * 1024);
  ASSERT_TRUE(wal->Append(big).ok());
  ASSERT_TRUE(wal->Append("after").ok());
  EXPECT_EQ(wal->SegmentNumbers().size(), 3u);
  Replayed replayed = ReplayAll(wal.get());
  ASSERT_EQ(replayed.size(), 3u);
  EXPECT_EQ(replayed[1].second, big);
}

TEST(WalTest, RecordOverLimitIsInvalidArgumentAndConsumesNoSequence) {
  MemFileSystem fs;
  WalOptions options;
  options.max_record_bytes = 1000;
  auto wal = OpenOrDie(&fs, options);
  auto too_big = wal->Append(std::string(1001, 'x'));
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  auto ok = wal->Append(std::string(1000, 'x'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 1u);
}

TEST(WalTest, ReopenContinuesSequenceAndReplaysEverything) {
  MemFileSystem fs;
  Replayed expected;
  for (int round = 0; round < 3; ++round) {
    auto wal = OpenOrDie(&fs, SmallSegments());
    EXPECT_EQ(ReplayAll(wal.get()), expected);
    EXPECT_EQ(wal->DurableSequence(), expected.size());  // recovered records were synced
    for (int i = 0; i < 50; ++i) {
      std::string record = MakeRecord(round * 100 + i, 700);
      auto seq = wal->Append(record);
      ASSERT_TRUE(seq.ok());
      ASSERT_EQ(*seq, expected.size() + 1);
      expected.emplace_back(*seq, record);
    }
    ASSERT_TRUE(wal->Close().ok());
  }
}

TEST(WalTest, ReplayAfterSequenceSkipsCommittedRecords) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, SmallSegments());
  for (int i = 0; i < 120; ++i) ASSERT_TRUE(wal->Append(MakeRecord(i, 900)).ok());
  WalReplayStats stats;
  Replayed replayed = ReplayAll(wal.get(), &stats, /*after=*/70);
  ASSERT_EQ(replayed.size(), 50u);
  EXPECT_EQ(replayed.front().first, 71u);
  EXPECT_EQ(replayed.back().first, 120u);
  EXPECT_EQ(stats.skipped_records, 70u);
}

TEST(WalTest, ReplayCallbackErrorStopsReplay) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, WalOptions{});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(wal->Append("x").ok());
  int calls = 0;
  auto result = wal->Replay([&](uint64_t sequence, std::string_view) {
    ++calls;
    return sequence == 4 ? Status::Unavailable("sink down") : Status::OK();
  });
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 4);
}

TEST(WalTest, SegmentsDeletedOnlyAfterCommit) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, SmallSegments());
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(wal->Append(MakeRecord(i, 1000)).ok());
  std::vector<uint64_t> before = wal->SegmentNumbers();
  ASSERT_GE(before.size(), 4u);

  // Which sequences does each segment hold?
  Replayed all = ReplayAll(wal.get());
  // About 64 records of 1000 bytes fit a 64 KiB segment; committing 10 frees nothing.
  ASSERT_TRUE(wal->MarkCommitted(10).ok());
  EXPECT_EQ(wal->SegmentNumbers(), before);

  // Commit one sequence at a time: segment 1 disappears exactly when its last record is
  // committed, and not before.
  std::string first_path = std::string(kDir) + "/" + Wal::SegmentFileName(before[0]);
  uint64_t first_segment_last = 0;
  for (uint64_t s = 11; s <= all.back().first; ++s) {
    ASSERT_TRUE(wal->MarkCommitted(s).ok());
    if (wal->SegmentNumbers().front() != before[0]) {
      first_segment_last = s;
      break;
    }
  }
  ASSERT_GT(first_segment_last, 0u);
  EXPECT_FALSE(fs.Exists(first_path));
  EXPECT_EQ(wal->SegmentNumbers().front(), before[1]);
  // No record beyond the commit point was lost: replay starts right after it.
  Replayed rest = ReplayAll(wal.get());
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.front().first, first_segment_last + 1);
  EXPECT_EQ(rest.back().first, all.back().first);

  // Committing everything keeps the newest (active) segment.
  ASSERT_TRUE(wal->MarkCommitted(wal->LastSequence()).ok());
  EXPECT_EQ(wal->SegmentNumbers(), std::vector<uint64_t>{before.back()});
  EXPECT_EQ(wal->stats().segments_deleted, before.size() - 1);

  // Numbering survives a restart even though every record was committed.
  uint64_t last = wal->LastSequence();
  ASSERT_TRUE(wal->Close().ok());
  auto reopened = OpenOrDie(&fs, SmallSegments());
  auto seq = reopened->Append("fresh");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, last + 1);
}

TEST(WalTest, NumberingSurvivesWhenOnlyHeaderSegmentsRemain) {
  MemFileSystem fs;
  {
    auto wal = OpenOrDie(&fs, SmallSegments());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(wal->Append("r").ok());
    ASSERT_TRUE(wal->Close().ok());
  }
  {
    // Opens a second segment (header only), then commits and deletes the first.
    auto wal = OpenOrDie(&fs, SmallSegments());
    ASSERT_TRUE(wal->MarkCommitted(5).ok());
    EXPECT_EQ(wal->SegmentNumbers(), std::vector<uint64_t>{2});
    ASSERT_TRUE(wal->Close().ok());
  }
  auto wal = OpenOrDie(&fs, SmallSegments());
  auto seq = wal->Append("next");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 6u);
}

TEST(WalTest, MarkCommittedAheadOfLogBumpsFutureSequences) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, WalOptions{});
  ASSERT_TRUE(wal->Append("a").ok());
  ASSERT_TRUE(wal->MarkCommitted(500).ok());  // e.g. a watermark a sink stored before a crash
  auto seq = wal->Append("b");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 501u);
}

TEST(WalTest, CorruptSegmentIsCountedAndReplayContinues) {
  MemFileSystem fs;
  Replayed expected;
  {
    auto wal = OpenOrDie(&fs, SmallSegments());
    for (int i = 0; i < 200; ++i) {
      std::string record = MakeRecord(i, 1000);
      auto seq = wal->Append(record);
      ASSERT_TRUE(seq.ok());
      expected.emplace_back(*seq, record);
    }
    ASSERT_TRUE(wal->Close().ok());
  }
  // Flip a byte in the middle of segment 1's first block.
  std::string path = std::string(kDir) + "/000001.wal";
  std::string bytes;
  ASSERT_TRUE(fs.ReadFile(path, &bytes).ok());
  bytes[10000] ^= 0x40;
  ASSERT_TRUE(fs.WriteFile(path, bytes, true).ok());

  auto wal = OpenOrDie(&fs, SmallSegments());
  WalReplayStats stats;
  Replayed replayed = ReplayAll(wal.get(), &stats);
  EXPECT_GE(stats.corruptions, 1u);
  EXPECT_GT(stats.dropped_bytes, 0u);
  EXPECT_FALSE(stats.reasons.empty());
  EXPECT_LT(replayed.size(), expected.size());
  EXPECT_GT(replayed.size(), expected.size() - 40);  // at most a block's worth lost
  // What survives is in order and unaltered.
  for (size_t i = 1; i < replayed.size(); ++i) EXPECT_LT(replayed[i - 1].first, replayed[i].first);
  for (const auto& [seq, record] : replayed) EXPECT_EQ(record, expected[seq - 1].second);
  EXPECT_EQ(replayed.back(), expected.back());
}

TEST(WalTest, ForeignFilesInDirectoryAreIgnored) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs(kDir).ok());
  ASSERT_TRUE(fs.WriteFile(std::string(kDir) + "/README", "not a segment", true).ok());
  ASSERT_TRUE(fs.WriteFile(std::string(kDir) + "/000001.wal.tmp", "junk", true).ok());
  auto wal = OpenOrDie(&fs, WalOptions{});
  ASSERT_TRUE(wal->Append("x").ok());
  EXPECT_EQ(ReplayAll(wal.get()).size(), 1u);
  EXPECT_TRUE(fs.Exists(std::string(kDir) + "/README"));
}

TEST(WalTest, GroupCommitSyncAdvancesDurableSequence) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, WalOptions{});
  ASSERT_TRUE(wal->Append("a").ok());
  ASSERT_TRUE(wal->Append("b").ok());
  EXPECT_EQ(wal->DurableSequence(), 0u);
  ASSERT_TRUE(wal->Sync().ok());
  EXPECT_EQ(wal->DurableSequence(), 2u);
  ASSERT_TRUE(wal->Sync().ok());  // nothing new: no fsync
  EXPECT_EQ(wal->stats().syncs, 1u);
}

TEST(WalTest, NoSyncModeSyncIsNoOp) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, SmallSegments(WalSyncMode::kNone));
  ASSERT_TRUE(wal->Append("a").ok());
  ASSERT_TRUE(wal->Sync().ok());
  EXPECT_EQ(wal->DurableSequence(), 0u);
  EXPECT_EQ(wal->stats().syncs, 0u);
  ASSERT_TRUE(wal->Close().ok());  // a clean close syncs
}

TEST(WalTest, IntervalModeBackgroundSyncEventuallyMakesDurable) {
  MemFileSystem fs;
  WalOptions options;
  options.sync_mode = WalSyncMode::kInterval;
  options.sync_interval_ms = 5;
  auto wal = OpenOrDie(&fs, options);
  auto seq = wal->Append("a");
  ASSERT_TRUE(seq.ok());
  // Liveness, not timing: the background thread must get there, however slowly.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (wal->DurableSequence() < *seq && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(wal->DurableSequence(), *seq);
}

TEST(WalTest, IntervalZeroSyncsEveryAppend) {
  MemFileSystem fs;
  WalOptions options;
  options.sync_mode = WalSyncMode::kInterval;
  options.sync_interval_ms = 0;
  auto wal = OpenOrDie(&fs, options);
  for (int i = 1; i <= 5; ++i) {
    auto seq = wal->Append("r");
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(wal->DurableSequence(), *seq);
  }
}

TEST(WalTest, ConcurrentAppendersGetUniqueIncreasingSequences) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, SmallSegments());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ASSERT_TRUE(wal->Append(MakeRecord(t * 10000 + i, 200)).ok());
        if (i % 10 == 9) {
          ASSERT_TRUE(wal->Sync().ok());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(wal->Sync().ok());
  EXPECT_EQ(wal->DurableSequence(), uint64_t{kThreads * kPerThread});
  Replayed replayed = ReplayAll(wal.get());
  ASSERT_EQ(replayed.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < replayed.size(); ++i) EXPECT_EQ(replayed[i].first, i + 1);
  std::set<std::string> unique;
  for (const auto& r : replayed) unique.insert(r.second);
  EXPECT_EQ(unique.size(), replayed.size());
}

TEST(WalTest, ClosedWalRefusesAppends) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, WalOptions{});
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(wal->Append("x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(wal->Close().ok());
}

TEST(WalTest, OpenRejectsBadOptions) {
  MemFileSystem fs;
  WalOptions options;
  options.segment_bytes = 1000;
  EXPECT_EQ(Wal::Open(&fs, kDir, options).status().code(), StatusCode::kInvalidArgument);
}

TEST(WalTest, BatchAppendTakesConsecutiveSequencesAndRollsSegments) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, SmallSegments());
  ASSERT_TRUE(wal->Append("first").ok());
  std::vector<std::string> records;
  for (int i = 0; i < 300; ++i) records.push_back(MakeRecord(i, 1000 + (i % 5) * 500));
  std::vector<std::string_view> views(records.begin(), records.end());
  auto last = wal->AppendBatch(views);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, 301u);
  EXPECT_EQ(wal->LastSequence(), 301u);
  EXPECT_EQ(wal->stats().appends, 301u);
  // Segments still roll at the configured size in the middle of a batch.
  const std::vector<uint64_t> numbers = wal->SegmentNumbers();
  EXPECT_GE(numbers.size(), 5u);
  for (uint64_t number : numbers) {
    auto info = fs.Stat(std::string(kDir) + "/" + Wal::SegmentFileName(number));
    ASSERT_TRUE(info.ok());
    EXPECT_LE(info->size, 64u * 1024);
  }
  Replayed expected{{1, "first"}};
  for (size_t i = 0; i < records.size(); ++i) expected.emplace_back(i + 2, records[i]);
  WalReplayStats stats;
  EXPECT_EQ(ReplayAll(wal.get(), &stats), expected);
  EXPECT_EQ(stats.corruptions, 0u);
  // And after a restart, from the segment headers.
  ASSERT_TRUE(wal->Close().ok());
  wal = OpenOrDie(&fs, SmallSegments());
  EXPECT_EQ(ReplayAll(wal.get(), &stats), expected);
  auto next = wal->Append("next");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 302u);
}

TEST(WalTest, BatchWithAnOversizedRecordWritesNothing) {
  MemFileSystem fs;
  WalOptions options;
  options.max_record_bytes = 1000;
  auto wal = OpenOrDie(&fs, options);
  const std::string ok(10, 'a');
  const std::string big(1001, 'b');
  std::vector<std::string_view> batch{ok, big, ok};
  EXPECT_EQ(wal->AppendBatch(batch).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->LastSequence(), 0u);
  WalReplayStats stats;
  EXPECT_TRUE(ReplayAll(wal.get(), &stats).empty());
}

TEST(WalTest, EmptyBatchIsANoOp) {
  MemFileSystem fs;
  auto wal = OpenOrDie(&fs, WalOptions{});
  ASSERT_TRUE(wal->Append("one").ok());
  auto last = wal->AppendBatch({});
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 1u);
}

TEST(WalTest, OneWalPerDirectoryOnPosix) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("lakelog_wal_lock_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  FileSystem* fs = PosixFileSystem();
  auto first = Wal::Open(fs, dir, WalOptions{});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE((*first)->Append("mine").ok());
  auto second = Wal::Open(fs, dir, WalOptions{});
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("locked"), std::string::npos);
  ASSERT_TRUE((*first)->Close().ok());
  auto third = Wal::Open(fs, dir, WalOptions{});  // Close() released the directory
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  WalReplayStats stats;
  EXPECT_EQ(ReplayAll(third->get(), &stats), (Replayed{{1, "mine"}}));
  third->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lakelog::wal

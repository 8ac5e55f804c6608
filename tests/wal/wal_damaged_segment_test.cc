// Files in a WAL directory that the WAL cannot account for: a segment-named file holding no
// WAL record is set aside into damaged/ (never adopted, never deleted) and reported by every
// replay; a segment in which replay found damage is kept there too once committed.
#include <gtest/gtest.h>

#include <random>

#include "storage/mem_file_system.h"
#include "wal/wal.h"
#include "wal_test_util.h"

namespace lakelog::wal {
namespace {

using wal_testing::MakeRecord;
using wal_testing::ReplayAll;
using wal_testing::Replayed;

constexpr char kDir[] = "data/wal";

std::string PathOf(const std::string& name) { return std::string(kDir) + "/" + name; }

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

WalOptions SmallSegments() {
  WalOptions options;
  options.segment_bytes = 64 * 1024;
  return options;
}

std::unique_ptr<Wal> OpenOrDie(FileSystem* fs, WalOptions options = WalOptions{}) {
  auto wal = Wal::Open(fs, kDir, options);
  EXPECT_TRUE(wal.ok()) << wal.status().ToString();
  return wal.ok() ? std::move(wal).value() : nullptr;
}

TEST(WalDamagedSegmentTest, AFileWithNoRecordIsSetAsideCountedAndNeverDeleted) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"4 KiB of random bytes", RandomBytes(4096, 42)},
      {"a text file", "this is not a WAL segment\njust some notes someone saved here\n"},
      {"more than a block of random bytes", RandomBytes(3 * 32768 + 100, 7)},
  };
  for (const auto& [what, bytes] : cases) {
    SCOPED_TRACE(what);
    MemFileSystem fs;
    ASSERT_TRUE(fs.CreateDirs(kDir).ok());
    ASSERT_TRUE(fs.WriteFile(PathOf("000001.wal"), bytes, true).ok());

    auto wal = OpenOrDie(&fs);
    ASSERT_NE(wal, nullptr);
    // Not adopted: the WAL's own segment comes after it, and it is no longer a segment.
    EXPECT_EQ(wal->SegmentNumbers(), std::vector<uint64_t>{2});
    EXPECT_FALSE(fs.Exists(PathOf("000001.wal")));
    const std::string kept = PathOf("damaged/000001.wal");
    std::string kept_bytes;
    ASSERT_TRUE(fs.ReadFile(kept, &kept_bytes).ok());
    EXPECT_EQ(kept_bytes, bytes);
    EXPECT_EQ(wal->stats().segments_set_aside, 1u);

    // Reported as damage, not as "0 damaged records".
    WalReplayStats stats;
    EXPECT_TRUE(ReplayAll(wal.get(), &stats).empty());
    EXPECT_EQ(stats.damaged_segments, 1u);
    EXPECT_GE(stats.corruptions, 1u);
    EXPECT_GE(stats.dropped_bytes, bytes.size());
    EXPECT_EQ(stats.set_aside, std::vector<std::string>{kept});
    ASSERT_FALSE(stats.reasons.empty());
    EXPECT_NE(stats.reasons.front().find("000001.wal"), std::string::npos) << stats.reasons.front();

    // Committing everything never touches it.
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(wal->Append(MakeRecord(i, 1000)).ok());
    ASSERT_TRUE(wal->MarkCommitted(wal->LastSequence()).ok());
    ASSERT_TRUE(wal->Close().ok());
    ASSERT_TRUE(fs.ReadFile(kept, &kept_bytes).ok());
    EXPECT_EQ(kept_bytes, bytes);

    // A reopened WAL neither sees it again nor reuses its name.
    auto reopened = OpenOrDie(&fs);
    WalReplayStats again;
    Replayed replayed = ReplayAll(reopened.get(), &again);
    EXPECT_EQ(again.damaged_segments, 0u);
    EXPECT_EQ(again.corruptions, 0u);
    EXPECT_GE(reopened->SegmentNumbers().front(), 2u);
  }
}

TEST(WalDamagedSegmentTest, ASecondFileOfTheSameNameDoesNotOverwriteTheFirst) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs(kDir).ok());
  ASSERT_TRUE(fs.WriteFile(PathOf("000007.wal"), RandomBytes(1000, 1), true).ok());
  ASSERT_TRUE(OpenOrDie(&fs)->Close().ok());
  ASSERT_TRUE(fs.WriteFile(PathOf("000007.wal"), RandomBytes(2000, 2), true).ok());
  auto wal = OpenOrDie(&fs);
  WalReplayStats stats;
  ReplayAll(wal.get(), &stats);
  EXPECT_EQ(stats.set_aside, std::vector<std::string>{PathOf("damaged/000007.wal.2")});
  std::string first, second;
  ASSERT_TRUE(fs.ReadFile(PathOf("damaged/000007.wal"), &first).ok());
  ASSERT_TRUE(fs.ReadFile(PathOf("damaged/000007.wal.2"), &second).ok());
  EXPECT_EQ(first, RandomBytes(1000, 1));
  EXPECT_EQ(second, RandomBytes(2000, 2));
}

// What a crash leaves while a segment is being created (its header not yet, or partly,
// written) is the WAL's own and nothing to report.
TEST(WalDamagedSegmentTest, ATornSegmentHeaderIsNotDamage) {
  MemFileSystem fs;
  ASSERT_TRUE(OpenOrDie(&fs)->Close().ok());
  std::string header;
  ASSERT_TRUE(fs.ReadFile(PathOf("000001.wal"), &header).ok());
  ASSERT_EQ(header.size(), 20u);
  ASSERT_TRUE(fs.WriteFile(PathOf("000002.wal"), "", true).ok());
  ASSERT_TRUE(fs.WriteFile(PathOf("000003.wal"), header.substr(0, 11), true).ok());
  ASSERT_TRUE(fs.WriteFile(PathOf("000004.wal"), std::string(20, '\0'), true).ok());
  auto wal = OpenOrDie(&fs);
  WalReplayStats stats;
  ReplayAll(wal.get(), &stats);
  EXPECT_EQ(stats.corruptions, 0u);
  EXPECT_EQ(stats.damaged_segments, 0u);
  EXPECT_FALSE(fs.Exists(PathOf("damaged")));
  EXPECT_EQ(wal->SegmentNumbers(), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST(WalDamagedSegmentTest, ACorruptSegmentIsKeptAsideOnceCommittedNotDeleted) {
  MemFileSystem fs;
  Replayed expected;
  {
    auto wal = OpenOrDie(&fs, SmallSegments());
    for (int i = 0; i < 200; ++i) {
      std::string record = MakeRecord(i, 1000);
      expected.emplace_back(wal->Append(record).value(), record);
    }
    ASSERT_TRUE(wal->Close().ok());
  }
  std::string bytes;
  ASSERT_TRUE(fs.ReadFile(PathOf("000001.wal"), &bytes).ok());
  bytes[10000] ^= 0x40;
  ASSERT_TRUE(fs.WriteFile(PathOf("000001.wal"), bytes, true).ok());

  auto wal = OpenOrDie(&fs, SmallSegments());
  const std::vector<uint64_t> segments = wal->SegmentNumbers();
  ASSERT_GE(segments.size(), 3u);
  WalReplayStats stats;
  Replayed replayed = ReplayAll(wal.get(), &stats);
  EXPECT_GE(stats.corruptions, 1u);
  EXPECT_EQ(replayed.back(), expected.back());

  ASSERT_TRUE(wal->MarkCommitted(wal->LastSequence()).ok());
  EXPECT_EQ(wal->SegmentNumbers(), std::vector<uint64_t>{segments.back()});
  // The damaged segment is kept byte for byte; the undamaged ones are deleted as usual.
  std::string kept;
  ASSERT_TRUE(fs.ReadFile(PathOf("damaged/000001.wal"), &kept).ok());
  EXPECT_EQ(kept, bytes);
  EXPECT_FALSE(fs.Exists(PathOf("000001.wal")));
  EXPECT_FALSE(fs.Exists(PathOf("damaged/000002.wal")));
  EXPECT_FALSE(fs.Exists(PathOf("000002.wal")));
  EXPECT_EQ(wal->stats().segments_set_aside, 1u);
  EXPECT_EQ(wal->stats().segments_deleted, segments.size() - 2);
}

TEST(WalDamagedSegmentTest, ASegmentWithoutItsHeaderStillReplaysItsRecordsAndCounts) {
  MemFileSystem fs;
  Replayed expected;
  {
    auto wal = OpenOrDie(&fs);
    for (int i = 0; i < 100; ++i) {
      std::string record = MakeRecord(i, 1000);
      expected.emplace_back(wal->Append(record).value(), record);
    }
    ASSERT_TRUE(wal->Close().ok());
  }
  // Zero segment 1's first block: its header and the records in that block are gone.
  std::string bytes;
  ASSERT_TRUE(fs.ReadFile(PathOf("000001.wal"), &bytes).ok());
  ASSERT_GT(bytes.size(), 2u * 32768);
  std::fill(bytes.begin(), bytes.begin() + 32768, '\0');
  ASSERT_TRUE(fs.WriteFile(PathOf("000001.wal"), bytes, true).ok());

  auto wal = OpenOrDie(&fs);
  WalReplayStats stats;
  Replayed replayed = ReplayAll(wal.get(), &stats);
  EXPECT_GE(stats.corruptions, 1u);  // silently skipped zeros are still reported once
  EXPECT_EQ(stats.damaged_segments, 0u);
  EXPECT_GT(replayed.size(), expected.size() - 40);
  EXPECT_EQ(replayed.back(), expected.back());
  for (const auto& [seq, record] : replayed) EXPECT_EQ(record, expected[seq - 1].second);
  ASSERT_TRUE(wal->MarkCommitted(wal->LastSequence()).ok());
  EXPECT_TRUE(fs.Exists(PathOf("damaged/000001.wal")));
}

TEST(WalDamagedSegmentTest, OwnerCheckSeesTheEntriesAndCanRefuseBeforeAnythingIsWritten) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs(kDir).ok());
  ASSERT_TRUE(fs.WriteFile(PathOf("notes.txt"), "x", true).ok());
  std::vector<std::string> seen;
  auto refused = Wal::Open(&fs, kDir, WalOptions{}, [&](const std::vector<std::string>& names) {
    seen = names;
    return Status::InvalidArgument("not mine");
  });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("not mine"), std::string::npos);
  EXPECT_NE(std::find(seen.begin(), seen.end(), "notes.txt"), seen.end());
  auto names = fs.ListDir(kDir).value();
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::string& n) { return n.ends_with(".wal"); }),
            0);

  // An accepting check may write its marker; it exists before the first segment.
  auto wal = Wal::Open(&fs, kDir, WalOptions{}, [&](const std::vector<std::string>&) {
    EXPECT_FALSE(fs.Exists(PathOf("000001.wal")));
    return fs.WriteFileAtomic(PathOf("owner.json"), "{}");
  });
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  EXPECT_TRUE(fs.Exists(PathOf("owner.json")));
}

}  // namespace
}  // namespace lakelog::wal

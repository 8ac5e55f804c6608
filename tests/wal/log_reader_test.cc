// The block format: writer framing and reader semantics (truncation, corruption, trailers).
#include "wal/log_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "storage/mem_file_system.h"
#include "wal/coding.h"
#include "wal/crc32c.h"
#include "wal/log_format.h"
#include "wal/log_writer.h"
#include "wal_test_util.h"

namespace lakelog::wal {
namespace {

using wal_testing::MakeRecord;
using wal_testing::ReadAllRecords;

// Writes `records` through a LogWriter into an in-memory file and returns the file's bytes
// plus the end offset of every record.
struct Written {
  std::string bytes;
  std::vector<uint64_t> ends;
};

Written WriteLog(const std::vector<std::string>& records) {
  MemFileSystem fs;
  auto file = fs.NewWritableFile("log");
  EXPECT_TRUE(file.ok());
  LogWriter writer(file->get());
  Written out;
  for (const std::string& r : records) {
    EXPECT_TRUE(writer.AddRecord(r).ok());
    out.ends.push_back(writer.file_length());
  }
  EXPECT_TRUE(fs.ReadFile("log", &out.bytes).ok());
  EXPECT_EQ(out.bytes.size(), writer.file_length());
  return out;
}

RecordType TypeAt(const std::string& bytes, size_t header_offset) {
  return static_cast<RecordType>(bytes[header_offset + 6]);
}

// True when `got` is `want` with some elements removed (order kept, nothing invented).
bool IsSubsequence(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  size_t j = 0;
  for (const std::string& g : got) {
    while (j < want.size() && want[j] != g) ++j;
    if (j == want.size()) return false;
    ++j;
  }
  return true;
}

TEST(WalWriterTest, EmptyAndSmallRecordsRoundTrip) {
  std::vector<std::string> records = {"", "a", "hello", std::string(1000, 'x'), ""};
  Written w = WriteLog(records);
  EXPECT_EQ(w.bytes.size(), 5 * kHeaderSize + 1 + 5 + 1000);
  auto result = ReadAllRecords(w.bytes);
  EXPECT_EQ(result.records, records);
  EXPECT_EQ(result.corruptions, 0);
  EXPECT_EQ(result.truncated_tail_bytes, 0u);
}

TEST(WalWriterTest, HeaderLayoutIsLittleEndianWithMaskedCrc) {
  Written w = WriteLog({"abc"});
  ASSERT_EQ(w.bytes.size(), kHeaderSize + 3);
  EXPECT_EQ(static_cast<uint8_t>(w.bytes[4]), 3);  // length low byte
  EXPECT_EQ(static_cast<uint8_t>(w.bytes[5]), 0);
  EXPECT_EQ(TypeAt(w.bytes, 0), RecordType::kFull);
  std::string typed_payload = std::string(1, '\x01') + "abc";
  EXPECT_EQ(DecodeFixed32(w.bytes.data()), crc32c::Mask(crc32c::Value(typed_payload)));
}

TEST(WalWriterTest, RejectsRecordOverLimitWithoutWriting) {
  MemFileSystem fs;
  auto file = fs.NewWritableFile("log");
  ASSERT_TRUE(file.ok());
  LogWriter writer(file->get(), 0, /*max_record_bytes=*/100);
  Status st = writer.AddRecord(std::string(60, 'a'), std::string(41, 'b'));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*file)->Size(), 0u);
  EXPECT_FALSE(writer.failed());
  EXPECT_TRUE(writer.AddRecord(std::string(60, 'a'), std::string(40, 'b')).ok());
}

TEST(WalWriterTest, TwoPartRecordEqualsConcatenation) {
  MemFileSystem fs;
  auto file = fs.NewWritableFile("log");
  ASSERT_TRUE(file.ok());
  LogWriter writer(file->get());
  std::string head = MakeRecord(1, 40000), body = MakeRecord(2, 50000);
  ASSERT_TRUE(writer.AddRecord(head, body).ok());
  std::string bytes;
  ASSERT_TRUE(fs.ReadFile("log", &bytes).ok());
  auto result = ReadAllRecords(bytes);
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0], head + body);
}

TEST(WalReaderTest, FragmentsAcrossManyBlocks) {
  std::vector<std::string> records = {MakeRecord(0, 10), MakeRecord(1, 5 * kBlockSize + 123),
                                      MakeRecord(2, 100), MakeRecord(3, 3 * kBlockSize)};
  Written w = WriteLog(records);
  EXPECT_EQ(TypeAt(w.bytes, 0), RecordType::kFull);
  EXPECT_EQ(TypeAt(w.bytes, kHeaderSize + 10), RecordType::kFirst);
  EXPECT_EQ(TypeAt(w.bytes, kBlockSize), RecordType::kMiddle);
  auto result = ReadAllRecords(w.bytes);
  EXPECT_EQ(result.records, records);
  EXPECT_EQ(result.corruptions, 0);
}

TEST(WalReaderTest, ExactFitBlockStartsNextRecordAtBlockBoundary) {
  std::vector<std::string> records = {MakeRecord(0, kBlockSize - kHeaderSize), "next"};
  Written w = WriteLog(records);
  EXPECT_EQ(w.ends[0], kBlockSize);
  EXPECT_EQ(TypeAt(w.bytes, 0), RecordType::kFull);
  EXPECT_EQ(TypeAt(w.bytes, kBlockSize), RecordType::kFull);
  EXPECT_EQ(w.bytes.size(), kBlockSize + kHeaderSize + 4);
  auto result = ReadAllRecords(w.bytes);
  EXPECT_EQ(result.records, records);
  EXPECT_EQ(result.corruptions, 0);
}

TEST(WalReaderTest, TrailerUnderHeaderSizeIsZeroFilledAndSkipped) {
  // The first record leaves 6 bytes in block 0: too few for a header.
  std::vector<std::string> records = {MakeRecord(0, kBlockSize - kHeaderSize - 6), "tail"};
  Written w = WriteLog(records);
  EXPECT_EQ(w.ends[0], kBlockSize - 6);
  EXPECT_EQ(w.bytes.substr(kBlockSize - 6, 6), std::string(6, '\0'));
  EXPECT_EQ(TypeAt(w.bytes, kBlockSize), RecordType::kFull);
  auto result = ReadAllRecords(w.bytes);
  EXPECT_EQ(result.records, records);
  EXPECT_EQ(result.corruptions, 0);
}

TEST(WalReaderTest, ExactlyHeaderSizeLeftGetsEmptyFirstFragment) {
  std::vector<std::string> records = {MakeRecord(0, kBlockSize - 2 * kHeaderSize), "spill", ""};
  Written w = WriteLog(records);
  EXPECT_EQ(TypeAt(w.bytes, kBlockSize - kHeaderSize), RecordType::kFirst);
  EXPECT_EQ(TypeAt(w.bytes, kBlockSize), RecordType::kLast);
  auto result = ReadAllRecords(w.bytes);
  EXPECT_EQ(result.records, records);
  EXPECT_EQ(result.corruptions, 0);
}

TEST(WalReaderTest, EncodedSizeMatchesBytesWritten) {
  MemFileSystem fs;
  auto file = fs.NewWritableFile("log");
  ASSERT_TRUE(file.ok());
  LogWriter writer(file->get());
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    size_t n = rng() % 3 == 0 ? rng() % (3 * kBlockSize) : rng() % 200;
    size_t predicted = writer.EncodedSize(n);
    uint64_t before = writer.file_length();
    ASSERT_TRUE(writer.AddRecord(std::string(n, 'q')).ok());
    ASSERT_EQ(writer.file_length() - before, predicted) << "record " << i << " size " << n;
  }
}

TEST(WalReaderTest, ContinuingAnExistingFileKeepsBlockAlignment) {
  MemFileSystem fs;
  std::vector<std::string> records = {MakeRecord(0, 20000), MakeRecord(1, 30000), MakeRecord(2, 5)};
  {
    auto file = fs.NewWritableFile("log");
    ASSERT_TRUE(file.ok());
    LogWriter writer(file->get());
    ASSERT_TRUE(writer.AddRecord(records[0]).ok());
  }
  auto file = fs.NewAppendableFile("log");
  ASSERT_TRUE(file.ok());
  LogWriter writer(file->get(), (*file)->Size());
  ASSERT_TRUE(writer.AddRecord(records[1]).ok());
  ASSERT_TRUE(writer.AddRecord(records[2]).ok());
  std::string bytes;
  ASSERT_TRUE(fs.ReadFile("log", &bytes).ok());
  auto result = ReadAllRecords(bytes);
  EXPECT_EQ(result.records, records);
  EXPECT_EQ(result.corruptions, 0);
}

TEST(WalReaderTest, TruncatedTailIsEndOfLog) {
  // A small log, cut at every offset: the reader returns exactly the records that end before
  // the cut, reports no corruption, and counts the rest as a truncated tail.
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i) records.push_back(MakeRecord(i, (i * 37) % 90));
  Written w = WriteLog(records);
  for (size_t cut = 0; cut <= w.bytes.size(); ++cut) {
    auto result = ReadAllRecords(w.bytes.substr(0, cut));
    size_t expected = 0;
    while (expected < w.ends.size() && w.ends[expected] <= cut) ++expected;
    ASSERT_EQ(result.records.size(), expected) << "cut at " << cut;
    EXPECT_TRUE(std::equal(result.records.begin(), result.records.end(), records.begin()));
    ASSERT_EQ(result.corruptions, 0) << "cut at " << cut;
    uint64_t complete = expected == 0 ? 0 : w.ends[expected - 1];
    EXPECT_EQ(result.truncated_tail_bytes, cut - complete) << "cut at " << cut;
  }
}

TEST(WalReaderTest, TruncationInsideFragmentedRecordsIsEndOfLog) {
  std::vector<std::string> records = {MakeRecord(0, 100), MakeRecord(1, 2 * kBlockSize + 500),
                                      MakeRecord(2, kBlockSize - 20), MakeRecord(3, 50)};
  Written w = WriteLog(records);
  std::vector<size_t> cuts;
  for (size_t b = 1; b * kBlockSize < w.bytes.size(); ++b) {
    for (size_t d = 0; d < 2 * kHeaderSize + 2; ++d) {
      cuts.push_back(b * kBlockSize - kHeaderSize - 1 + d);
    }
  }
  for (size_t cut = 0; cut <= w.bytes.size(); cut += 97) cuts.push_back(cut);
  for (uint64_t end : w.ends) {
    cuts.push_back(end - 1);
    cuts.push_back(end);
  }
  for (size_t cut : cuts) {
    if (cut > w.bytes.size()) continue;
    auto result = ReadAllRecords(w.bytes.substr(0, cut));
    size_t expected = 0;
    while (expected < w.ends.size() && w.ends[expected] <= cut) ++expected;
    ASSERT_EQ(result.records.size(), expected) << "cut at " << cut;
    EXPECT_TRUE(std::equal(result.records.begin(), result.records.end(), records.begin()));
    ASSERT_EQ(result.corruptions, 0) << "cut at " << cut;
  }
}

TEST(WalReaderTest, BitFlipSkipsToNextBlockAndCounts) {
  // Records of 1000 bytes: block 0 holds the first 32, the 33rd spans blocks 0 and 1.
  std::vector<std::string> records;
  for (int i = 0; i < 100; ++i) records.push_back(MakeRecord(i, 1000));
  Written w = WriteLog(records);
  std::string bytes = w.bytes;
  bytes[5 * (kHeaderSize + 1000) + 300] ^= 0x10;  // inside record 5's payload
  auto result = ReadAllRecords(bytes);
  EXPECT_GE(result.corruptions, 1);
  // Records 0..4 survive; the rest of block 0 is dropped (records 5..31 and the FIRST part of
  // record 32, whose LAST part in block 1 is reported as missing its start); block 1 onward is
  // read again.
  std::vector<std::string> expected(records.begin(), records.begin() + 5);
  size_t first_in_block1 = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (w.ends[i] - (kHeaderSize + 1000) >= kBlockSize) {
      first_in_block1 = i;
      break;
    }
  }
  ASSERT_GT(first_in_block1, 5u);
  expected.insert(expected.end(), records.begin() + first_in_block1, records.end());
  EXPECT_EQ(result.records, expected);
  EXPECT_EQ(result.corruptions, 2);  // the checksum, then the orphaned LAST fragment
}

TEST(WalReaderTest, BitFlipsAtManyOffsetsNeverCrashAndAreCounted) {
  std::vector<std::string> records;
  for (int i = 0; i < 30; ++i) records.push_back(MakeRecord(i, (i * 997) % 5000));
  records.push_back(MakeRecord(99, kBlockSize + 10));
  records.push_back("last");
  Written w = WriteLog(records);
  const size_t final_block_start = (w.bytes.size() / kBlockSize) * kBlockSize;
  for (size_t offset = 0; offset < w.bytes.size(); offset += 29) {
    for (int bit : {0, 7}) {
      std::string bytes = w.bytes;
      bytes[offset] ^= static_cast<char>(1 << bit);
      auto result = ReadAllRecords(bytes);
      ASSERT_TRUE(IsSubsequence(result.records, records)) << "flip at " << offset;
      if (result.records != records && offset < final_block_start) {
        // Outside the final block a damaged record is never dropped silently.
        ASSERT_GE(result.corruptions, 1) << "flip at " << offset;
      }
    }
  }
}

TEST(WalReaderTest, ZeroFilledRegionIsSkippedSilently) {
  Written w = WriteLog({"one", "two"});
  std::string bytes = w.bytes + std::string(100, '\0');  // preallocated tail
  auto result = ReadAllRecords(bytes);
  EXPECT_EQ(result.records, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(result.corruptions, 0);
  // Zeros filling the rest of block 0, then a record in block 1.
  std::string padded = w.bytes + std::string(kBlockSize - w.bytes.size(), '\0');
  padded += WriteLog({"three"}).bytes;
  result = ReadAllRecords(padded);
  EXPECT_EQ(result.records, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(result.corruptions, 0);
}

TEST(WalReaderTest, OversizedRecordIsDroppedAndCounted) {
  std::vector<std::string> records = {"small", MakeRecord(1, 3 * kBlockSize), "after"};
  Written w = WriteLog(records);
  auto result = ReadAllRecords(w.bytes, /*max_record_bytes=*/kBlockSize);
  EXPECT_EQ(result.records, (std::vector<std::string>{"small", "after"}));
  EXPECT_GE(result.corruptions, 1);
}

TEST(WalReaderTest, MissingStartOfFragmentedRecordIsCounted) {
  std::vector<std::string> records = {MakeRecord(0, 2 * kBlockSize), "after"};
  Written w = WriteLog(records);
  std::string bytes = w.bytes;
  bytes[6] = 0x7f;  // block 0's FIRST header gets an unknown type (its CRC fails first)
  auto result = ReadAllRecords(bytes);
  EXPECT_EQ(result.records, (std::vector<std::string>{"after"}));
  EXPECT_GE(result.corruptions, 2);  // the bad header, then MIDDLE and LAST without a start
}

TEST(WalReaderTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    std::string bytes(rng() % (3 * kBlockSize), '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (round % 3 == 0 && bytes.size() > 7) bytes[6] = 1;  // look like a FULL header
    auto result = ReadAllRecords(bytes, 1 << 16);
    for (const auto& r : result.records) EXPECT_LE(r.size(), 1u << 16);
  }
}

TEST(WalReaderTest, ReadErrorStopsWithStatus) {
  class FailingFile final : public RandomAccessFile {
   public:
    Status Read(uint64_t, size_t, std::string*) const override {
      return Status::IOError("injected read failure");
    }
    uint64_t Size() const override { return 100; }
  } file;
  wal_testing::CountingReporter reporter;
  LogReader reader(&file, &reporter);
  std::string scratch;
  std::string_view record;
  EXPECT_FALSE(reader.ReadRecord(&record, &scratch));
  EXPECT_EQ(reader.status().code(), StatusCode::kIOError);
  EXPECT_EQ(reporter.count, 0);
}

}  // namespace
}  // namespace lakelog::wal

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "parquet/log_file_writer.h"
#include "storage/fault_injection_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::parquet {
namespace {

// `n` events whose values depend on `salt`, so files of different batches differ in every
// column (and in their statistics).
std::vector<LogEvent> MakeEvents(int n, int salt) {
  std::vector<LogEvent> events;
  for (int i = 0; i < n; ++i) {
    LogEvent e;
    e.pipeline = "p";
    e.ts_micros = 1732406400000000 + (salt * 1000003LL) + i * 31;
    e.level = static_cast<Level>((i + salt) % 6);
    e.stage = "stage-" + std::to_string((i + salt) % 3);
    if (i % 4 != salt % 4) e.status = salt % 2 ? "FAILED" : "SUCCESS";
    e.message = std::string(1, static_cast<char>('a' + salt % 26)) + " event " +
                std::to_string(i);  // unique: PLAIN after the probe
    e.run_id = "run-" + std::to_string(salt);
    if (i % 3 == 0) e.attributes = {{"k", std::to_string(i % 5 + salt)}};
    events.push_back(std::move(e));
  }
  return events;
}

std::vector<const LogEvent*> Pointers(const std::vector<LogEvent>& events) {
  std::vector<const LogEvent*> rows;
  for (const auto& e : events) rows.push_back(&e);
  return rows;
}

void ExpectSameStats(const DataFileStats& a, const DataFileStats& b) {
  EXPECT_EQ(a.num_rows, b.num_rows);
  EXPECT_EQ(a.file_size_bytes, b.file_size_bytes);
  EXPECT_EQ(a.min_ts_micros, b.min_ts_micros);
  EXPECT_EQ(a.max_ts_micros, b.max_ts_micros);
  ASSERT_EQ(a.string_columns.size(), b.string_columns.size());
  for (size_t i = 0; i < a.string_columns.size(); ++i) {
    EXPECT_EQ(a.string_columns[i].min, b.string_columns[i].min) << a.string_columns[i].name;
    EXPECT_EQ(a.string_columns[i].max, b.string_columns[i].max) << a.string_columns[i].name;
    EXPECT_EQ(a.string_columns[i].null_count, b.string_columns[i].null_count);
  }
}

// Both files exist and hold the same bytes.
void ExpectSameBytes(FileSystem* fs, const std::string& a, const std::string& b) {
  std::string a_bytes, b_bytes;
  ASSERT_TRUE(fs->ReadFile(a, &a_bytes).ok()) << a;
  ASSERT_TRUE(fs->ReadFile(b, &b_bytes).ok()) << b;
  EXPECT_EQ(a_bytes, b_bytes) << a << " vs " << b;
}

// Every append to a file whose path contains "broken" fails.
void BreakAppendsToBrokenFiles(FaultInjectionFileSystem* fs) {
  FaultRule rule;
  rule.op = FaultOp::kAppend;
  rule.path_contains = "broken";
  rule.times = -1;
  fs->AddRule(rule);
}

// A writer reused across files (of different sizes, values and options) leaves nothing of one
// file in the next: every file is byte-for-byte what a fresh writer writes, with the same stats.
TEST(DataFileWriterTest, ReusedWriterWritesWhatAFreshOneWrites) {
  auto fs = NewMemFileSystem();
  ParquetWriteOptions small_groups;
  small_groups.compression = Compression::kSnappy;
  small_groups.row_group_size_bytes = 20000;
  small_groups.page_size_bytes = 2048;
  const std::vector<std::vector<LogEvent>> batches = {MakeEvents(5000, 1), MakeEvents(40, 2),
                                                      MakeEvents(3000, 3), MakeEvents(1, 4)};
  const std::vector<ParquetWriteOptions> options = {ParquetWriteOptions(), ParquetWriteOptions(),
                                                    small_groups, ParquetWriteOptions()};
  DataFileWriter writer;
  for (size_t i = 0; i < batches.size(); ++i) {
    const std::string reused = "reused-" + std::to_string(i) + ".parquet";
    const std::string fresh = "fresh-" + std::to_string(i) + ".parquet";
    auto a = writer.Write(fs.get(), reused, Pointers(batches[i]), options[i]);
    auto b = WriteLogEventsFile(fs.get(), fresh, Pointers(batches[i]), options[i]);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ExpectSameStats(*a, *b);
    ASSERT_NO_FATAL_FAILURE(ExpectSameBytes(fs.get(), reused, fresh)) << "file " << i;
    auto rows = ReadParquetRowsAsJson(fs.get(), reused);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(rows->size(), batches[i].size());
  }
}

TEST(DataFileWriterTest, FailedFileDoesNotAffectTheNext) {
  auto mem = NewMemFileSystem();
  FaultInjectionFileSystem fs(mem.get());
  BreakAppendsToBrokenFiles(&fs);
  const std::vector<LogEvent> first = MakeEvents(2000, 5);
  const std::vector<LogEvent> second = MakeEvents(700, 6);
  DataFileWriter writer;
  EXPECT_FALSE(writer.Write(&fs, "broken.parquet", Pointers(first), ParquetWriteOptions()).ok());
  auto after = writer.Write(&fs, "after.parquet", Pointers(second), ParquetWriteOptions());
  auto fresh = WriteLogEventsFile(&fs, "fresh.parquet", Pointers(second), ParquetWriteOptions());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  ExpectSameStats(*after, *fresh);
  ExpectSameBytes(mem.get(), "after.parquet", "fresh.parquet");
}

// Files fed row by row in an interleaving (one row to each in turn, so row groups close and
// files spill mid-way while the others are open) come out byte for byte as files written one
// at a time, and a failing file leaves the others whole.
TEST(DataFileSetWriterTest, InterleavedFilesMatchFilesWrittenAlone) {
  auto mem = NewMemFileSystem();
  FaultInjectionFileSystem fs(mem.get());
  BreakAppendsToBrokenFiles(&fs);
  ParquetWriteOptions options;
  options.row_group_size_bytes = 20000;  // several row groups per file
  options.page_size_bytes = 2048;
  const std::vector<std::vector<LogEvent>> batches = {MakeEvents(3000, 1), MakeEvents(40, 2),
                                                      MakeEvents(2500, 3), MakeEvents(1, 4),
                                                      MakeEvents(2000, 5)};
  const std::vector<std::string> names = {"a", "b", "broken", "d", "e"};
  DataFileSetWriter writer(options);
  std::vector<size_t> handles;
  for (size_t i = 0; i < batches.size(); ++i) {
    auto handle = writer.Begin(&fs, names[i] + ".parquet", batches[i].size());
    ASSERT_TRUE(handle.ok()) << handle.status().ToString();
    handles.push_back(*handle);
  }
  for (size_t row = 0; row < 3000; ++row) {
    for (size_t i = 0; i < batches.size(); ++i) {
      if (row < batches[i].size()) (void)writer.Add(handles[i], batches[i][row]);
    }
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    auto stats = writer.Finish(handles[i]);
    if (names[i] == "broken") {
      EXPECT_FALSE(stats.ok());
      continue;
    }
    ASSERT_TRUE(stats.ok()) << names[i] << ": " << stats.status().ToString();
    auto alone =
        WriteLogEventsFile(mem.get(), names[i] + "-alone.parquet", Pointers(batches[i]), options);
    ASSERT_TRUE(alone.ok()) << alone.status().ToString();
    ExpectSameStats(*stats, *alone);
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameBytes(mem.get(), names[i] + ".parquet", names[i] + "-alone.parquet"));
  }
  // The handles are free again, and a reused one starts clean (the broken file's included).
  const std::vector<LogEvent> next = MakeEvents(500, 6);
  for (size_t i = 0; i < 2; ++i) {
    auto handle = writer.Begin(&fs, "next-" + std::to_string(i) + ".parquet", next.size());
    ASSERT_TRUE(handle.ok());
    for (const LogEvent& e : next) ASSERT_TRUE(writer.Add(*handle, e).ok());
    auto stats = writer.Finish(*handle);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->num_rows, 500);
  }
}

// With `unsynced`, Finish hands over a complete file that is neither synced nor closed.
// The writer keeps what it needs, so a caller may reuse its events as soon as AddRows returns
// (compaction reads file after file into the same events): rows overwritten after being added,
// in chunks that end mid row group and across the dictionary probe, give the bytes and stats
// of the same rows written at once. Overwriting with values that would be new minima and
// maxima makes any statistic left pointing into a caller's string show up.
TEST(DataFileSetWriterTest, RowsMayBeReusedAsSoonAsTheyAreAdded) {
  auto fs = NewMemFileSystem();
  ParquetWriteOptions options;
  options.row_group_size_bytes = 30000;
  options.page_size_bytes = 4096;
  const std::vector<LogEvent> events = MakeEvents(4000, 7);
  auto whole = WriteLogEventsFile(fs.get(), "whole.parquet", Pointers(events), options);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();

  DataFileSetWriter writer(options);
  auto handle = writer.Begin(fs.get(), "reused.parquet", 16);
  ASSERT_TRUE(handle.ok());
  std::vector<LogEvent> chunk;
  for (size_t begin = 0; begin < events.size(); begin += 333) {
    const size_t end = std::min(events.size(), begin + 333);
    chunk.assign(events.begin() + begin, events.begin() + end);
    ASSERT_TRUE(writer.AddRows(*handle, Pointers(chunk)).ok());
    for (LogEvent& e : chunk) {
      for (std::optional<std::string>* field :
           {&e.stage, &e.status, &e.message, &e.run_id, &e.host}) {
        if (field->has_value()) (*field)->assign((*field)->size(), begin % 2 ? '\0' : '\xff');
      }
      for (auto& [k, v] : e.attributes) v.assign(v.size(), '~');
    }
  }
  auto reused = writer.Finish(*handle);
  ASSERT_TRUE(reused.ok()) << reused.status().ToString();
  ExpectSameStats(*reused, *whole);
  ExpectSameBytes(fs.get(), "reused.parquet", "whole.parquet");
}

TEST(DataFileSetWriterTest, UnsyncedFinishHandsTheFileOver) {
  auto mem = NewMemFileSystem();
  const std::vector<LogEvent> events = MakeEvents(100, 7);
  DataFileSetWriter writer{ParquetWriteOptions()};
  auto handle = writer.Begin(mem.get(), "u.parquet", events.size());
  ASSERT_TRUE(handle.ok());
  for (const LogEvent& e : events) ASSERT_TRUE(writer.Add(*handle, e).ok());
  std::unique_ptr<WritableFile> file;
  auto stats = writer.Finish(*handle, &file);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->Size(), stats->file_size_bytes);
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  auto rows = ReadParquetRowsAsJson(mem.get(), "u.parquet");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), events.size());
}

// A file with no rows is refused at Finish, and its handle is free for the next file.
TEST(DataFileSetWriterTest, EmptyFileIsRefused) {
  auto mem = NewMemFileSystem();
  DataFileSetWriter writer{ParquetWriteOptions()};
  auto handle = writer.Begin(mem.get(), "empty.parquet", 0);
  ASSERT_TRUE(handle.ok());
  auto stats = writer.Finish(*handle);
  EXPECT_EQ(stats.status().code(), StatusCode::kInvalidArgument) << stats.status().ToString();
  EXPECT_FALSE(mem->Exists("empty.parquet"));
  auto again = writer.Begin(mem.get(), "next.parquet", 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *handle);
  const std::vector<LogEvent> one = MakeEvents(1, 8);
  ASSERT_TRUE(writer.Add(*again, one[0]).ok());
  EXPECT_TRUE(writer.Finish(*again).ok());
}

}  // namespace
}  // namespace lakelog::parquet

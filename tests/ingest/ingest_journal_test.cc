// IngestJournal on its own: which WAL directories it adopts, what it records about the input
// and the table, how a resume checks the input, and how recovery sizes its commits.
#include "ingest/ingest_journal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"
#include "wal/crc32c.h"

namespace lakelog::ingest {
namespace {

constexpr char kRoot[] = "/table";
constexpr char kWalDir[] = "/wal";
constexpr int64_t kTs = 1795515330000000;  // 2026-11-24T10:15:30Z

LogEvent Event(int64_t line, size_t message_bytes = 10) {
  LogEvent e;
  e.pipeline = "p";
  e.ts_micros = kTs + line;
  e.message = std::string(message_bytes, 'x');
  e.run_id = "line-" + std::to_string(line);
  return e;
}

// Input text "l1\nl2\n..." of `lines` lines, and the position after line `line` of `text`.
std::string Text(int64_t lines, const std::string& tag = "l") {
  std::string text;
  for (int64_t i = 1; i <= lines; ++i) text += tag + std::to_string(i) + "\n";
  return text;
}

InputPosition PositionAfter(const std::string& text, int64_t line) {
  size_t end = 0;
  for (int64_t i = 0; i < line; ++i) end = text.find('\n', end) + 1;
  return InputPosition{line, end, wal::crc32c::Value(std::string_view(text).substr(0, end))};
}

InputIdentity Input(uint64_t inode = 7) {
  InputIdentity input;
  input.path = "/in/events.ndjson";
  input.device = 1;
  input.inode = inode;
  input.size = 100;
  return input;
}

JournalOptions Options() {
  JournalOptions options;
  options.wal.sync_mode = WalSyncMode::kGroupCommit;
  return options;
}

std::vector<std::string> Sorted(Result<std::vector<std::string>> names) {
  EXPECT_TRUE(names.ok()) << names.status().ToString();
  std::vector<std::string> out = names.ok() ? *names : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  return out;
}

class IngestJournalOpenTest : public ::testing::Test {
 protected:
  // Runs an ingest of `lines` lines of Text(lines) that appends and syncs them, commits none,
  // and "crashes" (the journal is dropped without Finish()).
  void InterruptedRun(int64_t lines, size_t message_bytes = 10) {
    const std::string text = Text(lines);
    auto journal = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(), options_);
    ASSERT_TRUE(journal.ok()) << journal.status().ToString();
    for (int64_t line = 1; line <= lines; ++line) {
      ASSERT_TRUE((*journal)->Append(PositionAfter(text, line), Event(line, message_bytes)).ok());
    }
    auto durable = (*journal)->Sync();
    ASSERT_TRUE(durable.ok()) << durable.status().ToString();
    ASSERT_EQ(*durable, lines);
  }

  MemFileSystem fs_;
  JournalOptions options_ = Options();
};

TEST_F(IngestJournalOpenTest, EngineWalIsRefusedBeforeAnythingIsWritten) {
  ASSERT_TRUE(fs_.CreateDirs(kWalDir).ok());
  ASSERT_TRUE(fs_.WriteFile("/wal/engine.json", "{\"writer_id\":\"w\"}", true).ok());
  ASSERT_TRUE(fs_.WriteFile("/wal/000001.wal", "x", true).ok());
  const auto before = Sorted(fs_.ListDir(kWalDir));
  auto journal = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(), options_);
  ASSERT_FALSE(journal.ok());
  EXPECT_TRUE(journal.status().code() == StatusCode::kInvalidArgument)
      << journal.status().ToString();
  EXPECT_NE(journal.status().message().find("lakelog recover --table"), std::string::npos)
      << journal.status().ToString();
  EXPECT_EQ(Sorted(fs_.ListDir(kWalDir)), before);
}

TEST_F(IngestJournalOpenTest, SegmentsWithoutIngestJsonAreRefused) {
  ASSERT_TRUE(fs_.CreateDirs(kWalDir).ok());
  ASSERT_TRUE(fs_.WriteFile("/wal/000003.wal", "x", true).ok());
  auto journal = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(), options_);
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.status().message().find("WAL segments (000003.wal)"), std::string::npos)
      << journal.status().ToString();
  EXPECT_EQ(Sorted(fs_.ListDir(kWalDir)), std::vector<std::string>{"000003.wal"});
}

TEST_F(IngestJournalOpenTest, UnrelatedFilesAreRefused) {
  ASSERT_TRUE(fs_.CreateDirs(kWalDir).ok());
  ASSERT_TRUE(fs_.WriteFile("/wal/notes.txt", "mine", true).ok());
  auto journal = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(), options_);
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.status().message().find("not an ingest WAL (notes.txt)"), std::string::npos)
      << journal.status().ToString();
  EXPECT_EQ(Sorted(fs_.ListDir(kWalDir)), std::vector<std::string>{"notes.txt"});
}

TEST_F(IngestJournalOpenTest, RecoveryNeverCreatesTheDirectory) {
  auto journal = IngestJournal::OpenForRecovery(&fs_, kWalDir, kRoot, options_);
  ASSERT_FALSE(journal.ok());
  EXPECT_TRUE(journal.status().IsNotFound()) << journal.status().ToString();
  EXPECT_FALSE(fs_.Exists(kWalDir));
}

TEST_F(IngestJournalOpenTest, JournalOfTheOldFormatIsRefused) {
  ASSERT_TRUE(fs_.CreateDirs(kWalDir).ok());
  ASSERT_TRUE(fs_.WriteFile("/wal/ingest.json",
                            R"({"app_id":"lakelog-ingest-x","table":"/table","input":"in"})", true)
                  .ok());
  auto journal = IngestJournal::OpenForRecovery(&fs_, kWalDir, kRoot, options_);
  ASSERT_FALSE(journal.ok());
  EXPECT_TRUE(journal.status().code() == StatusCode::kNotSupported) << journal.status().ToString();
  EXPECT_NE(journal.status().message().find("older lakelog"), std::string::npos);
}

TEST_F(IngestJournalOpenTest, AnotherTableOrReplacedInputIsRefused) {
  ASSERT_NO_FATAL_FAILURE(InterruptedRun(3));
  auto other_table = IngestJournal::Open(&fs_, kWalDir, "/elsewhere/table", Input(), options_);
  ASSERT_FALSE(other_table.ok());
  EXPECT_NE(other_table.status().message().find("into table /table, not /elsewhere/table"),
            std::string::npos)
      << other_table.status().ToString();
  auto replaced = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(/*inode=*/8), options_);
  ASSERT_FALSE(replaced.ok());
  EXPECT_NE(replaced.status().message().find("the input was replaced"), std::string::npos)
      << replaced.status().ToString();
  auto same = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(), options_);
  EXPECT_TRUE(same.ok()) << same.status().ToString();
}

TEST_F(IngestJournalOpenTest, ResumeChecksTheBytesTheInterruptedRunRead) {
  ASSERT_NO_FATAL_FAILURE(InterruptedRun(4));
  auto table = DeltaTable::Open(&fs_, kRoot, {});
  ASSERT_TRUE(table.ok());
  auto journal = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(), options_);
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  auto resume = (*journal)->FindResumePoint(table->get());
  ASSERT_TRUE(resume.ok()) << resume.status().ToString();
  EXPECT_EQ(resume->line, 4);
  EXPECT_EQ(resume->known.line, 4);

  // The same input, and the same with lines appended: resumable.
  EXPECT_TRUE((*journal)->CheckPrefix(*resume, PositionAfter(Text(4), 4), false).ok());
  EXPECT_TRUE((*journal)->CheckPrefix(*resume, PositionAfter(Text(9), 4), false).ok());
  // Different bytes of the same length, then different lengths.
  Status changed = (*journal)->CheckPrefix(*resume, PositionAfter(Text(4, "m"), 4), false);
  EXPECT_TRUE(changed.code() == StatusCode::kInvalidArgument);
  EXPECT_NE(changed.message().find("CRC32C differs"), std::string::npos) << changed.ToString();
  Status longer = (*journal)->CheckPrefix(*resume, PositionAfter(Text(4, "ll"), 4), false);
  EXPECT_NE(longer.message().find("they end at byte"), std::string::npos) << longer.ToString();
  // A shorter input ends before the resume line.
  Status shorter = (*journal)->CheckPrefix(*resume, PositionAfter(Text(2), 2), true);
  EXPECT_NE(shorter.message().find("has only 2 lines"), std::string::npos) << shorter.ToString();
  EXPECT_NE(shorter.message().find("lakelog recover --table /table --wal /wal"), std::string::npos)
      << shorter.ToString();
}

TEST_F(IngestJournalOpenTest, CommitRecordsItsPositionForTheResume) {
  const std::string text = Text(6);
  {
    auto table = DeltaTable::Open(&fs_, kRoot, {});
    ASSERT_TRUE(table.ok());
    auto journal = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(), options_);
    ASSERT_TRUE(journal.ok());
    std::vector<LogEvent> events;
    for (int64_t line = 1; line <= 5; ++line) events.push_back(Event(line));
    std::vector<const LogEvent*> rows;
    for (int64_t line = 1; line <= 5; ++line) {
      ASSERT_TRUE((*journal)->Append(PositionAfter(text, line), events[line - 1]).ok());
      rows.push_back(&events[line - 1]);
    }
    // Line 6 was rejected: the commit covers it too.
    ASSERT_TRUE((*journal)->Commit(table->get(), rows, PositionAfter(text, 6)).ok());
  }
  auto table = DeltaTable::Open(&fs_, kRoot, {});
  ASSERT_TRUE(table.ok());
  auto journal = IngestJournal::Open(&fs_, kWalDir, kRoot, Input(), options_);
  ASSERT_TRUE(journal.ok());
  auto resume = (*journal)->FindResumePoint(table->get());
  ASSERT_TRUE(resume.ok()) << resume.status().ToString();
  EXPECT_EQ(resume->line, 6);
  EXPECT_EQ(resume->known.line, 6);
  EXPECT_EQ(resume->known.end_offset, text.size());
  EXPECT_EQ(resume->known.crc32c, wal::crc32c::Value(text));
}

TEST_F(IngestJournalOpenTest, RecoveryBatchesAreCutByBytes) {
  // 10 events of ~1000 bytes each, recovered with a 2500-byte bound: 3 events per commit.
  options_.batch_bytes = 2500;
  ASSERT_NO_FATAL_FAILURE(InterruptedRun(10, /*message_bytes=*/1000));
  auto table = DeltaTable::Open(&fs_, kRoot, {});
  ASSERT_TRUE(table.ok());
  auto journal = IngestJournal::OpenForRecovery(&fs_, kWalDir, kRoot, options_);
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  auto recovered = (*journal)->Recover(table->get());
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(recovered->replayed_events, 10);
  EXPECT_EQ(recovered->commits, 4);  // 3 + 3 + 3 + 1
  auto txn = (*table)->TxnVersion((*journal)->app_id());
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(txn->value_or(0), 10);
}

}  // namespace
}  // namespace lakelog::ingest

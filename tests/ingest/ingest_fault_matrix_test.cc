// `lakelog ingest --wal` (IngestJournal + DeltaTable on one file system) with a fault or a
// crash at each I/O call, followed by what an operator does: run the same ingest again.
//
// The run (RunIngest) does what the CLI's Ingester does: open the journal and the table,
// recover, then for every input line append it to the journal, sync every kSyncEvery lines
// ("durable N"), commit every kBatchRows lines (sync, then a Delta commit with txn {appId, last
// line}, "durable N"), and Finish(). On the first error it stops, as the process exits.
//
// One clean run records the calls (journal metadata, WAL segments, data files, commits,
// segment deletion, cleanup). Then, for every call x fault kind x {once then kill -9,
// persistent then power loss}, and for every call x crash (then power loss), the run is
// repeated with that fault, and then the same ingest runs again without faults. The invariant:
//   - after the faulted run (and the crash), the table is consistent (every committed file
//     reads, row counts match) and holds each input line at most once;
//   - every line the faulted run reported durable is accounted for by the re-run's recovery
//     (its resume point), for a power loss only in the group sync mode;
//   - after the re-run the table holds every input line exactly once, also after a power loss
//     that follows it, and the WAL directory is empty (the run finished).
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ingest/ingest_journal.h"
#include "lakelog/delta_table.h"
#include "query/table_scan.h"
#include "storage/fault_injection_file_system.h"
#include "storage/fault_matrix.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"
#include "wal/crc32c.h"

namespace lakelog::ingest {
namespace {

using fault_testing::Describe;
using fault_testing::FaultAt;
using fault_testing::FaultPoint;
using fault_testing::FaultPoints;
using fault_testing::KindsAt;
using fault_testing::OutcomeTally;
using fault_testing::Persistence;

constexpr char kRoot[] = "/table";
constexpr char kWalDir[] = "/wal";
constexpr char kInput[] = "/in/events.ndjson";
constexpr int64_t kLines = 10;
constexpr int64_t kSyncEvery = 3;
constexpr size_t kBatchRows = 4;
constexpr int64_t kTs = 1795515330000000;  // 2026-11-24T10:15:30Z

LogEvent Line(int64_t line) {
  LogEvent e;
  e.pipeline = line % 2 == 0 ? "even" : "odd";
  e.ts_micros = kTs + line;
  e.level = Level::kInfo;
  e.stage = "load";
  e.status = "SUCCESS";
  e.message = "line-" + std::to_string(line);
  e.attributes = {{"line", std::to_string(line)}};
  return e;
}

// The input is "line-1\nline-2\n...": the position after `line`.
InputPosition PositionAfter(int64_t line) {
  std::string text;
  for (int64_t i = 1; i <= line; ++i) text += "line-" + std::to_string(i) + "\n";
  return InputPosition{line, text.size(), wal::crc32c::Value(text)};
}

InputIdentity Input() {
  InputIdentity input;
  input.path = kInput;
  input.device = 1;
  input.inode = 2;
  input.size = PositionAfter(kLines).end_offset;
  return input;
}

JournalOptions Options(WalSyncMode mode) {
  JournalOptions options;
  options.wal.sync_mode = mode;
  options.wal.sync_interval_ms = 0;
  options.batch_rows = kBatchRows;
  return options;
}

struct IngestOutcome {
  Status status;
  int64_t reported_durable = 0;  // the highest `durable N` the run printed
  int64_t resumed_after = 0;     // its recovery's resume point
};

// One `lakelog ingest --wal` process on `fs`.
IngestOutcome RunIngest(FileSystem* fs, WalSyncMode mode) {
  IngestOutcome out;
  auto report = [&](int64_t line) { out.reported_durable = std::max(out.reported_durable, line); };
  out.status = [&]() -> Status {
    LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<DeltaTable> table, DeltaTable::Open(fs, kRoot, {}));
    LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<IngestJournal> journal,
                             IngestJournal::Open(fs, kWalDir, kRoot, Input(), Options(mode)));
    LAKELOG_ASSIGN_OR_RETURN(ResumePoint resume, journal->FindResumePoint(table.get()));
    // The input is the same: the prefix the interrupted run read checks out.
    LAKELOG_RETURN_IF_ERROR(
        journal->CheckPrefix(resume, PositionAfter(resume.known.line), /*input_ended=*/false));
    LAKELOG_ASSIGN_OR_RETURN(RecoveryResult recovered, journal->Recover(table.get()));
    out.resumed_after = recovered.resume_after_line;
    report(recovered.resume_after_line);
    std::vector<LogEvent> batch;
    int64_t unsynced = 0;
    int64_t last_line = 0;
    auto commit = [&]() -> Status {
      if (batch.empty()) return Status::OK();
      LAKELOG_ASSIGN_OR_RETURN(int64_t durable, journal->Sync());
      report(durable);
      unsynced = 0;
      std::vector<const LogEvent*> rows;
      for (const LogEvent& e : batch) rows.push_back(&e);
      LAKELOG_RETURN_IF_ERROR(
          journal->Commit(table.get(), rows, PositionAfter(last_line)).status());
      report(last_line);
      batch.clear();
      return Status::OK();
    };
    for (int64_t line = recovered.resume_after_line + 1; line <= kLines; ++line) {
      last_line = line;
      batch.push_back(Line(line));
      LAKELOG_RETURN_IF_ERROR(journal->Append(PositionAfter(line), batch.back()));
      if (++unsynced >= kSyncEvery) {
        LAKELOG_ASSIGN_OR_RETURN(int64_t durable, journal->Sync());
        report(durable);
        unsynced = 0;
      }
      if (batch.size() >= kBatchRows) LAKELOG_RETURN_IF_ERROR(commit());
    }
    LAKELOG_RETURN_IF_ERROR(commit());
    LAKELOG_RETURN_IF_ERROR(journal->Finish());
    report(last_line);
    return Status::OK();
  }();
  return out;
}

// Input line -> rows of the table holding it. Checks the table's consistency on the way.
void ReadLines(FileSystem* fs, const std::string& context, std::map<int64_t, int>* lines) {
  lines->clear();
  Result<DeltaSnapshot> snapshot = ReadDeltaSnapshot(fs, kRoot);
  if (!snapshot.ok() && snapshot.status().IsNotFound()) return;  // the table was never created
  ASSERT_TRUE(snapshot.ok()) << context << ": " << snapshot.status().ToString();
  for (const DeltaAddFile& file : snapshot->files) {
    auto summary = parquet::ReadParquetSummary(fs, JoinPath(kRoot, file.path));
    ASSERT_TRUE(summary.ok()) << context << ": committed file " << file.path
                              << " does not read: " << summary.status().ToString();
    EXPECT_EQ(summary->num_rows, file.num_records.value_or(-1)) << context;
  }
  Status scanned = query::ScanTable(fs, kRoot, *snapshot, [&](const query::ScannedRow& row) {
    auto it = row.attributes.find("line");
    ++(*lines)[it == row.attributes.end() ? -1 : std::stoll(it->second)];
  });
  ASSERT_TRUE(scanned.ok()) << context << ": " << scanned.ToString();
}

void ExpectAtMostOnce(const std::map<int64_t, int>& lines, const std::string& context) {
  for (const auto& [line, count] : lines) {
    EXPECT_TRUE(line >= 1 && line <= kLines) << context << ": unexpected row " << line;
    EXPECT_EQ(count, 1) << context << ": line " << line << " committed " << count << " times";
  }
}

class IngestFaultMatrixTest : public ::testing::TestWithParam<WalSyncMode> {
 protected:
  static std::string ModeName() { return std::string(WalSyncModeName(GetParam())); }

  std::vector<FaultPoint> CleanRunPoints() {
    MemFileSystem mem;
    FaultInjectionFileSystem faulty(&mem);
    faulty.set_record_calls(true);
    IngestOutcome run = RunIngest(&faulty, GetParam());
    EXPECT_TRUE(run.status.ok()) << run.status.ToString();
    EXPECT_EQ(run.reported_durable, kLines);
    std::vector<FaultPoint> points = FaultPoints(faulty.calls());
    fault_testing::MaybePrintPoints("ingest --wal (" + ModeName() + ")", points);
    return points;
  }

  // After the faulted run and an optional power loss: the table is consistent; a run that
  // failed is re-run, which recovers everything reported durable; either way the table ends
  // with every line exactly once. (A run that succeeded is done: running the same command
  // again is a new ingest of the input.)
  //
  // A crash can also hit the window between Finish() removing ingest.json (the run is complete)
  // and the process reporting success; re-running then is a new ingest of the input. That
  // window is documented in docs/durability.md; here it is recognised (no ingest.json, every
  // line committed once) and not re-run. Outside a crash, Finish() never fails after the
  // removal, so a failed run always leaves ingest.json behind.
  void RecoverAndCheck(MemFileSystem* mem, const IngestOutcome& faulted, bool crashed,
                       bool power_loss, const std::string& context, OutcomeTally* tally) {
    if (power_loss) mem->DropUnsyncedData();
    std::map<int64_t, int> lines;
    ASSERT_NO_FATAL_FAILURE(ReadLines(mem, context + ", before the re-run", &lines));
    ExpectAtMostOnce(lines, context + ", before the re-run");

    const bool finished_before_crash = crashed && !mem->Exists(JoinPath(kWalDir, "ingest.json")) &&
                                       lines.size() == static_cast<size_t>(kLines);
    if (!faulted.status.ok() && !crashed && lines.size() == static_cast<size_t>(kLines)) {
      EXPECT_TRUE(mem->Exists(JoinPath(kWalDir, "ingest.json")))
          << context << ": the run failed after it removed its completion marker";
    }
    IngestOutcome rerun;
    if (faulted.status.ok() || finished_before_crash) {
      EXPECT_EQ(lines.size(), static_cast<size_t>(kLines)) << context << ": ingest OK, lines lost";
      rerun.resumed_after = -1;
    } else {
      rerun = RunIngest(mem, GetParam());
    }
    ASSERT_TRUE(rerun.status.ok()) << context << ": re-run: " << rerun.status.ToString();
    const bool owed = !power_loss || GetParam() == WalSyncMode::kGroupCommit;
    if (owed && !faulted.status.ok()) {
      EXPECT_GE(rerun.resumed_after, faulted.reported_durable)
          << context << ": lines reported durable were not recovered";
    }
    ASSERT_NO_FATAL_FAILURE(ReadLines(mem, context + ", after the re-run", &lines));
    ExpectAtMostOnce(lines, context + ", after the re-run");
    EXPECT_EQ(lines.size(), static_cast<size_t>(kLines)) << context << ": lines missing";
    // What the re-run reported committed survives a power loss.
    mem->DropUnsyncedData();
    ASSERT_NO_FATAL_FAILURE(
        ReadLines(mem, context + ", after the re-run and a power loss", &lines));
    ExpectAtMostOnce(lines, context + ", after the re-run and a power loss");
    EXPECT_EQ(lines.size(), static_cast<size_t>(kLines))
        << context << ": lines lost by a power loss after the re-run";
    auto left = mem->ListDir(kWalDir);
    ASSERT_TRUE(left.ok());
    for (const std::string& name : *left) {
      EXPECT_EQ(name.find(".wal"), std::string::npos) << context << ": " << name << " left";
    }
    std::string outcome = faulted.status.ok() ? "ingest OK" : "ingest failed";
    if (finished_before_crash) outcome = "crashed after finishing (ingest.json removed)";
    outcome += faulted.reported_durable == kLines ? ", all lines reported durable"
                                                  : ", some lines not reported durable";
    if (rerun.resumed_after > 0) {
      outcome += "; re-run recovered from the WAL/table";
    } else if (rerun.resumed_after == 0) {
      outcome += "; re-run started over";
    }
    tally->Add(outcome);
  }
};

TEST_P(IngestFaultMatrixTest, FaultAtEachCall) {
  const std::vector<FaultPoint> points = CleanRunPoints();
  ASSERT_GT(points.size(), 50u);
  OutcomeTally tally;
  for (const FaultPoint& point : points) {
    for (FaultKind kind : KindsAt(point.op)) {
      // A transient fault and then the process is killed; a persistent one (a full or failing
      // disk) and then the machine loses power. Both kinds of follow-up for every fault are
      // covered per component in tests/delta and tests/wal.
      for (Persistence persistence : {Persistence::kOnce, Persistence::kPersistent}) {
        const bool power_loss = persistence == Persistence::kPersistent;
        {
          const std::string context =
              ModeName() + ": " + Describe(point, kind) +
              (persistence == Persistence::kOnce ? ", once" : ", persistent") +
              (power_loss ? ", then power loss" : ", then kill -9");
          SCOPED_TRACE(context);
          MemFileSystem mem;
          FaultInjectionFileSystem faulty(&mem);
          faulty.AddRule(FaultAt(point, kind, persistence));
          IngestOutcome faulted = RunIngest(&faulty, GetParam());
          EXPECT_GE(faulty.injected(), 1) << context << ": the fault point was not reached";
          if (!faulted.status.ok()) {
            EXPECT_NE(faulted.status.message().find("injected"), std::string::npos)
                << context << ": the error does not name its cause: " << faulted.status.ToString();
          }
          ASSERT_NO_FATAL_FAILURE(
              RecoverAndCheck(&mem, faulted, /*crashed=*/false, power_loss, context, &tally));
        }
      }
    }
  }
  std::cout << tally.Summary("ingest --wal fault matrix (" + ModeName() + ")");
  EXPECT_GT(tally.count("ingest failed, some lines not reported durable; re-run recovered from "
                        "the WAL/table"),
            0);
}

TEST_P(IngestFaultMatrixTest, CrashAtEachCall) {
  const std::vector<FaultPoint> points = CleanRunPoints();
  OutcomeTally tally;
  for (const FaultPoint& point : points) {
    for (FaultKind kind : {FaultKind::kIOError, FaultKind::kShortWrite}) {
      const std::string context = ModeName() + ": crash (" + std::string(FaultKindName(kind)) +
                                  ") at call " + std::to_string(point.index) + " (" +
                                  std::string(FaultOpName(point.op)) + " " + point.path + ")";
      SCOPED_TRACE(context);
      MemFileSystem mem;
      FaultInjectionFileSystem faulty(&mem);
      faulty.CrashAtCall(point.index, kind);
      IngestOutcome faulted = RunIngest(&faulty, GetParam());
      EXPECT_TRUE(faulty.crashed()) << context;
      ASSERT_NO_FATAL_FAILURE(RecoverAndCheck(&mem, faulted, /*crashed=*/true,
                                              /*power_loss=*/true, context, &tally));
    }
  }
  std::cout << tally.Summary("ingest --wal crash matrix (" + ModeName() + ")");
}

INSTANTIATE_TEST_SUITE_P(SyncModes, IngestFaultMatrixTest,
                         ::testing::Values(WalSyncMode::kGroupCommit, WalSyncMode::kNone),
                         [](const ::testing::TestParamInfo<WalSyncMode>& info) {
                           return std::string(WalSyncModeName(info.param));
                         });

// The journal frames the lines appended since the last sync into one WAL write.
TEST(IngestJournalTest, LinesBetweenSyncsAreOneWalWrite) {
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  auto journal =
      IngestJournal::Open(&fs, kWalDir, kRoot, Input(), Options(WalSyncMode::kGroupCommit));
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  fs.set_record_calls(true);
  std::vector<LogEvent> lines;
  for (int64_t line = 1; line <= 5; ++line) lines.push_back(Line(line));
  for (int64_t line = 1; line <= 5; ++line)
    ASSERT_TRUE((*journal)->Append(PositionAfter(line), lines[line - 1]).ok());
  auto durable = (*journal)->Sync();
  ASSERT_TRUE(durable.ok()) << durable.status().ToString();
  EXPECT_EQ(*durable, 5);
  int appends = 0;
  for (const FaultCall& call : fs.calls()) {
    if (call.op == FaultOp::kAppend && call.path.rfind(std::string(kWalDir) + "/", 0) == 0)
      ++appends;
  }
  EXPECT_EQ(appends, 1);
}

}  // namespace
}  // namespace lakelog::ingest

// DeltaTable::Append with a fault at each of its I/O calls, and with a crash at each of them.
//
// The operation: on a table that already holds batch 1 (txn {kApp, 1}), append batch 2 (two
// pipelines: two data files written concurrently, one commit) with txn {kApp, 2}. A clean run
// records its calls: the log reads that catch up, the partition directories, each data file's
// create/append/sync/close, and the commit's put-if-absent steps (temp file create, append,
// sync, close; link; temp unlink; directory sync). Then every case re-runs it on a fresh table:
//
//   fault matrix: every call x every fault kind that can happen there x {once, persistent};
//   crash matrix: every call x {EIO, torn write}, the process dying at that call.
//
// The invariant after every case, and again after a power loss (unsynced data dropped):
//   - the snapshot replays; every add's file exists, reads with the Parquet reader, and holds
//     the add's numRecords rows;
//   - the rows are batch 1 once, plus batch 2 once if Append reported success (at most once
//     otherwise): nothing reported committed is lost, nothing is doubled;
//   - a failed Append returns IOError or ResourceExhausted naming the injected fault;
//   - retrying the same Append (same txn) with the fault gone lands batch 2 exactly once.
#include "storage/fault_matrix.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "query/table_scan.h"
#include "storage/fault_injection_file_system.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::delta {
namespace {

using fault_testing::Describe;
using fault_testing::FaultAt;
using fault_testing::FaultPoint;
using fault_testing::FaultPoints;
using fault_testing::KindsAt;
using fault_testing::OutcomeTally;
using fault_testing::Persistence;
using testing::kTs;
using testing::MakeEvent;
using testing::Pointers;

constexpr char kRoot[] = "/t";
constexpr char kApp[] = "matrix-writer";
constexpr int kRowsPerPipeline = 5;

// Batch `b`: kRowsPerPipeline events for each of two pipelines, every message unique.
std::vector<LogEvent> Batch(int b) {
  std::vector<LogEvent> events;
  for (const char* pipeline : {"alpha", "beta"}) {
    for (int i = 0; i < kRowsPerPipeline; ++i) {
      events.push_back(MakeEvent(
          pipeline, kTs + i, "b" + std::to_string(b) + "-" + pipeline + "-" + std::to_string(i)));
    }
  }
  return events;
}

// message -> how many rows of the table carry it.
using MessageCounts = std::map<std::string, int>;

MessageCounts Expected(std::initializer_list<int> batches) {
  MessageCounts out;
  for (int b : batches) {
    for (const LogEvent& e : Batch(b)) ++out[*e.message];
  }
  return out;
}

// Checks that the table on `fs` is consistent (see the file comment) and returns its rows.
void ReadTable(FileSystem* fs, const std::string& context, MessageCounts* out) {
  out->clear();
  Result<DeltaSnapshot> snapshot = ReadDeltaSnapshot(fs, kRoot);
  ASSERT_TRUE(snapshot.ok()) << context << ": " << snapshot.status().ToString();
  for (const DeltaAddFile& file : snapshot->files) {
    const std::string path = JoinPath(kRoot, file.path);
    Result<parquet::ParquetFileSummary> summary = parquet::ReadParquetSummary(fs, path);
    ASSERT_TRUE(summary.ok()) << context << ": committed file " << file.path
                              << " does not read: " << summary.status().ToString();
    ASSERT_TRUE(file.num_records.has_value()) << context;
    EXPECT_EQ(summary->num_rows, *file.num_records) << context << ": " << file.path;
  }
  int64_t rows = 0;
  Status scanned = query::ScanTable(fs, kRoot, *snapshot, [&](const query::ScannedRow& row) {
    ++(*out)[row.message.value_or("<null>")];
    ++rows;
  });
  ASSERT_TRUE(scanned.ok()) << context << ": " << scanned.ToString();
  EXPECT_EQ(rows, snapshot->TotalRows()) << context;
}

// One run of the operation on a fresh table. The table is opened and batch 1 committed before
// any fault is armed.
struct Trial {
  Trial() : faulty(&mem) {
    auto opened = DeltaTable::Open(&faulty, kRoot, {});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return;
    table = std::move(opened).value();
    Result<DeltaCommitResult> first = AppendBatch(1);
    EXPECT_TRUE(first.ok()) << first.status().ToString();
  }

  Result<DeltaCommitResult> AppendBatch(int b) {
    std::vector<LogEvent> events = Batch(b);
    DeltaAppendOptions options;
    options.txn = DeltaTxn{kApp, b};
    options.max_commit_attempts = 3;
    return table->Append(Pointers(events), options);
  }

  MemFileSystem mem;
  FaultInjectionFileSystem faulty;
  std::unique_ptr<DeltaTable> table;
};

// The calls a clean append of batch 2 makes.
std::vector<FaultPoint> CleanRunPoints() {
  Trial run;
  run.faulty.set_record_calls(true);
  Result<DeltaCommitResult> result = run.AppendBatch(2);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  std::vector<FaultPoint> points = FaultPoints(run.faulty.calls());
  fault_testing::MaybePrintPoints("DeltaTable::Append", points);
  return points;
}

// After a power loss, a fresh process reopens the table, checks it and retries batch 2.
// `reported` says whether batch 2's Append reported success before the crash.
void RestartAndRetry(MemFileSystem* mem, bool reported, const std::string& context) {
  MessageCounts rows;
  ASSERT_NO_FATAL_FAILURE(ReadTable(mem, context + ", after power loss", &rows));
  const bool landed = rows == Expected({1, 2});
  if (!landed) {
    EXPECT_EQ(rows, Expected({1})) << context << ": after power loss";
  }
  EXPECT_TRUE(landed || !reported) << context << ": a reported commit was lost by the power loss";

  auto reopened = DeltaTable::Open(mem, kRoot, {});
  ASSERT_TRUE(reopened.ok()) << context << ": " << reopened.status().ToString();
  std::vector<LogEvent> events = Batch(2);
  DeltaAppendOptions options;
  options.txn = DeltaTxn{kApp, 2};
  Result<DeltaCommitResult> retry = (*reopened)->Append(Pointers(events), options);
  ASSERT_TRUE(retry.ok()) << context << ": recovery retry: " << retry.status().ToString();
  EXPECT_EQ(retry->skipped, landed) << context;
  ASSERT_NO_FATAL_FAILURE(ReadTable(mem, context + ", after recovery", &rows));
  EXPECT_EQ(rows, Expected({1, 2})) << context << ": after recovery";

  mem->DropUnsyncedData();
  ASSERT_NO_FATAL_FAILURE(ReadTable(mem, context + ", after recovery and power loss", &rows));
  EXPECT_EQ(rows, Expected({1, 2})) << context << ": recovery's commit did not survive";
}

// Checks a failed Append and the table it left; sets *landed to whether batch 2 landed anyway.
void ExpectCleanFailure(const Status& status, FileSystem* fs, const std::string& context,
                        bool* landed) {
  EXPECT_TRUE(status.code() == StatusCode::kIOError ||
              status.code() == StatusCode::kResourceExhausted)
      << context << ": " << status.ToString();
  EXPECT_NE(status.message().find("injected"), std::string::npos)
      << context << ": the error does not name its cause: " << status.ToString();
  MessageCounts rows;
  ASSERT_NO_FATAL_FAILURE(ReadTable(fs, context + ", after the failure", &rows));
  *landed = rows == Expected({1, 2});
  if (!*landed) {
    EXPECT_EQ(rows, Expected({1})) << context;
  }
}

size_t OrphanDataFiles(MemFileSystem* mem) {
  Result<DeltaSnapshot> snapshot = ReadDeltaSnapshot(mem, kRoot);
  if (!snapshot.ok()) return 0;
  size_t parquet = 0;
  for (const std::string& f : mem->AllFiles()) {
    if (f.size() > 8 && f.compare(f.size() - 8, 8, ".parquet") == 0 &&
        f.find("_delta_log") == std::string::npos) {
      ++parquet;
    }
  }
  return parquet - snapshot->files.size();
}

TEST(DeltaFaultMatrixTest, CleanAppendSurvivesPowerLoss) {
  Trial run;
  ASSERT_TRUE(run.AppendBatch(2).ok());
  run.mem.DropUnsyncedData();
  MessageCounts rows;
  ASSERT_NO_FATAL_FAILURE(ReadTable(&run.mem, "clean append", &rows));
  EXPECT_EQ(rows, Expected({1, 2}));
}

TEST(DeltaFaultMatrixTest, CleanRunMakesEveryKindOfCall) {
  std::map<FaultOp, int> ops;
  for (const FaultPoint& p : CleanRunPoints()) ++ops[p.op];
  EXPECT_EQ(ops[FaultOp::kOpenWrite], 3);  // two data files and the commit's temp file
  // The same three, each data file's directory, and the _delta_log directory.
  EXPECT_EQ(ops[FaultOp::kSync], 6);
  EXPECT_EQ(ops[FaultOp::kClose], 3);
  EXPECT_EQ(ops[FaultOp::kPutIfAbsent], 1);
  EXPECT_EQ(ops[FaultOp::kRename], 1);
  EXPECT_GE(ops[FaultOp::kAppend], 3);
  EXPECT_EQ(ops[FaultOp::kCreateDirs], 2);
  EXPECT_GE(ops[FaultOp::kOpenRead], 1);  // catching up on the log
}

TEST(DeltaFaultMatrixTest, FaultAtEachCall) {
  const std::vector<FaultPoint> points = CleanRunPoints();
  ASSERT_GT(points.size(), 15u);
  OutcomeTally tally;
  for (const FaultPoint& point : points) {
    for (FaultKind kind : KindsAt(point.op)) {
      for (Persistence persistence : {Persistence::kOnce, Persistence::kPersistent}) {
        const std::string context =
            Describe(point, kind) + (persistence == Persistence::kOnce ? ", once" : ", persistent");
        SCOPED_TRACE(context);
        // In-process: the writer sees the error and retries once the fault is gone.
        {
          Trial run;
          run.faulty.AddRule(FaultAt(point, kind, persistence));
          Result<DeltaCommitResult> result = run.AppendBatch(2);
          EXPECT_GE(run.faulty.injected(), 1) << context << ": the fault point was not reached";
          std::string outcome;
          if (result.ok()) {
            MessageCounts rows;
            ASSERT_NO_FATAL_FAILURE(ReadTable(&run.mem, context, &rows));
            EXPECT_EQ(rows, Expected({1, 2})) << context;
            outcome = "absorbed: Append OK, batch committed once";
          } else {
            bool landed = false;
            ASSERT_NO_FATAL_FAILURE(
                ExpectCleanFailure(result.status(), &run.mem, context, &landed));
            run.faulty.ClearRules();
            Result<DeltaCommitResult> retry = run.AppendBatch(2);
            ASSERT_TRUE(retry.ok()) << context << ": retry: " << retry.status().ToString();
            EXPECT_EQ(retry->skipped, landed) << context;
            MessageCounts rows;
            ASSERT_NO_FATAL_FAILURE(ReadTable(&run.mem, context + ", after retry", &rows));
            EXPECT_EQ(rows, Expected({1, 2})) << context;
            outcome = landed ? "error, commit landed anyway; retry skipped by txn"
                             : "error, nothing committed; retry committed";
            if (OrphanDataFiles(&run.mem) > 0) outcome += " (orphan data files left)";
          }
          tally.Add(std::string(FaultOpName(point.op)) + ": " + outcome);
          // Everything reported committed is durable.
          run.mem.DropUnsyncedData();
          MessageCounts rows;
          ASSERT_NO_FATAL_FAILURE(ReadTable(&run.mem, context + ", after power loss", &rows));
          EXPECT_EQ(rows, Expected({1, 2})) << context << ": power loss after a reported commit";
        }
        // The writer dies right after the failure (a power loss), and a new one recovers.
        {
          Trial run;
          run.faulty.AddRule(FaultAt(point, kind, persistence));
          Result<DeltaCommitResult> result = run.AppendBatch(2);
          run.mem.DropUnsyncedData();
          ASSERT_NO_FATAL_FAILURE(RestartAndRetry(&run.mem, result.ok(), context));
        }
      }
    }
  }
  std::cout << tally.Summary("DeltaTable::Append fault matrix");
  EXPECT_GT(tally.count_containing("error, nothing committed; retry committed"), 0);
  EXPECT_GT(tally.count_containing("error, commit landed anyway; retry skipped by txn"), 0);
}

TEST(DeltaFaultMatrixTest, CrashAtEachCall) {
  const std::vector<FaultPoint> points = CleanRunPoints();
  OutcomeTally tally;
  for (const FaultPoint& point : points) {
    for (FaultKind kind : {FaultKind::kIOError, FaultKind::kShortWrite}) {
      const std::string context = "crash (" + std::string(FaultKindName(kind)) + ") at call " +
                                  std::to_string(point.index) + " (" +
                                  std::string(FaultOpName(point.op)) + " " + point.path + ")";
      SCOPED_TRACE(context);
      Trial run;
      run.faulty.CrashAtCall(point.index, kind);
      Result<DeltaCommitResult> result = run.AppendBatch(2);
      EXPECT_TRUE(run.faulty.crashed()) << context;
      run.mem.DropUnsyncedData();
      MessageCounts rows;
      ASSERT_NO_FATAL_FAILURE(ReadTable(&run.mem, context, &rows));
      tally.Add(rows == Expected({1, 2}) ? "commit durable before the crash; recovery skipped it"
                                         : "nothing committed; recovery committed");
      ASSERT_NO_FATAL_FAILURE(RestartAndRetry(&run.mem, result.ok(), context));
    }
  }
  std::cout << tally.Summary("DeltaTable::Append crash matrix");
  EXPECT_GT(tally.count("nothing committed; recovery committed"), 0);
}

}  // namespace
}  // namespace lakelog::delta

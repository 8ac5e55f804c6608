// The engine with a WAL and a Delta sink, both on one FaultInjectionFileSystem, with a fault
// at each I/O call and with a crash at each I/O call: DESIGN.md's guarantee 1 end to end.
//
// A run (RunEngine): open the sink (table creation happens before any fault is armed), open
// the engine (WAL recovery, writer id file), log kEvents events on two pipelines, Sync() (one
// round: WAL append + fsync), Flush() (the round's Delta commit), Stop(). One clean run
// records the calls; the matrix re-runs with
//   - a transient fault (EIO, ENOSPC, short write, lost dirty pages) at each call: the engine
//     retries, so every event is committed exactly once and nothing is dropped; or Open fails
//     with a clear error, and opening again (the caller's retry) delivers everything; a failed
//     Sync() or Stop() reports the injected error;
//   - a crash (every call from there on fails; then a power loss) at each call: a new engine on
//     the same WAL directory commits every event the first one acknowledged with Sync(), and no
//     event is ever committed twice.
// After every case a power loss must not take away anything reported committed.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lakelog/delta_sink.h"
#include "lakelog/delta_table.h"
#include "lakelog/engine.h"
#include "query/table_scan.h"
#include "storage/fault_injection_file_system.h"
#include "storage/fault_matrix.h"
#include "storage/mem_file_system.h"

namespace lakelog {
namespace {

using fault_testing::Describe;
using fault_testing::FaultAt;
using fault_testing::FaultPoint;
using fault_testing::FaultPoints;
using fault_testing::KindsAt;
using fault_testing::OutcomeTally;

constexpr char kTable[] = "/table";
constexpr char kWal[] = "/wal";
constexpr int kEvents = 40;
// How long Sync/Flush/Stop may take in a healthy run (generous: loaded CI machines).
constexpr auto kWait = std::chrono::milliseconds(10000);
// Once the process is "dead", nothing it does matters any more: stop waiting this soon.
constexpr auto kDeadWait = std::chrono::milliseconds(20);

struct EngineRun {
  Status opened;
  Status synced;
  Status flushed;
  Status stopped;
  uint64_t dropped = 0;
  int64_t left_in_wal = 0;
};

// Calls `op(timeout)` in short slices until it does not time out, `kWait` passes, or `dead`
// (the crash happened: the engine would retry until its deadline) is true.
template <typename Op>
Status WaitFor(Op op, FaultInjectionFileSystem* dead) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (true) {
    Status st = op(kDeadWait);
    if (st.code() != StatusCode::kTimedOut) return st;
    if ((dead != nullptr && dead->crashed()) || std::chrono::steady_clock::now() >= deadline) {
      return st;
    }
  }
}

// One process lifetime of an application using the engine on `fs`. With `log_events` false it
// only opens and stops (a restart that replays the WAL). `dead` (may be null) tells when the
// process has crashed.
EngineRun RunEngine(FileSystem* fs, ManualClock* clock, bool log_events,
                    FaultInjectionFileSystem* dead = nullptr) {
  EngineRun run;
  EngineOptions options;
  options.wal_dir = kWal;
  options.wal_fs = fs;
  options.wal.sync_mode = WalSyncMode::kGroupCommit;
  options.host = "test-host";
  options.clock = clock;  // never advanced: rounds happen only for Sync/Flush/Stop
  options.retry_initial_backoff = std::chrono::milliseconds(1);
  options.retry_max_backoff = std::chrono::milliseconds(2);
  options.stop_timeout = kDeadWait;
  auto sink = NewDeltaSink(fs, kTable);
  if (!sink.ok()) {
    run.opened = sink.status();
    return run;
  }
  auto engine = Engine::Open(options, std::move(sink).value());
  if (!engine.ok()) {
    run.opened = engine.status();
    return run;
  }
  if (log_events) {
    Logger a = (*engine)->GetLogger("alpha").value();
    Logger b = (*engine)->GetLogger("beta").value();
    for (int i = 0; i < kEvents; ++i) {
      EXPECT_EQ((i % 2 ? a : b).Info("stage", "SUCCESS", std::to_string(i)), LogResult::kAccepted);
    }
    run.synced = WaitFor([&](auto timeout) { return (*engine)->Sync(timeout); }, dead);
  }
  run.flushed = WaitFor([&](auto timeout) { return (*engine)->Flush(timeout); }, dead);
  const bool crashed = dead != nullptr && dead->crashed();
  run.stopped = (*engine)->Stop(StopOptions{.timeout = crashed ? kDeadWait : kWait});
  for (const std::string& pipeline : (*engine)->Pipelines()) {
    run.dropped += (*engine)->Stats(pipeline)->dropped_total();
  }
  run.left_in_wal = (*engine)->wal_info().events_left_in_wal;
  return run;
}

// message -> rows; checks that the table reads (when it exists).
void ReadRows(FileSystem* fs, const std::string& context, std::map<std::string, int>* rows) {
  rows->clear();
  auto snapshot = ReadDeltaSnapshot(fs, kTable);
  if (!snapshot.ok() && snapshot.status().IsNotFound()) return;
  ASSERT_TRUE(snapshot.ok()) << context << ": " << snapshot.status().ToString();
  Status scanned = query::ScanTable(fs, kTable, *snapshot, [&](const query::ScannedRow& row) {
    ++(*rows)[row.message.value_or("<null>")];
  });
  ASSERT_TRUE(scanned.ok()) << context << ": " << scanned.ToString();
  for (const auto& [message, count] : *rows) {
    EXPECT_EQ(count, 1) << context << ": event " << message << " committed " << count << " times";
  }
}

std::vector<FaultPoint> CleanRunPoints() {
  MemFileSystem mem;
  FaultInjectionFileSystem faulty(&mem);
  ManualClock clock;
  EXPECT_TRUE(NewDeltaSink(&faulty, kTable).ok());  // creates the table
  faulty.set_record_calls(true);
  EngineRun run = RunEngine(&faulty, &clock, /*log_events=*/true);
  EXPECT_TRUE(run.opened.ok() && run.synced.ok() && run.flushed.ok() && run.stopped.ok());
  std::vector<FaultPoint> points = FaultPoints(faulty.calls());
  fault_testing::MaybePrintPoints("Engine + DeltaSink", points);
  return points;
}

TEST(EngineFaultMatrixTest, TransientFaultAtEachCall) {
  const std::vector<FaultPoint> points = CleanRunPoints();
  ASSERT_GT(points.size(), 20u);
  OutcomeTally tally;
  for (const FaultPoint& point : points) {
    for (FaultKind kind : KindsAt(point.op)) {
      const std::string context = Describe(point, kind);
      SCOPED_TRACE(context);
      MemFileSystem mem;
      FaultInjectionFileSystem faulty(&mem);
      ManualClock clock;
      ASSERT_TRUE(NewDeltaSink(&faulty, kTable).ok());
      faulty.AddRule(FaultAt(point, kind));
      EngineRun run = RunEngine(&faulty, &clock, /*log_events=*/true);
      EXPECT_GE(faulty.injected(), 1) << context << ": the fault point was not reached";
      std::string outcome;
      if (!run.opened.ok()) {
        EXPECT_NE(run.opened.message().find("injected"), std::string::npos)
            << context << ": " << run.opened.ToString();
        // The caller's retry: open again, log again.
        run = RunEngine(&faulty, &clock, /*log_events=*/true);
        ASSERT_TRUE(run.opened.ok()) << context << ": " << run.opened.ToString();
        outcome = "Open failed with a clear error; opening again delivered everything";
      } else if (!run.synced.ok()) {
        outcome = "Sync reported the WAL error; the sink committed everything";
      } else {
        outcome = "absorbed by retries; everything committed";
      }
      EXPECT_TRUE(run.flushed.ok()) << context << ": " << run.flushed.ToString();
      if (!run.stopped.ok()) {
        // Closing the WAL failed: reported, though everything is committed.
        EXPECT_NE(run.stopped.message().find("injected"), std::string::npos)
            << context << ": " << run.stopped.ToString();
        outcome += "; Stop reported the WAL close error";
      }
      EXPECT_EQ(run.dropped, 0u) << context;
      EXPECT_EQ(run.left_in_wal, 0) << context;
      mem.DropUnsyncedData();  // what Flush() reported committed survives a power loss
      std::map<std::string, int> rows;
      ASSERT_NO_FATAL_FAILURE(ReadRows(&mem, context, &rows));
      EXPECT_EQ(rows.size(), static_cast<size_t>(kEvents)) << context << ": events lost";
      tally.Add(std::string(FaultOpName(point.op)) + ": " + outcome);
    }
  }
  std::cout << tally.Summary("Engine + DeltaSink transient-fault matrix");
}

TEST(EngineFaultMatrixTest, CrashAtEachCall) {
  const std::vector<FaultPoint> points = CleanRunPoints();
  OutcomeTally tally;
  for (const FaultPoint& point : points) {
    const std::string context = "crash at call " + std::to_string(point.index) + " (" +
                                std::string(FaultOpName(point.op)) + " " + point.path + ")";
    SCOPED_TRACE(context);
    MemFileSystem mem;
    FaultInjectionFileSystem faulty(&mem);
    ManualClock clock;
    ASSERT_TRUE(NewDeltaSink(&faulty, kTable).ok());
    faulty.CrashAtCall(point.index);
    EngineRun crashed = RunEngine(&faulty, &clock, /*log_events=*/true, &faulty);
    EXPECT_TRUE(faulty.crashed()) << context;
    const bool acknowledged = crashed.opened.ok() && crashed.synced.ok();
    mem.DropUnsyncedData();

    std::map<std::string, int> rows;
    ASSERT_NO_FATAL_FAILURE(ReadRows(&mem, context + ", after the crash", &rows));
    const size_t before = rows.size();
    // The next process: a new engine on the same WAL directory replays what is owed.
    EngineRun restarted = RunEngine(&mem, &clock, /*log_events=*/false);
    ASSERT_TRUE(restarted.opened.ok()) << context << ": " << restarted.opened.ToString();
    EXPECT_TRUE(restarted.stopped.ok()) << context << ": " << restarted.stopped.ToString();
    mem.DropUnsyncedData();
    ASSERT_NO_FATAL_FAILURE(ReadRows(&mem, context + ", after the restart", &rows));
    if (acknowledged) {
      EXPECT_EQ(rows.size(), static_cast<size_t>(kEvents))
          << context << ": events acknowledged by Sync() are missing";
    }
    std::string outcome = acknowledged ? "events acknowledged" : "events not acknowledged";
    outcome += before == static_cast<size_t>(kEvents)        ? ", committed before the crash"
               : rows.size() == static_cast<size_t>(kEvents) ? ", committed by the restart"
               : rows.empty()                                ? ", none committed"
                                                             : ", some committed";
    tally.Add(outcome);
  }
  std::cout << tally.Summary("Engine + DeltaSink crash matrix");
  EXPECT_GT(tally.count("events acknowledged, committed by the restart"), 0);
}

}  // namespace
}  // namespace lakelog

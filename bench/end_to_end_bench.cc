// End to end: sustained events/s from Logger::Log() to committed Delta files, and what the
// write-ahead log costs. One run measures the same workload with the WAL off, with sync
// "none" (survives kill -9), "interval" (fsync every 100 ms) and "group" (fsync every round),
// each against a fresh table on local disk, and prints the medians and the ratio to "off".
//
// Workload: `producers` threads log `events` events in total (about 200 bytes each: a mix of
// 8 pipelines, stages, statuses and messages, attributes on half of them) with overflow policy
// "block", so nothing is dropped and the producers run at the speed the engine sustains; the
// clock stops when Flush() has returned, i.e. everything is committed.
//
//   ./build-bench/bench/end_to_end_bench [--events N] [--producers N] [--repeats N] [--dir D]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "lakelog/delta_sink.h"
#include "lakelog/delta_table.h"
#include "lakelog/engine.h"

namespace {

using namespace lakelog;
using SteadyClock = std::chrono::steady_clock;

struct Mode {
  const char* name;
  bool wal;
  WalSyncMode sync;
};

constexpr Mode kModes[] = {{"wal off", false, WalSyncMode::kNone},
                           {"wal sync=none", true, WalSyncMode::kNone},
                           {"wal sync=interval", true, WalSyncMode::kInterval},
                           {"wal sync=group", true, WalSyncMode::kGroupCommit}};

struct RunResult {
  double seconds = 0;
  uint64_t rows = 0;
  uint64_t dropped = 0;
  int64_t commits = 0;
  size_t files = 0;
};

const char* const kStages[] = {"extract", "validate", "delta_merge", "publish", "score"};
const char* const kStatuses[] = {"RUNNING", "SUCCESS", "SUCCESS", "SUCCESS", "FAILED"};
const char* const kMessages[] = {
    "Stage started for partition batch; reading source snapshot and validating schema",
    "Merge complete: 18234 rows inserted, 112 updated, 0 deleted in 2.4 s",
    "Fetch failed: connection reset by peer while reading s3://bucket/raw/2026/11/24/part",
    "Published index alias swap to generation 4412; previous generation kept for rollback",
};

RunResult RunOnce(const Mode& mode, const std::string& dir, uint64_t events, int producers) {
  std::filesystem::remove_all(dir);
  const std::string table = dir + "/table";
  EngineOptions options;
  options.flush_threads = 2;
  if (mode.wal) {
    options.wal_dir = dir + "/wal";
    options.wal.sync_mode = mode.sync;
    options.wal.sync_interval_ms = 100;
  }
  auto sink = NewDeltaSink(PosixFileSystem(), table);
  if (!sink.ok()) {
    std::fprintf(stderr, "%s\n", sink.status().ToString().c_str());
    std::exit(1);
  }
  auto engine = Engine::Open(options, std::move(sink).value()).value();
  LoggerOptions lo;
  lo.overflow = OverflowPolicy::kBlock;
  lo.block_timeout = std::chrono::seconds(60);
  lo.capacity_events = 65536;
  lo.capacity_bytes = 32 << 20;
  lo.batch_events = 32768;
  lo.batch_bytes = 16 << 20;
  lo.flush_interval = std::chrono::milliseconds(1000);
  constexpr int kPipelines = 8;
  std::vector<Logger> loggers;
  for (int p = 0; p < kPipelines; ++p) {
    loggers.push_back(engine->GetLogger("pipeline_" + std::to_string(p), lo).value());
  }
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < producers; ++t) {
    threads.emplace_back([&, t] {
      char run_id[32];
      for (uint64_t i = t; i < events; i += producers) {
        std::snprintf(run_id, sizeof(run_id), "run-%llu", static_cast<unsigned long long>(i / 64));
        // Designated initializers, as logger.h's example: assignments after a default
        // construction had gcc zero the whole struct first.
        const Attribute attrs[] = {{"rows", "18234"}, {"attempt", "1"}};
        (void)loggers[i % kPipelines].Log({
            .level = i % 17 == 0 ? Level::kError : Level::kInfo,
            .stage = kStages[i % 5],
            .status = kStatuses[(i / 5) % 5],
            .message = kMessages[(i / 3) % 4],
            .run_id = run_id,
            .attributes =
                i % 2 == 0 ? std::span<const Attribute>(attrs) : std::span<const Attribute>(),
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  Status flushed = engine->Flush(std::chrono::seconds(300));
  RunResult r;
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (!flushed.ok()) std::fprintf(stderr, "flush: %s\n", flushed.ToString().c_str());
  for (const std::string& p : engine->Pipelines()) {
    LoggerStats s = engine->Stats(p).value();
    r.rows += s.flushed;
    r.dropped += s.dropped_total();
  }
  r.commits = engine->rounds_written();
  (void)engine->Stop();
  auto snap = ReadDeltaSnapshot(PosixFileSystem(), table);
  if (snap.ok()) r.files = snap->files.size();
  if (!snap.ok() || snap->TotalRows() != static_cast<int64_t>(events) || r.dropped != 0) {
    std::fprintf(stderr, "%s: the table does not hold every event (rows %lld, dropped %llu)\n",
                 mode.name, snap.ok() ? static_cast<long long>(snap->TotalRows()) : -1LL,
                 static_cast<unsigned long long>(r.dropped));
    std::exit(1);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 1'000'000;
  int producers = 2, repeats = 3;
  std::string dir = "/tmp/lakelog-e2e-bench";
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h" || i + 1 >= argc) {
      std::fprintf(flag == "--help" || flag == "-h" ? stdout : stderr,
                   "usage: end_to_end_bench [--events N (1000000)] [--producers N (2)]\n"
                   "                        [--repeats N (3)] [--dir D (/tmp/lakelog-e2e-bench)]\n"
                   "Times log() -> committed Delta files with the WAL off and in each sync "
                   "mode; prints medians and ratios.\n");
      return flag == "--help" || flag == "-h" ? 0 : 2;
    }
    if (flag == "--events")
      events = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--producers")
      producers = std::atoi(argv[i + 1]);
    else if (flag == "--repeats")
      repeats = std::atoi(argv[i + 1]);
    else if (flag == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::printf("end to end: %llu events, %d producers, 8 pipelines, median of %d runs\n",
              static_cast<unsigned long long>(events), producers, repeats);
  std::printf("%-20s %12s %10s %9s %7s %9s\n", "mode", "events/s", "seconds", "commits", "files",
              "vs off");
  double off_rate = 0;
  for (const Mode& mode : kModes) {
    std::vector<RunResult> runs;
    // Interleaving would be fairer on a noisy machine, but each mode needs a fresh table
    // anyway; runs of one mode go back to back.
    for (int r = 0; r < repeats; ++r) runs.push_back(RunOnce(mode, dir, events, producers));
    std::sort(runs.begin(), runs.end(),
              [](const RunResult& a, const RunResult& b) { return a.seconds < b.seconds; });
    const RunResult& median = runs[runs.size() / 2];
    const double rate = static_cast<double>(events) / median.seconds;
    if (!mode.wal) off_rate = rate;
    std::printf("%-20s %12.0f %10.2f %9lld %7zu %8.2fx\n", mode.name, rate, median.seconds,
                static_cast<long long>(median.commits), median.files, rate / off_rate);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

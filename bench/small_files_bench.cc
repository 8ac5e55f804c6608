// Small files: 20 pipelines x 100 events/s for one simulated hour, 5 s flush interval.
// Counts Delta commits (sink writes) and data files (one per pipeline and log_date in a write,
// as DeltaSink produces) for:
//   - lakelog, fixed interval (group commit: one commit per round for all pipelines),
//   - lakelog, adaptive (target file 8 MiB, latency bound 60 s),
//   - the naive design: one buffer per pipeline, each flush = one file + one commit.
// Time is simulated (ManualClock + RunDueRounds), so the hour takes seconds.
//
//   ./build/bench/small_files_bench [pipelines] [events_per_second] [seconds]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "lakelog/engine.h"

namespace {

using namespace lakelog;

class CountingSink : public Sink {
 public:
  std::string_view name() const override { return "counting"; }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext&) override {
    std::set<std::pair<std::string, int32_t>> files;
    for (const LogEvent* e : events) files.emplace(e->pipeline, DaysFromMicros(e->ts_micros));
    ++commits;
    this->files += files.size();
    rows += events.size();
    return Status::OK();
  }
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }
  int64_t commits = 0, files = 0, rows = 0;
};

struct Counts {
  int64_t commits, files, rows;
};

constexpr int64_t kTickMicros = 10'000;

Counts RunLakelog(int pipelines, int rate, int seconds, bool adaptive) {
  ManualClock clock;
  auto owned = std::make_unique<CountingSink>();
  CountingSink* sink = owned.get();
  EngineOptions o;
  o.flush_threads = 0;
  o.clock = &clock;
  auto engine = Engine::Open(o, std::move(owned)).value();
  LoggerOptions lo;
  lo.flush_interval = std::chrono::seconds(5);
  lo.capacity_events = 16384;
  if (adaptive) {
    lo.target_file_bytes = 8 << 20;
    lo.max_latency = std::chrono::seconds(60);
  }
  std::vector<Logger> loggers;
  for (int p = 0; p < pipelines; ++p) {
    loggers.push_back(engine->GetLogger("pipeline_" + std::to_string(p), lo).value());
  }
  const int64_t ticks = int64_t{seconds} * 1'000'000 / kTickMicros;
  const int64_t per_tick_x100 = int64_t{rate} * kTickMicros / 10'000;  // events*100 per tick
  std::vector<int64_t> credit(pipelines, 0);
  for (int64_t t = 0; t < ticks; ++t) {
    for (int p = 0; p < pipelines; ++p) {
      // Pipelines start staggered by 250 ms, as real jobs do.
      if (t * kTickMicros < int64_t{p} * 250'000) continue;
      credit[p] += per_tick_x100;
      while (credit[p] >= 100) {
        credit[p] -= 100;
        (void)loggers[p].Log(Level::kInfo, "transform", "RUNNING",
                             "Processed batch of 5000 rows from the upstream source in 12 ms");
      }
    }
    clock.AdvanceMicros(kTickMicros);
    (void)engine->RunDueRounds();
  }
  (void)engine->Stop();
  return {sink->commits, sink->files, sink->rows};
}

// One buffer per pipeline, each flushing on its own interval: a file and a commit per flush.
Counts RunNaive(int pipelines, int rate, int seconds) {
  const int64_t ticks = int64_t{seconds} * 1'000'000 / kTickMicros;
  const int64_t per_tick_x100 = int64_t{rate} * kTickMicros / 10'000;
  std::vector<int64_t> credit(pipelines, 0), buffered(pipelines, 0), oldest(pipelines, -1);
  Counts r{0, 0, 0};
  for (int64_t t = 0; t < ticks; ++t) {
    const int64_t now = t * kTickMicros;
    for (int p = 0; p < pipelines; ++p) {
      if (now < int64_t{p} * 250'000) continue;
      credit[p] += per_tick_x100;
      while (credit[p] >= 100) {
        credit[p] -= 100;
        if (buffered[p]++ == 0) oldest[p] = now;
      }
      if (buffered[p] > 0 && now + kTickMicros - oldest[p] >= 5'000'000) {
        ++r.commits;
        ++r.files;
        r.rows += buffered[p];
        buffered[p] = 0;
      }
    }
  }
  for (int p = 0; p < pipelines; ++p) {
    if (buffered[p] > 0) {
      ++r.commits;
      ++r.files;
      r.rows += buffered[p];
    }
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int pipelines = argc > 1 ? std::atoi(argv[1]) : 20;
  const int rate = argc > 2 ? std::atoi(argv[2]) : 100;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 3600;
  std::printf("small files: %d pipelines x %d events/s for %d simulated s, 5 s interval\n\n",
              pipelines, rate, seconds);
  std::printf("%-44s %10s %10s %12s %14s\n", "design", "commits", "files", "rows",
              "rows per file");
  auto print = [](const char* name, const Counts& r) {
    std::printf("%-44s %10ld %10ld %12ld %14.0f\n", name, (long)r.commits, (long)r.files,
                (long)r.rows, r.files ? double(r.rows) / r.files : 0.0);
  };
  auto t0 = std::chrono::steady_clock::now();
  Counts fixed = RunLakelog(pipelines, rate, seconds, false);
  Counts adaptive = RunLakelog(pipelines, rate, seconds, true);
  Counts naive = RunNaive(pipelines, rate, seconds);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  print("lakelog group commit, fixed 5 s", fixed);
  print("lakelog group commit, adaptive (<= 60 s)", adaptive);
  print("naive buffer per pipeline, 5 s", naive);
  std::printf("\nratios naive / lakelog: commits %.1fx (fixed) %.1fx (adaptive); files %.1fx "
              "(fixed) %.1fx (adaptive)\n",
              double(naive.commits) / fixed.commits, double(naive.commits) / adaptive.commits,
              double(naive.files) / fixed.files, double(naive.files) / adaptive.files);
  std::printf("(wall time %.1f s)\n", wall);
  return 0;
}

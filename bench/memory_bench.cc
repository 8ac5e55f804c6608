// Memory under overload: producers outrun the sink; the peak RSS must stay within the
// configured buffer memory + 32 MiB. Configured buffer memory per pipeline is
// capacity_events * 560 (448-byte slots and the quarter held in reserve) + capacity_bytes (the byte
// budget bounds spilled big events), plus what flush threads hold in flight (one round each).
//
// The sink is a real Delta table (NewDeltaSink on the POSIX file system, in a fresh temporary
// directory that is removed afterwards: its bytes land in the page cache, not in RSS), whose
// Parquet encoding and fsyncs the producers outrun; the 32 MiB of slack covers its writer's
// buffers. `slow` swaps in a sink that only sleeps 50 ms per write.
//
//   ./build/bench/memory_bench [seconds] [delta|slow]
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "lakelog/delta_sink.h"
#include "lakelog/engine.h"

namespace {

using namespace lakelog;

int64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

class SlowSink : public Sink {
 public:
  std::string_view name() const override { return "slow"; }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext&) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    rows += events.size();
    return Status::OK();
  }
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }
  std::atomic<uint64_t> rows{0};
};

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
  const bool delta = !(argc > 2 && std::string(argv[2]) == "slow");
  constexpr int kPipelines = 4, kProducers = 2;
  LoggerOptions lo;
  lo.capacity_events = 16384;
  lo.capacity_bytes = 4 << 20;
  lo.batch_events = 4096;
  lo.overflow = OverflowPolicy::kDropOldest;
  EngineOptions o;
  o.flush_threads = 2;
  const int64_t baseline = RssBytes();
  std::string table_dir;
  std::unique_ptr<Sink> owned;
  SlowSink* slow = nullptr;
  if (delta) {
    char tmpl[] = "/tmp/lakelog-memory-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 2;
    }
    table_dir = tmpl;
    auto sink = NewDeltaSink(PosixFileSystem(), table_dir + "/table");
    if (!sink.ok()) {
      std::fprintf(stderr, "%s\n", sink.status().ToString().c_str());
      return 2;
    }
    owned = std::move(sink).value();
  } else {
    auto s = std::make_unique<SlowSink>();
    slow = s.get();
    owned = std::move(s);
  }
  auto engine = Engine::Open(o, std::move(owned)).value();
  std::vector<Logger> loggers;
  for (int p = 0; p < kPipelines; ++p) {
    loggers.push_back(engine->GetLogger("p" + std::to_string(p), lo).value());
  }
  // Slots + byte budget per pipeline, plus one in-flight round per flush thread
  // (decoded LogEvents of batch_events per pipeline, ~600 bytes each with their strings).
  const int64_t configured = kPipelines * (int64_t{lo.capacity_events} * 560 + lo.capacity_bytes) +
                             o.flush_threads * kPipelines * int64_t{lo.batch_events} * 600;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> logged{0};
  std::vector<std::thread> producers;
  const std::string big(2000, 'x');  // some events spill out of their slot
  for (int t = 0; t < kProducers; ++t) {
    producers.emplace_back([&, t] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (auto& log : loggers) {
          (void)log.Log(Level::kInfo, "load", "RUNNING",
                        n % 64 == 0 ? std::string_view(big) : "row batch written");
          ++n;
        }
      }
      logged += n;
    });
  }
  // Sampled until Stop() has flushed the backlog, which is part of the run.
  std::atomic<int64_t> peak{0};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling.load()) {
      peak = std::max(peak.load(), RssBytes());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& p : producers) p.join();
  uint64_t dropped = 0, flushed = 0;
  (void)engine->Stop();
  sampling = false;
  sampler.join();
  for (auto& l : loggers) {
    dropped += l.stats().dropped_total();
    flushed += l.stats().flushed;
  }
  int64_t table_rows = -1;
  if (delta) {
    auto snapshot = ReadDeltaSnapshot(PosixFileSystem(), table_dir + "/table");
    if (snapshot.ok()) table_rows = snapshot->TotalRows();
    std::error_code ec;
    std::filesystem::remove_all(table_dir, ec);
  }
  const double mib = 1 << 20;
  const double growth = (peak.load() - baseline) / mib;
  const double bound = configured / mib + 32;
  std::printf("memory: %d producers, %d pipelines, %s, %d s\n", kProducers, kPipelines,
              delta ? "Delta sink (POSIX temp dir)" : "slow sink (50 ms/write)", seconds);
  std::printf("logged %lu, written %lu, dropped %lu (at Stop, after the run)\n",
              (unsigned long)logged.load(), (unsigned long)(slow ? slow->rows.load() : flushed),
              (unsigned long)dropped);
  if (delta) std::printf("rows read back from the Delta table: %ld\n", (long)table_rows);
  const bool accounted =
      flushed + dropped == logged.load() && (!delta || table_rows == static_cast<int64_t>(flushed));
  std::printf("every event written or counted as dropped: %s\n", accounted ? "yes" : "NO");
  std::printf("RSS baseline %.1f MiB, peak %.1f MiB, growth %.1f MiB\n", baseline / mib,
              peak.load() / mib, growth);
  std::printf("configured buffers %.1f MiB; bound (configured + 32 MiB) %.1f MiB: %s\n",
              configured / mib, bound, growth <= bound ? "WITHIN" : "EXCEEDED");
  return growth <= bound && accounted ? 0 : 1;
}

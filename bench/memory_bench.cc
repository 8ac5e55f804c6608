// Memory under overload: producers outrun a slow sink (each write sleeps); the peak RSS must
// stay within the configured buffer memory + 32 MiB. Configured buffer memory per pipeline is
// capacity_events * 512 (slots) + capacity_bytes (the byte budget bounds spilled big events),
// plus what flush threads hold in flight (one round each).
//
//   ./build/bench/memory_bench [seconds]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

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
  constexpr int kPipelines = 4, kProducers = 2;
  LoggerOptions lo;
  lo.capacity_events = 16384;
  lo.capacity_bytes = 4 << 20;
  lo.batch_events = 4096;
  lo.overflow = OverflowPolicy::kDropOldest;
  EngineOptions o;
  o.flush_threads = 2;
  const int64_t baseline = RssBytes();
  auto owned = std::make_unique<SlowSink>();
  SlowSink* sink = owned.get();
  auto engine = Engine::Open(o, std::move(owned)).value();
  std::vector<Logger> loggers;
  for (int p = 0; p < kPipelines; ++p) {
    loggers.push_back(engine->GetLogger("p" + std::to_string(p), lo).value());
  }
  // Slots + byte budget per pipeline, plus one in-flight round per flush thread (decoded
  // LogEvents of batch_events per pipeline, ~600 bytes each with their strings).
  const int64_t configured = kPipelines * (int64_t{lo.capacity_events} * 512 + lo.capacity_bytes) +
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
  int64_t peak = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    peak = std::max(peak, RssBytes());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& p : producers) p.join();
  peak = std::max(peak, RssBytes());
  uint64_t dropped = 0;
  for (auto& l : loggers) dropped += l.stats().dropped_total();
  (void)engine->Stop();
  const double mib = 1 << 20;
  const double growth = (peak - baseline) / mib;
  const double bound = configured / mib + 32;
  std::printf("memory: %d producers, %d pipelines, slow sink (50 ms/write), %d s\n", kProducers,
              kPipelines, seconds);
  std::printf("logged %lu, written %lu, dropped %lu\n", (unsigned long)logged.load(),
              (unsigned long)sink->rows.load(), (unsigned long)dropped);
  std::printf("RSS baseline %.1f MiB, peak %.1f MiB, growth %.1f MiB\n", baseline / mib, peak / mib,
              growth);
  std::printf("configured buffers %.1f MiB; bound (configured + 32 MiB) %.1f MiB: %s\n",
              configured / mib, bound, growth <= bound ? "WITHIN" : "EXCEEDED");
  return growth <= bound ? 0 : 1;
}

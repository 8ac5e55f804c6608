// Hot-path latency of one log() call, 1 and 2 producer threads on one pipeline, against the
// peers measured in the same run: spdlog's async logger (null sink) and a mutex + std::deque
// buffer of LogEvents (the naive design). Prints p50 / p99 / p99.9 in nanoseconds and ratios.
//
//   ./build/bench/hot_path_bench [calls_per_thread]
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lakelog/engine.h"

#if __has_include(<spdlog/spdlog.h>)
#include <spdlog/async.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#define HAVE_SPDLOG 1
#endif

namespace {

using namespace lakelog;

double TicksPerNano() {
  auto t0 = std::chrono::steady_clock::now();
  uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  uint64_t c1 = __rdtsc();
  auto t1 = std::chrono::steady_clock::now();
  return double(c1 - c0) / std::chrono::duration<double, std::nano>(t1 - t0).count();
}

struct Percentiles {
  double p50, p99, p999;
};

// Runs `call(thread, i)` from `threads` threads, timing each call with the TSC.
Percentiles Measure(int threads, int calls, double ticks_per_ns,
                    const std::function<void(int, int)>& call) {
  std::vector<std::vector<uint32_t>> samples(threads, std::vector<uint32_t>(calls));
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready++;
      while (ready.load() < threads) {
      }
      auto& s = samples[t];
      for (int i = 0; i < calls; ++i) {
        uint64_t a = __rdtsc();
        call(t, i);
        uint64_t b = __rdtsc();
        s[i] = static_cast<uint32_t>(std::min<uint64_t>(b - a, UINT32_MAX));
      }
    });
  }
  for (auto& th : pool) th.join();
  std::vector<uint32_t> all;
  for (auto& s : samples) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  auto at = [&](double q) { return all[std::min(all.size() - 1, size_t(q * all.size()))] / ticks_per_ns; };
  return {at(0.50), at(0.99), at(0.999)};
}

class NullSink : public Sink {
 public:
  std::string_view name() const override { return "null"; }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext&) override {
    rows += events.size();
    return Status::OK();
  }
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }
  std::atomic<uint64_t> rows{0};
};

// The naive design: a bounded mutex-protected deque of fully built LogEvents.
class MutexDequeBuffer {
 public:
  explicit MutexDequeBuffer(size_t capacity) : capacity_(capacity) {
    consumer_ = std::thread([this] {
      while (!stop_) {
        std::deque<LogEvent> batch;
        {
          std::lock_guard<std::mutex> l(mu_);
          batch.swap(events_);
        }
        if (batch.empty()) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  ~MutexDequeBuffer() {
    stop_ = true;
    consumer_.join();
  }
  bool Log(Level level, std::string_view stage, std::string_view status, std::string_view msg) {
    LogEvent e;
    e.pipeline = "bench";
    e.ts_micros = RealClock()->NowMicros();
    e.level = level;
    e.stage = std::string(stage);
    e.status = std::string(status);
    e.message = std::string(msg);
    std::lock_guard<std::mutex> l(mu_);
    if (events_.size() >= capacity_) return false;
    events_.push_back(std::move(e));
    return true;
  }

 private:
  size_t capacity_;
  std::mutex mu_;
  std::deque<LogEvent> events_;
  std::atomic<bool> stop_{false};
  std::thread consumer_;
};

const char* kMessage = "Merge complete: 1200 rows into orders";

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 1'000'000;
  const double tpn = TicksPerNano();
  std::printf("hot path: %d calls per thread, TSC %.3f ticks/ns\n\n", calls, tpn);
  std::printf("%-28s %8s %10s %10s %10s\n", "design", "threads", "p50 ns", "p99 ns", "p99.9 ns");

  struct Row {
    std::string name;
    int threads;
    Percentiles p;
  };
  std::vector<Row> rows;

  {
    Percentiles p = Measure(1, calls, tpn, [](int, int) {});
    std::printf("%-28s %8d %10.1f %10.1f %10.1f   (timer overhead, included in all rows)\n",
                "empty call", 1, p.p50, p.p99, p.p999);
  }
  for (int threads : {1, 2}) {
    {
      EngineOptions o;
      o.flush_threads = 1;
      o.poll_interval = std::chrono::milliseconds(1);
      auto sink = std::make_unique<NullSink>();
      auto engine = Engine::Open(o, std::move(sink)).value();
      LoggerOptions lo;
      lo.capacity_events = 1 << 16;
      lo.capacity_bytes = 64 << 20;
      lo.batch_events = 1 << 14;
      Logger log = engine->GetLogger("bench", lo).value();
      Percentiles p = Measure(threads, calls, tpn, [&](int, int) {
        (void)log.Log(Level::kInfo, "delta_merge", "SUCCESS", kMessage);
      });
      LoggerStats s = log.stats();
      (void)engine->Stop();
      rows.push_back({"lakelog Logger::Log", threads, p});
      std::printf("%-28s %8d %10.1f %10.1f %10.1f   (accepted %lu, dropped %lu)\n",
                  "lakelog Logger::Log", threads, p.p50, p.p99, p.p999,
                  (unsigned long)s.accepted, (unsigned long)s.dropped_total());
    }
    {
      MutexDequeBuffer buffer(1 << 16);
      Percentiles p = Measure(threads, calls, tpn, [&](int, int) {
        (void)buffer.Log(Level::kInfo, "delta_merge", "SUCCESS", kMessage);
      });
      rows.push_back({"mutex+deque", threads, p});
      std::printf("%-28s %8d %10.1f %10.1f %10.1f\n", "mutex+deque", threads, p.p50, p.p99,
                  p.p999);
    }
#ifdef HAVE_SPDLOG
    {
      spdlog::init_thread_pool(1 << 16, 1);
      auto sink = std::make_shared<spdlog::sinks::null_sink_mt>();
      auto logger = std::make_shared<spdlog::async_logger>(
          "bench", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
      Percentiles p = Measure(threads, calls, tpn, [&](int, int) {
        logger->info("{} {} {}", "delta_merge", "SUCCESS", kMessage);
      });
      logger.reset();
      spdlog::shutdown();
      rows.push_back({"spdlog async (null sink)", threads, p});
      std::printf("%-28s %8d %10.1f %10.1f %10.1f\n", "spdlog async (null sink)", threads, p.p50,
                  p.p99, p.p999);
    }
#endif
  }

  std::printf("\nratios (peer / lakelog; > 1 means lakelog is faster)\n");
  for (const Row& r : rows) {
    if (r.name == "lakelog Logger::Log") continue;
    for (const Row& l : rows) {
      if (l.name == "lakelog Logger::Log" && l.threads == r.threads) {
        std::printf("%-28s %8d %10.2f %10.2f %10.2f\n", r.name.c_str(), r.threads,
                    r.p.p50 / l.p.p50, r.p.p99 / l.p.p99, r.p.p999 / l.p.p999);
      }
    }
  }
  std::printf("\ntargets: 1 producer p50 <= 20 ns, p99.9 <= 200 ns; 2 producers p99.9 <= 1000 ns\n");
  return 0;
}

// Flush side of the buffer: how fast PipelineBuffer::Drain turns slots into LogEvents, and
// whether one flush thread keeps up with a producer logging in a tight loop.
//
// Three ways to hold a round's events, measured in the same run:
//   - fresh vector:  a new std::vector<LogEvent> per round (what the engine's Round does),
//   - cleared vector: one std::vector<LogEvent> kept across rounds, clear()ed (keeps the
//                     vector's storage; the events' strings are freed and allocated again),
//   - EventBatch:    a recycled batch (keeps the events and their strings' capacity).
//
// Part 1 times Drain alone on one thread (rounds of `batch` events, filled untimed).
// Part 2 runs a producer thread in a tight Log() loop against a consumer thread that drains
// rounds of `batch` events and builds the Sink::Write pointer span, as the engine does with a
// sink that returns at once. It reports how many events the consumer converted per second and
// how many the producer had to drop (buffer full, counted as drop_newest).
//
//   ./build/bench/drain_bench [seconds_per_mode] [batch]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "buffer/event_batch.h"
#include "buffer/pipeline_buffer.h"

namespace {

using namespace lakelog;
using buffer::EventBatch;
using buffer::PipelineBuffer;
using Steady = std::chrono::steady_clock;

enum class Holder { kFreshVector, kClearedVector, kEventBatch };
constexpr Holder kHolders[] = {Holder::kFreshVector, Holder::kClearedVector, Holder::kEventBatch};

const char* Name(Holder h) {
  switch (h) {
    case Holder::kFreshVector: return "fresh vector per round";
    case Holder::kClearedVector: return "cleared vector";
    case Holder::kEventBatch: return "EventBatch (recycled)";
  }
  return "";
}

// A realistic event: strings past the 15-byte small-string buffer (pipeline, host, message,
// run id), as in production logs; `attrs` adds two attributes.
struct Shape {
  const char* name;
  bool attrs;
};
constexpr Shape kShapes[] = {{"stage/status/message", false}, {"+ run_id + 2 attributes", true}};

const Attribute kAttrs[] = {{"table", "warehouse.orders_daily"}, {"rows_written", "1200"}};

EventFields Fields(const Shape& shape) {
  EventFields f;
  f.level = Level::kInfo;
  f.stage = "delta_merge";
  f.status = "SUCCESS";
  f.message = "Merge complete: 1200 rows into orders";
  if (shape.attrs) {
    f.run_id = "run-2026-11-24-0042";
    f.attributes = kAttrs;
  }
  return f;
}

std::unique_ptr<PipelineBuffer> MakeBuffer(uint32_t capacity) {
  LoggerOptions lo;
  lo.capacity_events = capacity;
  lo.capacity_bytes = 64 << 20;
  return std::make_unique<PipelineBuffer>("index_loader_daily", lo, RealClock(),
                                          "ip-10-0-12-34.ec2.internal", nullptr);
}

// Drains one round of up to `batch` events into the holder; returns the count and stores the
// pointers a sink would get in *ptrs.
struct Consumer {
  explicit Consumer(Holder h) : holder(h) {}
  Holder holder;
  std::vector<LogEvent> kept;
  EventBatch batch;
  std::vector<const LogEvent*> ptrs;

  size_t Round(PipelineBuffer* b, size_t max_events) {
    uint64_t bytes = 0;
    ptrs.clear();
    size_t n = 0;
    switch (holder) {
      case Holder::kFreshVector: {
        std::vector<LogEvent> events;
        n = b->Drain(max_events, UINT64_MAX, &events, &bytes);
        for (const LogEvent& e : events) ptrs.push_back(&e);
        break;  // `events` is destroyed here, as the engine's Round is
      }
      case Holder::kClearedVector:
        kept.clear();
        n = b->Drain(max_events, UINT64_MAX, &kept, &bytes);
        for (const LogEvent& e : kept) ptrs.push_back(&e);
        break;
      case Holder::kEventBatch:
        batch.Clear();
        n = b->Drain(max_events, UINT64_MAX, &batch, &bytes);
        for (const LogEvent& e : batch.events()) ptrs.push_back(&e);
        break;
    }
    return n;
  }
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ns per drained event, median over rounds.
double DecodeCost(Holder holder, const Shape& shape, uint32_t batch, int rounds) {
  auto buffer = MakeBuffer(batch);
  const EventFields f = Fields(shape);
  Consumer c(holder);
  std::vector<double> per_event;
  for (int r = 0; r < rounds + 2; ++r) {
    for (uint32_t i = 0; i < batch; ++i) (void)buffer->Log(f);
    auto t0 = Steady::now();
    size_t n = c.Round(buffer.get(), batch);
    double ns = std::chrono::duration<double, std::nano>(Steady::now() - t0).count();
    if (r >= 2) per_event.push_back(ns / static_cast<double>(n));  // two warm-up rounds
  }
  return Median(per_event);
}

struct Race {
  uint64_t calls = 0, accepted = 0, dropped = 0, drained = 0;
  double seconds = 0;
};

Race RunRace(Holder holder, const Shape& shape, uint32_t batch, double seconds) {
  auto buffer = MakeBuffer(4 * batch);
  const EventFields f = Fields(shape);
  std::atomic<bool> stop{false};
  std::atomic<bool> producing{true};
  Race r;
  std::thread consumer([&] {
    Consumer c(holder);
    for (;;) {
      size_t n = c.Round(buffer.get(), batch);
      r.drained += n;
      if (n == 0) {
        if (!producing.load(std::memory_order_acquire)) break;
        std::this_thread::yield();
      }
    }
  });
  auto t0 = Steady::now();
  auto end = t0 + std::chrono::duration<double>(seconds);
  uint64_t calls = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 1024; ++i) (void)buffer->Log(f);
    calls += 1024;
    if (Steady::now() >= end) stop = true;
  }
  r.seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  producing.store(false, std::memory_order_release);
  consumer.join();
  LoggerStats s = buffer->Stats();
  r.calls = calls;
  r.accepted = s.accepted;
  r.dropped = s.dropped_total();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const uint32_t batch = argc > 2 ? static_cast<uint32_t>(std::atoi(argv[2])) : 16384;
  std::printf("drain: rounds of %u events; pipeline and host names past the small-string size\n\n",
              batch);

  std::printf("Part 1: Drain alone, one thread (median ns per event over 15 rounds)\n");
  std::printf("%-26s", "holder");
  for (const Shape& s : kShapes) std::printf(" %24s", s.name);
  std::printf("\n");
  double cost[3][2];
  for (int h = 0; h < 3; ++h) {
    std::printf("%-26s", Name(kHolders[h]));
    for (int s = 0; s < 2; ++s) {
      cost[h][s] = DecodeCost(kHolders[h], kShapes[s], batch, 15);
      std::printf(" %24.1f", cost[h][s]);
    }
    std::printf("\n");
  }
  std::printf("%-26s", "fresh / EventBatch");
  for (int s = 0; s < 2; ++s) std::printf(" %23.2fx", cost[0][s] / cost[2][s]);
  std::printf("\n\n");

  std::printf("Part 2: producer in a tight loop vs one draining thread, %.1f s per holder (%s)\n",
              seconds, kShapes[0].name);
  std::printf("%-26s %12s %12s %14s %10s\n", "holder", "Log() calls", "dropped", "drained ev/s",
              "dropped %");
  double drained_rate[3];
  for (int h = 0; h < 3; ++h) {
    Race r = RunRace(kHolders[h], kShapes[0], batch, seconds);
    drained_rate[h] = static_cast<double>(r.drained) / r.seconds;
    std::printf("%-26s %12lu %12lu %14.0f %9.1f%%   (accepted %lu = drained %lu)\n",
                Name(kHolders[h]), (unsigned long)r.calls, (unsigned long)r.dropped,
                drained_rate[h], 100.0 * static_cast<double>(r.dropped) / r.calls,
                (unsigned long)r.accepted, (unsigned long)r.drained);
  }
  std::printf("drained events/s, EventBatch / fresh vector: %.2fx\n",
              drained_rate[2] / drained_rate[0]);
  return 0;
}

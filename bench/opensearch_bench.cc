// opensearch_bench: lakelog's side of bench/opensearch_bench.py (which starts the node, runs the
// Python bulk loader peer and prints the ratios).
//
//   opensearch_bench sink   --input F --url U --index I [--batch N] [--in-flight K] [--round R]
//       the events of NDJSON file F through NewOpenSearchSink, R events per Write() (a flush
//       round), N documents per _bulk request, K requests in flight; prints JSON (seconds,
//       cpu_seconds, events).
//   opensearch_bench engine --input F --table T [--url U --index I]
//       the events logged through an Engine with the Delta sink (and, with --url, the OpenSearch
//       sink too) from one producer as fast as `block` lets it, then Flush(); prints JSON.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ingest/event_parser.h"
#include "lakelog/delta_sink.h"
#include "lakelog/engine.h"
#include "lakelog/opensearch_sink.h"

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

std::vector<lakelog::LogEvent> ReadEvents(const std::string& path) {
  std::vector<lakelog::LogEvent> events;
  std::ifstream in(path);
  std::string line;
  lakelog::ingest::EventParserOptions options;
  while (std::getline(in, line)) {
    lakelog::LogEvent e;
    if (lakelog::ingest::ParseEventLine(line, options, &e).ok()) events.push_back(std::move(e));
  }
  return events;
}

// Forwards to the Delta sink and notes when it has written `expected` events.
class TimedSink final : public lakelog::Sink {
 public:
  TimedSink(std::unique_ptr<lakelog::Sink> target, size_t expected)
      : target_(std::move(target)), expected_(expected) {}
  std::string_view name() const override { return target_->name(); }
  // A wrapper passes the engine's clock and the pipeline rule of the sink it wraps on.
  void Attach(const lakelog::SinkAttachContext& ctx) override { target_->Attach(ctx); }
  lakelog::Status CheckPipeline(std::string_view pipeline) const override {
    return target_->CheckPipeline(pipeline);
  }
  lakelog::Status Write(std::span<const lakelog::LogEvent* const> events,
                        const lakelog::SinkWriteContext& ctx) override {
    lakelog::Status st = target_->Write(events, ctx);
    if (st.ok() && (written_ += events.size()) >= expected_ && !done_) {
      done_ = std::chrono::steady_clock::now();
    }
    return st;
  }
  lakelog::Status Flush(std::chrono::milliseconds timeout) override {
    return target_->Flush(timeout);
  }
  lakelog::Result<int64_t> CommittedRound(std::string_view writer_id) override {
    return target_->CommittedRound(writer_id);
  }
  std::optional<std::chrono::steady_clock::time_point> done_;

 private:
  std::unique_ptr<lakelog::Sink> target_;
  size_t expected_;
  size_t written_ = 0;
};

int Fail(const lakelog::Status& st) {
  std::fprintf(stderr, "opensearch_bench: %s\n", st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const std::string mode = argc > 1 ? argv[1] : "";
  const std::vector<lakelog::LogEvent> events = ReadEvents(Flag(argc, argv, "--input", ""));
  if (events.empty()) {
    std::fprintf(stderr, "usage: see the top of bench/opensearch_bench.cc (no events read)\n");
    return 2;
  }
  lakelog::OpenSearchSinkOptions search;
  search.url = Flag(argc, argv, "--url", "");
  search.index = Flag(argc, argv, "--index", search.index);
  search.max_batch_events = static_cast<uint32_t>(std::stoul(Flag(argc, argv, "--batch", "5000")));
  search.max_in_flight = static_cast<uint32_t>(std::stoul(Flag(argc, argv, "--in-flight", "4")));
  search.progress_index.clear();
  nlohmann::json out;
  if (mode == "sink") {
    auto sink = lakelog::NewOpenSearchSink(search);
    if (!sink.ok()) return Fail(sink.status());
    const size_t round = std::stoul(Flag(argc, argv, "--round", "20000"));
    std::vector<const lakelog::LogEvent*> rows;
    for (const auto& e : events) rows.push_back(&e);
    const double cpu0 = CpuSeconds();
    const auto t0 = Clock::now();
    for (size_t at = 0, r = 1; at < rows.size(); at += round, ++r) {
      const size_t n = std::min(round, rows.size() - at);
      lakelog::SinkWriteContext ctx{.writer_id = "bench", .round = static_cast<int64_t>(r)};
      lakelog::Status st = (*sink)->Write({rows.data() + at, n}, ctx);
      if (!st.ok()) return Fail(st);
    }
    out = {{"events", rows.size()},
           {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()},
           {"cpu_seconds", CpuSeconds() - cpu0}};
  } else if (mode == "engine") {
    // Events keep their own ts; the engine may only add what they lack.
    lakelog::EngineOptions options;
    options.flush_threads = 2;
    std::vector<std::unique_ptr<lakelog::Sink>> sinks;
    auto delta = lakelog::NewDeltaSink(lakelog::PosixFileSystem(), Flag(argc, argv, "--table", ""));
    if (!delta.ok()) return Fail(delta.status());
    auto timed = std::make_unique<TimedSink>(std::move(delta).value(), events.size());
    TimedSink* delta_timer = timed.get();
    sinks.push_back(std::move(timed));
    if (!search.url.empty()) {
      auto sink = lakelog::NewOpenSearchSink(search);
      if (!sink.ok()) return Fail(sink.status());
      sinks.push_back(std::move(sink).value());
    }
    auto engine = lakelog::Engine::Open(options, std::move(sinks));
    if (!engine.ok()) return Fail(engine.status());
    lakelog::LoggerOptions logger_options;
    logger_options.overflow = lakelog::OverflowPolicy::kBlock;
    logger_options.capacity_events = 1 << 16;
    logger_options.capacity_bytes = 64 << 20;
    logger_options.batch_events = 20000;
    logger_options.flush_interval = std::chrono::milliseconds(200);
    std::map<std::string, lakelog::Logger> loggers;
    std::vector<lakelog::Attribute> attributes;
    const double cpu0 = CpuSeconds();
    const auto t0 = Clock::now();
    for (const auto& e : events) {
      auto it = loggers.find(e.pipeline);
      if (it == loggers.end()) {
        auto made = (*engine)->GetLogger(e.pipeline, logger_options);
        if (!made.ok()) return Fail(made.status());
        it = loggers.emplace(e.pipeline, std::move(made).value()).first;
      }
      attributes.clear();
      for (const auto& [k, v] : e.attributes) attributes.push_back({k, v});
      auto view = [](const std::optional<std::string>& s) -> std::string_view {
        return s ? std::string_view(*s) : std::string_view();
      };
      lakelog::EventFields fields{.level = e.level,
                                  .stage = view(e.stage),
                                  .status = view(e.status),
                                  .message = view(e.message),
                                  .ts_micros = e.ts_micros,
                                  .attributes = attributes};
      if (e.run_id) fields.run_id = std::string_view(*e.run_id);
      if (e.host) fields.host = std::string_view(*e.host);
      it->second.Log(fields);
    }
    lakelog::Status st = (*engine)->Flush(std::chrono::minutes(5));
    if (!st.ok()) return Fail(st);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    st = (*engine)->Stop();
    if (!st.ok()) return Fail(st);
    const double delta_seconds =
        delta_timer->done_ ? std::chrono::duration<double>(*delta_timer->done_ - t0).count() : -1;
    out = {{"events", events.size()},
           {"seconds", seconds},
           {"delta_seconds", delta_seconds},
           {"cpu_seconds", CpuSeconds() - cpu0}};
  } else {
    std::fprintf(stderr, "usage: see the top of bench/opensearch_bench.cc\n");
    return 2;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

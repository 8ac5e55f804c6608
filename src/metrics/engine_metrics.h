// EngineMetrics: the engine's Prometheus series (prometheus-cpp).
//
// Per-pipeline series are computed at scrape time from the buffers' own atomic counters by a
// custom Collectable, so the logging hot path never touches a Prometheus object. Flush-round
// series (counts, durations, batch sizes, retries, conflicts, per-sink drops and backlog) are
// ordinary prometheus-cpp metrics with a `sink` label, updated by each sink's delivery.
//
// Names follow Prometheus conventions: `lakelog_` prefix, base units, `_total` counters.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/logger.h"

namespace prometheus {
class Collectable;
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace lakelog::metrics {

// One pipeline as a scrape sees it.
struct PipelineSnapshot {
  std::string pipeline;
  LoggerStats stats;
  uint64_t capacity_events = 0;
  uint64_t capacity_bytes = 0;
  double oldest_unflushed_age_seconds = 0;  // 0 when nothing is buffered
  double last_flush_timestamp_seconds = 0;  // 0 before the first successful flush
};

// The engine's write-ahead log as a scrape sees it (absent when the engine has no WAL).
struct WalSnapshot {
  uint64_t appended_records = 0;
  uint64_t append_failures = 0;
  uint64_t syncs = 0;
  uint64_t sync_failures = 0;
  uint64_t segments = 0;            // segment files now in the directory
  uint64_t last_sequence = 0;       // highest sequence handed out
  uint64_t durable_sequence = 0;    // see Wal::DurableSequence
  uint64_t committed_sequence = 0;  // the sink holds every record up to here
  int64_t replayed_events = 0;      // committed by the start-up replay
  uint64_t corrupt_records = 0;     // damaged records the replay skipped
};

enum class RoundResult : uint8_t { kOk, kError, kGivenUp };

// The flush-round series of one sink (label `sink`); made by EngineMetrics::ForSink, valid as
// long as the EngineMetrics. Safe to use from any thread.
class SinkMetrics {
 public:
  // One sink Write() attempt of a round.
  void RecordWrite(RoundResult result, double seconds, uint64_t events, uint64_t bytes);
  void RecordRetry();
  void RecordConflict();
  // Events of rounds this sink gave up (the other sinks may have them), by reason.
  void RecordDropped(DropReason reason, uint64_t events);
  // Payload bytes of the rounds waiting in memory for this sink.
  void SetBacklogBytes(uint64_t bytes);

 private:
  friend class EngineMetrics;
  prometheus::Counter* ok_ = nullptr;
  prometheus::Counter* error_ = nullptr;
  prometheus::Counter* given_up_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Counter* conflicts_ = nullptr;
  prometheus::Histogram* duration_ = nullptr;
  prometheus::Histogram* batch_events_ = nullptr;
  prometheus::Histogram* batch_bytes_ = nullptr;
  std::array<prometheus::Counter*, kNumDropReasons> dropped_{};
  prometheus::Gauge* backlog_bytes_ = nullptr;
};

class EngineMetrics {
 public:
  using SnapshotFn = std::function<std::vector<PipelineSnapshot>()>;
  using WalSnapshotFn = std::function<std::optional<WalSnapshot>()>;
  // `wal` may be empty (no WAL series at all); when it returns nullopt the scrape has none.
  explicit EngineMetrics(SnapshotFn snapshot, WalSnapshotFn wal = {});
  ~EngineMetrics();

  // The series of the sink named `sink` (created on first use; the same object after).
  SinkMetrics* ForSink(std::string_view sink);

  // All must be registered with an exposer (which keeps weak pointers).
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const;
  // Text exposition format of every series.
  std::string Text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> pipelines_;
  std::shared_ptr<prometheus::Collectable> wal_;  // null without a WalSnapshotFn
  prometheus::Family<prometheus::Counter>* flushes_;
  prometheus::Family<prometheus::Counter>* retries_;
  prometheus::Family<prometheus::Counter>* conflicts_;
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Family<prometheus::Histogram>* batch_events_;
  prometheus::Family<prometheus::Histogram>* batch_bytes_;
  prometheus::Family<prometheus::Counter>* sink_dropped_;
  prometheus::Family<prometheus::Gauge>* backlog_bytes_;
  std::mutex sinks_mu_;
  std::map<std::string, std::unique_ptr<SinkMetrics>, std::less<>> sinks_;
};

}  // namespace lakelog::metrics

// EngineMetrics: the engine's Prometheus series (prometheus-cpp).
//
// Per-pipeline series are computed at scrape time from the buffers' own atomic counters by a
// custom Collectable, so the logging hot path never touches a Prometheus object. Flush-round
// series (counts, durations, batch sizes, retries, conflicts) are ordinary prometheus-cpp
// metrics updated by flush threads.
//
// Names follow Prometheus conventions: `lakelog_` prefix, base units, `_total` counters.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lakelog/logger.h"

namespace prometheus {
class Collectable;
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace lakelog::internal {

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

class EngineMetrics {
 public:
  using SnapshotFn = std::function<std::vector<PipelineSnapshot>()>;
  using WalSnapshotFn = std::function<std::optional<WalSnapshot>()>;
  // `wal` may be empty (no WAL series at all); when it returns nullopt the scrape has none.
  explicit EngineMetrics(SnapshotFn snapshot, WalSnapshotFn wal = {});
  ~EngineMetrics();

  // One sink Write() attempt of a round.
  void RecordWrite(RoundResult result, double seconds, uint64_t events, uint64_t bytes);
  void RecordRetry();
  void RecordConflict();

  // All must be registered with an exposer (which keeps weak pointers).
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const;
  // Text exposition format of every series.
  std::string Text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> pipelines_;
  std::shared_ptr<prometheus::Collectable> wal_;  // null without a WalSnapshotFn
  prometheus::Counter* flushes_ok_;
  prometheus::Counter* flushes_error_;
  prometheus::Counter* flushes_given_up_;
  prometheus::Counter* retries_;
  prometheus::Counter* conflicts_;
  prometheus::Histogram* duration_;
  prometheus::Histogram* batch_events_;
  prometheus::Histogram* batch_bytes_;
};

}  // namespace lakelog::internal

// The kafka-ingest daemon's Prometheus series, served on GET /metrics by the shared
// src/http endpoint: lakelog_kafka_ingest_{messages_total, rows_committed_total,
// commits_total, dead_letters_total, offsets_lost_total} counters, consumer_lag gauge per
// (topic, partition), flush_seconds histogram. Thread-safe (prometheus-cpp's own locking).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lakelog/status.h"

namespace lakelog::kafka {

class IngestMetrics {
 public:
  // Serves on 127.0.0.1:port (-1 = any free port). Unavailable when the port is taken.
  static Result<std::unique_ptr<IngestMetrics>> Start(int port);
  ~IngestMetrics();

  int port() const;
  void MessageIn(const std::string& topic, int32_t partition);
  void Committed(int64_t rows, double flush_seconds);
  void DeadLetters(int64_t count);
  void OffsetsLost(const std::string& topic, int32_t partition, int64_t count);
  void Lag(const std::string& topic, int32_t partition, int64_t messages);

  struct State;

 private:
  explicit IngestMetrics(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace lakelog::kafka

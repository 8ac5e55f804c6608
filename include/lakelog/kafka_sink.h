// KafkaSink: the engine's flush rounds as Kafka messages, exactly once for read_committed
// consumers.
//
// One message per event: key = pipeline, value = one JSON object in the NDJSON event format
// that `lakelog ingest` and `lakelog kafka-ingest` read (ts as RFC 3339 with microseconds);
// see docs/kafka.md. Each round is ONE Kafka transaction (transactional.id derived from the
// engine's writer id; idempotent producer, acks=all) that also writes {key = writer id, value =
// round} to a compacted, single-partition progress topic. CommittedRound() reads that topic
// with read_committed after init_transactions() has fenced and aborted any transaction a
// previous incarnation left open, so a round replayed from the WAL after a crash is skipped
// when it was committed, and committed once when it was not.
//
// Broker errors (unreachable, timed out, a transaction that had to be aborted, a fenced or
// otherwise fatal producer, which is rebuilt on the next try) come back as Unavailable, which
// the engine retries; a bad librdkafka property is InvalidArgument.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "lakelog/sink.h"
#include "lakelog/status.h"

namespace lakelog {

struct KafkaSinkOptions {
  // bootstrap.servers, e.g. "127.0.0.1:9092,10.0.0.2:9092". Required.
  std::string brokers;
  // Where the events go (created by the operator; the sink does not create it).
  std::string topic = "pipeline_logs";
  // The compacted progress topic holding each writer's last committed round. Created (one
  // partition, cleanup.policy=compact) when missing and the broker allows it.
  std::string progress_topic = "lakelog_sink_progress";
  // Prefix of transactional.id; the writer id follows it.
  std::string transactional_id_prefix = "lakelog-";
  // Passed to librdkafka as they are (SASL, TLS, linger.ms, compression.type, ...). The sink's
  // own settings (transactional.id, enable.idempotence, acks) cannot be overridden.
  std::map<std::string, std::string> properties;
  // How long one broker operation (init, commit, abort, a progress read) may take before the
  // round fails with a retryable error.
  std::chrono::milliseconds operation_timeout{30000};
};

// Checks the options (not the broker: an unreachable broker is retried by the engine).
Result<std::unique_ptr<Sink>> NewKafkaSink(const KafkaSinkOptions& options);

}  // namespace lakelog

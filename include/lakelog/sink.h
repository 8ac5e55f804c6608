// Sink: where flushed batches go.
//
// A sink is deliberately small: a name, Write(batch) and Flush(timeout). The engine owns
// everything around it: it calls Write() from one flush thread at a time (never concurrently),
// retries a failed Write() with backoff, counts metrics, and reports errors. A sink therefore
// needs no locking of its own and never retries internally.
//
// One Write() call covers one flush round: the events of EVERY pipeline that had data in that
// round, so a Delta sink can publish them in ONE commit (group commit).
//
// Time: the engine hands a sink its clock once, in Attach(). A sink that stamps or judges
// anything by time (the Delta sink: commit timestamps, txn lastUpdated, retention cut-offs)
// uses that clock unless it was given one of its own, so one simulated EngineOptions::clock
// drives the engine and its sinks alike.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "lakelog/clock.h"
#include "lakelog/event.h"
#include "lakelog/status.h"

namespace lakelog {

// What the engine tells a sink about the round being written.
struct SinkWriteContext {
  // Stable for the life of the engine (EngineOptions::writer_id).
  std::string_view writer_id;
  // The round's idempotency key: strictly increasing over the writer's rounds, across restarts
  // too (the engine starts above CommittedRound(writer_id)), and kept by a retried round. With
  // a WAL it is the WAL sequence of the round's last event. A sink that can make writes
  // idempotent (Delta txn, Kafka transactions) keys them on (writer_id, round) and skips a
  // round at or below the key it already holds.
  int64_t round = 0;
  // 1 on the first try of a round, 2 on its first retry, ...
  int attempt = 1;
  // For a problem that did not fail the write (a Delta checkpoint not written): the engine
  // passes it to EngineOptions::error_handler. May be empty.
  std::function<void(const Status&)> warn = nullptr;
  // With a WAL: the WAL sequence of each event (same length as the events, increasing), a key
  // unique over the writer's life that a replayed event keeps even when the replay batches it
  // with others. Empty without a WAL; then (round, position in the batch) is the stable key of
  // an event, since a retried round is the same batch.
  std::span<const uint64_t> event_sequences = {};
};

// What the engine tells a sink once, when Engine::Open takes it.
struct SinkAttachContext {
  // The engine's time: EngineOptions::clock, or RealClock() when that is null. Never null; it
  // outlives the sink (EngineOptions::clock must outlive the engine, which owns the sink).
  Clock* clock = nullptr;
};

class Sink {
 public:
  virtual ~Sink() = default;

  // Called once by Engine::Open, before the engine calls CheckPipeline, Write, Flush or
  // CommittedRound; a sink that wraps another passes it on. A sink whose work depends on time
  // takes the engine's clock here, unless its own options name a clock, which wins. A sink
  // never attached (used without an engine) keeps its own clock or the real one.
  virtual void Attach(const SinkAttachContext& ctx) {}

  // A short name for logs and metrics ("delta", "kafka", "opensearch"): the `sink` label.
  // Unique among an engine's sinks.
  virtual std::string_view name() const = 0;

  // Refuses a pipeline name this sink cannot store (InvalidArgument with the reason); the
  // engine asks every sink when a logger is created, so a bad name fails GetLogger() once
  // instead of every round it would join. Called from any thread, before and during writes.
  virtual Status CheckPipeline(std::string_view pipeline) const { return Status::OK(); }

  // Writes the round's events; the pointers are valid only during the call. Returns OK when
  // the batch is durably handed over. A retryable() Status makes the engine try the same round
  // again later (same `round`); any other error gives the round up (its events are counted as
  // dropped with reason "sink_error").
  virtual Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) = 0;

  // Makes everything written so far durable or visible, within `timeout`.
  virtual Status Flush(std::chrono::milliseconds timeout) = 0;

  // The highest round key committed for `writer_id`; 0 when none, or when the sink keeps no
  // keys (then a restarted writer delivers its WAL's uncommitted tail at least once, not
  // exactly once). A retryable error makes the engine ask again later.
  virtual Result<int64_t> CommittedRound(std::string_view writer_id) { return int64_t{0}; }
};

}  // namespace lakelog

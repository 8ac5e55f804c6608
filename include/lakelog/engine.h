// Engine: buffers structured pipeline events and lands them in a sink in batches.
//
//   auto sink = lakelog::NewDeltaSink(lakelog::PosixFileSystem(), "/data/pipeline_logs");
//   auto engine = lakelog::Engine::Open({}, std::move(sink).value()).value();
//   lakelog::Logger log = engine->GetLogger("index_loader").value();
//   log.Info("delta_merge", "SUCCESS", "Merge complete");
//   lakelog::Status stopped = engine->Stop();  // flushes everything (the destructor does too)
//
// Each pipeline has a bounded buffer (LoggerOptions). Flush threads collect, in each flush
// round, a batch from every pipeline that is due (or whose oldest event is at least half its
// interval old) and hand the whole round to the sink in ONE Write() call: for a Delta sink,
// one commit for all pipelines. Each pipeline contributes at most batch_events/batch_bytes per
// round, visiting pipelines round-robin, so one flooding pipeline cannot hold back another.
//
// Several sinks: every round goes to every sink (a Delta table and an OpenSearch cluster, say).
// Each sink has its own delivery — progress, retries with backoff, error reports, metrics
// labelled `sink` — so one that is slow or down never delays the others; its backlog is
// bounded by EngineOptions::sink_backlog_bytes (docs/sinks.md says what happens past it).
//
// Guarantee: every event Log() accepted is written to every sink exactly once (each sink's
// idempotent round key makes retries safe), or counted in LoggerStats::dropped / the
// lakelog_events_dropped_total metric with its reason (an event some sink gave up is counted
// as dropped there, and per sink in lakelog_sink_events_dropped_total).
//
// Thread-safety: all methods may be called from any thread, except that Stop() and the
// destructor must not race with each other.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lakelog/engine_options.h"
#include "lakelog/logger.h"
#include "lakelog/sink.h"
#include "lakelog/status.h"

namespace lakelog {

// An interface: Open() returns the implementation (src/flush/engine.cc), which callers only
// ever hold as an Engine.
class Engine {
 public:
  // Starts the flush threads and, when metrics_port != 0, the metrics endpoint.
  // InvalidArgument for a null sink or bad options; Unavailable when the port cannot be bound.
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options, std::unique_ptr<Sink> sink);
  // The same with several sinks, each fed every round; InvalidArgument for an empty list, a
  // null sink or two sinks with the same name().
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options,
                                              std::vector<std::unique_ptr<Sink>> sinks);

  // Stops with EngineOptions::stop_timeout unless Stop() was called: nothing buffered is lost.
  virtual ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The logger of `pipeline`, creating its buffer on first use. Asking again for the same
  // pipeline returns a handle to the same buffer; InvalidArgument when the options differ from
  // the first call's. Unavailable after Stop().
  virtual Result<Logger> GetLogger(std::string_view pipeline,
                                   const LoggerOptions& options = {}) = 0;

  // Returns once every event logged (in any pipeline) before the call is written to every
  // sink (or counted as dropped), and the sinks are flushed. TimedOut when `timeout` passes first;
  // the sink's error when a round was given up (its events counted "sink_error") since the
  // previous Flush() or Stop() returned, or since Open: a round that failed on a flush thread
  // between two calls is reported by the next one, not lost to the caller.
  virtual Status Flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;

  // Returns once every event logged before the call is durable: with a WAL, appended to it
  // (kNone: survives kill -9) or appended and covered by an fsync (kInterval: by the next
  // interval sync; kGroupCommit: by the round's own fsync; both survive power loss); without
  // one, the same as Flush(). Does not wait for the sink. TimedOut when `timeout` passes
  // first; the WAL's error when appending or syncing failed.
  virtual Status Sync(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;

  // Runs, on the calling thread, every flush round that is due now by the engine's clock;
  // returns how many rounds wrote to the sink. Meant for flush_threads = 0 (simulated time,
  // an application's own event loop); with flush threads it competes with them harmlessly.
  virtual Result<int> RunDueRounds() = 0;

  // Flushes everything (optionally appending a final event per pipeline), stops the flush
  // threads and the metrics endpoint. Later Log() calls are counted as dropped ("closed").
  // Returns the flush's Status; calling it twice returns OK.
  virtual Status Stop(const StopOptions& options = {}) = 0;

  // What the write-ahead log did; all zero without one.
  struct WalInfo {
    bool enabled = false;
    bool recovered = false;        // the start-up replay has finished
    int64_t replayed_events = 0;   // committed by the start-up replay
    int64_t replay_writes = 0;     // sink writes the replay made
    uint64_t corrupt_records = 0;  // damaged records skipped by the replay
    uint64_t corrupt_bytes = 0;
    uint64_t durable_sequence = 0;    // see Wal::DurableSequence
    uint64_t committed_sequence = 0;  // the sink holds every record up to here
    uint64_t append_failures = 0;
    int64_t events_left_in_wal = 0;  // written to the WAL by Stop() when the sink was down
  };
  virtual WalInfo wal_info() const = 0;

  // Pipelines known to the engine, in creation order.
  virtual std::vector<std::string> Pipelines() const = 0;
  // Stats of one pipeline; NotFound when unknown.
  virtual Result<LoggerStats> Stats(std::string_view pipeline) const = 0;
  // Non-empty rounds that every sink wrote.
  virtual int64_t rounds_written() const = 0;

  // The Prometheus text exposition of all lakelog_* series (what GET /metrics serves).
  virtual std::string MetricsText() const = 0;
  // The bound port of the metrics endpoint; 0 when it is off.
  virtual int metrics_port() const = 0;
  virtual const std::string& writer_id() const = 0;

 protected:
  Engine() = default;
  // For the implementation: the handle of a pipeline's buffer (Logger's constructor is
  // private to Engine).
  static Logger MakeLogger(std::shared_ptr<buffer::PipelineBuffer> buffer) {
    return Logger(std::move(buffer));
  }
};

}  // namespace lakelog

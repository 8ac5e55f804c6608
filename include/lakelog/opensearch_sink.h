// OpenSearchSink: the engine's flush rounds as documents in OpenSearch (or Elasticsearch), for
// searching recent logs while Delta keeps the history.
//
//   lakelog::OpenSearchSinkOptions search;
//   search.url = "http://127.0.0.1:9200";
//   search.dead_letter_path = "/var/lib/lakelog/opensearch-dead-letters.ndjson";
//   auto sink = lakelog::NewOpenSearchSink(search);
//
// Each round goes out as `_bulk` requests of `create` actions, one document per event: the
// event's JSON (the NDJSON event format, ts with microseconds) plus `@timestamp`. The document
// `_id` is deterministic — `<writer id>-s<WAL sequence>` with a WAL, `<writer id>-r<round>-<n>`
// without one — so a retried or replayed round never writes a document twice: a `create` that
// finds its id taken (409) means "already there" and counts as written.
//
// Every item of a response is looked at. 408, 429 and 5xx items make the round fail with a
// retryable error (the engine retries it with backoff and jitter); the sink remembers which of
// the round's documents are in, so the retry sends only the rest. Any other refused item (a
// mapping conflict, 400) is counted, reported through the engine's error handler and written to
// the dead-letter file with its reason, and never holds the round back. A 413 splits the
// request in halves (a single document still too large is dead-lettered); 401/403 is a clear,
// non-retryable error; a node that cannot be reached is retryable.
//
// Daily indices (`index`, strftime-style %Y %m %d of the event's UTC date) or a data stream.
// At start (lazily: on the first Write() when the node is not up yet) an index template with
// explicit mappings is installed: keywords for pipeline, level, stage, status, run_id, host;
// text (+ keyword) for message; date for ts and @timestamp; `attributes` as a
// flat_object (OpenSearch; "flattened" on Elasticsearch), so free-form keys cannot explode the
// mapping. Up to max_in_flight bulk requests of a round are in flight at once; after a round is
// fully in, the writer's progress is recorded (progress_index) so that a restart resumes after
// it. See docs/sinks.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "lakelog/sink.h"
#include "lakelog/status.h"

namespace lakelog {

struct OpenSearchSinkOptions {
  // Base URL of the cluster, e.g. "https://search.internal:9200". Required.
  std::string url;
  // Target of the documents: a daily index pattern (%Y, %m, %d of the event's UTC date), or,
  // when data_stream is set, that data stream instead.
  std::string index = "lakelog-logs-%Y.%m.%d";
  std::string data_stream;
  // The index template installed at start (index_patterns: the index pattern up to its first
  // '%' followed by '*', or the data stream's name). Its name, when empty, is that prefix
  // without trailing separators ("lakelog-logs" for the default), so sinks writing different
  // index patterns to one cluster do not replace each other's template.
  bool install_template = true;
  std::string template_name;
  std::string attributes_type = "flat_object";  // "flattened" for Elasticsearch
  // Basic auth (both or neither) and TLS.
  std::string username;
  std::string password;
  std::string ca_file;     // PEM bundle; empty = the system's
  bool verify_tls = true;  // verify the server's certificate and host name
  // Requests: gzip bodies, at most this many documents / bytes (before compression) each, and
  // at most max_in_flight `_bulk` requests of a round at once (1..64).
  bool gzip = true;
  uint32_t max_batch_events = 5000;
  uint64_t max_batch_bytes = 5ull << 20;
  uint32_t max_in_flight = 4;
  std::chrono::milliseconds timeout{30000};
  // The writer's last fully written round is kept as one document per writer in this index
  // (its `_version`, external versioning, so it only moves forward), for CommittedRound()
  // after a restart: the engine then gives the sink only rounds it lacks, and round numbers
  // (and so document ids) of a writer without a WAL never repeat. Empty = no record (every
  // restart replays the surviving WAL; ids keep that idempotent).
  std::string progress_index = "lakelog-progress";
  // Documents refused for good (mapping conflicts), one JSON line each with the index, the id,
  // the HTTP status, the reason and the document. Empty = counted and reported only.
  std::string dead_letter_path;
};

// Checks the options (not the cluster: one that is down is retried by the engine).
Result<std::unique_ptr<Sink>> NewOpenSearchSink(const OpenSearchSinkOptions& options);

}  // namespace lakelog

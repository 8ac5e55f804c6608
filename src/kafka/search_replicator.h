// SearchReplicator: `lakelog kafka-ingest --opensearch`, the same Kafka topics into OpenSearch,
// beside (never in front of) the Delta table.
//
// A consumer group of its own (default "<group>.opensearch"), so Kafka is the buffer between
// the two destinations: a search cluster that is down or slow holds back neither the Delta
// commits nor their offsets, and catches up from its own committed offsets when it is back.
// Each poll's messages are parsed with the same parser as `lakelog ingest` and written per
// partition through the OpenSearch sink, with document ids "<topic>-<partition>-s<offset>":
// a batch sent twice (a retry, a crash before the offsets were committed, a rebalance) finds
// its documents there (409) and writes none twice. Offsets are committed to Kafka only after
// the sink acknowledged every document of the batch; a failed batch is read again from its
// first offset after a backoff. Messages that do not parse are skipped here (the Delta side's
// dead-letter file has them) and counted.
//
// Thread-safety: Run() on one thread; RequestStop() and stats() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lakelog/opensearch_sink.h"
#include "lakelog/status.h"

namespace lakelog::kafka {

struct SearchReplicatorOptions {
  std::string brokers;
  std::vector<std::string> topics;
  std::string group;  // the replicator's own consumer group
  OpenSearchSinkOptions search;
  // Drain every assigned partition to its end, then return.
  bool available_now = false;
  // librdkafka consumer properties (SASL, TLS, ...); the replicator's own settings win.
  std::map<std::string, std::string> properties;
  // Retries of a failed batch: full-jitter exponential backoff between these.
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  // One line per notable event (a failing cluster, refused documents); nullptr = stderr.
  std::function<void(const std::string&)> log;
};

struct SearchReplicatorStats {
  int64_t messages = 0;        // consumed, parsed or not (a re-read batch counts again)
  int64_t documents = 0;       // acknowledged by the cluster (created, or there already)
  int64_t skipped = 0;         // messages that do not parse
  int64_t failed_batches = 0;  // retried
  int64_t refused = 0;         // dead-lettered by the sink (mapping conflicts)
};

class SearchReplicator {
 public:
  static Result<std::unique_ptr<SearchReplicator>> Open(const SearchReplicatorOptions& options);
  ~SearchReplicator();

  // Replicates until RequestStop() or, with available_now, until drained. Returns an error
  // only for what retrying cannot fix (a fatal consumer, a non-retryable sink error).
  Status Run();
  void RequestStop();
  SearchReplicatorStats stats() const;

  class Impl;

 private:
  explicit SearchReplicator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakelog::kafka

// IngestDaemon: `lakelog kafka-ingest`, Kafka topics into the Delta table, exactly once.
//
// A consumer group member (read_committed) that parses each message with the same parser as
// `lakelog ingest`, batches across all its partitions and publishes each batch in ONE Delta
// commit carrying a txn per (topic, partition): appId = TxnAppId(group, topic, partition),
// version = the partition's last offset in the batch. The table is the truth: on assignment
// each partition is read from the table's txn version + 1 (the beginning when there is none),
// and Kafka's committed offsets are written only after each Delta commit, for lag tools. A
// batch the table holds already (all of it: skipped; part of it: Conflict, e.g. a member that
// lost its partitions without noticing) is abandoned, and every assigned partition is read
// again from the table. Rebalancing is cooperative-sticky unless the properties name another
// assignor: only the partitions that change owner are revoked or assigned. On revocation the
// in-flight batch is committed first (or abandoned when that fails, and the partitions kept are
// read again from the table), so the next owner starts after it. Messages that do not parse go to
// the dead-letter file and are counted; their offsets are covered by the batch's txn all the same.
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

#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::kafka {

struct IngestDaemonOptions {
  std::string brokers;
  std::vector<std::string> topics;
  std::string group;
  std::string table;
  // NDJSON dead letters (one object per message: topic, partition, offset, reason, bytes);
  // empty = counted and reported on the log only.
  std::string dead_letter_path;
  // The file system of the dead-letter file; null = the table's. (A table on S3 keeps its dead
  // letters on a local disk: objects cannot be appended to.)
  FileSystem* dead_letter_fs = nullptr;
  // Flush triggers: the oldest buffered message's age, buffered events, buffered value bytes.
  std::chrono::milliseconds max_latency{60000};
  int64_t max_events = 1000000;
  int64_t max_bytes = 256ll << 20;
  // Drain to the end of every assigned partition, commit, leave the group, return.
  bool available_now = false;
  // librdkafka consumer properties (SASL, TLS, ...); the daemon's own settings win.
  std::map<std::string, std::string> properties;
  DeltaTableOptions table_options;
  // Prometheus GET /metrics on 127.0.0.1: 0 = off, -1 = any free port.
  int metrics_port = 0;
  // One line per notable event (assignment, commit failures, data loss); nullptr = stderr.
  std::function<void(const std::string&)> log;
};

struct IngestStats {
  int64_t messages = 0;  // consumed, parsed or not
  int64_t rows_committed = 0;
  int64_t commits = 0;  // Delta commits made
  int64_t dead_letters = 0;
  int64_t abandoned_batches = 0;  // held by the table already, or revoked and not committable
  int64_t offsets_lost = 0;       // messages lost to retention before they were ingested
};

// appId of the txn of one (topic, partition) for `group`. Topic names cannot hold ':', so the
// first two fields split unambiguously: "kafka-ingest:<topic>:<partition>:<group>".
std::string TxnAppId(const std::string& group, const std::string& topic, int32_t partition);

class IngestDaemon {
 public:
  // Checks the options and opens (creating when missing) the table.
  static Result<std::unique_ptr<IngestDaemon>> Open(FileSystem* fs,
                                                    const IngestDaemonOptions& options);
  ~IngestDaemon();

  // Consumes until RequestStop() (then commits what is buffered and leaves the group) or,
  // with available_now, until every assigned partition is drained. An error that retrying
  // cannot fix (a fatal consumer, a table that is not ours) ends it.
  Status Run();
  void RequestStop();
  IngestStats stats() const;
  // The bound metrics port; 0 when off.
  int metrics_port() const;

  class Impl;

 private:
  explicit IngestDaemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakelog::kafka

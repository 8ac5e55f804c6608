// `lakelog kafka-ingest`: Kafka topics into the Delta table, exactly once (src/kafka).
#include <signal.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "kafka/ingest_daemon.h"
#include "lakelog/file_system.h"

namespace lakelog::cli {
namespace {

struct KafkaIngestFlags {
  std::string brokers, group, table, dead_letters, compression = "zstd";
  std::vector<std::string> topics, properties;
  double max_latency_seconds = 60;
  int64_t max_events = 1000000;
  int64_t max_bytes = 256ll << 20;
  bool available_now = false;
  int metrics_port = 0;
};

std::atomic<kafka::IngestDaemon*> g_daemon{nullptr};

void OnStopSignal(int) {
  kafka::IngestDaemon* daemon = g_daemon.load();
  if (daemon != nullptr) daemon->RequestStop();  // one lock-free atomic store
}

ExitCode RunKafkaIngest(const KafkaIngestFlags& flags) {
  kafka::IngestDaemonOptions options;
  options.brokers = flags.brokers;
  options.topics = flags.topics;
  options.group = flags.group;
  options.table = flags.table;
  options.dead_letter_path = flags.dead_letters;
  options.max_events = flags.max_events;
  options.max_bytes = flags.max_bytes;
  options.available_now = flags.available_now;
  options.metrics_port = flags.metrics_port;
  if (!(flags.max_latency_seconds > 0)) {
    return ReportError("kafka-ingest", Status::InvalidArgument("--max-latency must be > 0"));
  }
  options.max_latency =
      std::chrono::milliseconds(static_cast<int64_t>(flags.max_latency_seconds * 1000));
  for (const std::string& property : flags.properties) {
    size_t eq = property.find('=');
    if (eq == std::string::npos || eq == 0) {
      return ReportError(
          "kafka-ingest",
          Status::InvalidArgument("--kafka-property wants key=value, got '" + property + "'"));
    }
    options.properties[property.substr(0, eq)] = property.substr(eq + 1);
  }
  Status compression =
      ParseCompressionFlag(flags.compression, &options.table_options.parquet.compression);
  if (!compression.ok()) return ReportError("kafka-ingest", compression);

  auto opened = kafka::IngestDaemon::Open(PosixFileSystem(), options);
  if (!opened.ok()) return ReportError("kafka-ingest", opened.status());
  std::unique_ptr<kafka::IngestDaemon> daemon = std::move(opened).value();
  if (daemon->metrics_port() != 0) {
    std::cerr << "lakelog kafka-ingest: metrics on http://127.0.0.1:" << daemon->metrics_port()
              << "/metrics" << std::endl;
  }
  g_daemon.store(daemon.get());
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  Status st = daemon->Run();
  g_daemon.store(nullptr);
  const kafka::IngestStats stats = daemon->stats();
  nlohmann::json out = {{"messages", stats.messages},
                        {"rowsCommitted", stats.rows_committed},
                        {"commits", stats.commits},
                        {"deadLetters", stats.dead_letters},
                        {"abandonedBatches", stats.abandoned_batches},
                        {"offsetsLost", stats.offsets_lost}};
  std::cout << out.dump() << std::endl;
  if (!st.ok()) return ReportError("kafka-ingest", st);
  return ExitCode::kOk;
}

}  // namespace

Command AddKafkaIngestCommand(CLI::App& root) {
  auto flags = std::make_shared<KafkaIngestFlags>();
  CLI::App* app = root.add_subcommand(
      "kafka-ingest",
      "Consume Kafka topics as a consumer group member and commit the events to the Delta\n"
      "table exactly once: one commit per batch with a txn per (topic, partition) holding its\n"
      "last offset; on assignment every partition is read from the table's txn version + 1\n"
      "(the table is the truth; offsets committed to Kafka after each Delta commit are for\n"
      "lag tools only). Each message is one NDJSON event (the format `lakelog ingest` reads);\n"
      "one that does not parse goes to --dead-letters with topic, partition, offset and\n"
      "reason, and is counted. SIGTERM/SIGINT: commit what is buffered, leave the group, exit\n"
      "0. Prints a JSON summary (messages, rowsCommitted, commits, deadLetters,\n"
      "abandonedBatches, offsetsLost) on exit. See docs/kafka.md.");
  app->add_option("--brokers", flags->brokers, "bootstrap.servers (host:port,...)")->required();
  app->add_option("--topic", flags->topics, "topic to consume (repeatable)")->required();
  app->add_option("--group", flags->group, "consumer group id (part of every txn appId)")
      ->required();
  app->add_option("--table", flags->table, "Delta table directory (created when missing)")
      ->required();
  app->add_option("--dead-letters", flags->dead_letters,
                  "NDJSON file the unparsable messages are appended to (synced before the "
                  "commit; a crash may repeat a line)");
  app->add_option("--max-latency", flags->max_latency_seconds,
                  "seconds a consumed message may wait before its batch is committed")
      ->capture_default_str();
  app->add_option("--max-events", flags->max_events, "events that trigger a commit")
      ->capture_default_str();
  app->add_option("--max-bytes", flags->max_bytes, "message bytes that trigger a commit")
      ->capture_default_str();
  app->add_flag("--available-now", flags->available_now,
                "drain every assigned partition to its end, commit, leave the group, exit");
  app->add_option("--kafka-property", flags->properties,
                  "librdkafka consumer property key=value (repeatable; SASL, TLS, ...)");
  app->add_option("--metrics-port", flags->metrics_port,
                  "Prometheus GET /metrics on 127.0.0.1 (0 = off, -1 = any free port)")
      ->capture_default_str();
  app->add_option("--compression", flags->compression, "zstd | snappy | lz4_raw | none")
      ->capture_default_str();
  return Command{app, [flags] { return RunKafkaIngest(*flags); }};
}

}  // namespace lakelog::cli

// `lakelog kafka-ingest`: Kafka topics into the Delta table, exactly once (src/kafka).
#include <signal.h>

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/command.h"
#include "cli/table_location.h"
#include "kafka/ingest_daemon.h"
#include "kafka/search_replicator.h"
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
  std::string opensearch, opensearch_index, opensearch_dead_letters, opensearch_group;
};

std::atomic<kafka::IngestDaemon*> g_daemon{nullptr};
std::atomic<kafka::SearchReplicator*> g_replicator{nullptr};

void OnStopSignal(int) {
  kafka::IngestDaemon* daemon = g_daemon.load();
  if (daemon != nullptr) daemon->RequestStop();  // one lock-free atomic store
  kafka::SearchReplicator* replicator = g_replicator.load();
  if (replicator != nullptr) replicator->RequestStop();  // the same
}

// --opensearch: the replica's options, or an error naming the flag.
Result<std::optional<kafka::SearchReplicatorOptions>> ReplicaOptions(
    const KafkaIngestFlags& flags, const std::map<std::string, std::string>& properties) {
  if (flags.opensearch.empty()) {
    for (const auto& [flag, value] :
         {std::pair<const char*, const std::string*>{"--opensearch-index", &flags.opensearch_index},
          {"--opensearch-dead-letters", &flags.opensearch_dead_letters},
          {"--opensearch-group", &flags.opensearch_group}}) {
      if (!value->empty()) {
        return Status::InvalidArgument(std::string(flag) + " needs --opensearch URL");
      }
    }
    return std::optional<kafka::SearchReplicatorOptions>();
  }
  kafka::SearchReplicatorOptions o;
  o.brokers = flags.brokers;
  o.topics = flags.topics;
  o.group = flags.opensearch_group.empty() ? flags.group + ".opensearch" : flags.opensearch_group;
  if (o.group == flags.group) {
    return Status::InvalidArgument(
        "--opensearch-group must differ from --group: each destination keeps its own offsets");
  }
  o.available_now = flags.available_now;
  o.properties = properties;
  o.search.url = flags.opensearch;
  if (!flags.opensearch_index.empty()) o.search.index = flags.opensearch_index;
  o.search.dead_letter_path = flags.opensearch_dead_letters;
  return std::optional<kafka::SearchReplicatorOptions>(std::move(o));
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

  auto replica_options = ReplicaOptions(flags, options.properties);
  if (!replica_options.ok()) return ReportError("kafka-ingest", replica_options.status());
  if (flags.table.empty() && !*replica_options) {
    return ReportError("kafka-ingest",
                       Status::InvalidArgument("--table PATH (or --opensearch URL) is required"));
  }
  Result<TableLocation> location = Status::NotFound("no --table");  // outlives the daemon
  std::unique_ptr<kafka::IngestDaemon> daemon;
  if (!flags.table.empty()) {
    location = OpenTableLocation(flags.table);
    if (!location.ok()) return ReportError("kafka-ingest", location.status());
    options.table = location->root;
    options.dead_letter_fs = PosixFileSystem();
    auto opened = kafka::IngestDaemon::Open(location->fs, options);
    if (!opened.ok()) return ReportError("kafka-ingest", opened.status());
    daemon = std::move(opened).value();
    if (daemon->metrics_port() != 0) {
      std::cerr << "lakelog kafka-ingest: metrics on http://127.0.0.1:" << daemon->metrics_port()
                << "/metrics" << std::endl;
    }
  }
  std::unique_ptr<kafka::SearchReplicator> replicator;
  if (*replica_options) {
    auto opened = kafka::SearchReplicator::Open(**replica_options);
    if (!opened.ok()) return ReportError("kafka-ingest --opensearch", opened.status());
    replicator = std::move(opened).value();
  }
  g_daemon.store(daemon.get());
  g_replicator.store(replicator.get());
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // The replica runs beside the Delta writer, in a consumer group of its own: neither waits
  // for the other. One that ends with an error stops the other (exit 1 either way).
  Status replica_status;
  std::thread replica_thread;
  if (replicator) {
    replica_thread = std::thread([&] {
      replica_status = replicator->Run();
      if (!replica_status.ok() && daemon) daemon->RequestStop();
    });
  }
  Status st;
  if (daemon) {
    st = daemon->Run();
    if (!st.ok() && replicator) replicator->RequestStop();
  }
  if (replica_thread.joinable()) replica_thread.join();
  g_daemon.store(nullptr);
  g_replicator.store(nullptr);
  nlohmann::json out = nlohmann::json::object();
  if (daemon) {
    const kafka::IngestStats stats = daemon->stats();
    out = {{"messages", stats.messages},
           {"rowsCommitted", stats.rows_committed},
           {"commits", stats.commits},
           {"deadLetters", stats.dead_letters},
           {"abandonedBatches", stats.abandoned_batches},
           {"offsetsLost", stats.offsets_lost}};
  }
  if (replicator) {
    const kafka::SearchReplicatorStats r = replicator->stats();
    out["opensearch"] = {{"messages", r.messages},
                         {"documents", r.documents},
                         {"skipped", r.skipped},
                         {"refused", r.refused},
                         {"failedBatches", r.failed_batches}};
  }
  std::cout << out.dump() << std::endl;
  if (!st.ok()) return ReportError("kafka-ingest", st);
  if (!replica_status.ok()) return ReportError("kafka-ingest --opensearch", replica_status);
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
      "abandonedBatches, offsetsLost; with --opensearch an \"opensearch\" object) on exit.\n"
      "With --opensearch the topics are also replicated to OpenSearch (docs/sinks.md). See\n"
      "docs/kafka.md.");
  app->add_option("--brokers", flags->brokers, "bootstrap.servers (host:port,...)")->required();
  app->add_option("--topic", flags->topics, "topic to consume (repeatable)")->required();
  app->add_option("--group", flags->group, "consumer group id (part of every txn appId)")
      ->required();
  app->add_option("--table", flags->table,
                  "Delta table (created when missing): a directory, or s3://bucket/prefix;\n"
                  "required unless --opensearch");
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
                  "librdkafka consumer property key=value (repeatable; SASL, TLS, ...). "
                  "Rebalancing is cooperative-sticky unless partition.assignment.strategy "
                  "names another assignor (the same for every member of the group)");
  app->add_option("--metrics-port", flags->metrics_port,
                  "Prometheus GET /metrics on 127.0.0.1 (0 = off, -1 = any free port)")
      ->capture_default_str();
  app->add_option("--compression", flags->compression, "zstd | snappy | lz4_raw | none")
      ->capture_default_str();
  app->add_option(
      "--opensearch", flags->opensearch,
      "also replicate the topics to OpenSearch/Elasticsearch at this URL, in a\n"
      "consumer group of its own (--opensearch-group): ids <topic>-<partition>-s<offset>\n"
      "make it exactly once; a cluster that is down holds back no Delta commit and\n"
      "catches up from its own offsets. Unparsable messages are skipped there");
  app->add_option("--opensearch-index", flags->opensearch_index,
                  "index pattern for --opensearch [lakelog-logs-%Y.%m.%d]");
  app->add_option("--opensearch-dead-letters", flags->opensearch_dead_letters,
                  "file for documents OpenSearch refuses for good (mapping conflicts)");
  app->add_option("--opensearch-group", flags->opensearch_group,
                  "consumer group of the OpenSearch replica [<group>.opensearch]");
  return Command{app, [flags] { return RunKafkaIngest(*flags); }};
}

}  // namespace lakelog::cli

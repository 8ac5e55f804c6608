// `lakelog demo`: several pipelines log concurrently through the library into a Delta table,
// with a live progress line, then a per-pipeline summary read back from the table.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "analytics/dashboard_server.h"
#include "analytics/time_spec.h"
#include "cli/command.h"
#include "cli/config.h"
#include "cli/table_location.h"
#include "lakelog/delta_sink.h"
#include "lakelog/engine.h"
#include "lakelog/kafka_sink.h"
#include "lakelog/opensearch_sink.h"
#include "query/table_scan.h"
#include "wal/wal_owner.h"

namespace lakelog::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A flag's value counts only when given(): the config file or the default applies otherwise.
struct DemoFlags {
  CLI::App* app = nullptr;
  std::string table;
  std::string config;
  std::string pipelines;  // comma-separated
  double seconds = 0;
  double rate = 0;
  int producers = 0;
  int metrics_port = 0;
  std::string wal;
  std::string sync;
  int64_t sync_interval_ms = 0;
  std::string kafka;  // brokers
  std::string kafka_topic;
  std::vector<std::string> kafka_properties;  // key=value
  std::string opensearch;                     // URL
  std::string opensearch_index;
  std::string opensearch_dead_letters;
  bool quiet = false;
  int serve = -1;  // the dashboard's port; -1 = none, 0 = a free one

  bool given(const char* flag) const { return app->count(flag) > 0; }
};

// Forwards to the Delta sink and counts what lands, for the progress line. Files are counted
// as the distinct (pipeline, log_date) pairs of a round: the Delta sink writes one file each.
class CountingSink final : public Sink {
 public:
  explicit CountingSink(std::unique_ptr<Sink> target) : target_(std::move(target)) {}
  void Attach(const SinkAttachContext& ctx) override { target_->Attach(ctx); }
  std::string_view name() const override { return target_->name(); }
  Status CheckPipeline(std::string_view pipeline) const override {
    return target_->CheckPipeline(pipeline);
  }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    Status st = target_->Write(events, ctx);
    if (!st.ok()) return st;
    std::unordered_set<std::string> files;
    std::unordered_set<std::string_view> pipelines;
    for (const LogEvent* e : events) {
      pipelines.insert(e->pipeline);
      files.insert(e->pipeline + '\0' + std::to_string(DaysFromMicros(e->ts_micros)));
    }
    commits_ += 1;
    flushes_ += static_cast<int64_t>(pipelines.size());
    files_ += static_cast<int64_t>(files.size());
    rows_ += static_cast<int64_t>(events.size());
    return st;
  }
  Status Flush(std::chrono::milliseconds timeout) override { return target_->Flush(timeout); }
  Result<int64_t> CommittedRound(std::string_view writer_id) override {
    return target_->CommittedRound(writer_id);
  }

  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> flushes_{0};  // pipeline batches; several share one commit
  std::atomic<int64_t> files_{0};
  std::atomic<int64_t> rows_{0};

 private:
  std::unique_ptr<Sink> target_;
};

struct StageSpec {
  const char* name;
  const char* success;
  const char* failure;
};

// Stage lists of the default pipelines; any other pipeline gets extract/transform/load.
std::vector<StageSpec> StagesFor(const std::string& pipeline) {
  if (pipeline == "ingestion") {
    return {{"fetch", "Fetched batch", "Fetch failed: connection reset by peer"},
            {"validate", "Schema validated", "Validation failed: 3 rows with null id"},
            {"land", "Landed raw files", "Landing failed: bucket quota exceeded"}};
  }
  if (pipeline == "enrichment") {
    return {{"lookup", "Dimension lookup done", "Lookup failed: dimension table locked"},
            {"join", "Join complete", "Join failed: skewed key spilled to disk"},
            {"score", "Scores computed", "Scoring failed: model endpoint timeout"}};
  }
  if (pipeline == "index_loader") {
    return {{"extract", "Extract complete", "Extract failed: source snapshot expired"},
            {"delta_merge", "Merge complete", "Merge failed: ConcurrentAppendException"},
            {"publish", "Index published", "Publish failed: alias swap rejected"}};
  }
  return {{"extract", "Extract complete", "Extract failed"},
          {"transform", "Transform complete", "Transform failed"},
          {"load", "Load complete", "Load failed"}};
}

// Logs runs of the pipeline's stages at `rate` events per second until `stop`.
void Produce(Logger logger, std::string pipeline, double rate, double failure_rate, int seed,
             const std::atomic<bool>& stop) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::vector<StageSpec> stages = StagesFor(pipeline);
  const auto start = Clock::now();
  int64_t sent = 0;
  int64_t run = 0;
  char run_id[64];
  char rows[32];
  while (!stop.load(std::memory_order_relaxed)) {
    std::snprintf(run_id, sizeof(run_id), "%s-%d-%lld", pipeline.c_str(), seed,
                  static_cast<long long>(++run));
    for (size_t i = 0; i < stages.size() && !stop.load(std::memory_order_relaxed); ++i) {
      const StageSpec& stage = stages[i];
      // Pace: the n-th event is due at n / rate seconds.
      auto due = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(sent) / rate));
      if (due > Clock::now()) std::this_thread::sleep_until(due);
      logger.Log(Level::kInfo, stage.name, "RUNNING", "Stage started", run_id);
      bool failed = coin(rng) < failure_rate * (i == 1 ? 2.0 : 1.0);  // the middle stage is flaky
      std::snprintf(rows, sizeof(rows), "%llu", static_cast<unsigned long long>(rng() % 100000));
      if (failed) {
        logger.Log(Level::kError, stage.name, "FAILED", stage.failure, run_id,
                   {{"attempt", "1"}, {"rows", "0"}});
        sent += 2;
        break;  // a failed stage ends the run
      }
      logger.Log(Level::kInfo, stage.name, "SUCCESS", stage.success, run_id,
                 {{"attempt", "1"}, {"rows", rows}});
      sent += 2;
    }
  }
}

ExitCode UsageError(const std::string& problem) {
  ReportError("demo", Status::InvalidArgument(problem));
  return ExitCode::kUsage;
}

// "" when `value` is a finite number in [min, max] (or (min, max] when `min_exclusive`);
// otherwise what is wrong with it, for a message that names the flag.
std::string CheckNumber(double value, double min, double max, bool min_exclusive = false) {
  const bool below = min_exclusive ? !(value > min) : !(value >= min);
  if (std::isfinite(value) && !below && value <= max) return "";
  std::ostringstream out;
  out << (min_exclusive ? "must be greater than " : "must be between ") << min
      << (min_exclusive ? " and at most " : " and ") << max << " (got " << value << ")";
  return out.str();
}

// Merges the flags over the config file into *config and *demo, and checks everything a demo
// run depends on before anything is created. Returns kOk, or the exit code of the reported
// error: kUsage for a bad flag, key or combination, kFailure for a config file that could not
// be read.
ExitCode Settle(const DemoFlags& flags, CliConfig* config, DemoSettings* demo, std::string* table) {
  if (flags.given("--config")) {
    if (flags.config.empty()) return UsageError("--config names no file");
    auto loaded = LoadConfigFile(flags.config);
    if (!loaded.ok()) {
      ReportError("demo", loaded.status());
      return loaded.status().code() == StatusCode::kInvalidArgument ? ExitCode::kUsage
                                                                    : ExitCode::kFailure;
    }
    *config = std::move(loaded).value();
  }
  *table = !flags.table.empty() ? flags.table : config->table_path.value_or("");
  if (table->empty()) return UsageError("--table (or [table] path) is required");
  *demo = config->demo;
  if (flags.given("--pipelines")) {
    auto names = ParsePipelineList(flags.pipelines);
    if (!names.ok()) return UsageError("--pipelines: " + names.status().message());
    demo->pipelines = std::move(names).value();
  }
  if (flags.given("--seconds")) {
    std::string problem = CheckNumber(flags.seconds, 0, DemoSettings::kMaxSeconds);
    if (!problem.empty()) return UsageError("--seconds " + problem);
    demo->seconds = flags.seconds;
  }
  if (flags.given("--rate")) {
    std::string problem = CheckNumber(flags.rate, 0, DemoSettings::kMaxRate, true);
    if (!problem.empty()) return UsageError("--rate " + problem);
    demo->rate = flags.rate;
  }
  if (flags.given("--producers")) demo->producers = flags.producers;
  if (flags.given("--metrics-port")) config->engine.metrics_port = flags.metrics_port;
  if (flags.given("--wal")) {
    if (flags.wal.empty()) return UsageError("--wal names no directory");
    config->engine.wal_dir = flags.wal;
  }
  if (flags.given("--sync") && !ParseWalSyncMode(flags.sync, &config->engine.wal.sync_mode)) {
    return UsageError("unknown --sync mode '" + flags.sync + "' (none, interval, group)");
  }
  if (flags.given("--sync-interval-ms")) {
    config->engine.wal.sync_interval_ms = static_cast<uint32_t>(flags.sync_interval_ms);
  }
  // Sync settings without a WAL would be silently ignored: the run would not be durable.
  if (config->engine.wal_dir.empty()) {
    for (const char* flag : {"--sync", "--sync-interval-ms"}) {
      if (flags.given(flag)) {
        return UsageError(std::string(flag) +
                          " needs --wal DIR (or [wal] dir): without a WAL there is nothing to "
                          "sync");
      }
    }
    if (config->wal_sync_set || config->wal_sync_interval_set) {
      return UsageError(flags.config + ": [wal] sets " +
                        (config->wal_sync_set ? "sync" : "sync_interval_ms") +
                        " but no WAL directory (--wal DIR or [wal] dir)");
    }
  }
  if (flags.given("--kafka")) {
    if (flags.kafka.empty()) return UsageError("--kafka names no brokers");
    if (!config->kafka) config->kafka.emplace();
    config->kafka->brokers = flags.kafka;
  }
  if (flags.given("--kafka-topic") || flags.given("--kafka-property")) {
    if (!config->kafka) {
      return UsageError(
          std::string(flags.given("--kafka-topic") ? "--kafka-topic" : "--kafka-property") +
          " needs --kafka BROKERS (or a [kafka] section)");
    }
    if (flags.given("--kafka-topic")) {
      if (flags.kafka_topic.empty()) return UsageError("--kafka-topic names no topic");
      config->kafka->topic = flags.kafka_topic;
    }
    for (const std::string& property : flags.kafka_properties) {
      const size_t eq = property.find('=');
      if (eq == std::string::npos || eq == 0) {
        return UsageError("--kafka-property '" + property + "' is not key=value");
      }
      config->kafka->properties[property.substr(0, eq)] = property.substr(eq + 1);
    }
  }
  if (flags.given("--opensearch")) {
    if (flags.opensearch.empty()) return UsageError("--opensearch names no URL");
    if (!config->opensearch) config->opensearch.emplace();
    config->opensearch->url = flags.opensearch;
  }
  for (const char* flag : {"--opensearch-index", "--opensearch-dead-letters"}) {
    if (flags.given(flag) && !config->opensearch) {
      return UsageError(std::string(flag) + " needs --opensearch URL (or an [opensearch] section)");
    }
  }
  if (flags.given("--opensearch-index")) {
    if (flags.opensearch_index.empty()) return UsageError("--opensearch-index names no index");
    config->opensearch->index = flags.opensearch_index;
    config->opensearch->data_stream.clear();
  }
  if (flags.given("--opensearch-dead-letters")) {
    if (flags.opensearch_dead_letters.empty()) {
      return UsageError("--opensearch-dead-letters names no file");
    }
    config->opensearch->dead_letter_path = flags.opensearch_dead_letters;
  }
  if (flags.given("--sync-interval-ms") && config->engine.wal.sync_mode != WalSyncMode::kInterval) {
    return UsageError("--sync-interval-ms applies only to --sync interval (the mode is " +
                      std::string(WalSyncModeName(config->engine.wal.sync_mode)) + ")");
  }
  return ExitCode::kOk;
}

// The engine's own ownership check, made before the table is created, so a refused WAL
// directory leaves no table behind either.
Status CheckWalDirectory(const std::string& dir) {
  auto entries = PosixFileSystem()->ListDir(dir);
  if (entries.ok()) return wal::CheckEngineMayOwn(PosixFileSystem(), dir, *entries);
  if (entries.status().IsNotFound()) return Status::OK();
  return entries.status();
}

ExitCode RunDemo(const DemoFlags& flags) {
  CliConfig config;
  DemoSettings demo;
  std::string table;
  if (ExitCode settled = Settle(flags, &config, &demo, &table); settled != ExitCode::kOk) {
    return settled;
  }
  if (!config.engine.wal_dir.empty()) {
    if (Status st = CheckWalDirectory(config.engine.wal_dir); !st.ok()) {
      ReportError("demo: the WAL directory", st);
      return ExitCode::kFailure;
    }
  }

  // Outlives the engine (its Delta sink writes through it).
  auto location = OpenTableLocation(table, [&config](S3Options* s3) {
    if (config.s3) config.s3->ApplyTo(s3);
  });
  if (!location.ok()) return ReportError("demo: opening " + table, location.status());
  // A table that cannot be created now (unwritable, disk full) is not fatal with a WAL: the
  // engine keeps the events there and in the buffers and retries; without one it is.
  if (Status st = location->fs->CreateDirs(location->root); !st.ok()) {
    if (config.engine.wal_dir.empty()) return ReportError("demo: creating " + table, st);
    ReportError("demo: creating " + table + " (events wait in the WAL until it works)", st);
  }
  // Background errors (a failing sink, the WAL) go to stderr, at most one a second.
  auto last_report = std::make_shared<std::atomic<int64_t>>(0);
  config.engine.error_handler = [last_report](const Status& st) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count();
    int64_t last = last_report->load();
    if (now - last < 1000 || !last_report->compare_exchange_strong(last, now)) return;
    std::fprintf(stderr, "\nlakelog demo: %s\n", st.ToString().c_str());
  };
  auto delta = NewDeltaSink(location->fs, location->root, config.table);
  if (!delta.ok()) return ReportError("demo: opening " + table, delta.status());
  auto counting = std::make_unique<CountingSink>(std::move(delta).value());
  CountingSink* counters = counting.get();
  // Every round goes to the table and to each other destination, each on its own (a
  // destination that is down holds back neither the table nor the others).
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(counting));
  if (config.kafka) {
    auto kafka = NewKafkaSink(*config.kafka);
    if (!kafka.ok()) return ReportError("demo: the Kafka destination", kafka.status());
    sinks.push_back(std::move(kafka).value());
  }
  if (config.opensearch) {
    auto opensearch = NewOpenSearchSink(*config.opensearch);
    if (!opensearch.ok()) {
      return ReportError("demo: the OpenSearch destination", opensearch.status());
    }
    sinks.push_back(std::move(opensearch).value());
  }
  std::string destinations;
  for (size_t i = 1; i < sinks.size(); ++i) destinations += " + " + std::string(sinks[i]->name());
  auto engine_or = Engine::Open(config.engine, std::move(sinks));
  if (!engine_or.ok()) {
    // Every setting was checked above: what fails here is the machine or the WAL directory.
    ReportError("demo: starting the engine", engine_or.status());
    return ExitCode::kFailure;
  }
  std::unique_ptr<Engine> engine = std::move(engine_or).value();

  std::fprintf(
      stderr,
      "lakelog demo: %zu pipelines x %d producers at %.0f events/s each for %.1fs -> %s%s\n",
      demo.pipelines.size(), demo.producers, demo.rate, demo.seconds, table.c_str(),
      destinations.c_str());
  if (engine->metrics_port() != 0) {
    std::fprintf(stderr, "metrics: http://127.0.0.1:%d/metrics\n", engine->metrics_port());
  }
  if (!config.engine.wal_dir.empty()) {
    std::fprintf(stderr, "WAL: %s (sync %s), writer id %s\n", config.engine.wal_dir.c_str(),
                 std::string(WalSyncModeName(config.engine.wal.sync_mode)).c_str(),
                 engine->writer_id().c_str());
  }

  // The dashboard over the table being written, with the engine's own series on /metrics.
  std::unique_ptr<analytics::DashboardServer> dashboard;
  if (flags.serve >= 0) {
    analytics::DashboardOptions options;
    options.port = flags.serve;
    // The window spans the run (and a minute at least), in about 60 buckets.
    const int64_t window_seconds = std::max<int64_t>(60, static_cast<int64_t>(demo.seconds) + 10);
    options.window_micros = window_seconds * analytics::kMicrosPerSecond;
    options.bucket_micros = std::max<int64_t>(1, window_seconds / 60) * analytics::kMicrosPerSecond;
    options.refresh_seconds = 2;
    options.title = "lakelog demo · " + table;
    Engine* running = engine.get();
    options.extra_metrics = [running] { return running->MetricsText(); };
    auto server = analytics::DashboardServer::Start(location->fs, location->root, options);
    if (!server.ok()) return ReportError("demo: the dashboard", server.status());
    dashboard = std::move(server).value();
    std::fprintf(stderr, "dashboard: http://127.0.0.1:%d/\n", dashboard->port());
  }

  std::atomic<bool> stop{false};
  std::vector<std::thread> producers;
  int seed = 1;
  for (const std::string& pipeline : demo.pipelines) {
    auto logger = engine->GetLogger(pipeline, config.LoggerFor(pipeline));
    if (!logger.ok()) return ReportError("demo: pipeline " + pipeline, logger.status());
    for (int p = 0; p < demo.producers; ++p) {
      producers.emplace_back(Produce, *logger, pipeline, demo.rate / demo.producers,
                             demo.failure_rate, seed++, std::cref(stop));
    }
  }

  auto totals = [&] {
    LoggerStats sum;
    for (const std::string& pipeline : engine->Pipelines()) {
      auto stats = engine->Stats(pipeline);
      if (!stats.ok()) continue;
      sum.accepted += stats->accepted;
      for (int r = 0; r < kNumDropReasons; ++r) sum.dropped[r] += stats->dropped[r];
    }
    return sum;
  };
  auto progress = [&](double elapsed, const char* end) {
    if (flags.quiet) return;
    LoggerStats sum = totals();
    std::fprintf(stderr,
                 "\r[%5.1fs] events %llu  flushes %lld  files %lld  commits %lld  drops %llu%s",
                 elapsed, static_cast<unsigned long long>(sum.accepted),
                 static_cast<long long>(counters->flushes_.load()),
                 static_cast<long long>(counters->files_.load()),
                 static_cast<long long>(counters->commits_.load()),
                 static_cast<unsigned long long>(sum.dropped_total()), end);
  };
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(demo.seconds));
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    progress(std::chrono::duration<double>(Clock::now() - start).count(), "   ");
  }
  stop = true;
  for (auto& t : producers) t.join();
  StopOptions stop_options;
  stop_options.append_final_event = true;
  stop_options.timeout = config.engine.stop_timeout;  // [engine] stop_timeout_ms
  Status stopped = engine->Stop(stop_options);
  progress(std::chrono::duration<double>(Clock::now() - start).count(), "\n");
  if (!stopped.ok()) ReportError("demo: stopping", stopped);

  LoggerStats sum = totals();
  std::printf("\nlogged %llu events (%llu dropped", static_cast<unsigned long long>(sum.accepted),
              static_cast<unsigned long long>(sum.dropped_total()));
  for (int r = 0; r < kNumDropReasons; ++r) {
    if (sum.dropped[r] > 0) {
      std::printf(", %s %llu", std::string(DropReasonName(static_cast<DropReason>(r))).c_str(),
                  static_cast<unsigned long long>(sum.dropped[r]));
    }
  }
  std::printf(") in %lld commits, %lld files\n", static_cast<long long>(counters->commits_.load()),
              static_cast<long long>(counters->files_.load()));
  if (Engine::WalInfo wal = engine->wal_info(); wal.enabled) {
    std::printf(
        "WAL: replayed %lld events from an earlier run, %llu damaged records skipped, "
        "%lld events left for the next run\n",
        static_cast<long long>(wal.replayed_events),
        static_cast<unsigned long long>(wal.corrupt_records),
        static_cast<long long>(wal.events_left_in_wal));
  }

  auto summary = query::SummarizePipelines(location->fs, location->root);
  if (!summary.ok()) return ReportError("demo: reading the table back", summary.status());
  std::printf("\nread back from %s:\n", table.c_str());
  std::printf("%-20s %10s %10s %13s  %s\n", "pipeline", "events", "failures", "success rate",
              "top failing stages");
  for (const query::PipelineSummary& p : *summary) {
    std::string stages;
    for (const query::StageFailures& s : p.top_failing_stages) {
      if (!stages.empty()) stages += ", ";
      stages += s.stage + " (" + std::to_string(s.failures) + ")";
    }
    std::printf("%-20s %10lld %10lld %12.1f%%  %s\n", p.pipeline.c_str(),
                static_cast<long long>(p.total), static_cast<long long>(p.failures),
                100.0 * p.SuccessRate(), stages.empty() ? "-" : stages.c_str());
  }
  return stopped.ok() ? ExitCode::kOk : ExitCode::kFailure;
}

}  // namespace

Command AddDemoCommand(CLI::App& root) {
  auto flags = std::make_shared<DemoFlags>();
  CLI::App* app = root.add_subcommand(
      "demo",
      "Several pipelines (ingestion, enrichment, index_loader by default) log concurrently\n"
      "through the lakelog library into a Delta table, a few stages failing now and then. A live\n"
      "line shows events, flushes (pipeline batches), files, commits and drops; at the end the\n"
      "per-pipeline summary (events, failures, success rate, top failing stages) is read back\n"
      "from the table. Flags override the --config file.");
  app->add_option("--table", flags->table,
                  "Delta table (created if missing): a directory, or s3://bucket/prefix");
  app->add_option("--config", flags->config,
                  "TOML configuration file (see docs/configuration.md); a missing or unreadable\n"
                  "file or a directory is an error (exit 2), never an empty configuration");
  app->add_option(
      "--pipelines", flags->pipelines,
      "comma-separated pipeline names, each once; blanks around a name are\n"
      "trimmed, an empty or blank name is an error [ingestion,enrichment,index_loader]");
  app->add_option("--seconds", flags->seconds,
                  "how long to log, 0 to 86400 (0: start, replay a WAL, stop) [10]");
  app->add_option("--rate", flags->rate,
                  "events per second per pipeline, above 0 and at most 1e9 [2000]");
  app->add_option("--producers", flags->producers, "producer threads per pipeline [2]")
      ->check(CLI::Range(1, DemoSettings::kMaxProducers));
  app->add_option("--serve", flags->serve,
                  "serve `lakelog serve`'s dashboard over the table on this port (127.0.0.1) "
                  "while the demo runs; 0 picks a free one (printed)")
      ->check(CLI::Range(0, 65535));
  app->add_option("--metrics-port", flags->metrics_port,
                  "serve GET /metrics on 127.0.0.1:PORT (0 off, -1 any free port) [0]")
      ->check(CLI::Range(-1, 65535));
  app->add_option("--wal", flags->wal,
                  "write-ahead log directory: events are durable there before the table has\n"
                  "them, and a restarted demo on the same directory commits what a crash left\n"
                  "(exactly once). It must be empty, new, or this engine's own WAL (it holds\n"
                  "engine.json): a directory of `lakelog ingest --wal` or with other files is\n"
                  "refused (exit 1), never adopted. Default: none");
  app->add_option("--sync", flags->sync,
                  "WAL sync mode (needs --wal): none (survives kill -9), interval (fsync every\n"
                  "--sync-interval-ms), group (fsync every flush round) [group]");
  app->add_option("--sync-interval-ms", flags->sync_interval_ms,
                  "for --sync interval (needs it) [100]")
      ->check(CLI::Range(0, 3600000));
  app->add_option(
      "--kafka", flags->kafka,
      "also send every event to Kafka (bootstrap servers host:port[,...]), one\n"
      "transaction per flush round, exactly once with --wal (docs/kafka.md); the\n"
      "table and Kafka each get every round, neither waits for the other. Default: none");
  app->add_option("--kafka-topic", flags->kafka_topic, "topic for --kafka [pipeline_logs]");
  app->add_option("--kafka-property", flags->kafka_properties,
                  "a librdkafka property for --kafka, key=value (SASL, TLS, compression.type,\n"
                  "...); repeatable");
  app->add_option(
      "--opensearch", flags->opensearch,
      "also send every event to OpenSearch/Elasticsearch at this URL (http[s]://host:port):\n"
      "_bulk creates with deterministic ids, exactly once with --wal; refused documents go\n"
      "to --opensearch-dead-letters. More options in [opensearch] (docs/sinks.md). Default:\n"
      "none");
  app->add_option("--opensearch-index", flags->opensearch_index,
                  "index pattern for --opensearch, %Y %m %d of the event's UTC date\n"
                  "[lakelog-logs-%Y.%m.%d]");
  app->add_option("--opensearch-dead-letters", flags->opensearch_dead_letters,
                  "file for documents OpenSearch refuses for good (mapping conflicts), one JSON\n"
                  "line each with the reason. Default: counted and reported only");
  app->add_flag("--quiet", flags->quiet, "no live progress line");
  flags->app = app;
  return Command{app, [flags] { return RunDemo(*flags); }};
}

}  // namespace lakelog::cli

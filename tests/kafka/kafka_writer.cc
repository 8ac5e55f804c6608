// lakelog_kafka_writer: an engine with a Kafka sink, for the Kafka suite (tests/kafka/*.py).
// Logs --events uniquely numbered events (run_id "<prefix>-<i>" for i in [--start, --start +
// --events)) round-robin into --pipelines pipelines, then flushes and stops. With --wal, every
// --ack-every events it calls Engine::Sync() and prints what is acknowledged:
//
//   ack <i>      every event with a number <= i is durable in the WAL
//   done         everything is committed to Kafka and the engine stopped cleanly
//
// A test kills it with kill -9 at any moment and runs it again on the same WAL (with
// --events 0 to only replay what the WAL holds).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "lakelog/engine.h"
#include "lakelog/kafka_sink.h"

namespace {

struct Args {
  std::string brokers, topic = "pipeline_logs", progress_topic = "lakelog_sink_progress";
  std::string wal, prefix = "e", writer_id;
  long start = 0, events = 0;
  int pipelines = 4, ack_every = 100;
  long sleep_every = 0;  // sleep 1 ms every N events (0 = never), to spread rounds out
};

// Exits on --help (0) or a usage error (2, with CLI11's message).
Args Parse(int argc, char** argv) {
  Args a;
  CLI::App app{"An engine with a Kafka sink, for tests/kafka (see the head of this file)."};
  app.add_option("--brokers", a.brokers, "bootstrap servers")->required();
  app.add_option("--topic", a.topic, "events topic");
  app.add_option("--progress-topic", a.progress_topic, "the sink's progress topic");
  app.add_option("--wal", a.wal, "WAL directory (Sync() and ack lines)");
  app.add_option("--writer-id", a.writer_id, "the sink's writer id");
  app.add_option("--prefix", a.prefix, "run_id prefix");
  app.add_option("--start", a.start, "first event number");
  app.add_option("--events", a.events, "events to log (0: only replay the WAL)");
  app.add_option("--pipelines", a.pipelines, "pipelines")->check(CLI::Range(1, 1000000));
  app.add_option("--ack-every", a.ack_every, "events between two Sync() calls")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--sleep-every", a.sleep_every, "sleep 1 ms every N events (0: never)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  lakelog::KafkaSinkOptions sink_options;
  sink_options.brokers = args.brokers;
  sink_options.topic = args.topic;
  sink_options.progress_topic = args.progress_topic;
  sink_options.properties["linger.ms"] = "5";
  auto sink = lakelog::NewKafkaSink(sink_options);
  if (!sink.ok()) {
    std::fprintf(stderr, "kafka_writer: %s\n", sink.status().ToString().c_str());
    return 1;
  }
  lakelog::EngineOptions options;
  options.wal_dir = args.wal;
  options.writer_id = args.writer_id;
  options.retry_initial_backoff = std::chrono::milliseconds(20);
  options.retry_max_backoff = std::chrono::milliseconds(500);
  options.stop_timeout = std::chrono::seconds(120);
  options.error_handler = [](const lakelog::Status& st) {
    std::fprintf(stderr, "kafka_writer: %s\n", st.ToString().c_str());
  };
  auto opened = lakelog::Engine::Open(options, std::move(sink).value());
  if (!opened.ok()) {
    std::fprintf(stderr, "kafka_writer: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<lakelog::Engine> engine = std::move(opened).value();
  lakelog::LoggerOptions logger_options;
  logger_options.flush_interval = std::chrono::milliseconds(100);
  logger_options.batch_events = 500;
  logger_options.overflow = lakelog::OverflowPolicy::kBlock;
  logger_options.block_timeout = std::chrono::seconds(60);
  for (long n = 0; n < args.events; ++n) {
    const long i = args.start + n;
    auto logger = engine->GetLogger("p" + std::to_string(i % args.pipelines), logger_options);
    if (!logger.ok()) {
      std::fprintf(stderr, "kafka_writer: %s\n", logger.status().ToString().c_str());
      return 1;
    }
    logger->Log(lakelog::Level::kInfo, "emit", "SUCCESS", "event " + std::to_string(i),
                args.prefix + "-" + std::to_string(i), {{"i", std::to_string(i)}});
    if (!args.wal.empty() && (n + 1) % args.ack_every == 0) {
      lakelog::Status st = engine->Sync(std::chrono::seconds(60));
      if (st.ok()) {
        std::printf("ack %ld\n", i);
        std::fflush(stdout);
      }
    }
    if (args.sleep_every > 0 && (n + 1) % args.sleep_every == 0) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, nullptr);
    }
  }
  lakelog::Status flushed = engine->Flush(std::chrono::seconds(120));
  lakelog::Status stopped = engine->Stop();
  for (const std::string& p : engine->Pipelines()) {
    auto stats = engine->Stats(p);
    if (stats.ok() && stats->dropped_total() > 0) {
      std::fprintf(stderr, "kafka_writer: %s dropped %llu\n", p.c_str(),
                   static_cast<unsigned long long>(stats->dropped_total()));
      return 1;
    }
  }
  if (!flushed.ok() || !stopped.ok()) {
    std::fprintf(stderr, "kafka_writer: %s / %s\n", flushed.ToString().c_str(),
                 stopped.ToString().c_str());
    return 1;
  }
  std::printf("done\n");
  return 0;
}

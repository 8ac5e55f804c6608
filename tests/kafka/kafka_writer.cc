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

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "lakelog_kafka_writer: %s\n"
               "usage: lakelog_kafka_writer --brokers B [--topic T] [--progress-topic T]\n"
               "       [--wal DIR] [--writer-id ID] [--prefix P] [--start N] [--events N]\n"
               "       [--pipelines N] [--ack-every N] [--sleep-every N]\n",
               why.c_str());
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value of " + flag);
      return argv[++i];
    };
    if (flag == "--brokers")
      a.brokers = value();
    else if (flag == "--topic")
      a.topic = value();
    else if (flag == "--progress-topic")
      a.progress_topic = value();
    else if (flag == "--wal")
      a.wal = value();
    else if (flag == "--writer-id")
      a.writer_id = value();
    else if (flag == "--prefix")
      a.prefix = value();
    else if (flag == "--start")
      a.start = std::atol(value().c_str());
    else if (flag == "--events")
      a.events = std::atol(value().c_str());
    else if (flag == "--pipelines")
      a.pipelines = std::atoi(value().c_str());
    else if (flag == "--ack-every")
      a.ack_every = std::atoi(value().c_str());
    else if (flag == "--sleep-every")
      a.sleep_every = std::atol(value().c_str());
    else
      Usage("unknown flag " + flag);
  }
  if (a.brokers.empty()) Usage("--brokers is required");
  if (a.pipelines < 1 || a.ack_every < 1) Usage("counts must be >= 1");
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

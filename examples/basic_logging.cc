// basic_logging: log a few pipeline events into a Delta table and stop cleanly.
//
//   basic_logging /tmp/pipeline_logs
//
// Then query it with any Delta reader, e.g.
//   SELECT pipeline, count(*) FROM delta.`/tmp/pipeline_logs` GROUP BY pipeline;
#include <cstdio>

#include "lakelog/delta_sink.h"
#include "lakelog/engine.h"

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "/tmp/pipeline_logs";

  auto sink = lakelog::NewDeltaSink(lakelog::PosixFileSystem(), root);
  if (!sink.ok()) {
    std::fprintf(stderr, "open table: %s\n", sink.status().ToString().c_str());
    return 1;
  }
  lakelog::EngineOptions options;
  options.error_handler = [](const lakelog::Status& st) {
    std::fprintf(stderr, "lakelog: %s\n", st.ToString().c_str());
  };
  auto engine = lakelog::Engine::Open(options, std::move(sink).value());
  if (!engine.ok()) {
    std::fprintf(stderr, "open engine: %s\n", engine.status().ToString().c_str());
    return 1;
  }

  lakelog::LoggerOptions logger_options;
  logger_options.overflow = lakelog::OverflowPolicy::kShedByLevel;
  logger_options.run_id = "example-run-1";
  lakelog::Logger log = (*engine)->GetLogger("index_loader", logger_options).value();

  log.Info("extract", "RUNNING", "Reading source files");
  log.Log(lakelog::Level::kInfo, "delta_merge", "SUCCESS", "Merge complete", "example-run-1",
          {{"rows", "1200"}, {"table", "orders"}});
  log.Error("publish", "FAILED", "Downstream topic unavailable");

  lakelog::StopOptions stop;
  stop.append_final_event = true;  // one "pipeline completed" row per pipeline
  lakelog::Status st = (*engine)->Stop(stop);
  std::printf("stopped: %s; %lu rows written in %ld commit(s)\n", st.ToString().c_str(),
              (unsigned long)log.stats().flushed, (long)(*engine)->rounds_written());
  return st.ok() ? 0 : 1;
}

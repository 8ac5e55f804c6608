// The TOML configuration of the `lakelog` CLI: every engine, table and logger option.
//
//   [engine]            flush_threads, poll_interval_ms, retry_initial_backoff_ms,
//                       retry_max_backoff_ms, writer_id, host, metrics_port,
//                       metrics_bind_address, stop_timeout_ms
//   [wal]               dir, sync, sync_interval_ms, segment_bytes
//   [table]             path, compression, zstd_level, page_size_bytes, row_group_size_bytes,
//                       dictionary_limit_bytes
//   [defaults]          LoggerOptions for every pipeline (keys listed in docs/configuration.md)
//   [pipelines.<name>]  the same keys, overriding [defaults] for one pipeline
//   [demo]              pipelines, seconds, rate, producers, failure_rate
//
// Unknown keys, wrong types and out-of-range values are errors that name the key, e.g.
// `demo.toml: defaults.overflow: unknown policy "drop_all" (block, drop_newest, ...)`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/engine_options.h"
#include "lakelog/status.h"

namespace lakelog::cli {

struct DemoSettings {
  std::vector<std::string> pipelines = {"ingestion", "enrichment", "index_loader"};
  double seconds = 10;
  double rate = 2000;        // events per second per pipeline
  int producers = 2;         // producer threads per pipeline
  double failure_rate = 0.03;  // chance that a stage of a run fails
};

struct CliConfig {
  EngineOptions engine;
  DeltaTableOptions table;
  std::optional<std::string> table_path;
  LoggerOptions defaults;
  std::map<std::string, LoggerOptions> pipelines;  // [defaults] with the overrides applied
  DemoSettings demo;

  const LoggerOptions& LoggerFor(const std::string& pipeline) const;
};

// Parses TOML text; `source` names it in errors. InvalidArgument on any problem.
Result<CliConfig> ParseConfig(std::string_view toml_text, const std::string& source);
// Reads and parses a file. NotFound / InvalidArgument.
Result<CliConfig> LoadConfigFile(const std::string& path);

}  // namespace lakelog::cli

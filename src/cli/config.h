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
//   [kafka]             brokers, topic, progress_topic, transactional_id_prefix,
//                       operation_timeout_ms, [kafka.properties]
//   [s3]                endpoint, region, path_style, single_writer, part_size_bytes,
//                       max_attempts, timeout_ms (credentials: the AWS environment)
//   [opensearch]        url, index, data_stream, template_name, install_template,
//                       attributes_type, username, password, ca_file, verify_tls, gzip,
//                       max_batch_events, max_batch_bytes, max_in_flight, timeout_ms,
//                       progress_index, dead_letter_path
//
// Unknown keys, wrong types and out-of-range values (NaN and infinities included) are errors
// that name the key, e.g.
// `demo.toml: defaults.overflow: unknown policy "drop_all" (block, drop_newest, ...)`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/engine_options.h"
#include "lakelog/kafka_sink.h"
#include "lakelog/opensearch_sink.h"
#include "lakelog/s3_file_system.h"
#include "lakelog/status.h"

namespace lakelog::cli {

// The ranges every source of these settings (flags and [demo]) is held to.
struct DemoSettings {
  static constexpr double kMaxSeconds = 86'400;
  static constexpr double kMaxRate = 1e9;
  static constexpr int kMaxProducers = 256;

  // Distinct, non-blank names (see CheckPipelineNames).
  std::vector<std::string> pipelines = {"ingestion", "enrichment", "index_loader"};
  double seconds = 10;         // [0, kMaxSeconds]; 0 starts, replays a WAL and stops
  double rate = 2000;          // events per second per pipeline, (0, kMaxRate]
  int producers = 2;           // producer threads per pipeline, [1, kMaxProducers]
  double failure_rate = 0.03;  // chance that a stage of a run fails, [0, 1]
};

struct CliConfig {
  EngineOptions engine;
  DeltaTableOptions table;
  std::optional<std::string> table_path;
  LoggerOptions defaults;
  std::map<std::string, LoggerOptions> pipelines;  // [defaults] with the overrides applied
  DemoSettings demo;
  // [kafka]: the engine also writes every round to Kafka (NewKafkaSink) beside the table.
  std::optional<KafkaSinkOptions> kafka;
  // [opensearch]: the engine also writes every round to OpenSearch (NewOpenSearchSink).
  std::optional<OpenSearchSinkOptions> opensearch;
  // [s3]: for an s3:// table, settings over what the AWS environment gives (bucket and
  // credentials always come from the URI and the environment).
  struct S3Settings {
    std::optional<std::string> endpoint, region;
    std::optional<bool> path_style, single_writer;
    std::optional<uint64_t> part_size;
    std::optional<int> max_attempts;
    std::optional<std::chrono::milliseconds> timeout;
    void ApplyTo(S3Options* options) const;
  };
  std::optional<S3Settings> s3;
  // Whether [wal] set sync / sync_interval_ms: they mean nothing without a WAL directory.
  bool wal_sync_set = false;
  bool wal_sync_interval_set = false;

  const LoggerOptions& LoggerFor(const std::string& pipeline) const;
};

// Parses TOML text; `source` names it in errors. InvalidArgument on any problem.
Result<CliConfig> ParseConfig(std::string_view toml_text, const std::string& source);
// Reads and parses a file. InvalidArgument naming the path and the reason when it is missing,
// a directory, unreadable or invalid; IOError when reading it fails midway.
Result<CliConfig> LoadConfigFile(const std::string& path);

// OK when `names` are usable demo pipelines: at least one, none empty or blank, none twice,
// each valid UTF-8 that fits a partition directory. Otherwise InvalidArgument saying which
// name is wrong and why (the caller puts the flag or key in front).
Status CheckPipelineNames(const std::vector<std::string>& names);

// `--pipelines a,b,c`: splits at commas and trims blanks around each name, then checks the
// list as CheckPipelineNames does.
Result<std::vector<std::string>> ParsePipelineList(std::string_view text);

}  // namespace lakelog::cli

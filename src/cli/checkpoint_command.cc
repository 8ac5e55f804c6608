// `lakelog checkpoint`: writes a classic checkpoint of the table's latest version now.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/table_location.h"
#include "delta/checkpoint.h"
#include "delta/log_cleanup.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "lakelog/clock.h"
#include "lakelog/file_system.h"

namespace lakelog::cli {
namespace {

struct CheckpointOptions {
  std::string table;
  std::string compression = "zstd";
};

ExitCode RunCheckpoint(const CheckpointOptions& options) {
  ParquetWriteOptions parquet;
  Status compression = ParseCompressionFlag(options.compression, &parquet.compression);
  if (!compression.ok()) return ReportError("checkpoint", compression);
  auto location = OpenTableLocation(options.table);
  if (!location.ok()) return ReportError("checkpoint " + options.table, location.status());
  FileSystem* fs = location->fs;
  delta::LogStore store(fs, location->root);
  Result<delta::LogListing> listing = store.List();
  if (!listing.ok()) return ReportError("checkpoint " + options.table, listing.status());
  const int64_t version = listing->latest_version();
  if (version < 0) {
    return ReportError("checkpoint " + options.table,
                       Status::NotFound("no Delta table (empty _delta_log)"));
  }
  const int64_t now_ms = RealClock()->NowMicros() / 1000;
  Result<delta::CheckpointInfo> info = delta::WriteCheckpoint(fs, &store, version, parquet, now_ms);
  if (!info.ok()) return ReportError("checkpoint " + options.table, info.status());
  // Then the log cleanup a checkpoint allows (delta.logRetentionDuration): its properties come
  // from a replay without files, which starts at the checkpoint just written.
  Result<DeltaSnapshot> table = delta::ReplayLatest(fs, store, /*track_files=*/false);
  if (!table.ok()) return ReportError("checkpoint " + options.table, table.status());
  Result<delta::LogCleanupResult> cleaned =
      delta::CleanUpExpiredLog(fs, store, table->metadata, now_ms);
  if (!cleaned.ok()) return ReportError("checkpoint " + options.table, cleaned.status());
  nlohmann::json out = {
      {"table", options.table},
      {"version", info->version},
      {"actions", info->actions},
      {"addFiles", info->add_files},
      {"tombstones", info->tombstones},
      {"sizeInBytes", info->size_bytes},
      {"logFilesDeleted", cleaned->files_deleted},
      {"logCleanedBelow", cleaned->cleaned_below >= 0 ? nlohmann::json(cleaned->cleaned_below)
                                                      : nlohmann::json(nullptr)}};
  std::cout << out.dump() << std::endl;
  return ExitCode::kOk;
}

}  // namespace

Command AddCheckpointCommand(CLI::App& root) {
  auto options = std::make_shared<CheckpointOptions>();
  CLI::App* app = root.add_subcommand(
      "checkpoint",
      "Write a classic checkpoint of the table's latest version now, and point\n"
      "_delta_log/_last_checkpoint at it (appends also write one every\n"
      "delta.checkpointInterval versions, default 10). Prints one JSON object: version,\n"
      "actions, addFiles, tombstones (removes younger than delta.deletedFileRetentionDuration),\n"
      "sizeInBytes, logFilesDeleted and logCleanedBelow (after the checkpoint, commits and\n"
      "checkpoints older than delta.logRetentionDuration, default 30 days, are deleted up to\n"
      "the newest checkpoint past that age; null when none was; off with\n"
      "delta.enableExpiredLogCleanup=false). Refused (exit 1) for a table whose protocol has "
      "features whose state a\n"
      "lakelog checkpoint would not carry (domainMetadata, rowTracking, v2Checkpoint, ...).");
  app->add_option("--table", options->table,
                  "Delta table: a directory, or s3://bucket/prefix (docs/object-storage.md)")
      ->required();
  app->add_option("--compression", options->compression, "zstd | snappy | lz4_raw | none")
      ->capture_default_str();
  return Command{app, [options] { return RunCheckpoint(*options); }};
}

}  // namespace lakelog::cli

// `lakelog optimize`: bin-packing compaction of a table's small files, or Z-order.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/table_location.h"
#include "lakelog/clock.h"
#include "lakelog/file_system.h"
#include "maintenance/optimize.h"

namespace lakelog::cli {
namespace {

struct OptimizeCommandOptions {
  std::string table;
  std::string where;
  std::string zorder_by;
  uint64_t target_file_size = uint64_t{128} << 20;
  uint64_t memory_budget = uint64_t{256} << 20;
  std::string compression = "zstd";
  bool json = false;
};

ExitCode RunOptimize(const OptimizeCommandOptions& options) {
  maintenance::OptimizeOptions optimize;
  Status compression = ParseCompressionFlag(options.compression, &optimize.parquet.compression);
  if (!compression.ok()) return ReportError("optimize", compression);
  optimize.where = options.where;
  for (size_t start = 0; start < options.zorder_by.size();) {
    size_t comma = options.zorder_by.find(',', start);
    if (comma == std::string::npos) comma = options.zorder_by.size();
    std::string column = options.zorder_by.substr(start, comma - start);
    column.erase(0, column.find_first_not_of(' '));
    column.erase(column.find_last_not_of(' ') + 1);
    if (!column.empty()) optimize.zorder_by.push_back(column);
    start = comma + 1;
  }
  optimize.target_file_size = options.target_file_size;
  optimize.memory_budget_bytes = options.memory_budget;
  optimize.now_ms = RealClock()->NowMicros() / 1000;
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  if (terminal) {
    optimize.progress = [](const maintenance::OptimizeProgress& p) {
      std::fprintf(stderr, "\roptimize: %lld/%lld bins, %lld rows rewritten",
                   static_cast<long long>(p.bins_done), static_cast<long long>(p.bins),
                   static_cast<long long>(p.rows));
      std::fflush(stderr);
    };
  }
  auto location = OpenTableLocation(options.table);
  if (!location.ok()) return ReportError("optimize " + options.table, location.status());
  Result<maintenance::OptimizeResult> result =
      maintenance::Optimize(location->fs, location->root, optimize);
  if (terminal && optimize.progress) std::fprintf(stderr, "\n");
  if (!result.ok()) {
    std::fprintf(stderr, "lakelog: optimize %s: %s\n", options.table.c_str(),
                 result.status().ToString().c_str());
    // A filter that does not parse or a column that cannot be Z-ordered is the user's flag;
    // anything else is the table's state.
    return result.status().code() == StatusCode::kInvalidArgument ? ExitCode::kUsage
                                                                  : ExitCode::kFailure;
  }
  if (options.json) {
    nlohmann::json out = {{"table", options.table},
                          {"read_version", result->read_version},
                          {"version", result->version.has_value() ? nlohmann::json(*result->version)
                                                                  : nlohmann::json(nullptr)},
                          {"partitions", result->partitions},
                          {"files_removed", result->files_removed},
                          {"files_added", result->files_added},
                          {"bytes_removed", result->bytes_removed},
                          {"bytes_added", result->bytes_added},
                          {"rows", result->rows},
                          {"files_skipped", result->files_skipped}};
    std::cout << out.dump() << std::endl;
  } else if (!result->version.has_value()) {
    std::printf("optimize: nothing to compact (table version %lld)\n",
                static_cast<long long>(result->read_version));
  } else {
    std::printf(
        "optimize: %lld files (%llu bytes) rewritten as %lld (%llu bytes) in %lld "
        "partitions, %lld rows; commit %lld\n",
        static_cast<long long>(result->files_removed),
        static_cast<unsigned long long>(result->bytes_removed),
        static_cast<long long>(result->files_added),
        static_cast<unsigned long long>(result->bytes_added),
        static_cast<long long>(result->partitions), static_cast<long long>(result->rows),
        static_cast<long long>(*result->version));
  }
  if (result->files_skipped > 0) {
    std::fprintf(stderr,
                 "lakelog: optimize: %lld files left as they are: rows lakelog cannot rewrite "
                 "exactly (a level outside TRACE..FATAL, a null ts or attribute value)\n",
                 static_cast<long long>(result->files_skipped));
  }
  return ExitCode::kOk;
}

}  // namespace

Command AddOptimizeCommand(CLI::App& root) {
  auto options = std::make_shared<OptimizeCommandOptions>();
  CLI::App* app = root.add_subcommand(
      "optimize",
      "Compact the table's small files: per (pipeline, log_date) partition, the files below\n"
      "half of --target-file-size are packed into files near it, in ONE commit of remove + add\n"
      "(dataChange false, operation OPTIMIZE, Spark's metrics). Appends by any engine go on\n"
      "meanwhile and never conflict; a concurrent commit that removed one of the rewritten\n"
      "files stops this one (exit 1, nothing committed). The removed files stay for time\n"
      "travel until `lakelog vacuum`.\n"
      "With --zorder-by, every file of each partition matching --where is rewritten with its\n"
      "rows in Z-order of the given data columns (Delta's ZORDER BY: sampled range ids, bits\n"
      "interleaved), cut into files near --target-file-size; commitInfo records zOrderBy.\n"
      "Memory stays near --memory-budget whatever a partition's size. See\n"
      "docs/maintenance.md.");
  app->add_option("--table", options->table,
                  "Delta table: a directory, or s3://bucket/prefix (docs/object-storage.md)")
      ->required();
  app->add_option("--where", options->where,
                  "partition predicate, e.g. \"pipeline = 'x' AND log_date >= '2026-11-01'\"\n"
                  "(columns pipeline and log_date; = != <> < <= > >=; AND)");
  app->add_option("--zorder-by", options->zorder_by,
                  "comma-separated data columns to Z-order by, e.g. stage,status (ts, level,\n"
                  "stage, status, message, run_id, host; partition columns are refused, exit 2)");
  app->add_option("--target-file-size", options->target_file_size, "bytes per compacted file")
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 40))
      ->capture_default_str();
  app->add_option("--memory-budget", options->memory_budget,
                  "Z-order: bytes of decoded rows held at once; a larger partition is sorted\n"
                  "in key ranges, one more pass over its files per range")
      ->check(CLI::Range(uint64_t{1} << 16, uint64_t{1} << 44))
      ->capture_default_str();
  app->add_option("--compression", options->compression, "zstd | snappy | lz4_raw | none")
      ->capture_default_str();
  app->add_flag("--json", options->json, "print the result as one JSON object");
  return Command{app, [options] { return RunOptimize(*options); }};
}

}  // namespace lakelog::cli

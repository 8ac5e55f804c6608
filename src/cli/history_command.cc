// `lakelog history`: one line per commit, oldest first.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/table_location.h"
#include "ingest/event_parser.h"
#include "lakelog/delta_table.h"

namespace lakelog::cli {
namespace {

struct HistoryOptions {
  std::string table;
  bool json = false;
};

ExitCode RunHistory(const HistoryOptions& options) {
  DeltaTableOptions table_options;
  table_options.create_if_missing = false;
  auto location = OpenTableLocation(options.table);
  if (!location.ok()) return ReportError("history " + options.table, location.status());
  auto table = DeltaTable::Open(location->fs, location->root, table_options);
  if (!table.ok()) return ReportError("history " + options.table, table.status());
  auto history = (*table)->History();
  if (!history.ok()) return ReportError("history " + options.table, history.status());

  for (const DeltaCommitInfo& commit : *history) {
    if (options.json) {
      nlohmann::json parameters = nlohmann::json::object();
      for (const auto& [k, v] : commit.parameters) parameters[k] = v;
      nlohmann::json metrics = nlohmann::json::object();
      for (const auto& [k, v] : commit.metrics) metrics[k] = v;
      nlohmann::json line = {
          {"version", commit.version},
          {"timestamp",
           commit.timestamp_ms ? nlohmann::json(*commit.timestamp_ms) : nlohmann::json(nullptr)},
          {"operation", commit.operation},
          {"parameters", parameters},
          {"metrics", metrics}};
      if (commit.engine_info) line["engineInfo"] = *commit.engine_info;
      std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      continue;
    }
    // A timestamp outside years 0001..9999 (a damaged or hostile commitInfo) is printed as
    // the raw number: converting it would overflow.
    std::string time = "-";
    if (commit.timestamp_ms && *commit.timestamp_ms >= kMinTsMillis &&
        *commit.timestamp_ms <= kMaxTsMillis) {
      time = ingest::FormatRfc3339Micros(*commit.timestamp_ms * 1000).substr(0, 23) + "Z";
    } else if (commit.timestamp_ms) {
      time = std::to_string(*commit.timestamp_ms);
    }
    std::cout << commit.version << '\t' << time << '\t'
              << (commit.operation.empty() ? "-" : commit.operation);
    for (const auto& [k, v] : commit.metrics) std::cout << '\t' << k << '=' << v;
    std::cout << '\n';
  }
  std::cout.flush();
  return ExitCode::kOk;
}

}  // namespace

Command AddHistoryCommand(CLI::App& root) {
  auto options = std::make_shared<HistoryOptions>();
  CLI::App* app = root.add_subcommand(
      "history",
      "List a Delta table's commits, oldest first: version, time (UTC), operation and its\n"
      "metrics (tab-separated), or one JSON object per line with --json.");
  app->add_option("--table", options->table,
                  "Delta table: a directory, or s3://bucket/prefix (docs/object-storage.md)")
      ->required();
  app->add_flag("--json", options->json, "one JSON object per commit");
  return Command{app, [options] { return RunHistory(*options); }};
}

}  // namespace lakelog::cli

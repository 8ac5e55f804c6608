// `lakelog describe`: the table's state as JSON, from our own snapshot reader.
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/table_location.h"
#include "lakelog/delta_table.h"

namespace lakelog::cli {
namespace {

struct PartitionTotals {
  int64_t files = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
};

nlohmann::json OptionalString(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

ExitCode RunDescribe(const std::string& table) {
  auto location = OpenTableLocation(table);
  if (!location.ok()) return ReportError("describe " + table, location.status());
  auto snapshot = ReadDeltaSnapshot(location->fs, location->root);
  if (!snapshot.ok()) return ReportError("describe " + table, snapshot.status());

  // Keyed by (pipeline, log_date); a null pipeline sorts first.
  using Key = std::pair<std::optional<std::string>, std::optional<std::string>>;
  std::map<Key, PartitionTotals> partitions;
  for (const DeltaAddFile& file : snapshot->files) {
    auto value = [&](const char* column) -> std::optional<std::string> {
      auto it = file.partition_values.find(column);
      return it == file.partition_values.end() ? std::nullopt : it->second;
    };
    PartitionTotals& totals = partitions[{value("pipeline"), value("log_date")}];
    ++totals.files;
    totals.rows += file.num_records.value_or(0);
    totals.bytes += file.size;
  }
  nlohmann::json partition_list = nlohmann::json::array();
  for (const auto& [key, totals] : partitions) {
    partition_list.push_back({{"pipeline", OptionalString(key.first)},
                              {"log_date", OptionalString(key.second)},
                              {"files", totals.files},
                              {"rows", totals.rows},
                              {"bytes", totals.bytes}});
  }
  const DeltaProtocol& protocol = snapshot->protocol;
  nlohmann::json protocol_json = {{"minReaderVersion", protocol.min_reader_version},
                                  {"minWriterVersion", protocol.min_writer_version}};
  if (!protocol.reader_features.empty()) protocol_json["readerFeatures"] = protocol.reader_features;
  if (!protocol.writer_features.empty()) protocol_json["writerFeatures"] = protocol.writer_features;
  nlohmann::json schema = nlohmann::json::parse(snapshot->metadata.schema_string, nullptr, false);

  nlohmann::json out = {
      {"table", table},
      {"version", snapshot->version},
      {"id", snapshot->metadata.id},
      {"name", OptionalString(snapshot->metadata.name)},
      {"description", OptionalString(snapshot->metadata.description)},
      {"files", snapshot->files.size()},
      {"rows", snapshot->TotalRows()},
      {"bytes", snapshot->TotalBytes()},
      {"partitions", partition_list},
      {"protocol", protocol_json},
      {"schema", schema.is_discarded() ? nlohmann::json(snapshot->metadata.schema_string) : schema},
      {"partitionColumns", snapshot->metadata.partition_columns},
      {"configuration", snapshot->metadata.configuration},
      {"checkpointVersion", snapshot->checkpoint_version
                                ? nlohmann::json(*snapshot->checkpoint_version)
                                : nlohmann::json(nullptr)},
  };
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return ExitCode::kOk;
}

}  // namespace

Command AddDescribeCommand(CLI::App& root) {
  auto table = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand(
      "describe",
      "Print a Delta table's state as JSON: version, id, name, description, files, rows, bytes,\n"
      "per-partition totals, protocol, schema and configuration, replayed from its transaction\n"
      "log (JSON commits and checkpoint).");
  app->add_option("--table", *table,
                  "Delta table: a directory, or s3://bucket/prefix (docs/object-storage.md)")
      ->required();
  return Command{app, [table] { return RunDescribe(*table); }};
}

}  // namespace lakelog::cli

#include "query/table_scan.h"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "parquet/file_reader.h"

namespace lakelog::query {
namespace {

std::optional<std::string> StringField(const nlohmann::json& row, const char* name) {
  auto it = row.find(name);
  if (it == row.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<std::string> PartitionValue(const DeltaAddFile& file, const char* column) {
  auto it = file.partition_values.find(column);
  if (it == file.partition_values.end()) return std::nullopt;
  return it->second;
}

}  // namespace

Status ScanTable(FileSystem* fs, const std::string& root, const DeltaSnapshot& snapshot,
                 const std::function<void(const ScannedRow&)>& visit) {
  for (const DeltaAddFile& file : snapshot.files) {
    auto rows = parquet::ReadParquetRowsAsJson(fs, JoinPath(root, file.path));
    if (!rows.ok()) return rows.status().WithContext(file.path);
    ScannedRow out;
    out.pipeline = PartitionValue(file, "pipeline");
    out.log_date = PartitionValue(file, "log_date");
    for (const nlohmann::json& row : *rows) {
      auto ts = row.find("ts");
      out.ts_micros = ts != row.end() && ts->is_number_integer()
                          ? std::optional<int64_t>(ts->get<int64_t>())
                          : std::nullopt;
      out.level = StringField(row, "level");
      out.stage = StringField(row, "stage");
      out.status = StringField(row, "status");
      out.message = StringField(row, "message");
      out.run_id = StringField(row, "run_id");
      out.host = StringField(row, "host");
      out.attributes.clear();
      auto attrs = row.find("attributes");
      if (attrs != row.end() && attrs->is_object()) {
        for (auto it = attrs->begin(); it != attrs->end(); ++it) {
          if (it.value().is_string()) out.attributes[it.key()] = it.value().get<std::string>();
        }
      }
      visit(out);
    }
  }
  return Status::OK();
}

double PipelineSummary::SuccessRate() const {
  int64_t decided = successes + failures;
  return decided == 0 ? 1.0 : static_cast<double>(successes) / static_cast<double>(decided);
}

Result<std::vector<PipelineSummary>> SummarizePipelines(FileSystem* fs, const std::string& root) {
  LAKELOG_ASSIGN_OR_RETURN(DeltaSnapshot snapshot, ReadDeltaSnapshot(fs, root));
  struct Totals {
    PipelineSummary summary;
    std::unordered_map<std::string, int64_t> stage_failures;
  };
  std::map<std::string, Totals> by_pipeline;
  LAKELOG_RETURN_IF_ERROR(ScanTable(fs, root, snapshot, [&](const ScannedRow& row) {
    Totals& totals = by_pipeline[row.pipeline.value_or("")];
    // An aggregated row stands for repeat_count events.
    int64_t weight = 1;
    auto repeat = row.attributes.find("repeat_count");
    if (repeat != row.attributes.end()) {
      weight = std::max<int64_t>(1, std::strtoll(repeat->second.c_str(), nullptr, 10));
    }
    totals.summary.total += weight;
    if (row.status == "FAILED") {
      totals.summary.failures += weight;
      totals.stage_failures[row.stage.value_or("")] += weight;
    } else if (row.status == "SUCCESS") {
      totals.summary.successes += weight;
    }
  }));
  std::vector<PipelineSummary> out;
  for (auto& [pipeline, totals] : by_pipeline) {
    totals.summary.pipeline = pipeline;
    for (const auto& [stage, n] : totals.stage_failures) {
      totals.summary.top_failing_stages.push_back({stage, n});
    }
    auto& stages = totals.summary.top_failing_stages;
    std::sort(stages.begin(), stages.end(), [](const StageFailures& a, const StageFailures& b) {
      return a.failures != b.failures ? a.failures > b.failures : a.stage < b.stage;
    });
    if (stages.size() > 3) stages.resize(3);
    out.push_back(std::move(totals.summary));
  }
  return out;
}

}  // namespace lakelog::query

// SummarizePipelines (table_scan.h): the demo's per-pipeline counts, computed from the status,
// stage and attributes columns only. Dictionary-encoded chunks are classified once per
// dictionary entry, so the scan compares no strings per row and copies none.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "parquet/columnar_reader.h"
#include "query/log_columns.h"
#include "query/table_scan.h"

namespace lakelog::query {
namespace {

using parquet::ColumnVector;
using parquet::VectorLayout;

constexpr std::string_view kRepeatCount = "repeat_count";

enum class Outcome : uint8_t { kOther, kFailed, kSuccess };

Outcome Classify(std::string_view status) {
  if (status == "FAILED") return Outcome::kFailed;
  if (status == "SUCCESS") return Outcome::kSuccess;
  return Outcome::kOther;
}

// For a kDictionary vector: (*table)[i] = classify(dictionary entry i), and true. For any other
// vector (or none): false, and the caller classifies per row.
template <typename T>
bool ClassifyDictionary(const ColumnVector* column, std::vector<T>* table,
                        T (*classify)(std::string_view)) {
  table->clear();
  if (column == nullptr || column->layout() != VectorLayout::kDictionary) return false;
  const parquet::ByteArrayBuffer& dictionary = column->dictionary();
  table->reserve(dictionary.size());
  for (size_t i = 0; i < dictionary.size(); ++i) table->push_back(classify(dictionary.Get(i)));
  return true;
}

bool IsRepeatCount(std::string_view key) { return key == kRepeatCount; }

struct Totals {
  PipelineSummary summary;
  std::unordered_map<std::string, int64_t> stage_failures;
};

// Adds one row group of one file to `totals`.
void AddRowGroup(const LogColumnReader& reader, size_t rows, Totals* totals,
                 std::vector<uint32_t>* offsets) {
  const ColumnVector* status = reader.Get(LogColumn::kStatus);
  const ColumnVector* stage = reader.Get(LogColumn::kStage);
  const ColumnVector* keys = reader.MapKeys();
  const ColumnVector* values = reader.MapValues();
  std::vector<Outcome> status_table;
  const bool status_dict = ClassifyDictionary(status, &status_table, &Classify);
  std::vector<bool> repeat_table;
  const bool keys_dict = ClassifyDictionary(keys, &repeat_table, &IsRepeatCount);
  if (keys != nullptr) keys->RowOffsets(offsets);
  // Failures per stage dictionary entry, turned into strings once per row group.
  const bool stage_dict = stage != nullptr && stage->layout() == VectorLayout::kDictionary;
  std::vector<int64_t> stage_counts(stage_dict ? stage->dictionary().size() : 0, 0);

  for (size_t row = 0; row < rows; ++row) {
    // An aggregated row stands for repeat_count events.
    int64_t weight = 1;
    if (keys != nullptr) {
      for (uint32_t e = (*offsets)[row]; e < (*offsets)[row + 1]; ++e) {
        if (keys->DefLevel(e) < reader.map_entry_def() || !values->IsValid(e)) continue;
        const bool is_repeat =
            keys_dict ? repeat_table[keys->indices()[e]] : IsRepeatCount(keys->GetBytes(e));
        if (!is_repeat) continue;
        const std::string text(values->GetBytes(e));
        weight = std::max<int64_t>(1, std::strtoll(text.c_str(), nullptr, 10));
      }
    }
    totals->summary.total += weight;
    Outcome outcome = Outcome::kOther;
    if (status != nullptr && status->IsValid(row)) {
      outcome =
          status_dict ? status_table[status->indices()[row]] : Classify(status->GetBytes(row));
    }
    if (outcome == Outcome::kFailed) {
      totals->summary.failures += weight;
      if (stage == nullptr || !stage->IsValid(row)) {
        totals->stage_failures[""] += weight;
      } else if (stage_dict) {
        stage_counts[stage->indices()[row]] += weight;
      } else {
        totals->stage_failures[std::string(stage->GetBytes(row))] += weight;
      }
    } else if (outcome == Outcome::kSuccess) {
      totals->summary.successes += weight;
    }
  }
  for (size_t i = 0; i < stage_counts.size(); ++i) {
    if (stage_counts[i] != 0) {
      totals->stage_failures[std::string(stage->dictionary().Get(i))] += stage_counts[i];
    }
  }
}

}  // namespace

Result<std::vector<PipelineSummary>> SummarizePipelines(FileSystem* fs, const std::string& root) {
  LAKELOG_ASSIGN_OR_RETURN(DeltaSnapshot snapshot, ReadDeltaSnapshot(fs, root));
  std::map<std::string, Totals> by_pipeline;
  std::vector<uint32_t> offsets;
  for (const DeltaAddFile& file : snapshot.files) {
    auto opened = parquet::ParquetFile::Open(fs, JoinPath(root, file.path));
    if (!opened.ok()) return opened.status().WithContext(file.path);
    auto pipeline = file.partition_values.find("pipeline");
    Totals& totals =
        by_pipeline[pipeline == file.partition_values.end() ? std::string()
                                                            : pipeline->second.value_or("")];
    LogColumnReader reader(opened->get(),
                           {LogColumn::kStage, LogColumn::kStatus, LogColumn::kAttributes});
    for (int rg = 0; rg < (*opened)->num_row_groups(); ++rg) {
      Status s = reader.Read(rg);
      if (!s.ok()) return s.WithContext(file.path);
      AddRowGroup(reader, static_cast<size_t>((*opened)->RowGroupNumRows(rg)), &totals, &offsets);
    }
  }
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

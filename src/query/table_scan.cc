#include "query/table_scan.h"

#include <memory>

#include "parquet/columnar_reader.h"
#include "query/log_columns.h"

namespace lakelog::query {
namespace {

using parquet::ColumnVector;

std::optional<std::string> PartitionValue(const DeltaAddFile& file, const char* column) {
  auto it = file.partition_values.find(column);
  if (it == file.partition_values.end()) return std::nullopt;
  return it->second;
}

void SetString(const ColumnVector* column, size_t row, std::optional<std::string>* out) {
  if (column == nullptr || !column->IsValid(row)) {
    out->reset();
  } else {
    out->emplace(column->GetBytes(row));
  }
}

}  // namespace

Status ScanTable(FileSystem* fs, const std::string& root, const DeltaSnapshot& snapshot,
                 const std::function<void(const ScannedRow&)>& visit) {
  const std::vector<LogColumn> wanted = {
      LogColumn::kTs,      LogColumn::kLevel, LogColumn::kStage, LogColumn::kStatus,
      LogColumn::kMessage, LogColumn::kRunId, LogColumn::kHost,  LogColumn::kAttributes};
  std::vector<uint32_t> offsets;
  for (const DeltaAddFile& file : snapshot.files) {
    auto opened = parquet::ParquetFile::Open(fs, JoinPath(root, file.path));
    if (!opened.ok()) return opened.status().WithContext(file.path);
    LogColumnReader reader(opened->get(), wanted);
    ScannedRow out;
    out.pipeline = PartitionValue(file, "pipeline");
    out.log_date = PartitionValue(file, "log_date");
    for (int rg = 0; rg < (*opened)->num_row_groups(); ++rg) {
      Status s = reader.Read(rg);
      if (!s.ok()) return s.WithContext(file.path);
      const size_t rows = static_cast<size_t>((*opened)->RowGroupNumRows(rg));
      const ColumnVector* ts = reader.Get(LogColumn::kTs);
      const ColumnVector* keys = reader.MapKeys();
      const ColumnVector* values = reader.MapValues();
      if (keys != nullptr) keys->RowOffsets(&offsets);
      for (size_t row = 0; row < rows; ++row) {
        out.ts_micros = ts != nullptr && ts->IsValid(row)
                            ? std::optional<int64_t>(ts->int64s()[row])
                            : std::nullopt;
        SetString(reader.Get(LogColumn::kLevel), row, &out.level);
        SetString(reader.Get(LogColumn::kStage), row, &out.stage);
        SetString(reader.Get(LogColumn::kStatus), row, &out.status);
        SetString(reader.Get(LogColumn::kMessage), row, &out.message);
        SetString(reader.Get(LogColumn::kRunId), row, &out.run_id);
        SetString(reader.Get(LogColumn::kHost), row, &out.host);
        out.attributes.clear();
        if (keys != nullptr) {
          for (uint32_t e = offsets[row]; e < offsets[row + 1]; ++e) {
            // Entries with a null value are left out, as they always were.
            if (keys->DefLevel(e) < reader.map_entry_def() || !values->IsValid(e)) continue;
            out.attributes.insert_or_assign(std::string(keys->GetBytes(e)),
                                            std::string(values->GetBytes(e)));
          }
        }
        visit(out);
      }
    }
  }
  return Status::OK();
}

double PipelineSummary::SuccessRate() const {
  int64_t decided = successes + failures;
  return decided == 0 ? 1.0 : static_cast<double>(successes) / static_cast<double>(decided);
}

}  // namespace lakelog::query

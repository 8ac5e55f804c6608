#include "analytics/row_matcher.h"

#include <string_view>

namespace lakelog::analytics {
namespace {

using parquet::ColumnVector;
using parquet::VectorLayout;
using query::LogColumn;

// Keeps the rows of *selected for which `keep(slot)` holds.
template <typename Keep>
void Retain(std::vector<uint32_t>* selected, Keep keep) {
  size_t out = 0;
  for (uint32_t row : *selected) {
    if (keep(row)) (*selected)[out++] = row;
  }
  selected->resize(out);
}

// Keeps the rows whose string value satisfies `test`; a null or absent value fails.
template <typename Test>
void RetainStrings(const ColumnVector* column, std::vector<uint32_t>* selected, Test test) {
  if (column == nullptr) {
    selected->clear();
    return;
  }
  if (column->layout() == VectorLayout::kDictionary) {
    const parquet::ByteArrayBuffer& dictionary = column->dictionary();
    std::vector<uint8_t> table(dictionary.size());
    bool any = false;
    for (size_t i = 0; i < dictionary.size(); ++i) {
      table[i] = test(dictionary.Get(i)) ? 1 : 0;
      any = any || table[i];
    }
    if (!any) {
      selected->clear();
      return;
    }
    const std::vector<uint32_t>& indices = column->indices();
    Retain(selected, [&](uint32_t row) { return column->IsValid(row) && table[indices[row]]; });
    return;
  }
  Retain(selected,
         [&](uint32_t row) { return column->IsValid(row) && test(column->GetBytes(row)); });
}

}  // namespace

std::vector<LogColumn> FilterColumns(const RowFilter& filter) {
  std::vector<LogColumn> columns;
  if (filter.since_micros || filter.until_micros) columns.push_back(LogColumn::kTs);
  if (filter.levels.active()) columns.push_back(LogColumn::kLevel);
  if (filter.stages.active()) columns.push_back(LogColumn::kStage);
  if (filter.statuses.active()) columns.push_back(LogColumn::kStatus);
  if (filter.run_ids.active()) columns.push_back(LogColumn::kRunId);
  if (!filter.contains.empty()) columns.push_back(LogColumn::kMessage);
  return columns;
}

void SelectRows(const RowFilter& filter, const query::LogColumnReader& reader, size_t rows,
                std::vector<uint32_t>* selected) {
  selected->resize(rows);
  for (size_t i = 0; i < rows; ++i) (*selected)[i] = static_cast<uint32_t>(i);
  if (filter.since_micros || filter.until_micros) {
    const ColumnVector* ts = reader.Get(LogColumn::kTs);
    if (ts == nullptr) {
      selected->clear();
      return;
    }
    const int64_t lo = filter.since_micros.value_or(INT64_MIN);
    const int64_t hi = filter.until_micros.value_or(INT64_MAX);
    const std::vector<int64_t>& values = ts->int64s();
    Retain(selected, [&](uint32_t row) {
      return ts->IsValid(row) && values[row] >= lo && values[row] <= hi;
    });
  }
  const std::pair<LogColumn, const ValueSet*> sets[] = {{LogColumn::kLevel, &filter.levels},
                                                        {LogColumn::kStatus, &filter.statuses},
                                                        {LogColumn::kStage, &filter.stages},
                                                        {LogColumn::kRunId, &filter.run_ids}};
  for (const auto& [column, values] : sets) {
    if (!values->active() || selected->empty()) continue;
    // A plain pointer for the lambda: clang 14 cannot capture a structured binding.
    const ValueSet* set = values;
    RetainStrings(reader.Get(column), selected,
                  [set](std::string_view value) { return set->Contains(value); });
  }
  if (!filter.contains.empty() && !selected->empty()) {
    const std::string_view needle = filter.contains;
    RetainStrings(reader.Get(LogColumn::kMessage), selected, [needle](std::string_view value) {
      return value.find(needle) != std::string_view::npos;
    });
  }
}

}  // namespace lakelog::analytics

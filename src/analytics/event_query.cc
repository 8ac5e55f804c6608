#include "analytics/event_query.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "analytics/row_matcher.h"
#include "parquet/columnar_reader.h"
#include "query/log_columns.h"

namespace lakelog::analytics {
namespace {

using parquet::ColumnVector;
using query::LogColumn;
using query::LogColumnReader;

constexpr LogColumn kOutputColumns[] = {
    LogColumn::kTs,      LogColumn::kLevel, LogColumn::kStage, LogColumn::kStatus,
    LogColumn::kMessage, LogColumn::kRunId, LogColumn::kHost,  LogColumn::kAttributes};

// Sort key of a kept row: rows with a ts before rows without; then by ts in the requested
// direction; then by scan order, so equal instants keep a stable order.
struct Key {
  bool has_ts = false;
  int64_t ts = 0;
  uint64_t ordinal = 0;
};

// True when a comes before b in the output.
bool Before(const Key& a, const Key& b, bool oldest_first) {
  if (a.has_ts != b.has_ts) return a.has_ts;
  if (a.ts != b.ts) return oldest_first ? a.ts < b.ts : a.ts > b.ts;
  return a.ordinal < b.ordinal;
}

std::optional<std::string> StringAt(const LogColumnReader& reader, LogColumn column, size_t row) {
  const ColumnVector* v = reader.Get(column);
  if (v == nullptr || !v->IsValid(row)) return std::nullopt;
  return std::string(v->GetBytes(row));
}

// Ts statistics of row group `rg` (INT64 microseconds, as lakelog writes them), when exact.
bool RowGroupOutside(const parquet::ParquetFile& file, int rg, std::optional<int> ts_leaf,
                     const RowFilter& filter) {
  if (!ts_leaf || !(filter.since_micros || filter.until_micros)) return false;
  auto stats = file.Statistics(rg, *ts_leaf);
  if (!stats.ok() || !stats->min_value || !stats->max_value || stats->min_value->size() != 8 ||
      stats->max_value->size() != 8) {
    return false;
  }
  int64_t lo, hi;
  std::memcpy(&lo, stats->min_value->data(), 8);
  std::memcpy(&hi, stats->max_value->data(), 8);
  return (filter.since_micros && hi < *filter.since_micros) ||
         (filter.until_micros && lo > *filter.until_micros);
}

}  // namespace

Result<EventQueryResult> QueryEvents(FileSystem* fs, const std::string& root,
                                     const DeltaSnapshot& snapshot, const EventQuery& query) {
  EventQueryResult result;
  result.table_version = snapshot.version;
  std::vector<PlannedFile> files = PlanScan(snapshot, query.filter, &result.stats);
  // Most promising files first, so that a met limit can skip the rest by their statistics.
  std::stable_sort(files.begin(), files.end(), [&](const PlannedFile& a, const PlannedFile& b) {
    if (query.oldest_first) {
      return a.min_ts.value_or(INT64_MAX) < b.min_ts.value_or(INT64_MAX);
    }
    return a.max_ts.value_or(INT64_MIN) > b.max_ts.value_or(INT64_MIN);
  });

  std::vector<LogColumn> filter_columns = FilterColumns(query.filter);
  // The heap's top is the kept row that would go first out of the limit.
  std::vector<std::pair<Key, EventRow>> kept;
  auto heap_less = [&](const std::pair<Key, EventRow>& a, const std::pair<Key, EventRow>& b) {
    return Before(a.first, b.first, query.oldest_first);
  };
  const bool bounded = query.limit > 0;
  auto full = [&] { return bounded && kept.size() >= query.limit; };
  uint64_t ordinal = 0;
  std::vector<uint32_t> selected;
  std::vector<uint32_t> offsets;  // the attributes map's first slot per row

  for (const PlannedFile& planned : files) {
    if (full()) {
      const Key& worst = kept.front().first;
      // Every row of this file sorts after the worst kept row: nothing here can enter.
      std::optional<int64_t> bound = query.oldest_first ? planned.min_ts : planned.max_ts;
      if (bound && worst.has_ts && (query.oldest_first ? *bound > worst.ts : *bound < worst.ts)) {
        ++result.stats.files_skipped_by_limit;
        continue;
      }
    }
    const std::string path = JoinPath(root, planned.file->path);
    auto opened = parquet::ParquetFile::Open(fs, path);
    if (!opened.ok()) return opened.status().WithContext(planned.file->path);
    parquet::ParquetFile* file = opened->get();
    ++result.stats.files_read;
    result.stats.bytes_read += planned.file->size;
    LogColumnReader filter_reader(file, filter_columns);
    LogColumnReader output_reader(file, {std::begin(kOutputColumns), std::end(kOutputColumns)});
    std::optional<int> ts_leaf = file->FindLeaf("ts");
    if (ts_leaf && file->schema().leaves.size() > static_cast<size_t>(*ts_leaf) &&
        file->schema().nodes[file->schema().leaves[*ts_leaf]].physical_type !=
            format::Type::INT64) {
      ts_leaf.reset();  // INT96 statistics are not ordered as instants
    }
    for (int rg = 0; rg < file->num_row_groups(); ++rg) {
      const size_t rows = static_cast<size_t>(file->RowGroupNumRows(rg));
      if (RowGroupOutside(*file, rg, ts_leaf, query.filter)) {
        ++result.stats.row_groups_skipped;
        ordinal += rows;
        continue;
      }
      ++result.stats.row_groups_read;
      result.stats.rows_scanned += static_cast<int64_t>(rows);
      if (!filter_columns.empty()) {
        Status s = filter_reader.Read(rg);
        if (!s.ok()) return s.WithContext(planned.file->path);
      }
      SelectRows(query.filter, filter_reader, rows, &selected);
      result.stats.rows_matched += static_cast<int64_t>(selected.size());
      if (selected.empty()) {
        ordinal += rows;
        continue;
      }
      Status s = output_reader.Read(rg);
      if (!s.ok()) return s.WithContext(planned.file->path);
      const ColumnVector* ts = output_reader.Get(LogColumn::kTs);
      const ColumnVector* keys = output_reader.MapKeys();
      const ColumnVector* values = output_reader.MapValues();
      if (keys != nullptr) keys->RowOffsets(&offsets);
      for (uint32_t row : selected) {
        Key key;
        key.ordinal = ordinal + row;
        if (ts != nullptr && ts->IsValid(row)) {
          key.has_ts = true;
          key.ts = ts->int64s()[row];
        }
        if (full() && !Before(key, kept.front().first, query.oldest_first)) continue;
        EventRow out;
        out.pipeline = planned.pipeline;
        auto date = planned.file->partition_values.find("log_date");
        if (date != planned.file->partition_values.end()) out.log_date = date->second;
        if (key.has_ts) out.ts_micros = key.ts;
        out.level = StringAt(output_reader, LogColumn::kLevel, row);
        out.stage = StringAt(output_reader, LogColumn::kStage, row);
        out.status = StringAt(output_reader, LogColumn::kStatus, row);
        out.message = StringAt(output_reader, LogColumn::kMessage, row);
        out.run_id = StringAt(output_reader, LogColumn::kRunId, row);
        out.host = StringAt(output_reader, LogColumn::kHost, row);
        if (keys != nullptr) {
          for (uint32_t e = offsets[row]; e < offsets[row + 1]; ++e) {
            if (keys->DefLevel(e) < output_reader.map_entry_def() || !values->IsValid(e)) continue;
            out.attributes.insert_or_assign(std::string(keys->GetBytes(e)),
                                            std::string(values->GetBytes(e)));
          }
        }
        if (full()) {
          std::pop_heap(kept.begin(), kept.end(), heap_less);
          kept.pop_back();
        }
        kept.emplace_back(key, std::move(out));
        if (bounded) std::push_heap(kept.begin(), kept.end(), heap_less);
      }
      ordinal += rows;
    }
  }
  std::sort(kept.begin(), kept.end(), heap_less);
  result.rows.reserve(kept.size());
  for (auto& [key, row] : kept) result.rows.push_back(std::move(row));
  return result;
}

}  // namespace lakelog::analytics

// Where the pipeline_logs columns are in one data file, for the columnar reader: the leaf
// index of each column the file has. Files written before a column existed (schema evolution)
// or by another writer simply lack it, and it reads as null.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "parquet/columnar_reader.h"

namespace lakelog::query {

// The columns a scan can ask for.
enum class LogColumn : int {
  kTs,
  kLevel,
  kStage,
  kStatus,
  kMessage,
  kRunId,
  kHost,
  kAttributes,
};

// Resolves the columns of `file` and reads them row group by row group. A column of an
// unexpected shape (a string column stored as numbers, a non-map attributes) is treated as
// absent, as a reader of the table schema would see no value of the expected type there;
// Unusable() tells such a column from one the file does not have, for a caller (OPTIMIZE) that
// must not turn values it cannot read into nulls.
class LogColumnReader {
 public:
  LogColumnReader(parquet::ParquetFile* file, const std::vector<LogColumn>& wanted);

  // Reads row group `rg`; then Get/Keys/Values give its vectors.
  Status Read(int rg);

  // The vector of a flat column, or null when the file lacks it.
  const parquet::ColumnVector* Get(LogColumn column) const;
  // The attributes map's key and value vectors (one slot per entry, RowOffsets per row), or
  // null when the file has no usable attributes map. An entry exists at slot i when
  // MapKeys()->DefLevel(i) >= map_entry_def().
  const parquet::ColumnVector* MapKeys() const;
  const parquet::ColumnVector* MapValues() const;
  uint16_t map_entry_def() const { return map_entry_def_; }

  // True when `column` was asked for and the file has a top-level column of that name, but of a
  // shape this reader cannot use (so Get, or MapKeys/MapValues for kAttributes, give null).
  // False for a column the file lacks.
  bool Unusable(LogColumn column) const { return unusable_[static_cast<int>(column)]; }

 private:
  static constexpr int kNumColumns = static_cast<int>(LogColumn::kAttributes) + 1;

  parquet::ParquetFile* file_;
  std::vector<int> leaves_;                  // leaf indices to read
  std::optional<size_t> slot_[kNumColumns];  // index into leaves_/columns_ per flat column
  std::optional<size_t> key_slot_;
  std::optional<size_t> value_slot_;
  uint16_t map_entry_def_ = 0;
  bool unusable_[kNumColumns] = {};
  std::vector<parquet::ColumnVector> columns_;
};

}  // namespace lakelog::query

// Parquet rows as JSON: a thin record-assembly layer over the columnar reader
// (parquet/columnar_reader.h), test support for the tests and the fuzz target; not part of the
// library, which reads through ParquetFile and its ColumnVectors (Delta checkpoints:
// delta/checkpoint_reader.h).
//
// Rows are assembled from the leaf columns' repetition/definition levels (Dremel record
// assembly): a struct becomes an object, a MAP an object (keys as strings), a LIST an array, a
// null a JSON null. Physical values map to JSON as: BOOLEAN -> bool, INT32/INT64 -> integer,
// FLOAT/DOUBLE -> number, BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY -> string (raw bytes; UTF-8 for
// STRING columns), INT96 -> integer microseconds. Logical types are not converted: a DATE is
// its day number, a TIMESTAMP its integer.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::parquet {

struct ParquetFileSummary {
  int64_t num_rows = 0;
  std::string created_by;
  int num_row_groups = 0;
  std::vector<std::string> leaf_paths;  // dotted paths of the leaf columns, in schema order
};

// Reads the footer only. Corruption on a bad magic, length or Thrift footer.
Result<ParquetFileSummary> ReadParquetSummary(FileSystem* fs, const std::string& path);

// Reads every row of the file. Corruption for anything malformed; NotSupported for encodings
// or codecs outside the supported set (listed in docs/parquet.md). Never crashes on bad input.
Result<std::vector<nlohmann::json>> ReadParquetRowsAsJson(FileSystem* fs, const std::string& path);

// The same, with only the top-level fields named in `top_level_columns` that the file has
// (the others are neither read nor present in the rows).
Result<std::vector<nlohmann::json>> ReadParquetRowsAsJson(
    FileSystem* fs, const std::string& path, const std::vector<std::string>& top_level_columns);

}  // namespace lakelog::parquet
